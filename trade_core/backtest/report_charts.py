"""The backtest report's charts: PNG bytes drawn on matplotlib's Agg canvas.

matplotlib is imported inside the functions (the CLI must not pay for it at start-up) and
used without pyplot: each chart is its own ``Figure`` on a ``FigureCanvasAgg``, so no global
backend is switched and nothing is left open. Styling is pinned (matplotlib's defaults plus
:data:`_RC`), so a user's matplotlibrc cannot change the pictures, and the PNG carries no
``Software`` text chunk: the same inputs give byte-identical files.

Big runs: a year of 1m bars is 525,600 points. Curves are cut to at most ``max_points``
points by :func:`envelope_indices` (the min and the max of each bucket, in time order), so a
one-bar drawdown spike stays visible; trade markers are thinned by :func:`sample_indices`.
Times are epoch ms UTC; the charts' time axes are UTC.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from trade_core.engine.trades import Trade

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

PNG_METADATA: dict[str, Any] = {"Software": None}  # no version stamp: reproducible bytes
DPI = 100
WIN, LOSS, EVEN = "#16a34a", "#dc2626", "#6b7280"
LONG, SHORT = "#2563eb", "#ea580c"
LINE = "#1f2937"
_RC: dict[str, Any] = {
    "timezone": "UTC",
    "font.size": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
}


def envelope_indices(values: np.ndarray, max_points: int) -> np.ndarray:
    """Sorted indices of at most ``max(max_points, 4)`` points that keep the curve's shape.

    All indices if the curve fits; otherwise the curve is cut into equal buckets and each
    gives the index of its minimum and of its maximum (plus the first and last point), so
    extremes survive the downsampling however short they were.
    """
    n = int(values.size)
    if n <= max_points:
        return np.arange(n)
    buckets = max(1, (max_points - 2) // 2)
    size = -(-n // buckets)  # ceil: every point falls in a bucket
    pad = buckets * size - n
    v = np.concatenate((values, np.repeat(values[-1:], pad))) if pad else values
    v = v.reshape(buckets, size)
    base = np.arange(buckets) * size
    lo = np.minimum(base + v.argmin(axis=1), n - 1)
    hi = np.minimum(base + v.argmax(axis=1), n - 1)
    return np.unique(np.concatenate(([0], lo, hi, [n - 1])))


def sample_indices(n: int, cap: int) -> np.ndarray:
    """At most ``cap`` indices of ``0..n-1``, evenly spread (first and last kept)."""
    if n <= cap:
        return np.arange(n)
    if cap <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.linspace(0, n - 1, cap).round().astype(np.int64))


def drawdown_pct(equity: np.ndarray) -> np.ndarray:
    """Drawdown of each point in % of the running peak, <= 0 (peak assumed > 0)."""
    peak = np.maximum.accumulate(equity)
    return (equity - peak) / peak * 100.0


def _times(ts_ms: np.ndarray) -> np.ndarray:
    return np.asarray(ts_ms, dtype=np.int64).astype("datetime64[ms]")


def _new_figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata=PNG_METADATA)
    return buf.getvalue()


def _time_axis(ax: Axes) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _plain_y(ax: Axes) -> None:
    """Whole numbers on the y axis, never ``1e4`` or an offset."""
    ax.ticklabel_format(axis="y", style="plain", useOffset=False)


def equity_png(
    ts: np.ndarray,
    equity: np.ndarray,
    start_ts: int,
    starting_equity: float,
    *,
    title: str,
    max_points: int = 4000,
) -> bytes:
    """Equity (USDT) over time with its drawdown (% of running peak) beneath.

    ``ts`` (epoch ms of each exec close) and ``equity`` (USDT) are the result's curve; the
    point ``(start_ts, starting_equity)`` is put in front, as the metrics do, so a loss in
    the first bar shows as a drawdown.
    """
    import matplotlib as mpl
    import matplotlib.style

    t = np.concatenate(([start_ts], np.asarray(ts, dtype=np.int64)))
    e = np.concatenate(([starting_equity], np.asarray(equity, dtype=np.float64)))
    dd = drawdown_pct(e)
    ie, idd = envelope_indices(e, max_points), envelope_indices(dd, max_points)
    with matplotlib.style.context("default"), mpl.rc_context(_RC):
        fig = _new_figure(12.0, 6.5)
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
        top.plot(_times(t[ie]), e[ie], color=LINE, linewidth=1.0)
        top.axhline(starting_equity, color=EVEN, linewidth=0.8, linestyle="--")
        top.set_ylabel("Equity (USDT)")
        top.set_title(title, loc="left", parse_math=False)
        _plain_y(top)
        bottom.fill_between(_times(t[idd]), dd[idd], 0.0, color=LOSS, alpha=0.35, linewidth=0)
        bottom.plot(_times(t[idd]), dd[idd], color=LOSS, linewidth=0.6)
        bottom.set_ylabel("Drawdown (%)")
        bottom.set_xlabel("UTC")
        _time_axis(bottom)
        return _png(fig)


def price_png(
    close_ts: np.ndarray,
    close: np.ndarray,
    trades: Sequence[Trade],
    *,
    title: str,
    max_points: int = 4000,
) -> bytes:
    """Close price with every trade in ``trades`` marked at its fill times and prices.

    ``close_ts`` are the bars' close times (epoch ms), so a fill lines up with the bar it
    happened in. Entries: ``^`` long, ``v`` short; exits: ``x`` green (net win), red (net
    loss), grey (break-even). The caller thins ``trades`` for big runs.
    """
    import matplotlib as mpl
    import matplotlib.style

    c = np.asarray(close, dtype=np.float64)
    ic = envelope_indices(c, max_points)
    with matplotlib.style.context("default"), mpl.rc_context(_RC):
        fig = _new_figure(12.0, 5.5)
        ax = fig.subplots()
        ax.plot(_times(np.asarray(close_ts)[ic]), c[ic], color=LINE, linewidth=0.8)
        size = marker_size(len(trades))
        _entry_markers(ax, trades, size)
        _exit_markers(ax, trades, size)
        ax.set_ylabel("Price (USDT)")
        ax.set_xlabel("UTC")
        ax.set_title(title, loc="left", parse_math=False)
        _plain_y(ax)
        _time_axis(ax)
        if trades:
            ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=5, fontsize=8)
        return _png(fig)


def marker_size(n: int) -> float:
    """Marker area (points^2): full size up to 200 trades, then smaller so that a crowded
    chart still shows the price line."""
    return float(np.clip(30.0 * math.sqrt(200 / max(n, 1)), 6.0, 30.0))


def _entry_markers(ax: Axes, trades: Sequence[Trade], size: float) -> None:
    for side, marker, colour in (("long", "^", LONG), ("short", "v", SHORT)):
        picked = [t for t in trades if t.side == side]
        if picked:
            ax.scatter(
                _times(np.array([t.entry_ts for t in picked])),
                [t.entry_price for t in picked],
                marker=marker,
                s=size,
                color=colour,
                label=f"{side} entry",
                zorder=3,
                linewidths=0,
            )


def _exit_markers(ax: Axes, trades: Sequence[Trade], size: float) -> None:
    groups = (
        ("win", WIN, [t for t in trades if t.net_pnl > 0]),
        ("loss", LOSS, [t for t in trades if t.net_pnl < 0]),
        ("break-even", EVEN, [t for t in trades if t.net_pnl == 0]),
    )
    for label, colour, picked in groups:
        if picked:
            ax.scatter(
                _times(np.array([t.exit_ts for t in picked])),
                [t.exit_price for t in picked],
                marker="x",
                s=size,
                color=colour,
                label=f"exit ({label})",
                zorder=4,
                linewidths=1.2,
            )
