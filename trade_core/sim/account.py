"""The isolated-margin account of one symbol: ledger + position + margin, kept consistent.

* **Wallet balance** (:class:`~trade_core.sim.ledger.Ledger`) includes the position margin;
  ``balance == start + realised - fees - funding`` always.
* **Position margin** ``M = IM + E``: ``IM = qty * avg_entry / leverage`` is reserved from the
  balance when a position opens or grows and released as it shrinks; ``E`` is extra margin
  (only ever negative here: funding drained from the position).
* **Available balance** ``balance - M``; an opening fill needs ``IM(opened part) + fee`` of it.
  No order margin is reserved for resting orders (a modelling simplification): the check is
  made at submission and again at each fill.
* **Funding** comes out of the available balance first; a shortfall is taken from the position
  margin (``E`` decreases), which moves the liquidation price (BYBIT_RULES, Margin).
* **Liquidation** closes the position at its bankruptcy price, so the realised loss is exactly
  the position margin ``M``; no closing fee is charged (Bybit's bankruptcy price already
  carries the fee to close, which :mod:`trade_core.sim.margin` leaves out).
* **Closed-PnL records.** Every fill that closes quantity yields a
  :class:`~trade_core.engine.orders.PositionClosed`: a reversal fill's fee is split between its
  closing and opening parts in proportion to quantity; the closed part takes its pro-rata
  share of the position's unallotted opening fees and funding, so the records of one position
  add up exactly to what the ledger booked for it.

The liquidation price is recomputed after every change (fill, funding, liquidation).
Amounts in USDT, quantities in base coin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from trade_core.data.instrument_spec import Instrument
from trade_core.engine.orders import ExitType, PositionClosed
from trade_core.engine.venue import PositionState, WalletState
from trade_core.errors import BadInputError
from trade_core.sim.ledger import Ledger
from trade_core.sim.margin import (
    MM_BASES,
    funding_fee,
    initial_margin,
    realised_pnl,
    unrealised_pnl,
)
from trade_core.sim.position import (
    FillEffect,
    SimPosition,
    apply_fill,
    bankruptcy_of,
    liquidation_of,
    position_margin,
    split_fill,
)
from trade_core.sim.sides import require_positive

AFFORD_TOLERANCE = 1e-9
"""USDT of float noise forgiven when comparing a margin need with the available balance."""


@dataclass(frozen=True, slots=True)
class Liquidation:
    """Outcome of a liquidation: the closed ``side``/``qty``, ``price`` (bankruptcy, USDT)
    and ``margin_lost`` (USDT, the realised loss)."""

    side: str
    qty: float
    price: float
    margin_lost: float


class IsolatedAccount:
    """Ledger and one-way isolated position of a single symbol (module docstring)."""

    def __init__(
        self, instrument: Instrument, *, starting_balance: float, leverage: float, mm_basis: str
    ) -> None:
        leverage = require_positive("leverage", leverage)
        if leverage > instrument.max_leverage:
            raise BadInputError(
                f"leverage {leverage} exceeds {instrument.symbol}'s max {instrument.max_leverage}"
            )
        if mm_basis not in MM_BASES:
            raise BadInputError(f"mm_basis {mm_basis!r}: expected one of {', '.join(MM_BASES)}")
        self.instrument = instrument
        self.leverage = leverage
        self.mm_basis = mm_basis
        self.ledger = Ledger(starting_balance)
        self.pos = SimPosition()
        self.liq_price = math.nan
        self._state_key: tuple | None = None  # what the cached PositionState was built from
        self._state: PositionState | None = None

    # ------------------------------------------------------------------ reports
    @property
    def margin(self) -> float:
        """Position margin ``IM + E`` (USDT), 0 when flat."""
        return position_margin(self.pos, self.leverage)

    @property
    def available(self) -> float:
        """Available balance: wallet balance minus position margin (USDT)."""
        return self.ledger.balance - self.margin

    def unrealised(self, mark: float) -> float:
        """Unrealised PnL (USDT) at ``mark``; 0 when flat."""
        side = self.pos.side
        if side is None:
            return 0.0
        return unrealised_pnl(side, self.pos.qty, self.pos.avg_entry, mark)

    def equity(self, mark: float) -> float:
        """Wallet balance plus unrealised PnL at ``mark`` (USDT): ``wallet(mark).equity``.

        The hot path of the engine (one call per exec bar): the arithmetic of
        :func:`~trade_core.sim.margin.unrealised_pnl` (``sign * qty * (mark - entry)``, same
        operations in the same order, so bit-identical) without re-validating the position
        the account itself keeps valid. ``mark`` is still checked: it comes from outside."""
        p = self.pos
        sign = p.sign
        if not sign:
            return self.ledger.balance + 0.0
        if mark.__class__ is not float or not 0.0 < mark < math.inf:
            return self.ledger.balance + self.unrealised(mark)  # checks (and converts) mark
        return self.ledger.balance + sign * p.qty * (mark - p.avg_entry)

    def position_state(self, symbol: str) -> PositionState:
        """The port's frozen view of the position; built again only when something it shows
        changed (the engine asks for it every exec bar, the position changes rarely)."""
        p = self.pos
        key = (symbol, p.sign, p.qty, p.avg_entry, p.extra_margin, p.stop_loss, p.take_profit,
               p.opened_ts, self.liq_price)  # fmt: skip
        if key == self._state_key:
            return self._state  # type: ignore[return-value]
        state = PositionState(
            symbol=symbol,
            side=p.side,
            qty=p.qty,
            avg_entry=p.avg_entry,
            leverage=self.leverage,
            margin=self.margin,
            liq_price=self.liq_price,
            stop_loss=p.stop_loss,
            take_profit=p.take_profit,
            opened_ts=p.opened_ts,
        )
        self._state_key, self._state = key, state
        return state

    def wallet(self, mark: float) -> WalletState:
        lg = self.ledger
        return WalletState(
            balance=lg.balance,
            equity=self.equity(mark),
            realised_pnl=lg.realised_pnl,
            fees_paid=lg.fees_paid,
            funding_paid=lg.funding_paid,
        )

    # ------------------------------------------------------------------ changes
    def split(self, sign: int, qty: float) -> tuple[float, float]:
        """``(closed, opened)`` base coin a fill of ``qty`` on side ``sign`` would do."""
        return split_fill(self.pos, sign, qty, self.instrument.qty_step)

    def can_afford(self, sign: int, qty: float, price: float, fee: float) -> bool:
        """Whether a fill leaves ``IM(opened part) + fee`` covered by the available balance
        after its closing part (realised at ``price``) released its margin. A fill that only
        reduces is always affordable."""
        closed, opened = self.split(sign, qty)
        if opened <= 0.0:
            return True
        pos, gross, margin_left = self.pos, 0.0, self.margin
        if closed > 0.0:
            assert pos.side is not None
            gross = realised_pnl(pos.side, closed, pos.avg_entry, price)
            margin_left = 0.0  # an opening part after a close means the old position is gone
        free = self.ledger.balance + gross - fee - margin_left
        need = initial_margin(opened, price, self.leverage)
        return free + AFFORD_TOLERANCE >= need

    def fill(
        self, sign: int, qty: float, price: float, fee: float, link_id: str, *, ts: int = 0,
        exit_type: ExitType = "Order",
    ) -> tuple[FillEffect, PositionClosed | None]:  # fmt: skip
        """Book one fill at ``ts`` (ms): fee, realised PnL of its closing part, new size and
        entry. Returns its effect and, when it closed quantity, the closed-PnL record."""
        pos = self.pos
        before = (pos.side, pos.qty, pos.avg_entry, pos.open_fees, pos.funding, pos.opened_ts,
                  pos.entry_link_id)  # fmt: skip
        self.ledger.charge_fee(fee)
        effect = apply_fill(pos, sign, qty, price, self.instrument.qty_step)
        record = None
        close_fee = fee * effect.closed_qty / qty
        if effect.closed_qty > 0.0:
            self.ledger.realise(effect.gross_pnl)
            record = self._closed_record(before, effect.closed_qty, effect.gross_pnl, price,
                                         close_fee, ts, link_id, exit_type)  # fmt: skip
        if effect.opened_from_flat:
            pos.entry_link_id, pos.opened_ts = link_id, ts
            pos.open_fees, pos.funding = fee - close_fee, 0.0
        elif effect.opened_qty > 0.0:
            pos.open_fees += fee - close_fee
        self._refresh()
        return effect, record

    def _closed_record(
        self, before: tuple, closed: float, gross: float, price: float, close_fee: float,
        ts: int, link_id: str, exit_type: ExitType,
    ) -> PositionClosed:  # fmt: skip
        side, qty, avg, open_fees, funding, opened_ts, entry_link = before
        share = closed / qty
        entry_fee, funding_share = open_fees * share, funding * share
        if not self.pos.is_flat and self.pos.sign == (1 if side == "long" else -1):
            self.pos.open_fees -= entry_fee  # a partial close: the rest stays to allot
            self.pos.funding -= funding_share
        return PositionClosed(
            self.instrument.symbol, ts, side, closed, avg, price, entry_fee, close_fee,
            funding_share, gross, gross - entry_fee - close_fee, opened_ts, entry_link,
            link_id, exit_type,
        )  # fmt: skip

    def settle_funding(self, rate: float, mark: float) -> float:
        """Charge one settlement on the open position; returns the amount paid (USDT)."""
        side = self.pos.side
        assert side is not None
        amount = funding_fee(side, self.pos.qty, mark, rate)
        self.ledger.pay_funding(amount)
        self.pos.funding += amount
        shortfall = -self.available
        if amount > 0.0 and shortfall > 0.0:
            self.pos.extra_margin -= min(shortfall, amount)
        self._refresh()
        return amount

    def liquidate(self, ts: int, link_id: str) -> tuple[Liquidation, PositionClosed]:
        """Close the whole position at its bankruptcy price at ``ts`` (ms) by the venue fill
        ``link_id``; its margin is the loss. Returns the outcome and the closed-PnL record."""
        pos = self.pos
        side = pos.side
        assert side is not None
        price, qty, margin = bankruptcy_of(pos, self.leverage), pos.qty, self.margin
        gross = realised_pnl(side, qty, pos.avg_entry, price) if price > 0.0 else -margin
        before = (side, qty, pos.avg_entry, pos.open_fees, pos.funding, pos.opened_ts,
                  pos.entry_link_id)  # fmt: skip
        self.ledger.realise(gross)
        pos.flatten()
        self._refresh()
        record = self._closed_record(before, qty, gross, price, 0.0, ts, link_id, "Liquidation")
        return Liquidation(side, qty, price, -gross), record

    def _refresh(self) -> None:
        self.liq_price = liquidation_of(self.pos, self.leverage, self.instrument, self.mm_basis)
