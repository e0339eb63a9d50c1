"""``trade features``: what indicators and structure detectors exist, and their specs."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from trade_core.cli.app import app
from trade_core.cli.console import out
from trade_core.features.catalog import registries

features_app = typer.Typer(help="Indicators and structure detectors: list and describe.",
                           no_args_is_help=True)  # fmt: skip
app.add_typer(features_app, name="features")


@features_app.command("list")
def list_features() -> None:
    """List every indicator and structure detector with its outputs and default warm-up."""
    for kind, reg in registries().items():
        table = Table(
            "name", "outputs", "warm-up", "definition", title=f"{kind}s ({len(reg.names())})"
        )
        for name in reg.names():
            spec = reg.spec(name)
            summary = " ".join(spec.doc.split("\n\n")[0].split()) if spec.doc else ""
            table.add_row(name, ", ".join(spec.output_names), str(spec.warmup_bars({})), summary)
        out.print(table)


@features_app.command("show")
def show(name: str = typer.Argument(..., help="Registry name, e.g. macd or swing.")) -> None:
    """Print one feature's parameters (types, defaults, bounds), outputs, warm-up and docs."""
    for reg in registries().values():
        if reg.get(name) is not None:
            out.print_json(json.dumps(reg.spec(name).describe()))
            return
    reg = registries()["indicator"]
    reg.spec(name)  # raises the clear unknown-name error with a suggestion
