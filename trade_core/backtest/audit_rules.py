"""Audit checks on the engine's decisions and the venue's protective closes: warm-up,
stop fills, same-bar stop/target, the leverage cap and risk halts.

Checks 7, 8, 9, 10 and 16 of :mod:`trade_core.backtest.audit`. Times epoch ms UTC, prices
USDT, leverage a multiple, drawdown and daily loss in percent (as the Play gives them).
"""

from __future__ import annotations

import numpy as np

from trade_core.backtest.audit_context import NEVER, AuditContext, Outcome, column, when
from trade_core.backtest.audit_math import lows_first
from trade_core.backtest.audit_replay import LEG_MS
from trade_core.backtest.audit_tables import KIND_SL, KIND_TP
from trade_core.timestamps import DAY_MS

T_SLACK = 0.5 / LEG_MS
"""Path time a ms-rounded event stamp may be off by (half a ms)."""


def check_warmup(ctx: AuditContext) -> Outcome:
    """(7) No order that may open a position was created before every role had closed the
    bars the Play's warm-up needs."""
    ready, entries = ctx.warmup_ts, ctx.entry_orders
    need = ", ".join(f"{n} {ctx.play.timeframes[r]} {r}" for r, n in ctx.play.warmup.bars.items())
    early = [o for o in entries if o.ts < ready]
    done = "never in this data" if ready >= NEVER else f"only {when(ready)}"
    if early:
        o = early[0]
        return (
            False,
            f"entry {o.link_id} created {when(o.ts)}, warm-up ({need} bars) complete {done}",
        )
    first = f"first entry {when(entries[0].ts)}" if entries else "no entries"
    return True, f"warm-up ({need} bars) complete {done.removeprefix('only ')}; {first}"


def _protective(ctx: AuditContext, kinds: tuple[int, ...]) -> np.ndarray:
    """Rows of the replay's closings made by the venue's own closes of ``kinds``."""
    c = ctx.replay.closings
    if not len(c):
        return np.zeros(0, np.int64)
    return np.flatnonzero(np.isin(ctx.fill_table.kind[c.fill], kinds))


def check_stop_fills(ctx: AuditContext) -> Outcome:
    """(8) A venue stop-loss close never fills better than the stop in effect: a long's
    sell at or below it, a short's buy at or above it (the stop from the opening order's
    stop_loss, then the engine's logged trailing moves)."""
    c = ctx.replay.closings
    k = _protective(ctx, (KIND_SL,))
    if not k.size:
        return True, "no stop-loss fills"
    stop, price, sign, tol = c.stop[k], c.price[k], c.sign[k], c.stop_tol[k]
    beyond = sign * (stop - price)  # >= 0: at or worse than the trigger
    bad = np.isnan(stop) | (beyond < -tol)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        at = when(ctx.result.fills[int(c.fill[k[i]])].ts)
        side = "long" if sign[i] > 0 else "short"
        if np.isnan(stop[i]):
            return False, f"{side} stop fill {at} with no stop in effect for the position"
        logged = f" (+/- {tol[i]:g}: a 6-digit logged stop)" if tol[i] else ""
        return False, (
            f"{side} stop filled {at} at {price[i]!r}, better than its trigger {stop[i]!r}{logged}"
        )
    worst = float(beyond.max()) / ctx.instrument.tick_size
    loose = int((tol > 0).sum())
    note = f"; {loose} against a 6-digit logged stop" if loose else ""
    if ctx.replay.level_problems:
        note += f"; unreadable trailing moves: {ctx.replay.level_problems[0]}"
    return True, (
        f"{k.size:,} stop-loss fills, none better than the trigger (worst {worst:.1f} ticks "
        f"beyond it){note}"
    )


def _bar_starts(
    ctx: AuditContext, fills: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(t0, p0)`` per close: the position's opening fill if it was on the same bar's path,
    else the bar's open (the previous event of the bar's walk)."""
    seg = ctx.replay.segments
    t0, p0 = np.zeros(fills.size), ctx.cols.open[rows]
    ended = np.flatnonzero(seg.end_fill >= 0)  # ascending fill index, as time goes
    if not ended.size:
        return t0, p0
    at = ended[np.minimum(np.searchsorted(seg.end_fill[ended], fills), ended.size - 1)]
    same = (seg.end_fill[at] == fills) & (seg.start_row[at] == rows) & (seg.start_t[at] < 3.0)
    return np.where(same, seg.start_t[at], t0), np.where(same, seg.start_price[at], p0)


def check_same_bar(ctx: AuditContext) -> Outcome:
    """(9) When the rest of a bar reaches both the stop loss and the take profit of a
    position, the close is the stop's - unless the path already stood at or beyond the take
    profit there (e.g. the bar opened beyond it)."""
    c, rp, cols = ctx.replay.closings, ctx.replay, ctx.cols
    k = _protective(ctx, (KIND_SL, KIND_TP))
    k = k[~np.isnan(c.stop[k]) & ~np.isnan(c.target[k])] if k.size else k
    fills = c.fill[k]
    rows = rp.fill_row[fills] if k.size else np.zeros(0, np.int64)
    k, fills, rows = k[rows >= 0], fills[rows >= 0], rows[rows >= 0]
    if not k.size:
        return True, "no stop/target closes with both levels set"
    s, sl, tp = c.sign[k], c.stop[k], c.target[k]
    t0, p0 = _bar_starts(ctx, fills, rows)
    o, h, lo, cl = cols.open[rows], cols.high[rows], cols.low[rows], cols.close[rows]
    first = lows_first(rp.build_sign(rows, s), o, h, lo)
    v1, v2 = np.where(first, lo, h), np.where(first, h, lo)
    leg = np.clip((t0 - T_SLACK).astype(np.int64), 0, 2)
    low = np.minimum.reduce(
        [p0, np.where(leg == 0, v1, np.inf), np.where(leg <= 1, v2, np.inf), cl]
    )
    high = np.maximum.reduce(
        [p0, np.where(leg == 0, v1, -np.inf), np.where(leg <= 1, v2, -np.inf), cl]
    )
    sl_hit = np.where(s > 0, low <= sl, high >= sl)
    tp_hit = np.where(s > 0, high >= tp, low <= tp)
    tp_first = np.where(s > 0, p0 >= tp, p0 <= tp)
    both = sl_hit & tp_hit & ~tp_first
    is_tp = ctx.fill_table.kind[fills] == KIND_TP
    bad = both & is_tp
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        return False, (
            f"bar {when(cols.ts[rows[i]])} reached both stop {sl[i]!r} and target {tp[i]!r} "
            f"(low {low[i]!r}, high {high[i]!r} from {p0[i]!r}) but closed at the target: the "
            "conservative rule takes the stop"
        )
    return True, (
        f"{k.size:,} stop/target closes with both levels set; {int(both.sum())} bars reached "
        "both, all closed at the stop"
    )


def check_leverage_cap(ctx: AuditContext) -> Outcome:
    """(10) Each entry's notional (qty x the decision bar's close) <= cap x equity at the
    decision, cap = min(Play leverage, system max_leverage, instrument max leverage)."""
    entries = ctx.entry_orders
    cap = min(
        ctx.play.model.risk.leverage,
        float(ctx.result.settings.get("max_leverage", np.inf)),
        ctx.instrument.max_leverage,
    )
    if not entries:
        return True, f"no entries (cap {cap:g}x)"
    ts = column(entries, "ts", np.int64)
    qty = column(entries, "qty")
    eq_ts = np.asarray(ctx.result.equity_ts, np.int64)
    eq = np.asarray(ctx.result.equity, np.float64)
    at = np.minimum(np.searchsorted(eq_ts, ts), max(eq_ts.size - 1, 0))
    found = (eq_ts[at] == ts) if eq_ts.size else np.zeros(ts.size, bool)
    rows = ctx.cols.last_closed_row(ts)
    close = ctx.cols.close[np.maximum(rows, 0)]
    equity = eq[at] if eq.size else np.full(ts.size, np.nan)
    notional = qty * close
    ratio = notional / equity
    bad = ~found | (rows < 0) | ~(notional <= cap * equity * (1.0 + 1e-9))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        o = entries[i]
        if not found[i]:
            return False, f"entry {o.link_id} created {when(o.ts)}: not at an exec close"
        return False, (
            f"entry {o.link_id} {when(o.ts)}: notional {o.qty:g} x {close[i]!r} = "
            f"{notional[i]:,.2f} USDT > {cap:g}x equity {equity[i]:,.2f}"
        )
    return True, (
        f"{len(entries):,} entries, highest notional {float(ratio.max()):.4g}x equity at the "
        f"decision (cap {cap:g}x)"
    )


def expected_halts(ctx: AuditContext) -> tuple[int | None, list[int]]:
    """When the Play's halts must fire, recomputed from the equity at each decision:
    ``(drawdown halt ts or None, [daily-loss halt ts, at most one per UTC day])``.

    Drawdown: the first decision with ``(peak - equity) / peak * 100 >= max_drawdown_pct``,
    peak = highest decision equity so far. Daily: per UTC day, the first decision with
    ``(day start - equity) / day start * 100 >= daily_loss_pct``, day start = the day's first
    decision equity.
    """
    risk = ctx.play.model.risk
    if not (risk.max_drawdown_pct or risk.daily_loss_pct):
        return None, []
    ts, eq = ctx.decisions
    dd_ts: int | None = None
    if risk.max_drawdown_pct and ts.size:
        peak = np.maximum.accumulate(np.maximum(eq, -1.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            hit = (peak > 0) & ((peak - eq) / peak * 100.0 >= risk.max_drawdown_pct)
        if hit.any():
            dd_ts = int(ts[np.argmax(hit)])
    daily: list[int] = []
    if risk.daily_loss_pct and ts.size:
        day = ts // DAY_MS
        _, first, group = np.unique(day, return_index=True, return_inverse=True)
        start = eq[first][group]
        with np.errstate(divide="ignore", invalid="ignore"):
            hit = (start > 0) & ((start - eq) / start * 100.0 >= risk.daily_loss_pct)
        hit_idx = np.flatnonzero(hit)
        _, firsts = np.unique(day[hit_idx], return_index=True)
        daily = [int(t) for t in ts[hit_idx[firsts]]]
    return dd_ts, daily


def check_halts(ctx: AuditContext) -> Outcome:
    """(16) The halts fire when the decision equity says so (and the engine logged them),
    no entry is created at or after a drawdown halt, nor later on the day of a daily-loss
    halt."""
    risk = ctx.play.model.risk
    dd_ts, daily = expected_halts(ctx)
    halts = [e for e in ctx.result.events if e.kind == "halt"]
    logged_dd = [e.ts for e in halts if "drawdown" in e.detail]
    logged_daily = [e.ts for e in halts if "daily loss" in e.detail]
    if logged_dd != ([] if dd_ts is None else [dd_ts]):
        want = "none" if dd_ts is None else when(dd_ts)
        got = ", ".join(when(t) for t in logged_dd) or "none"
        return False, f"drawdown halt expected {want}, logged {got}"
    if logged_daily != daily:
        missing = sorted(set(daily) ^ set(logged_daily))
        return False, (
            f"daily-loss halts expected {len(daily)}, logged {len(logged_daily)}; first "
            f"difference {when(missing[0])}"
        )
    halted_days = {t // DAY_MS: t for t in daily}
    for o in ctx.entry_orders:
        if dd_ts is not None and o.ts >= dd_ts:
            return False, f"entry {o.link_id} {when(o.ts)} after the drawdown halt {when(dd_ts)}"
        day_halt = halted_days.get(o.ts // DAY_MS)
        if day_halt is not None and o.ts >= day_halt:
            return False, (
                f"entry {o.link_id} {when(o.ts)} after the daily-loss halt {when(day_halt)}"
            )
    if not (risk.max_drawdown_pct or risk.daily_loss_pct):
        return True, "no max_drawdown_pct / daily_loss_pct in the Play; no halts"
    dd = "no drawdown halt" if dd_ts is None else f"drawdown halt {when(dd_ts)}"
    return True, f"{dd}, {len(daily)} daily-loss halts; no entries after any of them"
