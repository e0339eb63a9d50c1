"""Audit checks on the equity curve and the metrics: the curve's end, drawdown, Sharpe,
profit factor and win rate, each recomputed here without :mod:`trade_core.backtest.metrics`.

Checks 6, 17 and 18 of :mod:`trade_core.backtest.audit`. The analysed curve is the result's
curve with ``(start_ts, starting equity)`` in front. Equity USDT, times epoch ms UTC,
drawdown in percent of the running peak, daily returns fractions, Sharpe x sqrt(365).
"""

from __future__ import annotations

import math

import numpy as np

from trade_core.backtest.audit_context import AuditContext, Outcome, close_enough, when
from trade_core.timestamps import DAY_MS

ZERO_STD = 1e-12
"""A daily-return standard deviation at or below this is zero (Sharpe undefined)."""


def _anchored(ctx: AuditContext) -> tuple[np.ndarray, np.ndarray]:
    r = ctx.result
    ts = np.concatenate(([r.start_ts], np.asarray(r.equity_ts, np.int64)))
    eq = np.concatenate(([r.starting_equity], np.asarray(r.equity, np.float64)))
    return ts, eq


def check_curve_end(ctx: AuditContext) -> Outcome:
    """(6) The equity curve's last point is the final equity, at the data's end."""
    r = ctx.result
    if len(r.equity) == 0:
        return False, "the equity curve is empty"
    last_ts, last = int(r.equity_ts[-1]), float(r.equity[-1])
    if last_ts != r.end_ts or not close_enough(last, r.final_equity):
        return False, (
            f"curve ends {when(last_ts)} at {last!r} USDT; final equity {r.final_equity!r} at "
            f"{when(r.end_ts)}"
        )
    return (
        True,
        f"{len(r.equity):,} points, last {last:,.6f} USDT = final equity at {when(last_ts)}",
    )


def drawdown_of(ts: np.ndarray, eq: np.ndarray) -> tuple[float, float, int]:
    """``(max drawdown %, max drawdown USDT, longest underwater spell ms)``.

    Underwater = strictly below the running peak. A spell starts at the last point at the
    peak before it and ends at the first point back at or above it (or the curve's end).
    """
    peak = np.maximum.accumulate(eq)
    pct = float(np.max((peak - eq) / peak)) * 100.0
    usdt = float(np.max(peak - eq))
    under = (eq < peak).astype(np.int8)
    edges = np.diff(np.concatenate(([0], under, [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if starts.size == 0:
        return pct, usdt, 0
    ends = ts[np.minimum(stops, ts.size - 1)]
    return pct, usdt, int(np.max(ends - ts[starts - 1]))


def check_drawdown(ctx: AuditContext) -> Outcome:
    """(17) Max drawdown (% and USDT) and its longest duration equal a recomputation from
    the equity curve anchored at the starting equity at ``start_ts``."""
    m = ctx.result.metrics
    pct, usdt, dur = drawdown_of(*_anchored(ctx))
    if not (
        close_enough(pct, m.max_drawdown_pct)
        and close_enough(usdt, m.max_drawdown_usdt)
        and dur == m.max_drawdown_duration_ms
    ):
        return False, (
            f"metrics say {m.max_drawdown_pct!r} % / {m.max_drawdown_usdt!r} USDT / "
            f"{m.max_drawdown_duration_ms} ms, the curve gives {pct!r} % / {usdt!r} USDT / "
            f"{dur} ms"
        )
    return True, (
        f"max drawdown {pct:.4f} % ({usdt:,.2f} USDT), longest underwater "
        f"{dur / 3_600_000:,.1f} h, as reported"
    )


def daily_returns_of(ts: np.ndarray, eq: np.ndarray) -> np.ndarray | None:
    """Simple returns between the curve's first point, its equity at each 00:00 UTC inside
    (first, last) (the last point at or before it) and its last point; None if a base <= 0."""
    if ts.size == 1:
        samples = eq[:1]
    else:
        days = np.arange((int(ts[0]) // DAY_MS + 1) * DAY_MS, int(ts[-1]), DAY_MS)
        at = np.searchsorted(ts, days, side="right") - 1
        samples = np.concatenate((eq[:1], eq[at], eq[-1:]))
    if np.any(samples[:-1] <= 0):
        return None
    return samples[1:] / samples[:-1] - 1.0


def sharpe_of(returns: np.ndarray | None) -> float | None:
    """mean / std (ddof 1) * sqrt(365) of daily returns; None under 2 returns or std ~ 0."""
    if returns is None or returns.size < 2:
        return None
    mean = float(returns.sum()) / returns.size
    var = float(((returns - mean) ** 2).sum()) / (returns.size - 1)
    sd = math.sqrt(var)
    return None if sd <= ZERO_STD else mean / sd * math.sqrt(365.0)


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return close_enough(a, b)


def check_ratios(ctx: AuditContext) -> Outcome:
    """(18) Sharpe (daily returns of the anchored curve), profit factor (winning net /
    -losing net; 0 with no winner, None with no loser) and win rate (% of trades with net
    > 0) equal the reported metrics."""
    m = ctx.result.metrics
    sharpe = sharpe_of(daily_returns_of(*_anchored(ctx)))
    nets = np.fromiter((t.net_pnl for t in ctx.result.trades), np.float64)
    wins, losses = nets[nets > 0], nets[nets < 0]
    pf = float(wins.sum()) / -float(losses.sum()) if losses.size else None
    win_rate = wins.size / nets.size * 100.0 if nets.size else None
    for name, mine, theirs in (
        ("sharpe", sharpe, m.sharpe),
        ("profit_factor", pf, m.profit_factor),
        ("win_rate_pct", win_rate, m.win_rate_pct),
    ):
        if not _same(mine, theirs):
            return False, f"{name}: reported {theirs!r}, recomputed {mine!r}"
    fmt = lambda x: "n/a" if x is None else f"{x:.4f}"  # noqa: E731
    return True, (
        f"Sharpe {fmt(sharpe)}, profit factor {fmt(pf)}, win rate {fmt(win_rate)} % over "
        f"{nets.size:,} trades, as reported"
    )
