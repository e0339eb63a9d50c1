"""``trade quickstart``: the main job on the embedded defaults (no network, no keys).

1. Loads the starter data into the local DuckDB store and runs the data-quality suite on
   every series it loaded (exit 1 if one fails: nothing is validated on bad data).
2. Runs the ``validate-play`` Prefect flow (a temporary local Prefect server, MLflow tracking
   on) for every example Play: on the store's real data where the store has the Play's
   symbol (the bundled AVAXUSDT month), else on the deterministic synthetic market for the
   Play's symbol (``--days`` days from 2024-01-01). Synthetic data is never written to the
   store under a real symbol, so a later ``trade data sync`` cannot mix the two.
3. Prints the verdict table and how to open the MLflow and Prefect UIs.

A failed gate is a verdict on that Play, not a failure of the job: the job exits 0 when every
Play was validated, whatever the verdicts (``trade validate`` exits 1 on a failed gate).
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from trade_core.backtest.inputs import SYNTH_START_MS
from trade_core.cli.app import app
from trade_core.cli.console import err, out, progress_bar
from trade_core.cli.validate_cmd import (
    ValidationJob,
    prepare_prefect,
    print_verdicts,
    print_where,
    run_validations,
)
from trade_core.config import get_settings
from trade_core.data.starter import StarterLoad, load_starter_data
from trade_core.data.store import MarketStore
from trade_core.errors import BadInputError, DataQualityError
from trade_core.play import load_play
from trade_core.timestamps import DAY_MS, fmt_ts

EXAMPLE_PLAYS = "plays/examples"
DEFAULT_SYNTH_DAYS = 90


@app.command("quickstart")
def quickstart(
    validate: bool = typer.Option(
        True, "--validate/--no-validate", help="Validate the example plays after the data."
    ),
    plays_dir: str = typer.Option(
        EXAMPLE_PLAYS, "--plays", help="Folder of the plays to validate."
    ),
    days: int = typer.Option(
        DEFAULT_SYNTH_DAYS,
        "--days",
        min=7,
        max=730,
        help="Days of synthetic data for a play whose symbol has no stored data.",
    ),
) -> None:
    """The main job: load the bundled data, check it, validate the example plays.

    Validation runs the validate-play Prefect flow (temporary local server) with MLflow
    tracking; a failed gate is a verdict, not an error of the job."""
    settings = get_settings()
    with MarketStore.open(settings) as store, progress_bar("loading starter data", "steps") as bar:
        loaded = load_starter_data(store, on_progress=bar)
    check_starter_data(loaded)
    if not validate:
        out.print("next: trade quickstart (with validation) | trade data list | trade --help")
        return
    prepare_prefect()  # before Prefect is imported (plan_validations imports it)
    jobs = plan_validations(plays_dir, days)
    verdicts = run_validations(jobs)
    print_verdicts(verdicts)
    passed = sum(v["passed"] for v in verdicts)
    out.print(
        f"{passed} of {len(verdicts)} example plays passed every gate; a failed gate is a "
        "verdict on that play (its reason is above), not an error of this job"
    )
    print_where(verdicts)
    out.print(
        "next: trade validate PLAY --data store | trade backtest PLAY --out report/ | "
        "uv run python -m deployments.serve (docs/orchestration.md) | trade --help"
    )


def check_starter_data(loaded: StarterLoad) -> None:
    """The data-quality suite on every loaded series, as a table; :class:`DataQualityError`
    (exit 1) when one fails."""
    settings = get_settings()
    err.print("checking data quality (Great Expectations suite ohlcv_candles) ...")
    from trade_core.data.quality import check_store  # GX import costs seconds: only here

    table = Table(
        "symbol", "tf", "origin", "bars", "span (UTC)", "new", "gaps", "quality",
        title=f"TRADE starter data in {settings.db_path.resolve()}",
    )  # fmt: skip
    failures = []
    with MarketStore.open(settings, read_only=True) as store:
        for load in loaded.series:
            cov = store.coverage(load.symbol, load.tf)
            if cov is None:
                continue
            report = check_store(store, load.symbol, load.tf)
            gaps = store.gaps(load.symbol, load.tf)
            passed = sum(o.status == "passed" for o in report.outcomes)
            verdict = (
                f"[green]ok[/green] {passed}/{len(report.outcomes)}"
                if report.success
                else "[red]FAILED[/red] " + ", ".join(o.name for o in report.failed)
            )
            if not report.success:
                failures.append(f"{load.symbol} {load.tf}")
            table.add_row(
                load.symbol, load.tf, load.origin, f"{cov.bars:,}",
                f"{fmt_ts(cov.first_ts)} → {fmt_ts(cov.last_ts)}", f"{load.upsert.inserted:,}",
                str(len(gaps)), verdict,
            )  # fmt: skip
        instruments = [i.symbol for i in store.instruments()]
        funding_ts, _ = store.read_funding("SYNTHUSDT")
    out.print(table)
    out.print(
        f"instruments: {len(instruments)} ({', '.join(instruments)}), "
        f"{loaded.instruments.inserted} new; funding rates: {len(funding_ts):,} stored"
    )
    if failures:
        raise DataQualityError(
            f"data-quality checks failed for {', '.join(failures)}; see: trade data check SYMBOL TF"
        )


def plan_validations(plays_dir: str, days: int) -> list[ValidationJob]:
    """One job per Play file in ``plays_dir`` (the packaged copy when the folder is not
    here): ``store`` data when the store has 1m bars of the Play's symbol, else ``synthetic``
    over ``days`` days from 2024-01-01. Printed as a table; every Play is loaded (and so
    checked) before anything runs."""
    from flows.nightly import discover_plays

    paths = discover_plays(plays_dir)
    settings = get_settings()
    start, end = SYNTH_START_MS, SYNTH_START_MS + days * DAY_MS
    table = Table("play", "symbol", "data", "period (UTC)", title="validating the example plays")
    jobs: list[ValidationJob] = []
    with MarketStore.open(settings, read_only=True) as store:
        for path in paths:
            play = load_play(path)
            cov = store.coverage(play.symbol, "1m")
            if cov is not None:
                job = ValidationJob(_display_path(path), "store")
                period = f"{fmt_ts(cov.first_ts)} → {fmt_ts(cov.last_ts)} (all stored bars)"
            else:
                job = ValidationJob(_display_path(path), "synthetic", str(start), str(end))
                period = f"{fmt_ts(start)} → {fmt_ts(end)} (synthetic, seed 7)"
            table.add_row(play.name, play.symbol, job.data, period)
            jobs.append(job)
    if not jobs:
        raise BadInputError(f"no plays in {plays_dir}")
    out.print(table)
    return jobs


def _display_path(path: Path) -> Path:
    """``path`` relative to the working directory when it is under it (shorter to read)."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path
