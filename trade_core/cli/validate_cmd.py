"""``trade validate``: run the ``validate-play`` Prefect flow in this process for each Play,
print every gate's verdict, and say where to see the runs.

Without ``PREFECT_API_URL`` Prefect starts a temporary local server for the process (~10 s
on 2 cores) and records the runs in its local database (``$PREFECT_HOME``, default
``~/.prefect``); with it, the runs go to that server. Runs are logged to MLflow unless
``--no-track``. Prefect (and through it MLflow and Great Expectations) is imported inside the
command, after the arguments are checked, so other commands and bad input stay fast.
Prefect's log lines stay off the terminal (they go to the Prefect server with the run);
``--debug`` shows them.

Exit codes: 0 every gate of every Play passed, 1 a gate failed, 2 bad input (a Play's
problems as ``file:line``, missing data, a wrong option).
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from trade_core.cli.app import app
from trade_core.cli.backtest_cmd import DATA_OPT, END_OPT, START_OPT
from trade_core.cli.console import err, out
from trade_core.config import get_settings
from trade_core.errors import BadInputError, TradeError
from trade_core.play import load_play
from trade_core.timestamps import fmt_ts, parse_time

if TYPE_CHECKING:
    from flows.validate_play import Verdict

DATA_KEYWORDS = ("store", "bundled", "synthetic")
PREFECT_UI_DEFAULT = "http://127.0.0.1:4200"


class GateFailedError(TradeError):
    """A Play failed one of its gates (exit 1)."""

    exit_code = 1


def check_inputs(
    plays: list[Path],
    data: str,
    split: float,
    start: str | None,
    end: str | None,
    sync: bool = False,
) -> None:
    """Everything that can be checked before Prefect starts; :class:`BadInputError` (exit 2)
    naming what is wrong."""
    for path in plays:
        load_play(path)  # PlayValidationError lists every problem as file:line
    if data not in DATA_KEYWORDS and not Path(data).is_file():
        raise BadInputError(
            f"--data {data}: no such file (expected store, bundled, synthetic or a candle file)"
        )
    if sync and data != "store":
        raise BadInputError(f"--sync fills the store from Bybit: it needs --data store, "
                            f"not --data {data}")  # fmt: skip
    if not (math.isfinite(split) and 0.0 < split < 1.0):
        raise BadInputError(f"--split {split}: expected a fraction between 0 and 1 (e.g. 0.7)")
    lo = parse_time(start) if start else None
    hi = parse_time(end) if end else None
    if lo is not None and hi is not None and hi <= lo:
        raise BadInputError(f"--end {fmt_ts(hi)} is not after --start {fmt_ts(lo)}")


class _NoPrefectRecords(logging.Filter):
    """Drops the records of Prefect's loggers (``prefect``, ``prefect.flow_runs``, ...)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith("prefect")


def _quiet_prefect() -> None:
    """Keep Prefect's per-task log lines (and its tracebacks of errors that the command
    reports itself, in one line) off the terminal; they still go to the Prefect server with
    the flow run. ``--debug`` shows them."""
    from trade_core.cli.app import _state

    if _state["debug"]:
        return
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, _NoPrefectRecords) for f in handler.filters):
            handler.addFilter(_NoPrefectRecords())


@app.command("validate")
def validate_cmd(
    plays: list[Path] = typer.Argument(..., metavar="PLAY", help="Play files (.yml)."),
    data: str = DATA_OPT,
    split: float = typer.Option(
        0.7, "--split", help="Fraction of the span in-sample (by time); the rest out-of-sample."
    ),
    start: str | None = START_OPT,
    end: str | None = END_OPT,
    track: bool = typer.Option(True, "--track/--no-track", help="Log the runs to MLflow."),
    sync: bool = typer.Option(
        False,
        "--sync",
        help="First fetch the period's missing 1m bars and funding from Bybit into the store "
        "(--data store; the period defaults to the last 90 days).",
    ),
) -> None:
    """Run the validate-play flow on plays; exit 1 if a gate fails.

    Gates: data quality, the 23-check audit in- and out-of-sample, the Play's thresholds.

    Exit 0 when every gate passes, 1 when one fails, 2 on bad input."""
    check_inputs(plays, data, split, start, end, sync)
    jobs = [ValidationJob(path, data, start, end, sync) for path in plays]
    verdicts = run_validations(jobs, split=split, track=track)
    print_verdicts(verdicts)
    print_where(verdicts)
    failed = [v["play"] for v in verdicts if not v["passed"]]
    if failed:
        raise GateFailedError(
            f"{len(failed)} of {len(verdicts)} play(s) failed a gate: " + ", ".join(failed)
        )


@dataclass(frozen=True, slots=True)
class ValidationJob:
    """One Play to validate and the data to validate it on (``start``/``end`` as the CLI
    takes them: ISO UTC or epoch ms; None = all the data)."""

    play: Path
    data: str
    start: str | None = None
    end: str | None = None
    sync: bool = False  # fetch the period's missing data from Bybit into the store first

    def describe(self) -> str:
        period = f" {self.start or '…'} → {self.end or '…'}" if self.start or self.end else ""
        return f"{self.play} on {self.data}{period}{' (synced from Bybit first)' * self.sync}"


def prepare_prefect() -> None:
    """Before Prefect is imported: its logs off the terminal, a startup timeout that a busy
    2-core machine meets (Prefect's default is 20 s; the temporary server takes ~10 s idle),
    and ``PREFECT_HOME``'s parent folders made (Prefect makes only the last one)."""
    _quiet_prefect()
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    home = os.environ.get("PREFECT_HOME")
    if home:
        Path(home).expanduser().mkdir(parents=True, exist_ok=True)


def run_validations(
    jobs: list[ValidationJob], *, split: float = 0.7, track: bool = True
) -> list[Verdict]:
    """Run the ``validate-play`` flow once per job, in this process, in order; say on stderr
    what runs. The inputs must have been checked (:func:`check_inputs`)."""
    prepare_prefect()
    if not os.environ.get("PREFECT_API_URL"):
        err.print(
            "starting a temporary Prefect server for this run (~10 s; set "
            "PREFECT_API_URL to use a running one)"
        )
    from flows.validate_play import validate_play

    verdicts: list[Verdict] = []
    for i, job in enumerate(jobs, 1):
        err.print(f"[{i}/{len(jobs)}] validating {job.describe()} ...")
        try:
            verdicts.append(
                validate_play(
                    play=str(job.play), data=job.data, split=split, start=job.start,
                    end=job.end, track=track, sync=job.sync,
                )
            )  # fmt: skip
        except RuntimeError as exc:
            friendly = prefect_unavailable(exc)
            if friendly is None:
                raise
            raise friendly from exc
    return verdicts


def prefect_unavailable(exc: RuntimeError) -> TradeError | None:
    """The error to show when ``exc`` says Prefect's server cannot be reached or did not
    start (what to do about it), else None (any other error goes up unchanged)."""
    text = str(exc)
    if "Failed to reach API" in text:
        url = os.environ.get("PREFECT_API_URL", "")
        return TradeError(
            f"cannot reach the Prefect server at {url or 'PREFECT_API_URL'}: start it "
            "(uv run prefect server start) or unset PREFECT_API_URL to use a temporary one"
        )
    if "ephemeral Prefect API server" in text:
        home = os.environ.get("PREFECT_HOME", "~/.prefect")
        wait = os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "")
        return TradeError(
            f"Prefect's temporary server did not start within {wait or 'the timeout'} s: "
            f"check that PREFECT_HOME ({home}) is writable, raise "
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, or start a server "
            "(uv run prefect server start) and set PREFECT_API_URL"
        )
    return None


def _num(x: Any) -> str:
    from tasks.gate_tasks import num

    return num(x)


def print_verdicts(verdicts: list[Verdict]) -> None:
    """One row per gate of each Play, then each Play's verdict with the failed reasons."""
    table = Table("play", "gate", "value", "threshold", "result")
    for v in verdicts:
        for g in v["gates"]:
            result = "[green]pass[/green]" if g["passed"] else "[red]FAIL[/red]"
            table.add_row(v["play"], g["gate"], _num(g["value"]), _num(g["threshold"]), result)
    out.print(table)
    for v in verdicts:
        if v["passed"]:
            out.print(f"{v['play']}: [green]PASSED[/green] every gate")
            continue
        out.print(f"{v['play']}: [red]FAILED[/red]")
        for reason in v["failed_reasons"]:
            out.print(f"  - {reason}")


def print_where(verdicts: list[Verdict]) -> None:
    """Where the reports, the MLflow runs and the Prefect flow runs are, and how to open
    each UI."""
    for v in verdicts:
        synced = v["sync"]
        if synced is not None:
            out.print(
                f"{v['play']}: synced from Bybit first: {synced['bars_inserted']:,} new 1m bars, "
                f"{synced['funding_inserted']} new funding settlements ({synced['requests']} "
                "requests)"
            )
        out.print(f"{v['play']}: reports in {v['report_dir']}")
        if v["mlflow_url"]:
            out.print(f"{v['play']}: MLflow run {v['mlflow_url']}")
        if v["flow_run_id"]:
            out.print(
                f"{v['play']}: Prefect flow run {_prefect_ui()}/runs/flow-run/{v['flow_run_id']}"
            )
    if any(v["mlflow_url"] for v in verdicts):
        uri = get_settings().mlflow_uri
        if uri.startswith("sqlite:///"):
            home = get_settings().mlflow_artifacts.resolve()
            out.print(
                f"open MLflow: uv run mlflow server --backend-store-uri {uri} "
                f"--artifacts-destination {home} --host 127.0.0.1 --port 5000"
            )
        else:
            out.print(f"open MLflow: {uri}")
    if not os.environ.get("PREFECT_API_URL"):
        out.print(
            "open Prefect: uv run prefect server start, then the links above "
            "(the runs are in Prefect's local database)"
        )


def _prefect_ui() -> str:
    api = os.environ.get("PREFECT_API_URL", "").rstrip("/")
    return api[: -len("/api")] if api.endswith("/api") else api or PREFECT_UI_DEFAULT
