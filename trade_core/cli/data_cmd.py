"""``trade data``: the market-data store (import, list, gaps, resample).

Sync, instruments, synth and check live in their own ``data_*_cmd`` modules and attach to
``data_app`` defined here.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from trade_core.cli.app import app
from trade_core.cli.console import out, progress_bar
from trade_core.data.importers import guess_symbol_tf
from trade_core.data.ingest import import_file, store_resampled
from trade_core.data.instrument_spec import check_symbol
from trade_core.data.store import MarketStore
from trade_core.data.timeframes import tf_ms
from trade_core.errors import BadInputError
from trade_core.timestamps import fmt_ts, parse_time

data_app = typer.Typer(help="Market data: import, sync, inspect and check.", no_args_is_help=True)
app.add_typer(data_app, name="data")


@data_app.command("list")
def list_series() -> None:
    """List stored series (symbol, timeframe, span, bars) and instruments."""
    with MarketStore.open(read_only=True) as store:
        table = Table("symbol", "tf", "first", "last", "bars", title=str(store.path))
        for s in store.series():
            table.add_row(s.symbol, s.tf, fmt_ts(s.first_ts), fmt_ts(s.last_ts), f"{s.bars:,}")
        out.print(table)
        instruments = store.instruments()
        out.print(f"instruments: {', '.join(i.symbol for i in instruments) or 'none'}")


def _parse_map(items: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in items:
        for part in item.split(","):
            target, sep, source = part.partition("=")
            if not sep or not target.strip() or not source.strip():
                raise BadInputError(f"--map {part!r}: expected TARGET=SOURCE, e.g. ts=open_time")
            mapping[target.strip()] = source.strip()
    return mapping


@data_app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., help="CSV, .csv.gz, .zip (Binance) or Parquet file."),
    symbol: str | None = typer.Option(
        None, "--symbol", "-s", help="Symbol, e.g. BTCUSDT (default: from the file name)."
    ),
    tf: str | None = typer.Option(
        None, "--tf", help="Timeframe of the file's bars (default: from the file name)."
    ),
    fmt: str = typer.Option("auto", "--format", help="auto, csv, parquet or binance."),
    column_map: list[str] = typer.Option(
        [], "--map", help="Column mapping TARGET=SOURCE (repeatable), e.g. --map ts=time."
    ),
    ts_unit: str | None = typer.Option(
        None, "--ts-unit", help="s, ms, us or ns (default: detected from magnitude)."
    ),
) -> None:
    """Import candles from a file into the store (idempotent upsert)."""
    if not file.is_file():
        raise BadInputError(f"{file}: no such file")
    guessed_symbol, guessed_tf = guess_symbol_tf(file)
    sym = check_symbol(symbol or guessed_symbol or "")
    if not (tf or guessed_tf):
        raise BadInputError(f"{file.name}: cannot tell the timeframe; pass --tf (e.g. --tf 1m)")
    timeframe = tf or guessed_tf or ""
    tf_ms(timeframe)
    with MarketStore.open() as store, progress_bar(f"import {sym} {timeframe}", "bars") as bar:
        res = import_file(
            store,
            file,
            sym,
            timeframe,
            fmt=fmt,
            column_map=_parse_map(column_map),
            ts_unit=ts_unit,
            on_progress=bar,
        )
    up, norm = res.upsert, res.normalised
    out.print(
        f"{sym} {timeframe}: {res.rows_read:,} rows read, {up.summary()} "
        f"({fmt_ts(res.first_ts)} -> {fmt_ts(res.last_ts)})"
    )
    if norm.sorted_rows:
        out.print("note: rows were not in time order; stored sorted")
    if norm.dropped_duplicates:
        out.print(f"note: {norm.dropped_duplicates:,} exact duplicate rows dropped")
    for warning in norm.warnings:
        out.print(f"[yellow]warning:[/yellow] {warning} — run: trade data check {sym} {timeframe}")


@data_app.command("gaps")
def gaps_cmd(
    symbol: str = typer.Argument(..., help="Symbol, e.g. BTCUSDT."),
    tf: str = typer.Argument(..., help="Timeframe, e.g. 1m."),
    start: str | None = typer.Option(None, help="From (ISO date or epoch ms); default first bar."),
    end: str | None = typer.Option(None, help="To, exclusive; default after the last bar."),
) -> None:
    """List missing bar ranges of a stored series."""
    sym = check_symbol(symbol)
    tf_ms(tf)
    with MarketStore.open(read_only=True) as store:
        cov = store.coverage(sym, tf)
        if cov is None and (start is None or end is None):
            raise BadInputError(f"no {sym} {tf} bars stored; see: trade data list")
        gaps = store.gaps(
            sym,
            tf,
            parse_time(start) if start else None,
            parse_time(end) if end else None,
        )
    if not gaps:
        out.print(f"{sym} {tf}: no gaps")
        return
    table = Table("from", "to (exclusive)", "missing bars", title=f"{sym} {tf} gaps")
    for g in gaps:
        table.add_row(fmt_ts(g.start), fmt_ts(g.end), f"{g.bars:,}")
    out.print(table)
    out.print(f"{len(gaps)} gaps, {sum(g.bars for g in gaps):,} missing bars")


@data_app.command("resample")
def resample_cmd(
    symbol: str = typer.Argument(..., help="Symbol, e.g. BTCUSDT."),
    to: str = typer.Option("15m,1h,4h", "--to", help="Target timeframes, comma-separated."),
    source_tf: str = typer.Option("1m", "--from", help="Source timeframe."),
) -> None:
    """Build higher-timeframe bars from stored 1m bars (only complete bars are stored)."""
    sym = check_symbol(symbol)
    targets = [t.strip() for t in to.split(",") if t.strip()]
    for t in [source_tf, *targets]:
        tf_ms(t)
    with MarketStore.open() as store:
        if store.coverage(sym, source_tf) is None:
            raise BadInputError(f"no {sym} {source_tf} bars stored; see: trade data list")
        results = store_resampled(store, sym, targets, source_tf=source_tf)
    for r in results:
        out.print(
            f"{sym} {r.tf}: {r.bars:,} complete bars ({r.upsert.inserted:,} new, "
            f"{r.upsert.updated:,} changed), {r.incomplete:,} incomplete bars not stored"
        )
