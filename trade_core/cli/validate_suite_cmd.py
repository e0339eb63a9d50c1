"""``trade validate-suite``: run the validation plays (docs/validation.md) and print a summary.

Exit codes: 0 every play passed (skipped real-data plays allowed), 1 a play failed, 2 bad
input (a missing folder, an unknown group).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from trade_core.cli.app import app
from trade_core.cli.console import out, progress_bar
from trade_core.errors import BadInputError, TradeError
from trade_core.validation.suite import SuiteReport, discover, run_suite, validation_root


class SuiteFailedError(TradeError):
    """At least one validation play failed (exit 1)."""

    exit_code = 1


@app.command("validate-suite")
def validate_suite_cmd(
    path: Path | None = typer.Argument(
        None, metavar="[PATH]", help="A folder of validation plays or one play (default: all)."
    ),
    group: str | None = typer.Option(None, "--group", help="Run only this group (a folder)."),
    json_path: Path | None = typer.Option(None, "--json", help="Write every verdict as JSON."),
) -> None:
    """Run the validation play suite; exit 1 if any play fails.

    Each deterministic play must reproduce its hand-derived trades and equity and pass all
    23 audit checks; each real-data play must pass the audit with stream == batch."""
    root = path if path is not None else validation_root()
    cases = discover(root, group)
    if not cases:
        where = f"group {group!r} under {root}" if group else str(root)
        raise BadInputError(f"no validation plays in {where}")
    with progress_bar("validate-suite", "plays") as bar:
        report = run_suite(cases, on_progress=bar)
    print_report(report)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
        out.print(f"JSON written to {json_path}")
    if not report.ok:
        raise SuiteFailedError(f"{len(report.failed)} of {len(report.results)} validation plays "
                               "failed")  # fmt: skip


def print_report(report: SuiteReport) -> None:
    """The per-group table, then each failure with its mismatches and each skip reason."""
    table = Table(title="validation suite")
    for col in ("group", "plays", "passed", "failed", "skipped"):
        table.add_column(col, justify="left" if col == "group" else "right")
    total = {"plays": 0, "passed": 0, "failed": 0, "skipped": 0}
    for grp, counts in sorted(report.by_group().items()):
        row = [counts[k] for k in total]
        for k, v in zip(total, row, strict=True):
            total[k] += v
        failed = f"[red]{counts['failed']}[/red]" if counts["failed"] else "0"
        table.add_row(grp, str(counts["plays"]), str(counts["passed"]), failed,
                      str(counts["skipped"]))  # fmt: skip
    table.add_section()
    table.add_row("all", *(str(v) for v in total.values()))
    out.print(table)
    for r in report.failed:
        out.print(f"[red]FAILED[/red] {r.case.id} ({r.case.play_path})")
        for line in r.mismatches:
            out.print(f"    {line}", soft_wrap=True)
    skipped = [r for r in report.results if r.status == "skipped"]
    if skipped:
        reasons = sorted({r.reason for r in skipped})
        out.print(f"{len(skipped)} skipped: " + "; ".join(reasons), soft_wrap=True)
    seconds = sum(r.seconds for r in report.results)
    verdict = "[green]all passed[/green]" if report.ok else "[red]failures[/red]"
    out.print(f"{verdict} ({seconds:.1f} s of runs)")
