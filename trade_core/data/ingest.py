"""Writing into the store: file imports and stored resamples, batch by batch.

Each batch is one transaction, so a crash or Ctrl-C leaves only whole batches behind and a
re-run (idempotent upserts) completes the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from trade_core.data.candles import Candles
from trade_core.data.importers import Normalised, normalise, read_candle_file
from trade_core.data.resample import resample
from trade_core.data.store import MarketStore, UpsertResult
from trade_core.data.timeframes import tf_ms
from trade_core.progress import ProgressFn, report

BATCH_ROWS = 200_000


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What one file import did; counts are bars."""

    symbol: str
    tf: str
    rows_read: int
    upsert: UpsertResult
    normalised: Normalised

    @property
    def first_ts(self) -> int | None:
        return self.normalised.candles.first_ts

    @property
    def last_ts(self) -> int | None:
        return self.normalised.candles.last_ts


def _sum(a: UpsertResult, b: UpsertResult) -> UpsertResult:
    return UpsertResult(a.inserted + b.inserted, a.updated + b.updated, a.unchanged + b.unchanged)


def upsert_batched(
    store: MarketStore,
    candles: Candles,
    *,
    batch_rows: int | None = None,
    on_progress: ProgressFn | None = None,
) -> UpsertResult:
    """Upsert ``candles`` in batches of ``batch_rows`` bars, one transaction each.

    Batches bound memory and move the progress bar; an interruption keeps whole batches
    only, and re-running the same upsert completes the rest without changing stored rows.
    """
    step = batch_rows or BATCH_ROWS
    total = UpsertResult(0, 0, 0)
    report(on_progress, 0, len(candles))
    for start in range(0, len(candles), step):
        batch = candles.slice(start, start + step)
        total = _sum(total, store.upsert_candles(batch))
        report(on_progress, start + len(batch), len(candles))
    return total


def import_file(
    store: MarketStore,
    path: Path | str,
    symbol: str,
    tf: str,
    *,
    fmt: str = "auto",
    column_map: dict[str, str] | None = None,
    ts_unit: str | None = None,
    on_progress: ProgressFn | None = None,
) -> ImportResult:
    """Read, check and upsert one candle file into ``symbol``/``tf``."""
    tf_ms(tf)
    path = Path(path)
    frame = read_candle_file(path, fmt=fmt, column_map=column_map, ts_unit=ts_unit)
    norm = normalise(frame, symbol, tf, source=str(path))
    total = upsert_batched(store, norm.candles, on_progress=on_progress)
    return ImportResult(symbol, tf, len(frame), total, norm)


@dataclass(frozen=True, slots=True)
class ResampleResult:
    tf: str
    bars: int
    incomplete: int
    upsert: UpsertResult


def store_resampled(
    store: MarketStore,
    symbol: str,
    targets: list[str],
    *,
    source_tf: str = "1m",
    start: int | None = None,
    end: int | None = None,
) -> list[ResampleResult]:
    """Resample a stored series to each target timeframe and store only complete bars.

    Incomplete bars (a source bar missing) are counted, not stored: a higher-timeframe bar is
    never produced from partial data.
    """
    src = store.read_candles(symbol, source_tf, start, end)
    results = []
    for tf in targets:
        res = resample(src, tf)
        complete = res.complete_only()
        results.append(
            ResampleResult(tf, len(complete), res.incomplete_count, store.upsert_candles(complete))
        )
    return results
