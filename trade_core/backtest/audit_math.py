"""The audit's own margin and price-path math, vectorised over many positions or spans.

Written apart from :mod:`trade_core.sim` on purpose (an audit that called the simulator's
functions would only check them against themselves):

* **Bankruptcy price**: where the isolated margin ``M = qty * entry / L + E`` is lost,
  ``entry - s * M / qty`` (``s`` +1 long / -1 short, ``E`` extra margin, negative once funding
  drained it).
* **Liquidation price** (BYBIT_RULES, Margin): the price ``P`` at which the margin balance
  ``M + s * qty * (P - entry)`` meets the maintenance margin. With ``mm_basis="mark"`` the
  maintenance margin is taken at ``P`` itself over the instrument's tiers,
  ``MM(P) = max(0, max_i(qty * P * MMR_i - deduction_i))``, and ``P`` is found by bisection
  on that condition; with ``"entry"`` it is the tier of ``qty * entry`` at the entry price
  (closed form).
* **Path spans**: the simulator walks a 1m bar as ``open -> x1 -> x2 -> close`` (path time 0
  to 3; ``x1`` the low first when ``lows_first``). The extremes over a span of path time
  ``[t_a, t_b]`` are those of its end prices and of the vertices strictly inside it.

Units: prices USDT, quantities base coin, rates fractions.
"""

from __future__ import annotations

import numpy as np

from trade_core.data.instrument_spec import Instrument

BISECTION_STEPS = 58
"""Halvings of the bracket (at most a few times the entry wide): past float64 resolution."""


def margins(qty: np.ndarray, avg: np.ndarray, extra: np.ndarray, lev: float) -> np.ndarray:
    """Isolated position margin ``qty * avg / L + E`` (USDT)."""
    return qty * avg / lev + extra


def bankruptcy_prices(
    sign: np.ndarray, qty: np.ndarray, avg: np.ndarray, extra: np.ndarray, lev: float
) -> np.ndarray:
    """Price (USDT) at which each position's margin is exactly lost."""
    return avg - sign * margins(qty, avg, extra, lev) / qty


def liquidation_prices(
    sign: np.ndarray,
    qty: np.ndarray,
    avg: np.ndarray,
    extra: np.ndarray,
    lev: float,
    instrument: Instrument,
    mm_basis: str,
) -> np.ndarray:
    """Mark price (USDT) at which each position is liquidated (long: at or below it, short:
    at or above it). A long's result <= 0 means no positive price liquidates it."""
    sign, qty, avg, extra = (np.asarray(a, np.float64) for a in (sign, qty, avg, extra))
    if sign.size == 0:
        return np.zeros(0)
    rates = np.array([t.maintenance_margin for t in instrument.risk_tiers])
    cuts = np.array([t.mm_deduction for t in instrument.risk_tiers])
    margin = margins(qty, avg, extra, lev)
    if mm_basis == "entry":
        limits = np.array([t.risk_limit_value for t in instrument.risk_tiers])
        tier = np.minimum(np.searchsorted(limits, qty * avg, side="left"), limits.size - 1)
        mm = np.maximum(qty * avg * rates[tier] - cuts[tier], 0.0)
        return avg - sign * (margin - mm) / qty
    if mm_basis != "mark":
        raise ValueError(f"mm_basis {mm_basis!r}: expected 'mark' or 'entry'")
    return _bisect(sign, qty, avg, margin, rates, cuts)


def _bisect(
    sign: np.ndarray,
    qty: np.ndarray,
    avg: np.ndarray,
    margin: np.ndarray,
    rates: np.ndarray,
    cuts: np.ndarray,
) -> np.ndarray:
    """Root of ``margin + s*qty*(P - avg) <= MM(P)`` (mark basis) by bisection.

    Long: liquidated for ``P`` at or below the root, so the bracket keeps ``lo`` liquidated
    and ``hi`` not; short mirrored. Brackets: long ``[0, hi]`` with ``hi`` past where the
    balance outgrows any tier's MM; short ``[0, 2 * max(entry, bankruptcy)]``.
    """
    is_long = sign > 0
    top = float(rates.max())
    long_hi = (qty * avg - margin) / (qty * (1.0 - top)) * 2.0 + avg
    short_hi = np.maximum(avg + margin / qty, avg) * 2.0
    lo = np.zeros_like(avg)
    hi = np.where(is_long, np.maximum(long_hi, avg), short_hi)
    tiers = list(zip(rates.tolist(), cuts.tolist(), strict=True))
    for _ in range(BISECTION_STEPS):
        mid = (lo + hi) * 0.5
        value = qty * mid
        mm = np.zeros_like(mid)
        for rate, cut in tiers:
            np.maximum(mm, value * rate - cut, out=mm)
        move_lo = (margin + sign * qty * (mid - avg) <= mm) == is_long
        lo = np.where(move_lo, mid, lo)
        hi = np.where(move_lo, hi, mid)
    return np.where(is_long, lo, hi)


def lows_first(
    build_sign: np.ndarray, bar_open: np.ndarray, high: np.ndarray, low: np.ndarray
) -> np.ndarray:
    """Whether the path visits the low first: a long's adverse extreme first, a short's
    high first; flat, the extreme nearer to the open (ties: the low)."""
    flat_rule = bar_open - low <= high - bar_open
    return np.where(build_sign > 0, True, np.where(build_sign < 0, False, flat_rule))


def span_extremes(
    vertices: tuple[np.ndarray, np.ndarray, np.ndarray],
    t_a: np.ndarray,
    p_a: np.ndarray,
    t_b: np.ndarray,
    p_b: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``(low, high)`` of the path over ``[t_a, t_b]`` (USDT): the end prices ``p_a``,
    ``p_b`` and the vertices ``(x1, x2, close)`` at times 1, 2, 3 strictly inside."""
    lo = np.minimum(p_a, p_b)
    hi = np.maximum(p_a, p_b)
    for k, v in enumerate(vertices, start=1):
        inside = (t_a < k) & (k < t_b)
        lo = np.where(inside, np.minimum(lo, v), lo)
        hi = np.where(inside, np.maximum(hi, v), hi)
    return lo, hi
