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

The liquidation price is recomputed after every change (fill, funding, liquidation).
Amounts in USDT, quantities in base coin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from trade_core.data.instrument_spec import Instrument
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

    def position_state(self, symbol: str) -> PositionState:
        p = self.pos
        return PositionState(
            symbol=symbol,
            side=p.side,
            qty=p.qty,
            avg_entry=p.avg_entry,
            leverage=self.leverage,
            margin=self.margin,
            liq_price=self.liq_price,
            stop_loss=p.stop_loss,
            take_profit=p.take_profit,
        )

    def wallet(self, mark: float) -> WalletState:
        lg = self.ledger
        return WalletState(
            balance=lg.balance,
            equity=lg.balance + self.unrealised(mark),
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

    def fill(self, sign: int, qty: float, price: float, fee: float, link_id: str) -> FillEffect:
        """Book one fill: fee, realised PnL of its closing part, new size and entry."""
        self.ledger.charge_fee(fee)
        effect = apply_fill(self.pos, sign, qty, price, self.instrument.qty_step)
        if effect.closed_qty > 0.0:
            self.ledger.realise(effect.gross_pnl)
        if effect.opened_from_flat:
            self.pos.entry_link_id = link_id
        self._refresh()
        return effect

    def settle_funding(self, rate: float, mark: float) -> float:
        """Charge one settlement on the open position; returns the amount paid (USDT)."""
        side = self.pos.side
        assert side is not None
        amount = funding_fee(side, self.pos.qty, mark, rate)
        self.ledger.pay_funding(amount)
        shortfall = -self.available
        if amount > 0.0 and shortfall > 0.0:
            self.pos.extra_margin -= min(shortfall, amount)
        self._refresh()
        return amount

    def liquidate(self) -> Liquidation:
        """Close the whole position at its bankruptcy price; its margin is the loss."""
        pos = self.pos
        side = pos.side
        assert side is not None
        price, qty, margin = bankruptcy_of(pos, self.leverage), pos.qty, self.margin
        gross = realised_pnl(side, qty, pos.avg_entry, price) if price > 0.0 else -margin
        self.ledger.realise(gross)
        pos.flatten()
        self._refresh()
        return Liquidation(side, qty, price, -gross)

    def _refresh(self) -> None:
        self.liq_price = liquidation_of(self.pos, self.leverage, self.instrument, self.mm_basis)
