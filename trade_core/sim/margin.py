"""Isolated-margin money math of a Bybit USDT perpetual, one-way mode: pure functions.

Units: prices in USDT per base coin, quantities (``qty``) in the base coin and always > 0
(the direction is the separate ``side``), amounts in USDT, rates as **fractions**
(``0.005`` is 0.5 %; a funding rate of ``0.0001`` is 0.01 %), leverage as a plain multiple.
A position side is ``"long"`` or ``"short"`` (see :mod:`trade_core.sim.sides`).

Sources: ``docs/BYBIT_RULES.md`` (Margin, PnL, Funding) and Bybit's help centre articles
"Liquidation Price (USDT Contract)", "Liquidation Price Calculation under Isolated Mode (UTA)"
and "The New Margin Calculation: Adjustments and Implications" (effective 2025-09-02: in
isolated mode the maintenance margin is computed at the mark price, the initial margin still at
the entry price). Bybit adds an "estimated fee to close" to both IM and MM; it appears on both
sides of the liquidation condition and cancels, so it is left out here.

The liquidation condition used throughout: the position's **margin balance**

    B(P) = IM + E + s * qty * (P - entry)        (s = +1 long, -1 short; E = extra margin)

equals its maintenance margin. ``E`` may be negative: funding paid out of the position margin
(BYBIT_RULES: "then position margin") is passed as a negative extra margin.
"""

from __future__ import annotations

from typing import Literal

from trade_core.data.instrument_spec import Instrument, RiskTier
from trade_core.errors import BadInputError
from trade_core.sim.sides import (
    position_sign,
    require_finite,
    require_non_negative,
    require_positive,
)

MmBasis = Literal["entry", "mark"]
"""Price the maintenance margin of an isolated position is computed at: ``"entry"`` (Bybit
before 2025-09-02) or ``"mark"`` (since; the liquidation price solves MM at itself)."""

MM_BASES: tuple[str, ...] = ("entry", "mark")


def position_value(qty: float, price: float) -> float:
    """Position value ``qty * price`` (USDT) of ``qty`` base coin at ``price`` USDT."""
    return require_positive("qty", qty) * require_positive("price", price)


def initial_margin(qty: float, entry_price: float, leverage: float) -> float:
    """Initial margin ``IM = qty * entry_price / leverage`` (USDT). Source: BYBIT_RULES."""
    return position_value(qty, entry_price) / require_positive("leverage", leverage)


def maintenance_margin(qty: float, price: float, tier: RiskTier) -> float:
    """Maintenance margin ``MM = max(qty * price * MMR - mmDeduction, 0)`` (USDT).

    ``MMR`` is ``tier.maintenance_margin`` (fraction), ``mmDeduction`` is
    ``tier.mm_deduction`` (USDT). ``price`` is the entry or the mark price, depending on the
    basis the caller models (see :data:`MmBasis`). Never negative. Source: BYBIT_RULES.
    """
    raw = position_value(qty, price) * tier.maintenance_margin - tier.mm_deduction
    return max(raw, 0.0)


def maintenance_margin_for(qty: float, price: float, instrument: Instrument) -> float:
    """:func:`maintenance_margin` with the risk tier of the position value ``qty * price``."""
    return maintenance_margin(qty, price, instrument.tier_for(position_value(qty, price)))


def bankruptcy_price(
    side: str,
    entry: float,
    leverage: float,
    *,
    qty: float | None = None,
    extra_margin: float = 0.0,
) -> float:
    """Price (USDT) at which the isolated margin balance is exactly zero.

    Long ``entry * (1 - 1/L) - E/qty``, short ``entry * (1 + 1/L) + E/qty``, i.e.
    ``entry - s * (IM + E) / qty``. ``qty`` (base coin) is needed only when ``extra_margin``
    ``E`` (USDT, negative for margin drained by funding) is not zero. Source: BYBIT_RULES.
    """
    sign = position_sign(side)
    entry = require_positive("entry", entry)
    leverage = require_positive("leverage", leverage)
    extra = require_finite("extra_margin", extra_margin)
    per_coin = 0.0
    if extra != 0.0:
        if qty is None:
            raise BadInputError("bankruptcy_price: qty is required when extra_margin is not 0")
        per_coin = extra / require_positive("qty", qty)
    return entry * (1.0 - sign / leverage) - sign * per_coin


def liquidation_price(
    side: str,
    entry: float,
    qty: float,
    leverage: float,
    tier: RiskTier,
    *,
    extra_margin: float = 0.0,
    mm_basis: str = "mark",
) -> float:
    """Mark price (USDT) at which an isolated position is liquidated, for one risk ``tier``.

    ``IM = qty * entry / L``, ``E = extra_margin`` (USDT), ``r = tier.maintenance_margin``,
    ``D = tier.mm_deduction``, ``s`` = +1 long / -1 short.

    * ``mm_basis="entry"`` (Bybit before 2025-09-02): ``MM_e = max(qty*entry*r - D, 0)``,
      ``LP = entry - s * (IM + E - MM_e) / qty``. With ``D = E = 0`` this is the classic
      long ``entry * (1 - 1/L + r)``, short ``entry * (1 + 1/L - r)``.
    * ``mm_basis="mark"`` (since 2025-09-02): MM is taken at the liquidation price itself;
      solving ``IM + E + s*qty*(LP - entry) = qty*LP*r - D`` gives
      long ``LP = (qty*entry - IM - E - D) / (qty*(1 - r))``,
      short ``LP = (qty*entry + IM + E + D) / (qty*(1 + r))``.
      If at that root ``qty*LP*r < D`` (there MM is floored at 0, not negative), the root of
      ``B(P) = 0`` applies instead; both cases are long ``max(root, BP)``, short
      ``min(root, BP)``.

    Guarantees: the result is never worse than the bankruptcy price ``BP`` (long
    ``LP >= BP``, short ``LP <= BP``), because MM is never negative. If the margin balance at
    entry does not cover MM at entry (``IM + E <= MM``; Bybit's tier max leverage prevents this at
    open, drained margin can cause it later) the result lies at or beyond the entry on the
    profitable side, so :func:`is_liquidated` is true at the entry price: **immediate
    liquidation** on the next check. A long result <= 0 means no positive price liquidates.
    """
    sign = position_sign(side)
    qty = require_positive("qty", qty)
    entry = require_positive("entry", entry)
    extra = require_finite("extra_margin", extra_margin)
    margin = initial_margin(qty, entry, leverage) + extra
    if mm_basis == "entry":
        mm_entry = maintenance_margin(qty, entry, tier)
        return entry - sign * (margin - mm_entry) / qty
    if mm_basis != "mark":
        raise BadInputError(f"mm_basis {mm_basis!r}: expected one of {', '.join(MM_BASES)}")
    rate, deduction = tier.maintenance_margin, tier.mm_deduction
    root = (sign * qty * entry - margin - deduction) / (qty * (sign - rate))
    bankrupt = entry - sign * margin / qty
    return max(root, bankrupt) if sign > 0 else min(root, bankrupt)


def liquidation_price_for(
    side: str,
    entry: float,
    qty: float,
    leverage: float,
    instrument: Instrument,
    *,
    extra_margin: float = 0.0,
    mm_basis: str = "mark",
) -> float:
    """:func:`liquidation_price` with the risk tier chosen from ``instrument``'s tiers.

    ``"entry"`` basis: the tier of the position value at entry (``qty * entry``).
    ``"mark"`` basis: the tier of the position value at the liquidation price itself (Bybit
    re-tiers on the mark price since 2025-09-02). Bybit's deductions make the tiered MM
    continuous and convex in price (``MM = max(0, max_i(qty*P*r_i - D_i))``), so the margin
    balance minus MM is ``min_i`` of per-tier differences, and its root is the **most
    conservative** per-tier liquidation price: long ``max_i LP_i``, short ``min_i LP_i``.
    That is the price whose own tier is the tier at ``qty * LP``; for tier data that are not
    continuous it is still the earliest-liquidating reading, never a later one.
    """
    if mm_basis != "mark":
        tier = instrument.tier_for(position_value(qty, entry))
        return liquidation_price(
            side, entry, qty, leverage, tier, extra_margin=extra_margin, mm_basis=mm_basis
        )
    prices = [
        liquidation_price(side, entry, qty, leverage, t, extra_margin=extra_margin, mm_basis="mark")
        for t in instrument.risk_tiers
    ]
    return max(prices) if position_sign(side) > 0 else min(prices)


def is_liquidated(side: str, mark_price: float, liq_price: float) -> bool:
    """True once the mark price reaches the liquidation price: long ``mark <= LP``,
    short ``mark >= LP`` (inclusive, as Bybit's "reaches"). Source: BYBIT_RULES."""
    sign = position_sign(side)
    mark = require_positive("mark_price", mark_price)
    liq = require_finite("liq_price", liq_price)
    return mark <= liq if sign > 0 else mark >= liq


def unrealised_pnl(side: str, qty: float, avg_entry: float, price: float) -> float:
    """Unrealised PnL (USDT): long ``qty * (P - avg_entry)``, short ``qty * (avg_entry - P)``.

    ``price`` ``P`` is the mark (or last) price in USDT. Source: BYBIT_RULES, Bybit "P&L
    calculations (USDT Contract)".
    """
    sign = position_sign(side)
    qty = require_positive("qty", qty)
    avg_entry = require_positive("avg_entry", avg_entry)
    return sign * qty * (require_positive("price", price) - avg_entry)


def realised_pnl(side: str, closed_qty: float, avg_entry: float, exit_price: float) -> float:
    """Gross PnL (USDT, before fees and funding) realised by closing ``closed_qty`` base coin.

    Long ``closed_qty * (exit - avg_entry)``, short ``closed_qty * (avg_entry - exit)``; a
    partial close realises at the position's average entry (BYBIT_RULES, PnL).
    """
    return unrealised_pnl(side, closed_qty, avg_entry, exit_price)


def average_entry(old_qty: float, old_avg: float, add_qty: float, add_price: float) -> float:
    """Size-weighted average entry (USDT) after adding ``add_qty`` at ``add_price`` to a
    position of ``old_qty`` (base coin, >= 0; 0 = opening from flat, ``old_avg`` ignored):
    ``(old_qty * old_avg + add_qty * add_price) / (old_qty + add_qty)``.
    Source: Bybit "P&L calculations (USDT Contract)", average entry price.
    """
    old_qty = require_non_negative("old_qty", old_qty)
    add_qty = require_positive("add_qty", add_qty)
    add_price = require_positive("add_price", add_price)
    if old_qty == 0.0:
        return add_price
    old_avg = require_positive("old_avg", old_avg)
    return (old_qty * old_avg + add_qty * add_price) / (old_qty + add_qty)


def funding_fee(side: str, qty: float, mark_price: float, rate: float) -> float:
    """Funding (USDT) the **position pays** at one settlement: positive pays, negative receives.

    ``fee = s * qty * mark_price * rate`` with ``s`` = +1 long / -1 short and ``rate`` a
    fraction (``0.0001`` = 0.01 %): rate > 0 longs pay and shorts receive, rate < 0 shorts pay
    and longs receive. Only a position open at the settlement instant is charged (caller's
    job). Source: BYBIT_RULES, Funding.
    """
    sign = position_sign(side)
    notional = position_value(qty, mark_price)
    return sign * notional * require_finite("rate", rate) + 0.0  # + 0.0: no -0.0
