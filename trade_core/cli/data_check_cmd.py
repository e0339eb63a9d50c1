"""``trade data check``: run the OHLCV data-quality suite on stored bars or on a raw file.

Exit 0 when every expectation holds, 1 when any fails (:class:`DataQualityError`, after the
report is printed), 2 for bad input. Great Expectations is imported only when a check runs,
so this module costs nothing to the rest of the CLI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from trade_core.cli.console import out
from trade_core.cli.data_cmd import data_app
from trade_core.data.importers import read_candle_file
from trade_core.data.quality import ExpectationOutcome, QualityReport, check_frame, check_store
from trade_core.data.store import MarketStore
from trade_core.data.timeframes import tf_ms
from trade_core.errors import BadInputError, DataQualityError
from trade_core.timestamps import fmt_ts, parse_time


def _overrides(max_gap_bars: int | None, jump_multiple: float | None) -> dict[str, Any]:
    given = {"max_gap_bars": max_gap_bars, "max_jump_multiple": jump_multiple}
    return {k: v for k, v in given.items() if v is not None}


def _check_file(
    path: Path, symbol: str, tf: str, start: int | None, end: int | None, params: dict[str, Any]
) -> QualityReport:
    """Check a candle file as it is (file order, duplicates kept), optionally cut to a range."""
    if not path.is_file():
        raise BadInputError(f"{path}: no such file")
    frame = read_candle_file(path, fmt="auto")
    if "ts" in frame.columns and (start is not None or end is not None):
        keep = (frame["ts"] >= (start if start is not None else -(2**62))) & (
            frame["ts"] < (end if end is not None else 2**62)
        )
        frame = frame.loc[keep]
    return check_frame(frame, tf, params=params, symbol=symbol)


def _fmt_bar(ts: int) -> str:
    """A bar time for the report; milliseconds shown when the time has them (misalignment)."""
    return fmt_ts(ts) if ts % 1000 == 0 else f"{fmt_ts(ts)}.{ts % 1000:03d}"


def _print_outcome(o: ExpectationOutcome) -> None:
    mark = "[red]FAIL[/red]" if o.status == "failed" else "[yellow]SKIP[/yellow]"
    out.print(f"{mark} {o.name}: {o.description}", soft_wrap=True)
    if o.status == "skipped" or o.unexpected_count is None:
        out.print(f"     {o.note or 'not met'}", soft_wrap=True)
        return
    percent = f" ({o.unexpected_percent:.4g}%)" if o.unexpected_percent is not None else ""
    bars = "bar" if o.unexpected_count == 1 else "bars"
    out.print(f"     {o.unexpected_count:,} {bars}{percent}", soft_wrap=True)
    if o.sample_ts:
        shown = ", ".join(_fmt_bar(t) for t in o.sample_ts)
        more = " ..." if o.unexpected_count > len(o.sample_ts) else ""
        out.print(f"     e.g. {shown}{more}", soft_wrap=True)
    elif o.sample_rows:
        out.print(f"     e.g. rows {', '.join(str(r) for r in o.sample_rows)}", soft_wrap=True)
    if o.note:
        out.print(f"     {o.note}", soft_wrap=True)


def print_report(report: QualityReport, source: str) -> None:
    """The readable report: what was checked, every expectation not met, a verdict line."""
    span = f"{fmt_ts(report.first_ts)} -> {fmt_ts(report.last_ts)}" if report.rows else "no bars"
    params = " ".join(f"{k}={v:g}" for k, v in report.parameters.items())
    out.print(
        f"[bold]data check[/bold] {report.symbol} {report.tf} from {source}: "
        f"{report.rows:,} bars ({span})",
        soft_wrap=True,
    )
    out.print(f"suite {report.suite}: {params}", soft_wrap=True)
    for outcome in report.outcomes:
        if outcome.status != "passed":
            _print_outcome(outcome)
    total = len(report.outcomes)
    if report.success:
        out.print(f"[green]PASSED[/green]: all {total} checks met on {report.rows:,} bars")
        return
    not_met = [o.name for o in report.outcomes if not o.success]
    out.print(
        f"[red]FAILED[/red]: {len(not_met)} of {total} checks not met ({', '.join(not_met)})",
        soft_wrap=True,
    )


@data_app.command("check")
def check_cmd(
    symbol: str = typer.Argument(..., help="Symbol, e.g. BTCUSDT (only a label with --file)."),
    tf: str = typer.Argument(..., help="Timeframe of the bars, e.g. 1m."),
    start: str | None = typer.Option(None, help="From (ISO date or epoch ms, UTC), inclusive."),
    end: str | None = typer.Option(None, help="To (ISO date or epoch ms, UTC), exclusive."),
    max_gap_bars: int | None = typer.Option(
        None, "--max-gap-bars", help="Most missing bars allowed in one hole (suite default 5)."
    ),
    jump_multiple: float | None = typer.Option(
        None,
        "--jump-multiple",
        help="Largest close-to-close move, in recent median bar ranges (suite default 100).",
    ),
    file: Path | None = typer.Option(
        None, "--file", help="Check this candle file (before import) instead of the store."
    ),
    json_out: Path | None = typer.Option(
        None, "--json", help="Also write the report as JSON to this file."
    ),
) -> None:
    """Check OHLCV bars with the data-quality suite; exit 1 if any check fails."""
    sym = symbol.strip().upper()
    tf_ms(tf)
    lo = parse_time(start) if start else None
    hi = parse_time(end) if end else None
    params = _overrides(max_gap_bars, jump_multiple)
    if file is not None:
        report = _check_file(file, sym, tf, lo, hi, params)
        source = str(file)
    else:
        with MarketStore.open(read_only=True) as store:
            report = check_store(store, sym, tf, lo, hi, params=params)
            source = str(store.path)
    print_report(report, source)
    if json_out is not None:
        json_out.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
        out.print(f"report written to {json_out}")
    if not report.success:
        skipped = f", {len(report.skipped)} could not run" if report.skipped else ""
        raise DataQualityError(
            f"data check of {sym} {tf} failed: {len(report.failed)} of {len(report.outcomes)} "
            f"checks failed{skipped}"
        )
