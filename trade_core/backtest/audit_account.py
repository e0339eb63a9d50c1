"""Audit checks on the account: funding settlements, the wallet balance and liquidations.

Checks 13, 14 and 15 of :mod:`trade_core.backtest.audit`, from the replay
(:mod:`audit_replay`) and the audit's own margin math (:mod:`audit_math`). Money USDT,
prices USDT, funding rates fractions, times epoch ms UTC.
"""

from __future__ import annotations

import numpy as np

from trade_core.backtest.audit_context import REL_TOL, AuditContext, Outcome, close_enough, when
from trade_core.backtest.audit_math import (
    bankruptcy_prices,
    liquidation_prices,
    lows_first,
    span_extremes,
)
from trade_core.backtest.audit_replay import Segments
from trade_core.backtest.audit_tables import KIND_LIQ
from trade_core.backtest.audit_walk import END_DATA, END_LIQ

LIQ_TOL = 1e-9
"""Relative band around a liquidation price inside which touching is not judged."""


def check_funding(ctx: AuditContext) -> Outcome:
    """(13) Funding settled exactly at the data's funding times with a position open, each
    ``amount = s * qty * mark * rate`` (long pays a positive rate) with mark = the close of
    the 1m bar closing at that instant; trades carry their pro-rata share of it."""
    got, want = ctx.result.funding, ctx.replay.settlements
    step = ctx.instrument.qty_step
    n = len(want.ts)
    for k in range(max(len(got), n)):
        g = got[k] if k < len(got) else None
        w_ts = int(want.ts[k]) if k < n else None
        if g is None or w_ts is None or g.ts != w_ts:
            first = min(x for x in (None if g is None else g.ts, w_ts) if x is not None)
            return False, (
                f"settlement #{k + 1}: venue {'none' if g is None else when(g.ts)}, expected "
                f"{'none' if w_ts is None else when(w_ts)} (first difference {when(first)})"
            )
        qty, mark, rate, amount = (
            float(a[k]) for a in (want.qty, want.mark, want.rate, want.amount)
        )
        amount_ok = close_enough(g.amount, amount, abs(qty * mark * rate))
        same_qty = round(g.qty / step) == round(qty / step)
        if g.rate != rate or g.mark_price != mark or not same_qty or not amount_ok:
            return False, (
                f"funding {when(g.ts)}: paid {g.amount!r} on {g.qty:g} at mark "
                f"{g.mark_price!r}, rate {g.rate!r}; expected {amount!r} = "
                f"{'+' if want.sign[k] > 0 else '-'}{qty:g} x {mark!r} x {rate!r}"
            )
    t, c = ctx.trade_table, ctx.replay.closings
    m = min(len(t), len(c))
    diff = np.abs(t.funding[:m] - c.funding[:m])
    bad = ~(diff <= REL_TOL * np.maximum(np.abs(t.funding[:m]), np.abs(c.funding[:m])) + 1e-12)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        return False, (
            f"trade #{int(t.ids[i])}: funding {t.funding[i]!r} USDT, its share of the "
            f"settlements is {c.funding[i]!r}"
        )
    total = float(want.amount.sum())
    return True, (
        f"{n:,} settlements (of {len(ctx.data.funding_ts):,} funding times in the data) with a "
        f"position open, {total:,.4f} USDT paid; trade shares match"
    )


def check_balance(ctx: AuditContext) -> Outcome:
    """(14) The replayed wallet balance (start + gross PnL - fees - funding) is never
    negative, except at a liquidation."""
    bal, ts = ctx.replay.balance, ctx.replay.balance_ts
    start = float(ctx.play.model.account.starting_equity)
    if bal.size == 0:
        return True, f"no fills or funding; balance stays {start:,.2f} USDT"
    liqs = ctx.replay.liquidation_ts
    for i in np.flatnonzero(bal < 0.0).tolist():
        if int(ts[i]) not in liqs:
            return False, f"balance {bal[i]:,.6f} USDT at {when(ts[i])} with no liquidation there"
    low = int(np.argmin(bal))
    return True, (
        f"{bal.size:,} balance changes replayed from {start:,.2f} USDT; lowest "
        f"{bal[low]:,.2f} at {when(ts[low])}, final {bal[-1]:,.2f}"
    )


def check_liquidations(ctx: AuditContext) -> Outcome:
    """(15) A liquidation happened iff the mark proxy (1m low for a long, high for a short,
    on the path after the position existed; the close at a funding instant) reached the
    liquidation price recomputed from entry, qty, leverage, tier MMR and funding-drained
    margin; it closed the whole position at the recomputed bankruptcy price."""
    seg = ctx.replay.segments
    liq_fills = int((ctx.fill_table.kind == KIND_LIQ).sum())
    if len(ctx.result.liquidations) != liq_fills:
        return False, (
            f"{len(ctx.result.liquidations)} PositionLiquidated events but {liq_fills} "
            "liquidation fills"
        )
    if not len(seg):
        return True, "no position was ever open"
    lp = _unique_liq_prices(ctx, seg)
    bp = bankruptcy_prices(seg.sign, seg.qty, seg.avg, seg.extra, ctx.leverage)
    is_liq = seg.end_kind == END_LIQ
    problem = _missed(ctx, lp, np.flatnonzero(~is_liq))
    if problem:
        return False, problem
    for k in np.flatnonzero(is_liq).tolist():
        problem = _liquidation_ok(ctx, k, float(lp[k]), float(bp[k]))
        if problem:
            return False, problem
    return True, (
        f"{len(seg):,} position spans checked against their liquidation price (mm_basis "
        f"{ctx.cfg.mm_basis}); {int(is_liq.sum())} liquidations, each where the mark reached "
        "it, at the bankruptcy price"
    )


def _unique_liq_prices(ctx: AuditContext, seg: Segments) -> np.ndarray:
    """Liquidation prices of the spans, solved once per distinct position state."""
    states = np.stack([seg.sign.astype(np.float64), seg.qty, seg.avg, seg.extra], axis=1)
    uniq, back = np.unique(states, axis=0, return_inverse=True)
    lp = liquidation_prices(
        uniq[:, 0],
        uniq[:, 1],
        uniq[:, 2],
        uniq[:, 3],
        ctx.leverage,
        ctx.instrument,
        ctx.cfg.mm_basis,
    )
    return lp[back.reshape(-1)]


def _spans(
    ctx: AuditContext, idx: np.ndarray, end_row: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Low and high of the path over spans ``idx``, from the start event to the end event
    (or to the data's end), and whether their bars are in the data. With ``end_row``, each
    span instead runs to the close of that bar."""
    cols, seg, n = ctx.cols, ctx.replay.segments, ctx.cols.ts.size
    a, ta, pa = seg.start_row[idx], seg.start_t[idx], seg.start_price[idx]
    b, tb, pb = seg.end_row[idx], seg.end_t[idx], seg.end_price[idx]
    has_end, pre = seg.end_kind[idx] != END_DATA, seg.end_pre_path[idx]
    if end_row is not None:
        b, tb, has_end, pre = (
            end_row,
            np.full(idx.size, 3.0),
            np.ones(idx.size, bool),
            np.zeros(idx.size, bool),
        )
        pb = cols.close[np.clip(b, 0, n - 1)]
    valid = (a >= 0) & (b >= 0) & (b <= n) & (a <= b)
    a, b = np.where(valid, a, 0), np.where(valid, b, 0)
    sgn = seg.sign[idx]
    same = has_end & (a == b)
    lo_i, hi_i = _interior(cols.low, cols.high, a + 1, b)
    # the start bar: from the start event to the end event (same bar) or to its close
    lo1, hi1 = _bar_span(
        ctx, a, sgn, ta, pa, np.where(same, tb, 3.0), np.where(same, pb, cols.close[a])
    )
    empty = same & pre  # began and ended at one open, before the path: nothing walked
    lo1, hi1 = np.where(empty, np.inf, lo1), np.where(empty, -np.inf, hi1)
    # the end bar, when another: from its open to the end event, unless ended pre-path
    bb = np.minimum(b, n - 1)
    second = has_end & ~same & ~pre
    opens = cols.open[bb]
    lo2, hi2 = _bar_span(ctx, bb, sgn, np.zeros(idx.size), opens, tb, np.where(second, pb, opens))
    lo = np.minimum(np.minimum(lo_i, lo1), np.where(second, lo2, np.inf))
    hi = np.maximum(np.maximum(hi_i, hi1), np.where(second, hi2, -np.inf))
    return lo, hi, valid


def _bar_span(
    ctx: AuditContext,
    rows: np.ndarray,
    sign: np.ndarray,
    ta: np.ndarray,
    pa: np.ndarray,
    tb: np.ndarray,
    pb: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    cols = ctx.cols
    o, h, lo, c = cols.open[rows], cols.high[rows], cols.low[rows], cols.close[rows]
    first = lows_first(ctx.replay.build_sign(rows, sign), o, h, lo)
    vertices = (np.where(first, lo, h), np.where(first, h, lo), c)
    return span_extremes(vertices, ta, pa, tb, pb)


def _interior(
    low: np.ndarray, high: np.ndarray, start: np.ndarray, stop: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Min low and max high over bar rows ``[start, stop)`` per span (+inf/-inf if empty)."""
    lo = np.full(start.size, np.inf)
    hi = np.full(start.size, -np.inf)
    some = stop > start
    if some.any():
        idx = np.empty(2 * int(some.sum()), np.int64)
        idx[0::2], idx[1::2] = start[some], stop[some]
        lo[some] = np.minimum.reduceat(np.append(low, np.inf), idx)[0::2]
        hi[some] = np.maximum.reduceat(np.append(high, -np.inf), idx)[0::2]
    return lo, hi


def _reached(
    sign: np.ndarray, lo: np.ndarray, hi: np.ndarray, lp: np.ndarray, slack: float
) -> np.ndarray:
    """Whether the proxy went past ``lp`` by more than ``slack`` (relative; negative slack:
    came within that much of it)."""
    return np.where(sign > 0, lo <= lp * (1.0 - slack), hi >= lp * (1.0 + slack))


def _missed(ctx: AuditContext, lp: np.ndarray, idx: np.ndarray) -> str | None:
    """A span that was not liquidated although the mark proxy clearly reached its
    liquidation price (beyond :data:`LIQ_TOL`), if any."""
    if idx.size == 0:
        return None
    seg = ctx.replay.segments
    lo, hi, valid = _spans(ctx, idx)
    hit = valid & _reached(seg.sign[idx], lo, hi, lp[idx], LIQ_TOL)
    if not hit.any():
        return None
    j = int(np.argmax(hit))
    k = int(idx[j])
    side = "long" if seg.sign[k] > 0 else "short"
    proxy = lo[j] if seg.sign[k] > 0 else hi[j]
    return (
        f"{side} {seg.qty[k]:g} @ {seg.avg[k]!r} (from {when(ctx.cols.ts[seg.start_row[k]])}): "
        f"mark proxy reached {proxy!r}, beyond its liquidation price {lp[k]!r}, but it was "
        "not liquidated"
    )


def _liquidation_ok(ctx: AuditContext, k: int, lp: float, bp: float) -> str | None:
    """Why liquidation span ``k`` was not justified or not at the bankruptcy price, or None.

    At a funding instant the mark proxy is the close there (or, read as a gap, the next
    open); on the path it must reach the price by the end of the liquidation's bar, and not
    already in an earlier bar (then the liquidation came late)."""
    seg, cols = ctx.replay.segments, ctx.cols
    fill = ctx.result.fills[int(seg.end_fill[k])]
    sign, qty, avg = int(seg.sign[k]), float(seg.qty[k]), float(seg.avg[k])
    side = f"{'long' if sign > 0 else 'short'} {qty:g} @ {avg!r}"
    one, lps, signs = np.array([k]), np.array([lp]), np.array([sign])
    late = False
    if seg.liq_at_funding[k]:
        nxt = int(cols.rows(np.array([fill.ts]))[0])
        marks = [float(seg.start_price[k])] + ([float(cols.open[nxt])] if nxt >= 0 else [])
        reached = any(sign * (m - lp) <= abs(lp) * LIQ_TOL for m in marks)
    else:
        last = int(seg.end_row[k])
        lo, hi, _ = _spans(ctx, one, np.array([last]))
        reached = bool(_reached(signs, lo, hi, lps, -LIQ_TOL)[0])
        if last > seg.start_row[k]:
            lo, hi, _ = _spans(ctx, one, np.array([last - 1]))
            late = bool(_reached(signs, lo, hi, lps, LIQ_TOL)[0])
    if not reached:
        return (
            f"{side} liquidated {when(fill.ts)} but the mark proxy never reached its "
            f"liquidation price {lp!r}"
        )
    if late:
        return (
            f"{side}: liquidation price {lp!r} reached before the bar it was liquidated in "
            f"({when(fill.ts)})"
        )
    if not close_enough(fill.price, bp, avg):
        return f"{side} liquidated {when(fill.ts)} at {fill.price!r}, bankruptcy price {bp!r}"
    if abs(fill.qty - qty) > 1e-12 * max(1.0, qty):
        return f"liquidation {when(fill.ts)} closed {fill.qty:g} of a position of {qty:g}"
    return None
