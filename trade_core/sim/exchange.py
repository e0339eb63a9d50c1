"""The simulated exchange's state and its primitive actions, each emitting its events.

:class:`SimExchange` holds the account (ledger + position), the order book and the event
queue, and knows how to fill an order, close the position by its TP/SL, liquidate it and
cancel orders. *When* these happen inside a bar is decided by :mod:`trade_core.sim.bar_walk`;
the engine-facing port is :class:`trade_core.sim.venue.SimVenue`.

Rules applied here (see BYBIT_RULES):

* **Reduce-only orders are trimmed as the position shrinks** (BYBIT_RULES), modelled at fill
  time: a fill is capped at the opposite position's size, then the remainder is cancelled
  (``"reduce-only: trimmed to the position"``; the fill's ``leaves_qty`` shows what was cut),
  a FOK that cannot fill entirely is cancelled whole, and with no opposite position the
  order is cancelled (``"reduce-only: no position to reduce"``). After every position
  change, open reduce-only orders with nothing left to reduce are cancelled at once
  (``"reduce-only: position closed"``). Untriggered conditional reduce-only orders are left
  alone until they trigger.
* **Volume cap** (optional ``max_participation``): a fill takes at most the room left of
  ``max_participation * bar volume`` on its bar; what the cap cuts waits (Market GTC: next
  open; Limit: keeps resting), is cancelled (IOC remainder) or cancels the order whole (FOK).
  Reduce-only orders and venue closes are exempt (:mod:`trade_core.sim.bar_walk`).
* **Balance at fill time.** A fill whose opening part needs more than the available balance
  (``IM + fee``) is not made; the order's remainder is cancelled
  (``"insufficient available balance (110007)"``).
* **TP/SL of an order** are attached to the position when the order opens or adds to it
  (levels given replace the position's; a level not given is kept unless the pair would be
  inconsistent, then dropped). Closing the position clears both (Bybit cancels them).
* **Venue closes** (SL, TP, liquidation) fill as reduce-only taker orders with link ids
  derived from the position's opening order: ``<entry>-sl``, ``<entry>-tp``, ``<entry>-liq``
  (base trimmed to 36 chars; ``-sl2`` ... if reused). No ``OrderAccepted`` precedes them.
* **Liquidation** emits, in this order: ``OrderCancelled(reason="liquidation")`` for every
  open order (arrival order), ``PositionLiquidated`` (``mark_price`` = the proxy price that
  reached the liquidation price), then ``OrderFilled`` of ``<entry>-liq`` at the bankruptcy
  price with fee 0, then its ``PositionClosed`` (exit price = bankruptcy price, exit type
  ``Liquidation``).
* **Closed-PnL records**: every fill that closes quantity is followed by a ``PositionClosed``
  (see :mod:`trade_core.sim.account`), exit type ``Order``, ``StopLoss`` or ``TakeProfit``.
"""

from __future__ import annotations

import math

from trade_core.data.instrument_spec import Instrument
from trade_core.engine.orders import (
    ExitType,
    OrderCancelled,
    OrderFilled,
    PositionLiquidated,
    Side,
    VenueEvent,
)
from trade_core.numbers import round_down_to_step, round_to_step
from trade_core.sim.account import IsolatedAccount
from trade_core.sim.checks import protective_sides_ok
from trade_core.sim.models import FeeModel, Liquidity, SlippageModel
from trade_core.sim.order_book import OrderBook, SimOrder, derived_link_id


def bybit_side(sign: int) -> Side:
    """``"Buy"`` for +1, ``"Sell"`` for -1 (the port's spelling)."""
    return "Buy" if sign > 0 else "Sell"


class SimExchange:
    """State + primitive actions of the simulated exchange (module docstring)."""

    def __init__(
        self,
        instrument: Instrument,
        account: IsolatedAccount,
        fee_model: FeeModel,
        slippage_model: SlippageModel,
        *,
        touch_fills: bool,
        max_participation: float | None = None,
    ) -> None:
        self.instrument = instrument
        self.account = account
        self.fee_model = fee_model
        self.slippage_model = slippage_model
        self.touch_fills = touch_fills
        self.max_participation = max_participation
        self.bar_room = math.inf  # base coin the capped fills may still take on this bar
        self.book = OrderBook()
        self.events: list[VenueEvent] = []

    @property
    def symbol(self) -> str:
        return self.instrument.symbol

    def emit(self, event: VenueEvent) -> None:
        self.events.append(event)

    # ------------------------------------------------------------------ orders
    def cancel(self, order: SimOrder, ts: int, reason: str) -> None:
        """Take ``order`` out of the book and report it cancelled."""
        self.book.remove(order.link_id)
        self.emit(OrderCancelled(order.link_id, ts, reason))

    def start_bar(self, volume: float) -> None:
        """A new 1m bar of ``volume`` base coin: reset the volume cap's room (no cap: inf)."""
        cap = self.max_participation
        if cap is None:
            return
        room = cap * volume
        ok = math.isfinite(room) and room > 0.0
        self.bar_room = round_down_to_step(room, self.instrument.qty_step) if ok else 0.0

    def capped(self, order: SimOrder) -> bool:
        """Whether the volume cap applies to ``order`` (on, and not reduce-only)."""
        return self.max_participation is not None and not order.intent.reduce_only

    def fill(self, order: SimOrder, price: float, liquidity: Liquidity, ts: int) -> None:
        """Fill what is left of ``order`` at ``price`` USDT (module rules: reduce-only cap,
        volume cap, balance check, TP/SL attach), emit ``OrderFilled`` and tidy the book."""
        qty, trimmed = self._fillable_qty(order)
        if qty <= 0.0:
            self.cancel(order, ts, "reduce-only: no position to reduce")
            return
        if trimmed and order.intent.tif == "FOK":
            self.cancel(order, ts, "FOK: reduce-only order larger than the position")
            return
        cut = False  # the volume cap took part of the order's quantity
        if self.max_participation is not None and not order.intent.reduce_only:
            qty, cut = self._room_for(order, qty, ts)
            if qty <= 0.0:
                return
        fee = self.fee_model.fee(qty, price, liquidity)
        if not self.account.can_afford(order.sign, qty, price, fee):
            self.cancel(order, ts, "insufficient available balance (110007)")
            return
        effect, record = self.account.fill(order.sign, qty, price, fee, order.link_id, ts=ts)
        # a whole fill leaves exactly 0.0 (x - x; round_to_step(0.0) is 0.0): skip the
        # exact decimal rounding, which only matters for a partial fill
        left = order.leaves - qty
        order.leaves = 0.0 if left == 0.0 else round_to_step(left, self.instrument.qty_step)
        if effect.opened_qty > 0.0:
            self._attach_protection(order)
        intent = order.intent
        self.emit(
            OrderFilled(
                order.link_id, ts, intent.side, qty, price, fee, liquidity,
                intent.reduce_only, order.leaves,
            )
        )  # fmt: skip
        if record is not None:
            self.emit(record)
        if self.max_participation is not None and not intent.reduce_only:
            left = self.bar_room - qty  # the room left on this bar (both on the qty grid)
            self.bar_room = round_to_step(left, self.instrument.qty_step) if left > 0.0 else 0.0
        if order.leaves <= 0.0:
            self.book.remove(order.link_id)
        elif cut and order.is_market and intent.tif not in ("IOC", "FOK"):
            order.carry = True  # the rest fills at the next bar's open
        elif cut and intent.tif == "IOC":
            self.cancel(order, ts, "IOC remainder (volume cap)")
        elif trimmed or order.immediate:
            reason = "reduce-only: trimmed to the position" if trimmed else "not filled"
            self.cancel(order, ts, reason)
        self.trim_reduce_only(ts)

    def _room_for(self, order: SimOrder, qty: float, ts: int) -> tuple[float, bool]:
        """``(qty, cut)``: what the volume cap lets ``order`` fill now. FOK that does not fit
        is cancelled whole; IOC with no room left is cancelled; a Market order with no room
        waits for the next bar's open (``carry``); 0 means no fill now."""
        room = self.bar_room
        if qty <= room:
            return qty, False
        tif = order.intent.tif
        if tif == "FOK":
            self.cancel(order, ts, "FOK: cannot fill whole within the volume cap")
            return 0.0, True
        if room <= 0.0:
            if tif == "IOC":
                self.cancel(order, ts, "IOC: no volume left within the volume cap")
            elif order.is_market:
                order.carry = True
            return 0.0, True
        return room, True

    def _fillable_qty(self, order: SimOrder) -> tuple[float, bool]:
        """``(qty, trimmed)``: the order's leaves, capped by the position if reduce-only."""
        if not order.intent.reduce_only:
            return order.leaves, False
        pos = self.account.pos
        if pos.sign != -order.sign:
            return 0.0, False
        if order.leaves > pos.qty:
            return pos.qty, True
        return order.leaves, False

    def _attach_protection(self, order: SimOrder) -> None:
        intent, pos = order.intent, self.account.pos
        if intent.stop_loss is None and intent.take_profit is None:
            return
        sl = intent.stop_loss if intent.stop_loss is not None else pos.stop_loss
        tp = intent.take_profit if intent.take_profit is not None else pos.take_profit
        if not protective_sides_ok(pos.sign, sl, tp, None):
            sl, tp = intent.stop_loss, intent.take_profit
        pos.stop_loss, pos.take_profit = sl, tp

    def trim_reduce_only(self, ts: int) -> None:
        """Cancel open (non-conditional or triggered) reduce-only orders with nothing left
        to reduce (no position, or one on their own side)."""
        pos = self.account.pos
        for order in self.book.open_orders():
            if not order.intent.reduce_only or order.awaiting_trigger:
                continue
            if pos.sign != -order.sign:
                self.cancel(order, ts, "reduce-only: position closed")

    # ------------------------------------------------------------------ position
    def close_position(self, suffix: str, price: float, ts: int) -> None:
        """Close the whole position by a venue reduce-only taker fill (``suffix`` sl / tp)."""
        pos = self.account.pos
        sign, qty = -pos.sign, pos.qty
        link = derived_link_id(pos.entry_link_id or self.symbol, suffix, self.book)
        fee = self.fee_model.fee(qty, price, "taker")
        kind: ExitType = "StopLoss" if suffix == "sl" else "TakeProfit"
        _, record = self.account.fill(sign, qty, price, fee, link, ts=ts, exit_type=kind)
        self.emit(OrderFilled(link, ts, bybit_side(sign), qty, price, fee, "taker", True, 0.0))
        if record is not None:
            self.emit(record)
        self.trim_reduce_only(ts)

    def liquidate(self, mark: float, ts: int) -> None:
        """Liquidate at the bankruptcy price after cancelling every open order."""
        for order in self.book.open_orders():
            self.cancel(order, ts, "liquidation")
        pos = self.account.pos
        link = derived_link_id(pos.entry_link_id or self.symbol, "liq", self.book)
        side = bybit_side(-pos.sign)
        out, record = self.account.liquidate(ts, link)
        self.emit(
            PositionLiquidated(self.symbol, ts, side, out.qty, mark, out.price, out.margin_lost)
        )
        self.emit(OrderFilled(link, ts, side, out.qty, out.price, 0.0, "taker", True, 0.0))
        self.emit(record)
