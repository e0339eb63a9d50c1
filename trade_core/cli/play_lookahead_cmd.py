"""``trade play lookahead``: prove a Play's decisions never use data from their future.

Re-runs the backtest on the data truncated at many points and compares every decision made
before each cut with the full run's (:mod:`trade_core.backtest.lookahead`). Exact, not
best-effort: one differing decision fails. Exit 0 clean, 1 a decision changed, 2 bad input.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from trade_core.backtest.runner import RunConfig
from trade_core.cli.backtest_cmd import (
    DATA_OPT,
    END_OPT,
    PLAY_ARG,
    START_OPT,
    SYMBOL_OPT,
    play_and_data,
)
from trade_core.cli.console import out, progress_bar
from trade_core.cli.play_cmd import play_app
from trade_core.config import get_settings
from trade_core.errors import TradeError
from trade_core.timestamps import fmt_ts

SHOWN_MISMATCHES = 20


class LookaheadFoundError(TradeError):
    """A decision changed when future data was removed (exit 1)."""

    exit_code = 1


@play_app.command("lookahead")
def lookahead_cmd(
    play_path: Path = PLAY_ARG,
    symbol: str | None = SYMBOL_OPT,
    start: str | None = START_OPT,
    end: str | None = END_OPT,
    data: str = DATA_OPT,
    points: int = typer.Option(12, "--points", min=1, help="How many truncation points."),
) -> None:
    """Re-run PLAY on data truncated at --points cut times; report any decision that changes."""
    from trade_core.backtest.lookahead import check_lookahead

    play, bt_data = play_and_data(play_path, symbol, data, start, end)
    cfg = RunConfig(audit="off", max_leverage=get_settings().trade_max_leverage)
    with progress_bar(f"lookahead {play.name}", "runs") as bar:
        report = check_lookahead(play, bt_data, cfg, points=points, on_progress=bar)
    cuts = report.cuts
    span = f"{fmt_ts(cuts[0])} .. {fmt_ts(cuts[-1])}" if cuts else "none (data too short)"
    out.print(
        f"{play.name}: {len(cuts)} truncated re-runs ({span}), "
        f"{report.compared:,} decisions compared, "
        f"{len(report.mismatches)} changed"
    )
    if report.ok:
        out.print("[green]no look-ahead: every decision is the same on truncated data[/green]")
        return
    table = Table("cut", "decision time", "full run", "truncated run")
    for m in report.mismatches[:SHOWN_MISMATCHES]:
        table.add_row(fmt_ts(m.cut), fmt_ts(m.ts), m.full, m.truncated)
    out.print(table)
    raise LookaheadFoundError(
        f"{len(report.mismatches)} decision(s) changed when future data was removed"
    )
