"""``SimVenue``: the simulated Bybit USDT perpetual behind the engine's venue port.

One symbol, one-way mode, isolated margin, driven only by :meth:`SimVenue.on_market`. Time
advances only there; ``submit`` / ``cancel`` / ``set_trading_stop`` act at the venue's current
time (the last step's ``time``, or the command's own ``ts`` if later) and so first matter on
the **next** 1m bar: an order submitted at the close of bar ``t`` can first fill on bar
``t+1``, never on a bar already seen.

Commands in, events out (:meth:`SimVenue.drain`), in a deterministic order:

* ``submit``: ``OrderAccepted`` or ``OrderRejected`` (codes: :mod:`trade_core.sim.checks`).
* ``cancel``: ``OrderCancelled`` (the order leaves the book before the next bar) or, for an
  order that is not open (filled, cancelled, unknown), ``OrderRejected`` with 110001 - the
  cancel was refused; the order's own history is unchanged.
* ``set_trading_stop``: sets **both** position levels (``None`` clears one); silent on
  success (the port has no event for it: see :meth:`position`); ``OrderRejected`` 10001 when
  flat, off-tick or on the wrong side of the last close, with link id ``<entry>-tpsl`` (just
  ``tpsl`` when flat).
* ``on_market``: fills, cancels, venue closes and liquidations of the bar in path order
  (:mod:`trade_core.sim.bar_walk`), then funding. With ``max_participation`` an order may fill
  in parts over several bars (``OrderFilled.leaves_qty`` > 0 until the last part).

**Funding** (BYBIT_RULES, Funding): every settlement ``ts`` with ``previous step time < ts <=
step time`` (the first step counts from its bar's open) is settled if a position is open at
that instant. Settlements at or before the bar's open (a gap in the steps) are settled before
the bar with the last close seen; the others after the bar, i.e. on the position as it stands
at the bar's close, with **mark proxy = the close of the 1m bar that closes at the
settlement instant** (``bar.ts + 60_000 == ts``; the bar of this step). The fee
(:func:`trade_core.sim.margin.funding_fee`) comes from the available balance, then from the
position margin (moving the liquidation price); if the proxy mark is then at or beyond the
new liquidation price, the position is liquidated at once (same ``ts``).
"""

from __future__ import annotations

from collections.abc import Sequence

from trade_core.data.instrument_spec import Instrument
from trade_core.engine.bars import MINUTE_MS, Bar, Step
from trade_core.engine.orders import (
    FundingSettled,
    OrderAccepted,
    OrderCancelled,
    OrderIntent,
    OrderRejected,
    VenueEvent,
)
from trade_core.engine.venue import PositionState, WalletState
from trade_core.errors import BadInputError
from trade_core.numbers import is_multiple_of_step
from trade_core.sim.account import IsolatedAccount
from trade_core.sim.bar_walk import bar_is_quiet, walk_bar
from trade_core.sim.checks import (
    ORDER_NOT_EXISTS,
    PARAMS,
    Context,
    protective_sides_ok,
    refusal_of,
)
from trade_core.sim.exchange import SimExchange
from trade_core.sim.margin import is_liquidated
from trade_core.sim.models import (
    FeeModel,
    FixedRateFees,
    FixedSlippage,
    FundingModel,
    FundingRates,
    SlippageModel,
    as_funding_model,
)

__all__ = [
    "FeeModel",
    "FixedRateFees",
    "FixedSlippage",
    "FundingModel",
    "FundingRates",
    "SimVenue",
    "SlippageModel",
]


class SimVenue:
    """Simulated exchange for one ``instrument`` implementing the ``Venue`` port.

    ``starting_balance`` USDT; ``leverage`` a multiple (<= the instrument's max);
    ``fee_model`` / ``slippage_model`` objects (defaults: Bybit VIP0 rates, no slippage);
    ``funding``: a :class:`~trade_core.sim.models.FundingModel`, a ``(ts, rate)`` pair of
    arrays (ms, fractions) or None; ``mm_basis`` ``"mark"`` (Bybit since 2025-09-02) or
    ``"entry"``; ``touch_fills``: a limit fills when touched instead of traded through;
    ``max_participation``: the fraction (0 < f <= 1) of each 1m bar's volume the account's
    fills may take on that bar, None = no cap (:mod:`trade_core.sim.bar_walk`, Volume cap).
    """

    def __init__(
        self,
        instrument: Instrument,
        *,
        starting_balance: float,
        leverage: float,
        fee_model: FeeModel | None = None,
        slippage_model: SlippageModel | None = None,
        funding: FundingModel | tuple[Sequence[int], Sequence[float]] | None = None,
        mm_basis: str = "mark",
        touch_fills: bool = False,
        max_participation: float | None = None,
    ) -> None:
        if max_participation is not None and not (
            isinstance(max_participation, int | float) and 0.0 < max_participation <= 1.0
        ):
            raise BadInputError(
                f"max_participation {max_participation!r}: expected a fraction of the 1m "
                "bar's volume in (0, 1], or None for no cap"
            )
        account = IsolatedAccount(
            instrument, starting_balance=starting_balance, leverage=leverage, mm_basis=mm_basis
        )
        self._ex = SimExchange(
            instrument,
            account,
            fee_model if fee_model is not None else FixedRateFees(),
            slippage_model if slippage_model is not None else FixedSlippage(0.0),
            touch_fills=touch_fills,
            max_participation=max_participation,
        )
        self._account, self._symbol = account, instrument.symbol
        self._funding: FundingModel | None = as_funding_model(funding)
        # A model that can say when its next settlement is (FundingRates.next_after) lets
        # on_market skip the funding search until a step reaches that instant.
        self._next_after = getattr(self._funding, "next_after", None)
        self._next_funding: int | None = None
        self._funding_idle = False  # True: no settlement before _next_funding (None: ever)
        self._now: int | None = None
        self._last_close: float | None = None

    # ------------------------------------------------------------------ commands
    def submit(self, intent: OrderIntent) -> None:
        """Accept (book for the next bar) or reject ``intent``; see the module docstring."""
        ex, at = self._ex, self._at(intent.created_ts)
        ctx = Context(
            ex.instrument, ex.account, ex.fee_model, self._last_close, ex.book.seen(intent.link_id)
        )
        refusal = refusal_of(intent, ctx)
        if refusal is not None:
            ex.emit(OrderRejected(intent.link_id, at, refusal.code, refusal.reason))
            return
        ex.book.add(intent, at)
        ex.emit(OrderAccepted(intent.link_id, at))

    def cancel(self, link_id: str, ts: int, reason: str = "by engine") -> None:
        """Cancel an open order now (it will not trade on the next bar)."""
        at = self._at(ts)
        order = self._ex.book.remove(link_id)
        if order is None:
            msg = f"cancel {link_id}: order not open (filled, cancelled or unknown)"
            self._ex.emit(OrderRejected(link_id, at, ORDER_NOT_EXISTS, msg))
            return
        self._ex.emit(OrderCancelled(link_id, at, reason))

    def set_trading_stop(
        self, symbol: str, ts: int, *, stop_loss: float | None, take_profit: float | None
    ) -> None:
        """Set the position's SL and TP (USDT; None clears), checked from the next bar."""
        ex, at = self._ex, self._at(ts)
        pos = ex.account.pos
        problem = self._trading_stop_problem(symbol, stop_loss, take_profit)
        if problem is not None:
            link = f"{pos.entry_link_id[:31]}-tpsl" if pos.entry_link_id else "tpsl"
            ex.emit(OrderRejected(link, at, PARAMS, problem))
            return
        pos.stop_loss, pos.take_profit = stop_loss, take_profit

    def _trading_stop_problem(
        self, symbol: str, stop_loss: float | None, take_profit: float | None
    ) -> str | None:
        ex = self._ex
        pos = ex.account.pos
        if symbol != ex.symbol:
            return f"symbol {symbol} is not traded here"
        if pos.is_flat:
            return "cannot set TP/SL on a zero position"
        tick = ex.instrument.tick_size
        for level in (stop_loss, take_profit):
            if level is not None and not (level > 0 and is_multiple_of_step(level, tick)):
                return f"TP/SL {level} is not a positive multiple of tick {tick}"
        if not protective_sides_ok(pos.sign, stop_loss, take_profit, self._last_close):
            return (
                f"{pos.side}: stop loss {stop_loss} / take profit {take_profit} on the wrong "
                f"side of the last price {self._last_close}"
            )
        return None

    def _at(self, ts: int) -> int:
        """When a command takes effect: the venue's time, or ``ts`` if later (ms)."""
        return ts if self._now is None else max(self._now, ts)

    # ------------------------------------------------------------------ market
    def on_market(self, step: Step) -> None:
        """Advance to ``step.time``: run its 1m bar (if any) and settle funding."""
        time, bar = step[0], step[1]
        now = self._now
        if now is not None and time <= now:
            raise BadInputError(f"step time {time} does not advance past {now}")
        if bar is not None:
            _, open_, high, low, close, _, _ = bar
            if bar[0] + MINUTE_MS != time or not (
                0 < low <= open_ <= high and low <= close <= high
            ):  # the same test, spelled out; _check_bar decides (and raises) on a miss
                _check_bar(bar, time)
        prev = now if now is not None else time - MINUTE_MS
        self._now = time
        if self._funding is None or (
            self._funding_idle and (self._next_funding is None or self._next_funding > time)
        ):  # no settlement in (prev, time]: only the bar to run
            if bar is not None:
                ex = self._ex
                if ex.book.size or (
                    self._account.pos.sign and not bar_is_quiet(self._account, bar)
                ):  # else flat (or out of reach of every level) with no order: nothing to do
                    walk_bar(ex, bar)
                self._last_close = close
            return
        if bar is None:
            self._settle_funding(prev, time, self._last_close)
        else:
            self._settle_funding(prev, bar.ts, self._last_close)
            walk_bar(self._ex, bar)
            self._last_close = bar.close
            self._settle_funding(bar.ts, time, bar.close)
        if self._next_after is not None:
            self._next_funding = self._next_after(time)
            self._funding_idle = True

    def _settle_funding(self, after: int, upto: int, mark: float | None) -> None:
        if self._funding is None or upto <= after:
            return
        ex = self._ex
        for ts, rate in self._funding.settlements(after, upto):
            pos = ex.account.pos
            if pos.is_flat or mark is None:
                continue
            qty, side = pos.qty, pos.side
            amount = ex.account.settle_funding(rate, mark)
            ex.emit(FundingSettled(ex.symbol, ts, rate, mark, qty, amount))
            assert side is not None
            if is_liquidated(side, mark, ex.account.liq_price):
                ex.liquidate(mark, ts)

    # ------------------------------------------------------------------ reports
    def drain(self) -> list[VenueEvent]:
        """Events since the last drain, in the order they happened; clears the queue."""
        events, self._ex.events = self._ex.events, []
        return events

    def position(self, symbol: str) -> PositionState:
        """The position of ``symbol`` (the venue's only symbol)."""
        if symbol != self._symbol:
            raise BadInputError(f"this venue trades {self._ex.symbol}, not {symbol}")
        return self._account.position_state(symbol)

    def wallet(self, mark_price: float) -> WalletState:
        """The wallet with the position marked at ``mark_price`` USDT."""
        return self._ex.account.wallet(mark_price)

    def equity(self, mark_price: float) -> float:
        """``wallet(mark_price).equity`` (USDT) without building the wallet state."""
        return self._account.equity(mark_price)

    def open_order_ids(self) -> list[str]:
        """Link ids of the open orders (pending and live), in arrival order."""
        return [o.link_id for o in self._ex.book.open_orders()]

    def ledger_drift(self) -> float:
        """``balance - (start + realised - fees - funding)`` in USDT: ~0 (float rounding)."""
        return self._ex.account.ledger.drift()

    @property
    def available_balance(self) -> float:
        """Wallet balance minus position margin, USDT."""
        return self._ex.account.available


def _check_bar(bar: Bar, time: int) -> None:
    if bar.ts + MINUTE_MS != time:
        raise BadInputError(f"1m bar {bar.ts} does not close at step time {time}")
    if not 0 < bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high:
        raise BadInputError(f"bar {bar.ts}: expected 0 < low <= open, close <= high, got {bar}")
