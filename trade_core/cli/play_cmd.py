"""``trade play``: validate, show and describe Play files."""

from __future__ import annotations

import json
from pathlib import Path

import typer
import yaml
from rich.table import Table

from trade_core.cli.app import app
from trade_core.cli.console import err, out
from trade_core.errors import BadInputError
from trade_core.play import PlayValidationError, load_play, play_json_schema

play_app = typer.Typer(help="Play files: validate, show, JSON Schema.", no_args_is_help=True)
app.add_typer(play_app, name="play")


@play_app.command("validate")
def validate(
    paths: list[Path] = typer.Argument(..., help="Play files (or folders of .yml files)."),
) -> None:
    """Check Play files; print every problem as file:line: path: message (exit 2 if any)."""
    files = _expand(paths)
    bad = 0
    for file in files:
        try:
            play = load_play(file)
        except PlayValidationError as exc:
            bad += 1
            for issue in exc.issues:
                out.print(str(issue), markup=False)
            continue
        except BadInputError as exc:
            bad += 1
            out.print(str(exc), markup=False)
            continue
        out.print(f"{file}: ok ({play.name} v{play.version}, hash {play.hash[:12]})", markup=False)
    if bad:
        err.print(f"{bad} of {len(files)} play files invalid")
        raise typer.Exit(2)


def _expand(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(
                f
                for f in [*p.rglob("*.yml"), *p.rglob("*.yaml")]
                if not f.name.endswith((".expect.yml", ".expect.yaml"))  # validation-suite data
            )
            if not found:
                raise BadInputError(f"{p}: no .yml play files in this folder")
            files.extend(found)
        else:
            files.append(p)
    return files


@play_app.command("show")
def show(
    path: Path = typer.Argument(..., help="A Play file."),
    as_json: bool = typer.Option(False, "--json", help="Print the normalised play as JSON."),
) -> None:
    """Print the normalised play (defaults filled in), its hash and warm-up per role."""
    play = load_play(path)
    normalised = json.loads(play.canonical)
    if as_json:
        out.print_json(
            data={"hash": play.hash, "warmup": play.warmup.to_dict(), "play": normalised}
        )
        return
    out.print(yaml.safe_dump(normalised, sort_keys=False, width=100), markup=False)
    table = Table("role", "timeframe", "warm-up bars", title=f"{play.name} v{play.version}")
    for role, tf in play.timeframes.items():
        table.add_row(role, tf, str(play.warmup.bars.get(role, 0)))
    table.add_row("(clock)", "1m", str(play.warmup.minutes))
    out.print(table)
    out.print(f"hash: {play.hash}")
    out.print(f"rules: {', '.join(play.rules)}")


@play_app.command("schema")
def schema(
    output: Path | None = typer.Option(None, "--out", help="Write to this file instead."),
) -> None:
    """Print the JSON Schema of Play files (for editor autocompletion and validation)."""
    text = json.dumps(play_json_schema(), indent=2)
    if output is None:
        print(text)
    else:
        output.write_text(text + "\n")
        out.print(f"JSON Schema written to {output}")
