"""Backtest performance metrics: pure, deterministic functions of plain inputs.

Inputs are an equity curve (``ts``: int64 epoch ms UTC of each exec-bar close, ``equity``:
float64 USDT marked to market), the starting equity, the closed trades as
:class:`TradeStats` and the time in market. Same inputs give the same :class:`Metrics`, and
``json.dumps(m.to_dict(), sort_keys=True)`` is byte-identical across runs.

Definitions (crypto trades 24/7, so a year is 365 days of 86 400 000 ms):

- **Analysed curve**: the anchor point ``(start_ts, start_equity)`` followed by the given
  curve. ``start_ts`` defaults to ``ts[0]`` (the anchor then shares the first timestamp).
  Every curve metric (drawdown, daily returns, CAGR span) uses the analysed curve, so a loss
  in the very first bar counts against the starting equity.
- **net_pnl** = final equity - start equity (USDT, marked to market, so it includes an
  open position); ``trades_net_pnl`` is the sum over closed trades only.
- **return_pct** = net_pnl / start_equity * 100.
- **Daily returns**: the analysed curve is sampled at its first point, then at each 00:00 UTC
  boundary strictly inside (start, end) taking the last equity at or before the boundary,
  then at its last point (the final, possibly partial, day ends there; a zero-span curve
  thus has one return, start -> final, at the same instant). Returns are
  ``(s[i] - s[i-1]) / s[i-1]``. If a sample used as a base is <= 0 the returns are
  undefined, Sharpe and Sortino are None and ``daily_returns`` (the count) is 0.
- **Sharpe** = mean(r) / std(r, ddof=1) * sqrt(365), risk-free 0; None with fewer than 2
  daily returns or std <= 1e-12 (numerically zero).
- **Sortino** = mean(r) / sqrt(mean(min(r, 0)^2)) * sqrt(365): the downside deviation is
  taken over *all* daily returns (positive days count as 0) with target 0; None with fewer
  than 2 daily returns or downside deviation <= 1e-12 (no losing day).
- **CAGR %** = ((final / start_equity) ** (1 / years) - 1) * 100, years = (end - start) /
  365 days; None if the span is under 1 day, the final equity is <= 0, or the figure
  overflows float64.
- **Max drawdown**: running peak = cumulative max of the analysed curve; drawdown % =
  (peak - equity) / peak * 100 (can exceed 100 if equity goes negative), drawdown USDT =
  peak - equity; each is its own maximum over the curve (they may occur at different
  points). 0.0 for a curve that never falls.
- **Max drawdown duration (ms)**: the curve is underwater where equity < running peak
  (strictly: returning exactly to the peak is a recovery, and a later equal peak starts a
  new spell). A spell runs from the timestamp of its peak (the last point at the peak before
  it) to the first point back at or above the peak, or to the last point if it never
  recovers. The longest spell; 0 if never underwater.
- **Calmar** = cagr_pct / max_drawdown_pct; None if CAGR is None or max drawdown is 0.
- **Trades**: win = net_pnl > 0, loss = net_pnl < 0, breakeven = net_pnl == 0 (neither
  win nor loss, counted in ``breakeven`` and in the trade count).
  win_rate_pct = wins / trades * 100; profit_factor = sum of winning net PnL / -sum of
  losing net PnL (0.0 if no winner, None if no loser, which includes no trades);
  expectancy = mean net PnL per trade (USDT); avg_win = mean winning net PnL, avg_loss =
  mean losing net PnL (negative USDT); all None when their set is empty.
- **fees_paid / funding_paid**: sums over closed trades (USDT, paid positive; funding
  received is negative). **liquidations**: closed trades with ``liquidated``.
- **exposure_pct** = exposure_ms / (end - start) * 100, where ``exposure_ms`` is the total
  time (ms) with an open position, supplied by the caller; None for a zero span.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

DAY_MS = 86_400_000
YEAR_MS = 365 * DAY_MS
ANNUALISATION = math.sqrt(365.0)
ZERO_STD = 1e-12  # a daily-return dispersion at or below this is treated as zero


@dataclass(frozen=True, slots=True)
class TradeStats:
    """One closed trade, as metrics need it (USDT amounts, epoch-ms times).

    ``fees`` and ``funding`` are paid-positive (funding received is negative);
    ``net_pnl`` = ``gross_pnl`` - ``fees`` - ``funding`` by the engine's convention (not
    enforced here).
    """

    entry_ts: int
    exit_ts: int
    side: Literal["long", "short"]
    qty: float
    net_pnl: float
    gross_pnl: float
    fees: float
    funding: float
    exit_reason: str
    liquidated: bool = False

    def __post_init__(self) -> None:
        if self.side not in ("long", "short"):
            raise ValueError(f"side must be 'long' or 'short', got {self.side!r}")
        if self.exit_ts < self.entry_ts:
            raise ValueError(f"exit_ts {self.exit_ts} is before entry_ts {self.entry_ts}")
        for name in ("qty", "net_pnl", "gross_pnl", "fees", "funding"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be finite")


@dataclass(frozen=True, slots=True)
class Metrics:
    """Every backtest metric; see the module docstring for definitions. None = undefined."""

    start_ts: int
    end_ts: int
    start_equity: float
    final_equity: float
    net_pnl: float
    return_pct: float
    cagr_pct: float | None
    sharpe: float | None
    sortino: float | None
    calmar: float | None
    daily_returns: int
    max_drawdown_pct: float
    max_drawdown_usdt: float
    max_drawdown_duration_ms: int
    exposure_pct: float | None
    trades: int
    wins: int
    losses: int
    breakeven: int
    win_rate_pct: float | None
    profit_factor: float | None
    expectancy: float | None
    avg_win: float | None
    avg_loss: float | None
    trades_net_pnl: float
    trades_gross_pnl: float
    fees_paid: float
    funding_paid: float
    liquidations: int

    def to_dict(self) -> dict[str, int | float | None]:
        """Plain ``int``/``float``/None values, NaN-free, ready for ``json.dumps``."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


def _plain(value: Any) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, int | np.integer):
        return int(value)
    out = float(value)
    return out if math.isfinite(out) else None


def anchored_curve(
    ts: ArrayLike, equity: ArrayLike, start_equity: float, start_ts: int | None = None
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Validate a curve and put ``(start_ts, start_equity)`` in front of it.

    ``ts`` must be integer epoch ms, strictly increasing, at least one point; ``equity``
    finite USDT of the same length; ``start_equity`` finite and > 0; ``start_ts`` (default
    ``ts[0]``) <= ``ts[0]``. Raises ``ValueError`` otherwise.
    """
    t = np.asarray(ts)
    e = np.asarray(equity, dtype=np.float64)
    if t.ndim != 1 or e.ndim != 1 or t.size != e.size or t.size == 0:
        raise ValueError("ts and equity must be 1-d arrays of the same non-zero length")
    if t.dtype.kind not in "iu":
        raise ValueError(f"ts must be integer epoch ms, got dtype {t.dtype}")
    t = t.astype(np.int64)
    if np.any(np.diff(t) <= 0):
        raise ValueError("ts must be strictly increasing")
    if not np.all(np.isfinite(e)):
        raise ValueError("equity must be finite")
    if not (math.isfinite(start_equity) and start_equity > 0):
        raise ValueError(f"start_equity must be finite and > 0, got {start_equity}")
    t0 = int(t[0]) if start_ts is None else int(start_ts)
    if t0 > t[0]:
        raise ValueError(f"start_ts {t0} is after the first curve point {int(t[0])}")
    return np.concatenate(([t0], t)), np.concatenate(([float(start_equity)], e))


def daily_samples(ts: NDArray[np.int64], equity: NDArray[np.float64]) -> NDArray[np.float64]:
    """Equity at the first point, at each 00:00 UTC boundary inside (first, last) (last
    value at or before it), and at the last point (even at the same time as the first).

    ``ts`` must be non-decreasing (the anchored curve may repeat its first timestamp); a
    one-point curve gives one sample.
    """
    if ts.size == 1:
        return equity.copy()
    t0, t1 = int(ts[0]), int(ts[-1])
    first = (t0 // DAY_MS + 1) * DAY_MS
    bounds = np.arange(first, t1, DAY_MS, dtype=np.int64)
    idx = np.searchsorted(ts, bounds, side="right") - 1
    return np.concatenate((equity[:1], equity[idx], equity[-1:]))


def daily_returns(ts: NDArray[np.int64], equity: NDArray[np.float64]) -> NDArray[np.float64] | None:
    """Simple daily returns (fractions) of the curve; None if a base sample is <= 0."""
    s = daily_samples(ts, equity)
    base = s[:-1]
    if np.any(base <= 0):
        return None
    return np.diff(s) / base


def sharpe(returns: NDArray[np.float64] | None) -> float | None:
    """Annualised Sharpe of daily returns (risk-free 0, ddof=1, x sqrt(365))."""
    if returns is None or returns.size < 2:
        return None
    sd = float(np.std(returns, ddof=1))
    if sd <= ZERO_STD:
        return None
    return float(np.mean(returns)) / sd * ANNUALISATION


def sortino(returns: NDArray[np.float64] | None) -> float | None:
    """Annualised Sortino of daily returns, downside deviation over all days, target 0."""
    if returns is None or returns.size < 2:
        return None
    dd = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2)))
    if dd <= ZERO_STD:
        return None
    return float(np.mean(returns)) / dd * ANNUALISATION


def cagr_pct(start_equity: float, final_equity: float, span_ms: int) -> float | None:
    """Compound annual growth rate in % over ``span_ms`` (365-day years)."""
    if span_ms < DAY_MS or final_equity <= 0:
        return None
    try:
        growth = math.exp(math.log(final_equity / start_equity) * YEAR_MS / span_ms)
    except OverflowError:
        return None
    return (growth - 1.0) * 100.0


def drawdown(ts: NDArray[np.int64], equity: NDArray[np.float64]) -> tuple[float, float, int]:
    """Max drawdown as ``(percent of running peak, USDT, longest underwater duration ms)``.

    Assumes the running peak stays > 0 (true for an anchored curve: start equity > 0).
    """
    peak = np.maximum.accumulate(equity)
    gap = peak - equity
    dd_usdt = float(gap.max())
    dd_pct = float((gap / peak).max()) * 100.0
    under = equity < peak
    if not under.any():
        return dd_pct, dd_usdt, 0
    idx = np.arange(equity.size)
    last_peak = np.maximum.accumulate(np.where(under, 0, idx))
    rec = np.flatnonzero(under[:-1] & ~under[1:]) + 1
    spells = ts[rec] - ts[last_peak[rec - 1]]
    if under[-1]:
        spells = np.append(spells, ts[-1] - ts[last_peak[-1]])
    return dd_pct, dd_usdt, int(spells.max())


def trade_metrics(trades: Sequence[TradeStats]) -> dict[str, int | float | None]:
    """Trade-count, win/loss and cost metrics of closed trades (see module docstring)."""
    pnl = np.fromiter((t.net_pnl for t in trades), dtype=np.float64, count=len(trades))
    n = int(pnl.size)
    won, lost = pnl[pnl > 0], pnl[pnl < 0]
    gross_win, gross_loss = float(won.sum()), -float(lost.sum())
    return {
        "trades": n,
        "wins": int(won.size),
        "losses": int(lost.size),
        "breakeven": n - int(won.size) - int(lost.size),
        "win_rate_pct": won.size / n * 100.0 if n else None,
        "profit_factor": gross_win / gross_loss if lost.size else None,
        "expectancy": float(pnl.mean()) if n else None,
        "avg_win": float(won.mean()) if won.size else None,
        "avg_loss": float(lost.mean()) if lost.size else None,
        "trades_net_pnl": float(pnl.sum()),
        "trades_gross_pnl": _sum(t.gross_pnl for t in trades),
        "fees_paid": _sum(t.fees for t in trades),
        "funding_paid": _sum(t.funding for t in trades),
        "liquidations": sum(1 for t in trades if t.liquidated),
    }


def _sum(values: Any) -> float:
    return float(np.fromiter(values, dtype=np.float64).sum())


def compute_metrics(
    ts: ArrayLike,
    equity: ArrayLike,
    start_equity: float,
    trades: Sequence[TradeStats],
    *,
    exposure_ms: int,
    start_ts: int | None = None,
) -> Metrics:
    """All metrics of one backtest.

    ``ts``/``equity``: exec-bar close times (epoch ms) and marked-to-market equity (USDT);
    ``start_equity``: USDT at ``start_ts`` (default ``ts[0]``); ``trades``: closed trades;
    ``exposure_ms``: total ms with an open position, 0 <= exposure_ms <= end - start.
    """
    t, e = anchored_curve(ts, equity, start_equity, start_ts)
    span = int(t[-1] - t[0])
    if not 0 <= exposure_ms <= span:
        raise ValueError(f"exposure_ms {exposure_ms} outside [0, {span}]")
    final = float(e[-1])
    returns = daily_returns(t, e)
    dd_pct, dd_usdt, dd_ms = drawdown(t, e)
    cagr = cagr_pct(start_equity, final, span)
    return Metrics(
        start_ts=int(t[0]),
        end_ts=int(t[-1]),
        start_equity=float(start_equity),
        final_equity=final,
        net_pnl=final - start_equity,
        return_pct=(final - start_equity) / start_equity * 100.0,
        cagr_pct=cagr,
        sharpe=sharpe(returns),
        sortino=sortino(returns),
        calmar=cagr / dd_pct if cagr is not None and dd_pct > 0 else None,
        daily_returns=0 if returns is None else int(returns.size),
        max_drawdown_pct=dd_pct,
        max_drawdown_usdt=dd_usdt,
        max_drawdown_duration_ms=dd_ms,
        exposure_pct=exposure_ms / span * 100.0 if span else None,
        **trade_metrics(trades),  # type: ignore[arg-type]
    )
