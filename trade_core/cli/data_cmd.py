"""``trade data``: the market-data store (import, list, gaps, resample).

Sync, instruments, synth and check live in their own ``data_*_cmd`` modules and attach to
``data_app`` defined here.
"""

from __future__ import annotations

import typer
from rich.table import Table

from trade_core.cli.app import app
from trade_core.cli.console import out
from trade_core.data.store import MarketStore
from trade_core.timestamps import fmt_ts

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
