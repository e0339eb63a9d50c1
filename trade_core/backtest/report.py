"""The backtest report: one self-contained HTML page (plus its PNGs and a trade CSV) that a
person opens instead of reading numbers.

:func:`write_report` writes into a directory:

- ``equity.png``: equity (USDT) with the drawdown (% of running peak) beneath;
- ``price.png``: the exec-timeframe close with entries and exits marked;
- ``trades.csv``: every trade, every :class:`~trade_core.engine.trades.Trade` field (times
  as epoch ms and as ISO UTC), floats printed exactly (``repr``);
- ``report.html``: the run, key metrics, both charts (embedded as base64 ``data:`` URIs),
  monthly returns, the audit, the open position and the trade list. Inline CSS, no
  JavaScript, no network; every piece of text from the run is HTML-escaped.

Everything is deterministic: no "generated at" stamp, PNGs without a software chunk, so the
same result gives byte-identical files. Big runs stay fast by capping what is drawn and
listed (``max_points``, ``max_markers``, ``max_trade_rows``); the page says when it did, and
trades.csv always holds every trade. Money USDT, times epoch ms UTC, percentages in % (not
fractions) unless a name says otherwise.

The page is built by :mod:`trade_core.backtest.report_html`, the charts by
:mod:`trade_core.backtest.report_charts` (matplotlib, imported only when a chart is drawn).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from trade_core.backtest import report_charts as charts
from trade_core.backtest.report_html import equity_caption, price_caption, render_html
from trade_core.backtest.result import BacktestResult
from trade_core.data.candles import Candles
from trade_core.data.resample import resample
from trade_core.data.timeframes import tf_ms
from trade_core.engine.trades import Trade

MAX_POINTS = 4000  # curve points per chart
MAX_MARKERS = 2000  # trades marked on the price chart
MAX_TRADE_ROWS = 1000  # trades listed in the HTML
_TIME_COLUMNS = {"entry_ts": "entry_time_utc", "exit_ts": "exit_time_utc"}


@dataclass(frozen=True, slots=True)
class ReportFiles:
    """Where :func:`write_report` put each file."""

    html: Path
    equity_png: Path
    price_png: Path
    trades_csv: Path


def write_report(
    result: BacktestResult,
    candles: Candles,
    out_dir: Path,
    *,
    max_points: int = MAX_POINTS,
    max_markers: int = MAX_MARKERS,
    max_trade_rows: int = MAX_TRADE_ROWS,
) -> ReportFiles:
    """Write the report of ``result`` into ``out_dir`` (created if missing).

    ``candles``: the 1m bars the run used (resampled here to the exec timeframe for the
    price chart). ``max_points`` caps each plotted curve, ``max_markers`` the trades marked
    on the price chart, ``max_trade_rows`` the trades listed in the HTML.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(
        out_dir / "report.html",
        out_dir / "equity.png",
        out_dir / "price.png",
        out_dir / "trades.csv",
    )
    name = f"{result.play_name} · {result.symbol}"
    equity = charts.equity_png(
        result.equity_ts,
        result.equity,
        result.start_ts,
        result.starting_equity,
        title=f"{name} · equity",
        max_points=max_points,
    )
    exec_tf = result.timeframes.get("exec", candles.tf)
    close_ts, close = exec_closes(candles, exec_tf)
    marked = charts.sample_indices(len(result.trades), max_markers)
    shown = [result.trades[i] for i in marked]
    price = charts.price_png(
        close_ts, close, shown, title=f"{name} · {exec_tf} close", max_points=max_points
    )
    files.equity_png.write_bytes(equity)
    files.price_png.write_bytes(price)
    write_trades_csv(result.trades, files.trades_csv)
    page = render_html(
        result,
        equity_png=equity,
        price_png=price,
        equity_note=equity_caption(result.equity.size + 1, max_points),
        price_note=price_caption(exec_tf, len(close), len(result.trades), len(shown), max_points),
        months=monthly_returns(result.equity_ts, result.equity, result.starting_equity),
        years=yearly_returns(result.equity_ts, result.equity, result.starting_equity),
        max_trade_rows=max_trade_rows,
    )
    files.html.write_text(page, encoding="utf-8", newline="\n")
    return files


def exec_closes(candles: Candles, exec_tf: str) -> tuple[np.ndarray, np.ndarray]:
    """Close time (epoch ms: bar open + timeframe) and close price (USDT) of each exec bar.

    Close *times*, so a fill sits inside the bar it happened in. A bar at the edge missing
    some 1m bars keeps the close of the last one it has.
    """
    bars = candles
    if len(candles) and candles.tf != exec_tf:
        bars = resample(candles, exec_tf).candles
    return np.asarray(bars.ts, dtype=np.int64) + tf_ms(exec_tf), bars.close


# --- returns by calendar period ----------------------------------------------------------


def _month_index(equity_ts: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of each point; ``ts - 1`` so a close at 00:00 on the 1st (the
    close of the month's last bar) counts in the month that just ended."""
    ms = np.asarray(equity_ts, dtype=np.int64) - 1
    return ms.astype("datetime64[ms]").astype("datetime64[M]").astype(np.int64)


def _period_returns(
    keys: np.ndarray, equity: np.ndarray, starting_equity: float
) -> dict[int, float | None]:
    """% change of the last equity of each period (``keys`` non-decreasing) over the last
    equity of the period before (the starting equity for the first); None on a base <= 0."""
    if keys.size == 0:
        return {}
    last = np.flatnonzero(np.r_[keys[1:] != keys[:-1], True])
    ends = np.asarray(equity, dtype=np.float64)[last]
    bases = np.r_[starting_equity, ends[:-1]]
    out: dict[int, float | None] = {}
    for key, end, base in zip(keys[last].tolist(), ends.tolist(), bases.tolist(), strict=True):
        out[key] = (end - base) / base * 100.0 if base > 0 else None
    return out


def monthly_returns(
    equity_ts: np.ndarray, equity: np.ndarray, starting_equity: float
) -> dict[tuple[int, int], float | None]:
    """Return in % of each calendar month (UTC) present in the curve, keyed ``(year, month)``.

    ``equity_ts``: epoch ms of each point (exec closes, increasing); ``equity``: USDT. A
    month's return is its last equity vs the previous month's last (the first month vs
    ``starting_equity``); a point at exactly 00:00 on the 1st closes the previous month.
    None where the base equity is <= 0.
    """
    by_month = _period_returns(_month_index(equity_ts), equity, starting_equity)
    return {(1970 + k // 12, k % 12 + 1): v for k, v in by_month.items()}


def yearly_returns(
    equity_ts: np.ndarray, equity: np.ndarray, starting_equity: float
) -> dict[int, float | None]:
    """Return in % of each calendar year (UTC), on the same rules as :func:`monthly_returns`."""
    by_year = _period_returns(_month_index(equity_ts) // 12, equity, starting_equity)
    return {1970 + k: v for k, v in by_year.items()}


# --- trades.csv ---------------------------------------------------------------------------


def trade_columns() -> list[str]:
    """trades.csv's header: the Trade fields, each time followed by its ISO UTC column."""
    cols: list[str] = []
    for f in fields(Trade):
        cols.append(f.name)
        if f.name in _TIME_COLUMNS:
            cols.append(_TIME_COLUMNS[f.name])
    return cols


def _iso(ts_ms: Sequence[int]) -> list[str]:
    arr = np.asarray(ts_ms, dtype=np.int64).astype("datetime64[ms]")
    return np.datetime_as_string(arr, unit="ms", timezone="UTC").tolist()


def write_trades_csv(trades: Sequence[Trade], path: Path) -> None:
    """One row per trade, every field; floats as ``repr`` (exact), times ms + ISO UTC."""
    entry_iso = _iso([t.entry_ts for t in trades])
    exit_iso = _iso([t.exit_ts for t in trades])
    names = [f.name for f in fields(Trade)]
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(trade_columns())
        for t, e_iso, x_iso in zip(trades, entry_iso, exit_iso, strict=True):
            row: list[object] = []
            for name in names:
                row.append(getattr(t, name))
                if name == "entry_ts":
                    row.append(e_iso)
                elif name == "exit_ts":
                    row.append(x_iso)
            out.writerow(row)
