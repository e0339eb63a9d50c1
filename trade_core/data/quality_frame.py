"""The validation frame: candle columns plus the derived columns the quality suite checks.

GX has no built-in for modulo, gap or jump checks, so :func:`derive_columns` computes them
(vectorised with numpy) and every rule of ``expectations/ohlcv_candles.json`` becomes a
standard expectation over a column:

- ``body_high = max(open, close)``, ``body_low = min(open, close)`` (price units);
- ``ts_offset = ts mod tf_ms`` (ms; 0 when the bar is aligned to its timeframe);
- ``gap_bars = (ts - previous ts) / tf_ms - 1`` (bars missing before a row; 0 on the first);
- ``jump_multiple = |close - previous close| / scale`` (dimensionless), where ``scale`` is the
  median ``high - low`` of the ``jump_window`` bars *before* the row (causal), floored at
  ``jump_range_floor_bps`` basis points of the previous close so a move after flat bars stays
  finite.

A missing input or value never breaks this step: NaN propagates into the derived columns
(which GX then skips like any missing value) and a derived column whose inputs are absent is
left out, so the suite reports the missing column by its presence check instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trade_core.data.timeframes import tf_ms

REQUIRED_COLUMNS: tuple[str, ...] = ("ts", "open", "high", "low", "close", "volume")
# Derived column -> the candle columns it is computed from.
DERIVED_FROM: dict[str, tuple[str, ...]] = {
    "body_high": ("open", "close"),
    "body_low": ("open", "close"),
    "ts_offset": ("ts",),
    "gap_bars": ("ts",),
    "jump_multiple": ("high", "low", "close"),
}
# read_candle_file marks an unreadable time with the int64 minimum; it means "no ts".
_TS_MISSING = np.iinfo(np.int64).min


def _ts_values(column: pd.Series) -> np.ndarray:
    """``ts`` as int64 ms when every value is a whole number, else float64 with NaN gaps."""
    if column.dtype.kind in "iu" and not column.hasnans:
        values = column.to_numpy(dtype=np.int64)
        if not (values == _TS_MISSING).any():
            return values
        return np.where(values == _TS_MISSING, np.nan, values.astype(np.float64))
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    finite = np.isfinite(values)
    if finite.all() and (values == np.round(values)).all():
        return values.astype(np.int64)
    return np.where(finite, values, np.nan)


def _gap_bars(ts: np.ndarray, step: int) -> np.ndarray:
    gap = np.zeros(len(ts), dtype=np.float64)
    if len(ts) > 1:
        gap[1:] = np.diff(ts).astype(np.float64) / step - 1.0
    return gap


def jump_multiples(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    *,
    window: int,
    floor_bps: float,
) -> np.ndarray:
    """``|close - previous close|`` in units of the recent typical bar range (causal).

    The scale is the median ``high - low`` over the ``window`` bars before each bar (NaN bars
    skipped; the current bar is excluded so a spike cannot hide itself), floored at
    ``floor_bps`` basis points of the previous close. The first bar has no previous close and
    gets NaN, which the expectation ignores like any missing value.
    """
    n = len(close)
    prev_close = np.full(n, np.nan)
    prev_close[1:] = close[:-1]
    ranges = pd.Series(high - low)
    median = ranges.rolling(window, min_periods=1).median().to_numpy()
    scale = np.full(n, np.nan)
    scale[1:] = median[:-1]
    scale = np.fmax(scale, floor_bps * 1e-4 * np.abs(prev_close))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(close - prev_close) / scale


def derive_columns(
    frame: pd.DataFrame, tf: str, *, jump_window: int, jump_range_floor_bps: float
) -> pd.DataFrame:
    """The validation frame: the candle columns present in ``frame`` plus derived columns.

    Rows keep ``frame``'s order (a raw file is checked as it is) on a fresh 0..n-1 index, so
    GX's unexpected indexes are row positions. Prices and volume become float64 (text that is
    not a number becomes NaN, reported by the not-null checks); ``ts`` stays int64 ms when it
    can. A derived column whose inputs are missing is left out, so a missing column is
    reported by its presence check instead of breaking this step.
    """
    step = tf_ms(tf)
    out: dict[str, np.ndarray] = {}
    for name in REQUIRED_COLUMNS:
        if name in frame.columns:
            column = frame[name].reset_index(drop=True)
            out[name] = (
                _ts_values(column)
                if name == "ts"
                else pd.to_numeric(column, errors="coerce").to_numpy(np.float64, na_value=np.nan)
            )
    if "ts" in out:
        out["ts_offset"] = np.mod(out["ts"], step)
        out["gap_bars"] = _gap_bars(out["ts"], step)
    if "open" in out and "close" in out:
        out["body_high"] = np.maximum(out["open"], out["close"])
        out["body_low"] = np.minimum(out["open"], out["close"])
    if {"high", "low", "close"} <= out.keys():
        out["jump_multiple"] = jump_multiples(
            out["high"],
            out["low"],
            out["close"],
            window=jump_window,
            floor_bps=jump_range_floor_bps,
        )
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))
