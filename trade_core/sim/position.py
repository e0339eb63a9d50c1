"""One-way isolated position of the simulated exchange, and how a fill changes it.

A fill of ``qty`` base coin at ``price`` USDT on order side ``sign`` (+1 buy, -1 sell):

* flat or same direction: opens / adds; the average entry is size-weighted
  (:func:`trade_core.sim.margin.average_entry`);
* opposite direction: closes ``min(qty, position qty)`` at the average entry, realising
  :func:`trade_core.sim.margin.realised_pnl` on the closed part; what is left of the fill
  (``qty - position qty`` when positive) opens a position the other way (a *reversal*).

Quantities are kept on the instrument's ``qty_step`` grid (exact step rounding after each
sum or difference, so ``0.1 + 0.2`` is ``0.3``). Extra margin ``E`` (USDT, negative when
funding was paid out of the position margin) shrinks in proportion on a partial close and is
dropped when the position closes. Closing a position clears its TP/SL (Bybit cancels both).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from trade_core.data.instrument_spec import Instrument
from trade_core.numbers import round_to_step
from trade_core.sim.margin import (
    average_entry,
    bankruptcy_price,
    initial_margin,
    liquidation_price_for,
    realised_pnl,
)
from trade_core.sim.sides import PositionSide

_SIDE: dict[int, PositionSide] = {1: "long", -1: "short"}


@dataclass(slots=True)
class SimPosition:
    """Mutable state of the one net position (``sign`` 0 = flat; then ``qty`` is 0)."""

    sign: int = 0  # +1 long, -1 short, 0 flat
    qty: float = 0.0  # base coin, >= 0
    avg_entry: float = math.nan  # USDT
    extra_margin: float = 0.0  # USDT added to (> 0) or drained from (< 0) the IM
    entry_link_id: str = ""  # orderLinkId of the order that opened it
    stop_loss: float | None = None  # USDT trigger, position TP/SL (LastPrice)
    take_profit: float | None = None
    opened_ts: int = 0  # epoch ms of the fill that opened it
    open_fees: float = 0.0  # USDT of opening fees not yet allotted to a closed-PnL record
    funding: float = 0.0  # USDT of funding paid (+) not yet allotted to a closed-PnL record

    @property
    def side(self) -> PositionSide | None:
        """``"long"``, ``"short"`` or ``None`` when flat."""
        return _SIDE.get(self.sign)

    @property
    def is_flat(self) -> bool:
        return self.sign == 0

    def flatten(self) -> None:
        """Back to flat: no size, no entry, no extra margin, no TP/SL, nothing to allot."""
        self.sign, self.qty, self.avg_entry, self.extra_margin = 0, 0.0, math.nan, 0.0
        self.entry_link_id, self.stop_loss, self.take_profit = "", None, None
        self.opened_ts, self.open_fees, self.funding = 0, 0.0, 0.0


@dataclass(frozen=True, slots=True)
class FillEffect:
    """What one fill did: ``closed_qty`` base coin closed (realising ``gross_pnl`` USDT,
    before fees), then ``opened_qty`` base coin opened or added on the fill's side."""

    closed_qty: float
    gross_pnl: float
    opened_qty: float
    opened_from_flat: bool  # a new position began (from flat, or by reversal)


def split_fill(pos: SimPosition, sign: int, qty: float, qty_step: float) -> tuple[float, float]:
    """``(closed, opened)`` base coin a fill of ``qty`` on side ``sign`` would do to ``pos``."""
    if pos.sign != -sign:
        return 0.0, qty
    closed = min(qty, pos.qty)
    rest = max(qty - closed, 0.0)
    return closed, (0.0 if rest == 0.0 else round_to_step(rest, qty_step))


def apply_fill(
    pos: SimPosition, sign: int, qty: float, price: float, qty_step: float
) -> FillEffect:
    """Apply a fill to ``pos`` in place (see the module docstring); returns its effect."""
    closed, opened = split_fill(pos, sign, qty, qty_step)
    gross = 0.0
    if closed > 0.0:
        side = pos.side
        assert side is not None
        gross = realised_pnl(side, closed, pos.avg_entry, price)
        left = pos.qty - closed
        remaining = 0.0 if left == 0.0 else round_to_step(left, qty_step)
        if remaining > 0.0:
            pos.extra_margin *= remaining / pos.qty
            pos.qty = remaining
        else:
            pos.flatten()
    from_flat = opened > 0.0 and pos.is_flat
    if opened > 0.0:
        if from_flat:
            pos.sign, pos.qty, pos.avg_entry = sign, opened, price
        else:
            pos.avg_entry = average_entry(pos.qty, pos.avg_entry, opened, price)
            pos.qty = round_to_step(pos.qty + opened, qty_step)
    return FillEffect(closed, gross, opened, from_flat)


def position_margin(pos: SimPosition, leverage: float) -> float:
    """Isolated position margin ``IM + E`` (USDT), ``IM = qty * avg_entry / leverage``; 0 flat."""
    if pos.is_flat:
        return 0.0
    return initial_margin(pos.qty, pos.avg_entry, leverage) + pos.extra_margin


def liquidation_of(
    pos: SimPosition, leverage: float, instrument: Instrument, mm_basis: str
) -> float:
    """Liquidation price (USDT) of ``pos`` (NaN when flat); see
    :func:`trade_core.sim.margin.liquidation_price_for`."""
    side = pos.side
    if side is None:
        return math.nan
    return liquidation_price_for(
        side,
        pos.avg_entry,
        pos.qty,
        leverage,
        instrument,
        extra_margin=pos.extra_margin,
        mm_basis=mm_basis,
    )


def bankruptcy_of(pos: SimPosition, leverage: float) -> float:
    """Bankruptcy price (USDT) of ``pos``: where its margin ``IM + E`` is exactly lost."""
    side = pos.side
    if side is None:
        return math.nan
    return bankruptcy_price(
        side, pos.avg_entry, leverage, qty=pos.qty, extra_margin=pos.extra_margin
    )
