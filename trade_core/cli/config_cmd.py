"""``trade config``: inspect the effective configuration."""

from __future__ import annotations

import typer
from rich.table import Table

from trade_core.cli.app import app
from trade_core.cli.console import out
from trade_core.config import get_settings

config_app = typer.Typer(help="Inspect the effective configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config")


@config_app.command("show")
def show() -> None:
    """Print the effective configuration (environment, .env, defaults); secrets masked."""
    table = Table("setting", "value", title="Effective configuration")
    for key, value in get_settings().masked().items():
        table.add_row(key, value)
    out.print(table)
