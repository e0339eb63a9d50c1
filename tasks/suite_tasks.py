"""The Prefect task that runs the validation play suite (``plays/validation``, docs/validation.md)
and returns its outcome as plain data, so the nightly flow can put it in its summary.

The suite is the system's own regression net: every deterministic play must reproduce its
independently computed trades and pass the 23 audit checks, every real-data play must pass
the audit with stream == batch. A failed play is an outcome, not an error: the task returns
it (with its first mismatches) and the flow reports it. Not retried: the suite is
deterministic, a rerun gives the same verdict. It takes ~25 s on 2 cores.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict

from prefect.cache_policies import NO_CACHE

from tasks.task_decorator import trade_task
from trade_core.errors import BadInputError
from trade_core.validation.suite import SuiteReport, discover, run_suite

MAX_MISMATCHES = 3  # per failed play in the summary; `trade validate-suite` prints them all


class SuiteFailure(TypedDict):
    """A failed validation play: ``group/name`` and its first mismatches."""

    id: str
    mismatches: list[str]


class SuiteSummary(TypedDict):
    """The suite's outcome as plain data. ``skipped`` plays are real-data plays whose file is
    absent (``../shared/data/real``); ``skip_reason`` says why (first one)."""

    root: str
    group: str | None
    plays: int
    passed: int
    failed: int
    skipped: int
    failures: list[SuiteFailure]
    skip_reason: str | None
    seconds: float


def summarise_suite(report: SuiteReport, root: Path | None, group: str | None) -> SuiteSummary:
    """``report`` as a :class:`SuiteSummary`."""
    skipped = [r for r in report.results if r.status == "skipped"]
    return SuiteSummary(
        root=str(root) if root is not None else "plays/validation",
        group=group,
        plays=len(report.results),
        passed=sum(r.passed for r in report.results),
        failed=len(report.failed),
        skipped=len(skipped),
        failures=[
            SuiteFailure(id=r.case.id, mismatches=r.mismatches[:MAX_MISMATCHES])
            for r in report.failed
        ],
        skip_reason=skipped[0].reason if skipped else None,
        seconds=round(sum(r.seconds for r in report.results), 2),
    )


@trade_task(name="run-validation-suite", cache_policy=NO_CACHE, persist_result=False)
def run_validation_suite(root: str | None = None, group: str | None = None) -> SuiteSummary:
    """Run the validation plays under ``root`` (default: the checkout's or the packaged
    ``plays/validation``), only ``group`` if given; an empty selection is bad input."""
    folder = Path(root) if root else None
    cases = discover(folder, group)
    if not cases:
        where = f"group {group!r}" if group else str(folder or "plays/validation")
        raise BadInputError(f"validation suite: no plays in {where}")
    return summarise_suite(run_suite(cases), folder, group)
