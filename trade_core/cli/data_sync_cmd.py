"""``trade data sync`` and ``trade data instruments``: data in from Bybit V5 (public REST).

The store is opened for writing only while there is something to write, so that other
``trade`` processes (DuckDB allows one writer per file) wait as little as possible.
"""

from __future__ import annotations

import typer
from rich.table import Table

from trade_core.cli.console import out, progress_bar
from trade_core.cli.data_cmd import data_app
from trade_core.data.bybit_client import make_client
from trade_core.data.bybit_sync import SyncResult, sync_funding, sync_klines
from trade_core.data.instrument_spec import Instrument, check_symbol
from trade_core.data.instruments import (
    bundled_metadata,
    fetch_instruments,
    load_bundled_instruments,
    select_instruments,
)
from trade_core.data.store import MarketStore, UpsertResult
from trade_core.data.timeframes import tf_ms
from trade_core.errors import BadInputError
from trade_core.timestamps import fmt_ts, now_ms, parse_time


def _summary(what: str, res: SyncResult, unit: str) -> str:
    requests = f"{res.requests:,} request{'s' if res.requests != 1 else ''}"
    return (
        f"{what}: {requests}, {res.bars_fetched:,} {unit} fetched; "
        f"{UpsertResult(res.inserted, res.updated, res.unchanged).summary()}"
    )


@data_app.command("sync")
def sync_cmd(
    symbol: str = typer.Argument(..., help="USDT perpetual, e.g. BTCUSDT."),
    tf: str = typer.Option("1m", "--tf", help="Timeframe of the bars to fetch."),
    start: str = typer.Option(..., "--start", help="From (ISO date/time UTC, or epoch ms)."),
    end: str | None = typer.Option(
        None, "--end", help="To, exclusive (default: now; the forming bar is never stored)."
    ),
    funding: bool = typer.Option(
        True, "--funding/--no-funding", help="Also sync funding-rate settlements."
    ),
) -> None:
    """Fetch the missing bars (and funding) of SYMBOL from Bybit; resumable and idempotent."""
    sym = check_symbol(symbol)
    tf_ms(tf)
    start_ms = parse_time(start)
    end_ms = parse_time(end) if end else now_ms()
    if start_ms >= end_ms:
        raise BadInputError(f"--start {fmt_ts(start_ms)} is not before --end {fmt_ts(end_ms)}")
    client = make_client()
    with MarketStore.open() as store:
        with progress_bar(f"sync {sym} {tf}", "bars") as bar:
            bars = sync_klines(store, client, sym, tf, start_ms, end_ms, on_progress=bar)
        out.print(_summary(f"{sym} {tf}", bars, "bars"))
        if funding:
            with progress_bar(f"funding {sym}", "settlements") as bar:
                rates = sync_funding(store, client, sym, start_ms, end_ms, on_progress=bar)
            out.print(_summary(f"{sym} funding", rates, "settlements"))


def _instrument_table(instruments: list[Instrument], title: str) -> Table:
    table = Table(
        "symbol", "tick", "qty step", "min qty", "max qty", "max mkt qty", "min notional",
        "max lev", "funding", "tiers", "tier 1 MMR", "as of", title=title,
    )  # fmt: skip
    for i in instruments:
        table.add_row(
            i.symbol,
            f"{i.tick_size:g}",
            f"{i.qty_step:g}",
            f"{i.min_qty:g}",
            "-" if i.max_qty is None else f"{i.max_qty:g}",
            "-" if i.max_mkt_qty is None else f"{i.max_mkt_qty:g}",
            f"{i.min_notional:g}",
            f"{i.max_leverage:g}x",
            "-" if i.funding_interval_min is None else f"{i.funding_interval_min / 60:g}h",
            str(len(i.risk_tiers)),
            f"{i.risk_tiers[0].maintenance_margin:.2%}",
            fmt_ts(i.as_of)[:10],
        )
    return table


@data_app.command("instruments")
def instruments_cmd(
    fetch: bool = typer.Option(
        False, "--fetch", help="Fetch current specs from Bybit instead of the bundled snapshot."
    ),
    symbols: list[str] = typer.Option(
        [], "--symbol", "-s", help="Only these symbols (repeatable); default: all."
    ),
) -> None:
    """Store instrument specs (tick, steps, limits, risk tiers) and show them."""
    wanted = [check_symbol(s) for s in symbols]
    if fetch:
        client = make_client()
        instruments = fetch_instruments(client, wanted or None)
        title = f"from {client.endpoint}"
    else:
        instruments = select_instruments(load_bundled_instruments(), wanted)
        meta = bundled_metadata()
        title = f"bundled snapshot as of {meta.get('as_of', '?')} (estimates flagged in its file)"
    with MarketStore.open() as store:
        res = store.upsert_instruments(instruments)
        path = store.path
    out.print(_instrument_table(instruments, title))
    out.print(f"{len(instruments)} instruments into {path}: {res.summary()}")
