"""Candle files in: CSV, gzip CSV, zipped CSV (Binance downloads) and Parquet.

Formats recognised by their columns (or by a headerless Binance kline layout):

- TRADE / ``shared/data/real``: ``ts,open,high,low,close,volume[,turnover]``, ts in ms;
- Bybit V5 kline rows / exports: ``startTime,open|openPrice,...,volume,turnover``;
- Binance kline exports: ``open_time,open,high,low,close,volume,close_time,quote_volume,...``
  with or without the header line (``quote_volume`` becomes ``turnover``);
- anything else through an explicit column map (``--map ts=time,close=last``).

Timestamps may be epoch seconds, ms, µs or ns (detected by magnitude; Binance spot switched
to µs in 2025) or ISO text; all become int ms UTC. :func:`read_candle_file` returns the rows as
found (for data-quality checks of a raw file); :func:`normalise` turns them into storable
:class:`Candles` or says exactly what is wrong.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from trade_core.data.candles import CANDLE_COLUMNS, Candles
from trade_core.data.timeframes import TIMEFRAMES, tf_ms
from trade_core.errors import BadInputError, ImportFormatError
from trade_core.timestamps import fmt_ts

FORMATS = ("auto", "csv", "parquet", "binance")

BINANCE_COLUMNS = [
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "count",
    "taker_buy_volume",
    "taker_buy_quote_volume",
    "ignore",
]

# Accepted source names per target column, compared lower-case without separators.
ALIASES: dict[str, tuple[str, ...]] = {
    "ts": ("ts", "timestamp", "time", "opentime", "starttime", "date", "datetime", "t"),
    "open": ("open", "openprice", "o"),
    "high": ("high", "highprice", "h"),
    "low": ("low", "lowprice", "l"),
    "close": ("close", "closeprice", "c"),
    "volume": ("volume", "vol", "v", "basevolume"),
    "turnover": ("turnover", "quotevolume", "quoteassetvolume", "quotevol", "amount"),
}
REQUIRED = ("ts", "open", "high", "low", "close", "volume")

_TS_UNITS = {"s": 1000.0, "ms": 1.0, "us": 1e-3, "ns": 1e-6}
_NAME_RE = re.compile(r"^(?P<symbol>[A-Za-z0-9]{2,30})[_-](?P<tf>\d+[mhd])(?:[_.-]|$)")


@dataclass(frozen=True, slots=True)
class Normalised:
    """Storable candles plus what normalising did to the raw rows."""

    candles: Candles
    dropped_duplicates: int = 0
    sorted_rows: bool = False
    warnings: tuple[str, ...] = field(default_factory=tuple)


def guess_symbol_tf(path: Path) -> tuple[str | None, str | None]:
    """``AVAXUSDT_1m_2026-06.csv.gz`` -> ``("AVAXUSDT", "1m")``; ``(None, None)`` if no match."""
    m = _NAME_RE.match(path.name)
    if not m:
        return None, None
    tf = m.group("tf")
    return m.group("symbol").upper(), tf if tf in TIMEFRAMES else None


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _read_table(path: Path, fmt: str) -> pa.Table:
    if fmt not in FORMATS:
        raise BadInputError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if not path.is_file():
        raise BadInputError(f"{path}: no such file")
    suffixes = [s.lower() for s in path.suffixes]
    try:
        if fmt == "parquet" or (fmt == "auto" and suffixes and suffixes[-1] in (".parquet", ".pq")):
            return pq.read_table(path)
        if suffixes and suffixes[-1] == ".zip":
            with zipfile.ZipFile(path) as zf:
                members = [n for n in zf.namelist() if not n.endswith("/")]
                if len(members) != 1:
                    raise ImportFormatError(f"{path}: expected one file in the zip: {members}")
                data = zf.read(members[0])
            return _read_csv(io.BytesIO(data), fmt)
        return _read_csv(path, fmt)
    except (pa.ArrowInvalid, OSError, zipfile.BadZipFile) as exc:
        raise ImportFormatError(f"{path}: cannot read as {fmt}: {exc}") from None


def _read_csv(source: Path | io.BytesIO, fmt: str) -> pa.Table:
    """Read a CSV; a file whose first field is numeric has no header (Binance layout)."""
    opts = pacsv.ConvertOptions(strings_can_be_null=True)
    src = source if isinstance(source, io.BytesIO) else str(source)
    reader = pacsv.open_csv(
        src, read_options=pacsv.ReadOptions(autogenerate_column_names=True, block_size=1 << 16)
    )
    sniff = reader.read_next_batch()
    ncol = sniff.num_columns
    first = str(sniff.column(0)[0].as_py()) if sniff.num_rows else ""
    if isinstance(source, io.BytesIO):
        source.seek(0)
    headerless = fmt == "binance" or first.replace(".", "", 1).isdigit()
    if not headerless:
        return pacsv.read_csv(src, convert_options=opts)
    names = (
        BINANCE_COLUMNS[:ncol]
        if ncol >= 6 and (fmt == "binance" or ncol == len(BINANCE_COLUMNS))
        else ["ts", "open", "high", "low", "close", "volume", "turnover"][:ncol]
    )
    if len(names) != ncol:
        raise ImportFormatError(f"headerless file with {ncol} columns: layout unknown")
    return pacsv.read_csv(
        src, read_options=pacsv.ReadOptions(column_names=names), convert_options=opts
    )


def _resolve_columns(names: list[str], column_map: dict[str, str] | None) -> dict[str, str]:
    """Target column -> source column, from the explicit map first, then aliases."""
    mapping: dict[str, str] = {}
    for target, source in (column_map or {}).items():
        if target not in CANDLE_COLUMNS:
            raise BadInputError(
                f"--map target {target!r} is not a candle column ({', '.join(CANDLE_COLUMNS)})"
            )
        if source not in names:
            raise BadInputError(f"--map {target}={source}: no column {source!r} in {names}")
        mapping[target] = source
    by_key = {_key(n): n for n in names}
    for target, aliases in ALIASES.items():
        if target in mapping:
            continue
        for alias in aliases:
            if alias in by_key:
                mapping[target] = by_key[alias]
                break
    return mapping


def _to_ms(col: pd.Series, unit: str | None, path: Path) -> np.ndarray:
    if col.dtype.kind in "iuf":
        values = col.to_numpy(dtype=np.float64)
        finite = values[np.isfinite(values)]
        if unit is None:
            mag = float(np.median(np.abs(finite))) if len(finite) else 0.0
            unit = "s" if mag < 1e11 else "ms" if mag < 1e14 else "us" if mag < 1e17 else "ns"
        if unit not in _TS_UNITS:
            raise BadInputError(f"unknown ts unit {unit!r}: expected one of s, ms, us, ns")
        if col.dtype.kind in "iu" and unit == "ms":
            return col.to_numpy(dtype=np.int64)
        with np.errstate(invalid="ignore"):
            scaled = np.round(values * _TS_UNITS[unit])
        return np.where(np.isfinite(scaled), scaled, np.iinfo(np.int64).min).astype(np.int64)
    try:
        parsed = pd.to_datetime(col, utc=True, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise ImportFormatError(f"{path}: cannot read the ts column as times: {exc}") from None
    return parsed.dt.as_unit("ms").astype("int64").to_numpy()


def read_candle_file(
    path: Path | str,
    *,
    fmt: str = "auto",
    column_map: dict[str, str] | None = None,
    ts_unit: str | None = None,
) -> pd.DataFrame:
    """Read a candle file into columns ``ts`` (int64 ms) and OHLCV/turnover (float64).

    Rows stay in file order, duplicates included, so a data-quality check sees the file as it
    is. A column that is missing is absent from the frame (``turnover`` becomes NaN instead).
    """
    path = Path(path)
    table = _read_table(path, fmt)
    mapping = _resolve_columns(table.column_names, column_map)
    raw = table.select(list(dict.fromkeys(mapping.values()))).to_pandas()
    out: dict[str, np.ndarray] = {}
    for target in CANDLE_COLUMNS:
        if target not in mapping:
            if target == "turnover":
                out[target] = np.full(len(raw), np.nan)
            continue
        col = raw[mapping[target]]
        if target == "ts":
            out["ts"] = _to_ms(col, ts_unit, path)
            continue
        numeric = pd.to_numeric(col, errors="coerce")
        bad = numeric.isna() & col.notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ImportFormatError(
                f"{path}: column {mapping[target]!r} (as {target}) has a non-numeric value "
                f"{col.iloc[row]!r} at data row {row + 1}"
            )
        out[target] = numeric.to_numpy(dtype=np.float64)
    return pd.DataFrame(out)


def normalise(frame: pd.DataFrame, symbol: str, tf: str, *, source: str = "input") -> Normalised:
    """Check and order raw rows into storable candles; raise naming the first problem.

    Rejected (the store's invariants depend on them): missing columns, NaN values, ts off the
    ``tf`` grid, a file whose bar spacing is coarser than ``tf``, two different rows for one ts.
    Repaired and reported: rows out of order (sorted), exact duplicate rows (dropped).
    Warned about, stored, and left to ``trade data check``: OHLC inconsistencies, bad prices.
    """
    step = tf_ms(tf)
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise ImportFormatError(
            f"{source}: no column for {', '.join(missing)} (have {list(frame.columns)}); "
            f"name one with --map {missing[0]}=COLUMN"
        )
    if len(frame) == 0:
        raise ImportFormatError(f"{source}: no rows")
    frame = frame.reset_index(drop=True)
    ts = frame["ts"].to_numpy(dtype=np.int64)
    _reject_nans(frame, ts, source)
    off_grid = ts % step != 0
    if off_grid.any():
        i = int(np.flatnonzero(off_grid)[0])
        raise ImportFormatError(
            f"{source}: {int(off_grid.sum())} timestamps are not on {tf} boundaries "
            f"(first at data row {i + 1}: {fmt_ts(int(ts[i]))}); is --tf right?"
        )
    order = np.argsort(ts, kind="stable")
    sorted_rows = bool(np.any(order != np.arange(len(ts))))
    frame = frame.iloc[order].reset_index(drop=True)
    ts = ts[order]
    frame, dropped = _drop_duplicates(frame, ts, source)
    ts = frame["ts"].to_numpy(dtype=np.int64)
    if len(ts) > 1:
        spacing = int(np.median(np.diff(ts)))
        if spacing > step:
            raise ImportFormatError(
                f"{source}: bars are {spacing // 60_000} minutes apart (median) but --tf is {tf}; "
                "import with the file's own timeframe"
            )
    candles = Candles.from_frame(symbol, tf, frame)
    return Normalised(candles, dropped, sorted_rows, _sanity_warnings(candles))


def _reject_nans(frame: pd.DataFrame, ts: np.ndarray, source: str) -> None:
    for col in REQUIRED[1:]:
        nan = np.isnan(frame[col].to_numpy(dtype=np.float64))
        if nan.any():
            i = int(np.flatnonzero(nan)[0])
            raise ImportFormatError(
                f"{source}: {int(nan.sum())} empty/NaN values in {col} "
                f"(first at data row {i + 1}, ts {fmt_ts(int(ts[i]))})"
            )
    bad_ts = ts == np.iinfo(np.int64).min
    if bad_ts.any():
        raise ImportFormatError(
            f"{source}: {int(bad_ts.sum())} empty ts values (first at data row "
            f"{int(np.flatnonzero(bad_ts)[0]) + 1})"
        )


def _drop_duplicates(frame: pd.DataFrame, ts: np.ndarray, source: str) -> tuple[pd.DataFrame, int]:
    dup = np.r_[False, ts[1:] == ts[:-1]]
    if not dup.any():
        return frame, 0
    values = frame[list(REQUIRED[1:])].to_numpy()
    same = np.all(values[1:] == values[:-1], axis=1)
    conflicting = dup[1:] & ~same
    if conflicting.any():
        i = int(np.flatnonzero(conflicting)[0]) + 1
        raise ImportFormatError(
            f"{source}: two different bars for ts {fmt_ts(int(ts[i]))} "
            f"({int(conflicting.sum())} such timestamps); the file is ambiguous"
        )
    return frame.loc[~dup].reset_index(drop=True), int(dup.sum())


def _sanity_warnings(c: Candles) -> tuple[str, ...]:
    """Cheap counts of what the data-quality suite will fail on, shown at import time."""
    checks = {
        "high below open/close/low": (c.high < np.maximum(np.maximum(c.open, c.close), c.low)),
        "low above open/close": (c.low > np.minimum(c.open, c.close)),
        "zero or negative prices": (np.minimum(np.minimum(c.open, c.close), c.low) <= 0),
        "negative volume": (c.volume < 0),
    }
    return tuple(f"{int(m.sum())} bars with {what}" for what, m in checks.items() if m.any())
