"""The ``trade`` command: root app, global options, and error-to-exit-code handling.

Exit codes: 0 ok, 1 the work failed, 2 bad input. Errors print as one readable line on
stderr; ``--debug`` (or ``TRADE_DEBUG=1``) shows the traceback instead.
"""

from __future__ import annotations

import logging
import os
import sys

import typer

from trade_core import __version__
from trade_core.cli.console import err
from trade_core.errors import TradeError

app = typer.Typer(
    name="trade",
    help="TRADE: take a Play from idea to Bybit USDT perpetuals, gate by gate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        print(f"trade {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    debug: bool = typer.Option(
        False, "--debug", help="Show tracebacks and debug logs instead of one-line errors."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """TRADE: take a Play from idea to Bybit USDT perpetuals, gate by gate."""
    _state["debug"] = debug or os.environ.get("TRADE_DEBUG") == "1"
    logging.basicConfig(
        level=logging.DEBUG if _state["debug"] else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _register() -> None:
    """Import the command modules; each attaches its commands to ``app`` or a sub-app."""
    from trade_core.cli import (  # noqa: F401  (imported for their registrations)
        backtest_cmd,
        config_cmd,
        data_check_cmd,
        data_cmd,
        data_sync_cmd,
        data_synth_cmd,
        features_cmd,
        play_cmd,
        play_lookahead_cmd,
        quickstart_cmd,
        validate_cmd,
        validate_suite_cmd,
    )


# TRADE runs offline by default; the stack's libraries must not try to phone home.
# A user who wants their telemetry can set these variables explicitly.
_TELEMETRY_OFF = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "GX_ANALYTICS_ENABLED": "false",
}


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point; exits with the documented codes."""
    for key, value in _TELEMETRY_OFF.items():
        os.environ.setdefault(key, value)
    _register()
    from trade_core.cli.backtest_cmd import optional_audit_value

    args = optional_audit_value(list(sys.argv[1:] if argv is None else argv))
    command = typer.main.get_command(app)
    try:
        # Standalone mode: typer/click handle usage errors (exit 2), --help and Ctrl-C;
        # everything else propagates here and becomes one line.
        command.main(args=args, prog_name="trade", standalone_mode=True)
    except TradeError as exc:
        if _state["debug"]:
            raise
        err.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        sys.exit(exc.exit_code)
    except Exception as exc:
        if _state["debug"]:
            raise
        err.print(
            f"[red]internal error:[/red] {type(exc).__name__}: {exc} (run with --debug for "
            "the traceback)",
            soft_wrap=True,
        )
        sys.exit(1)
    sys.exit(0)
