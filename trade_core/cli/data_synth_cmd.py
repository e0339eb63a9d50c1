"""``trade data synth``: generate a deterministic synthetic market into the store or a file.

Used for benchmarks (years of 1m bars) and for trying plays without downloading anything:
the same SYMBOL/--days/--seed/--start/--price always give the same bars and funding rates.
"""

from __future__ import annotations

from pathlib import Path

import typer

from trade_core.cli.console import out, progress_bar
from trade_core.cli.data_cmd import data_app
from trade_core.data.candles import Candles
from trade_core.data.ingest import upsert_batched
from trade_core.data.instrument_spec import check_symbol
from trade_core.data.resample import resample
from trade_core.data.store import MarketStore, UpsertResult
from trade_core.data.synth import SynthData, generate
from trade_core.data.timeframes import tf_ms
from trade_core.errors import BadInputError
from trade_core.timestamps import fmt_ts, parse_time

WRITE_BATCH = 100_000  # bars per store transaction: bounded memory and a moving progress bar
FILE_SUFFIXES = (".parquet", ".csv", ".csv.gz")


def _file_kind(path: Path) -> str:
    """The output format named by the file's extension; a clear error for anything else."""
    name = path.name.lower()
    for suffix in FILE_SUFFIXES:
        if name.endswith(suffix):
            return suffix
    raise BadInputError(f"--out {path}: expected a {', '.join(FILE_SUFFIXES)} file name")


def _bars_of(data: SynthData, tf: str) -> Candles:
    """The generated 1m bars, or their complete ``tf`` bars (a partial edge bar is dropped)."""
    if tf == "1m":
        return data.candles
    bars = resample(data.candles, tf).complete_only()
    if len(bars) == 0:
        raise BadInputError(f"the span holds no complete {tf} bar: ask for more --days")
    return bars


def _write_file(bars: Candles, path: Path) -> str:
    """Write ts,open,high,low,close,volume,turnover; returns a phrase for the summary."""
    kind = _file_kind(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = bars.to_frame()
    if kind == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, compression="gzip" if kind == ".csv.gz" else None)
    return f"written to {path} (funding rates are not part of the file)"


def _write_store(bars: Candles, data: SynthData) -> str:
    """Upsert bars (in batches, with progress) and funding; returns a phrase for the summary."""
    with MarketStore.open() as store, progress_bar("writing", "bars") as bar:
        res = upsert_batched(store, bars, batch_rows=WRITE_BATCH, on_progress=bar)
        funding: UpsertResult = store.upsert_funding(
            bars.symbol, data.funding_ts, data.funding_rate
        )
        where = store.path
    return f"stored in {where}: {res.summary()}; funding {funding.summary()}"


@data_app.command("synth")
def synth_cmd(
    symbol: str = typer.Argument(..., help="Symbol to store the bars under, e.g. SYNUSDT."),
    tf: str = typer.Option("1m", "--tf", help="Timeframe; above 1m only complete resampled bars."),
    days: float = typer.Option(..., "--days", help="Length of the span in days (> 0)."),
    seed: int = typer.Option(..., "--seed", help="Random seed (>= 0); same seed, same market."),
    start: str = typer.Option("2024-01-01", "--start", help="First bar (ISO date or epoch ms)."),
    price: float = typer.Option(100.0, "--price", help="Start price (USDT)."),
    tick: float | None = typer.Option(
        None, "--tick", help="Tick size (default: ~1e-4 of --price, a power of ten)."
    ),
    out_file: Path | None = typer.Option(
        None, "--out", help="Write a .parquet/.csv/.csv.gz file instead of the store."
    ),
) -> None:
    """Generate a synthetic market (1m bars + 8-hourly funding) into the store or a file."""
    sym = check_symbol(symbol)
    tf_ms(tf)
    if out_file is not None:
        _file_kind(out_file)
    start_ms = parse_time(start)
    with progress_bar(f"generating {sym}", "bars") as bar:
        data = generate(
            sym, days=days, seed=seed, start_ms=start_ms, start_price=price, tick_size=tick,
            on_progress=bar,
        )  # fmt: skip
    bars = _bars_of(data, tf)
    where = _write_file(bars, out_file) if out_file is not None else _write_store(bars, data)
    out.print(
        f"{sym} {tf}: {len(bars):,} synthetic bars {fmt_ts(bars.first_ts)} -> "
        f"{fmt_ts(bars.last_ts)}, close {price:g} -> {bars.close[-1]:g}, "
        f"{len(data.funding_ts):,} funding rates (seed {seed}); {where}"
    )
