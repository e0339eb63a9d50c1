"""The ``nightly-validation`` flow: validate every Play of a folder, concurrently, and flag
the ones that got worse since the night before.

Each Play's whole validation (:func:`flows.validate_play.validate`, the same tasks as the
``validate-play`` flow) runs as one mapped task, ``validate-play-nightly``, through a Prefect
task runner, so plays run side by side. Its MLflow parent is tagged ``trade.nightly=true``
and holds the out-of-sample metrics as ``oos.<metric>``; the flow then compares them with
the most recent earlier nightly parent of the same Play and flags a regression when net PnL
or Sharpe fell, or max drawdown rose, by more than ``regression_pct`` % of the previous value
(:func:`tasks.tracking_tasks.find_regressions`). One markdown artifact, ``nightly-validation``,
summarises the night; the flow returns the same summary.

A Play that cannot be validated (a broken file, missing data) fails its own mapped task and
is listed under ``errors``; the other plays still run and the flow run ends Completed, so
the summary and artifact always exist. A failed gate is a verdict, not an error.

**Task runner.** ``ThreadPoolTaskRunner`` by default (``max_workers`` = CPU count). The
engine is pure Python, so threads overlap the I/O (data, MLflow, reports) but not the
backtests themselves; for parallel backtests use a process- or cluster-based runner. Choose
it with the ``TRADE_TASK_RUNNER`` setting (environment or ``.env``; read when this module is
imported, so it also applies to served deployments) or per run with the ``task_runner``
parameter:

- ``threads`` or ``threads:N`` (N worker threads);
- ``package.module:ClassName``: any Prefect task runner, built with the keyword arguments in
  the ``TRADE_TASK_RUNNER_OPTIONS`` setting (JSON) or the ``task_runner_options`` parameter,
  e.g. ``prefect_dask:DaskTaskRunner`` with ``{"cluster_kwargs": {"n_workers": 4}}`` or
  ``{"address": "tcp://scheduler:8786"}``, or ``prefect_ray:RayTaskRunner`` with
  ``{"address": "ray://head:10001"}``. ``prefect-dask``/``prefect-ray`` are not dependencies
  of TRADE: install them where the flow runs (docs/orchestration.md).

**The validation suite.** After the plays, the night runs the validation play suite
(``plays/validation``: :mod:`tasks.suite_tasks`, the same run as ``trade validate-suite``)
unless ``suite`` is false; ``suite_group`` runs one group of it. Its totals and failed
plays join the summary and the artifact; a failed suite play is reported, like a failed
gate, and the flow run still ends Completed.
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Any, TypedDict

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture, wait
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from flows.validate_play import current_flow_run_id, validate
from tasks.play_tasks import resolve_play_path
from tasks.suite_tasks import SuiteSummary, run_validation_suite
from tasks.task_decorator import trade_task
from tasks.tracking_tasks import Regression, previous_nightly_metrics
from trade_core.config import get_settings
from trade_core.errors import BadInputError

FLOW_NAME = "nightly-validation"
PLAY_SUFFIXES = (".yml", ".yaml")
EXPECT_SUFFIX = ".expect.yml"  # expected-result files of the validation suite, not plays


class PlayNight(TypedDict):
    """One Play's line in the night's summary."""

    play: str
    file: str
    passed: bool | None  # None when the play could not be validated
    failed_reasons: list[str]
    regressions: list[Regression]
    compared: bool  # whether a previous nightly run existed to compare with
    mlflow_url: str | None
    error: str | None


class NightSummary(TypedDict):
    """What ``nightly-validation`` returns and publishes."""

    flow_run_id: str | None
    plays_dir: str
    data: str
    regression_pct: float
    task_runner: str
    plays: list[PlayNight]
    totals: dict[str, int]  # plays, passed, failed, errors, regressions
    suite: SuiteSummary | None  # the validation play suite; None when not run


# ----------------------------------------------------------------------- task runners
def build_task_runner(spec: str | None = None, options: dict[str, Any] | None = None) -> TaskRunner:
    """The task runner ``spec`` names (module docstring); ``threads`` when empty."""
    spec = (spec or "threads").strip()
    opts = dict(options or {})
    if spec == "threads" or spec.startswith("threads:"):
        count = spec.partition(":")[2]
        if count:
            if not count.isdigit() or int(count) < 1:
                raise BadInputError(f"task runner {spec!r}: expected threads:N with N >= 1")
            opts["max_workers"] = int(count)
        opts.setdefault("max_workers", os.cpu_count() or 1)
        return ThreadPoolTaskRunner(**opts)
    module_name, sep, attr = spec.partition(":")
    if not sep:
        module_name, _, attr = spec.rpartition(".")
    if not module_name or not attr:
        raise BadInputError(
            f"task runner {spec!r}: expected threads, threads:N or package.module:ClassName"
        )
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise BadInputError(
            f"task runner {spec!r}: cannot import it ({exc}); is its package installed "
            "(e.g. uv pip install prefect-dask)?"
        ) from None
    runner = cls(**opts)
    if not isinstance(runner, TaskRunner):
        raise BadInputError(f"task runner {spec!r} is a {type(runner).__name__}, not a TaskRunner")
    return runner


def task_runner_from_settings() -> TaskRunner:
    """The runner the ``TRADE_TASK_RUNNER`` / ``TRADE_TASK_RUNNER_OPTIONS`` (a JSON object)
    settings name."""
    settings = get_settings()
    raw = (settings.trade_task_runner_options or "").strip()
    try:
        options = json.loads(raw) if raw else None
    except json.JSONDecodeError as exc:
        raise BadInputError(f"TRADE_TASK_RUNNER_OPTIONS is not JSON: {exc}") from None
    if options is not None and not isinstance(options, dict):
        raise BadInputError(
            f"TRADE_TASK_RUNNER_OPTIONS is a JSON {type(options).__name__}; expected an object"
        )
    return build_task_runner(settings.trade_task_runner, options)


# ----------------------------------------------------------------------------- plays
def discover_plays(plays_dir: str) -> list[Path]:
    """The Play files directly in ``plays_dir`` (sorted; expected-result files skipped).
    A relative folder missing here is looked up in the packaged plays, as a Play file is."""
    folder = resolve_play_path(plays_dir)
    if not folder.is_dir():
        raise BadInputError(f"plays folder {plays_dir}: no such folder")
    plays = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix in PLAY_SUFFIXES and not p.name.endswith(EXPECT_SUFFIX)
    )
    if not plays:
        raise BadInputError(f"plays folder {folder}: no .yml plays in it")
    return plays


@trade_task(name="validate-play-nightly", cache_policy=NO_CACHE, persist_result=False)
def validate_one(play: str, data: str, regression_pct: float, sync: bool = False) -> PlayNight:
    """One Play's validation (tracked, tagged nightly; ``sync``: fetch the last 90 days'
    missing data from Bybit first) and its comparison with the previous night."""
    verdict = validate(play, data, track=True, sync=sync, flow_name=FLOW_NAME, nightly=True)
    assert verdict["mlflow_run_id"] is not None  # track=True
    compared, regressions = previous_nightly_metrics(
        verdict["play"], verdict["mlflow_run_id"], verdict["metrics_oos"], regression_pct
    )
    return PlayNight(
        play=verdict["play"],
        file=verdict["play_file"],
        passed=verdict["passed"],
        failed_reasons=verdict["failed_reasons"],
        regressions=regressions,
        compared=compared,
        mlflow_url=verdict["mlflow_url"],
        error=None,
    )


def _collect(futures: list[PrefectFuture[PlayNight]], plays: list[Path]) -> list[PlayNight]:
    wait(futures)
    out: list[PlayNight] = []
    for future, path in zip(futures, plays, strict=True):
        value = future.result(raise_on_failure=False)
        if isinstance(value, BaseException) or not future.state.is_completed():
            out.append(
                PlayNight(
                    play=path.stem,
                    file=str(path),
                    passed=None,
                    failed_reasons=[],
                    regressions=[],
                    compared=False,
                    mlflow_url=None,
                    error=f"{type(value).__name__}: {value}",
                )
            )
        else:
            out.append(value)
    return out


# ------------------------------------------------------------------------------ flow
def night_markdown(summary: NightSummary) -> str:
    """The night as markdown: totals, then one row per Play."""
    t = summary["totals"]
    lines = [
        f"# nightly-validation: {t['passed']}/{t['plays']} plays passed",
        "",
        f"Plays from `{summary['plays_dir']}` on data `{summary['data']}`; "
        f"{t['failed']} failed a gate, {t['errors']} could not be validated, "
        f"{t['regressions']} regressed by more than {summary['regression_pct']:g} % "
        f"(task runner: {summary['task_runner']}).",
        "",
        "| play | verdict | regression | failed gates / error | MLflow |",
        "|---|---|---|---|---|",
    ]
    for p in summary["plays"]:
        if p["error"]:
            verdict, detail = "⚠️ ERROR", p["error"]
        else:
            verdict = "✅ pass" if p["passed"] else "❌ FAIL"
            detail = "; ".join(p["failed_reasons"]) or "–"
        if p["regressions"]:
            regression = "📉 " + "; ".join(r["reason"] for r in p["regressions"])
        else:
            regression = "none" if p["compared"] else "no previous night"
        link = f"[run]({p['mlflow_url']})" if p["mlflow_url"] else "–"
        cells = [p["play"], verdict, regression, detail, link]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    lines += ["", *suite_markdown(summary["suite"])]
    return "\n".join(lines) + "\n"


def suite_markdown(suite: SuiteSummary | None) -> list[str]:
    """The validation suite's lines of the night's markdown."""
    if suite is None:
        return ["Validation suite: not run tonight (suite=false)."]
    which = f"group `{suite['group']}` of " if suite["group"] else ""
    mark = "✅" if suite["failed"] == 0 else "❌"
    lines = [
        f"Validation suite ({which}`{suite['root']}`): {mark} {suite['passed']}/{suite['plays']} "
        f"passed, {suite['failed']} failed, {suite['skipped']} skipped "
        f"in {suite['seconds']:.1f} s."
    ]
    if suite["skip_reason"]:
        lines.append(f"Skipped because: {suite['skip_reason']}")
    for f in suite["failures"]:
        detail = "; ".join(f["mismatches"]).replace("\n", " ")
        lines.append(f"- `{f['id']}`: {detail}")
    return lines


@flow(
    name=FLOW_NAME,
    description="Validate every Play of a folder concurrently; flag regressions vs last night.",
    task_runner=task_runner_from_settings(),
    persist_result=True,
    result_serializer="json",
)
def nightly_validation(
    plays_dir: str = "plays/examples",
    data: str = "store",
    regression_pct: float = 20.0,
    task_runner: str | None = None,
    task_runner_options: dict[str, Any] | None = None,
    suite: bool = True,
    suite_group: str | None = None,
    sync: bool = False,
) -> NightSummary:
    """Validate every Play in ``plays_dir`` on ``data`` concurrently and compare each with
    its previous nightly run (``regression_pct``: % worse that counts as a regression).
    ``task_runner``/``task_runner_options`` override ``TRADE_TASK_RUNNER`` for this run.
    Then run the validation play suite (only ``suite_group`` if given) unless ``suite`` is
    false. ``sync`` (data=store): each Play first fetches the last 90 days' missing 1m bars
    and funding of its symbol from Bybit, and is validated on those 90 days."""
    if regression_pct < 0:
        raise BadInputError(f"regression_pct {regression_pct}: expected >= 0")
    logger = get_run_logger()
    plays = discover_plays(plays_dir)
    if sync and data != "store":
        raise BadInputError(f"sync fetches from Bybit into the store: it needs data=store, "
                            f"not data={data}")  # fmt: skip
    args = {"play": [str(p) for p in plays], "data": data, "regression_pct": regression_pct,
            "sync": sync}  # fmt: skip
    if task_runner:
        runner = build_task_runner(task_runner, task_runner_options)
        with runner:
            results = _collect(list(runner.map(validate_one, args)), plays)
        runner_name = type(runner).__name__
    else:
        results = _collect(list(validate_one.map(**args)), plays)
        runner_name = type(nightly_validation.task_runner).__name__
    summary = NightSummary(
        flow_run_id=current_flow_run_id(),
        plays_dir=plays_dir,
        data=data,
        regression_pct=regression_pct,
        task_runner=runner_name,
        plays=results,
        totals={
            "plays": len(results),
            "passed": sum(1 for r in results if r["passed"] is True),
            "failed": sum(1 for r in results if r["passed"] is False),
            "errors": sum(1 for r in results if r["error"]),
            "regressions": sum(1 for r in results if r["regressions"]),
        },
        suite=run_validation_suite(group=suite_group) if suite else None,
    )
    create_markdown_artifact(
        markdown=night_markdown(summary), key=FLOW_NAME, description="nightly-validation summary"
    )
    for r in results:
        if r["error"]:
            logger.error("%s could not be validated: %s", r["play"], r["error"])
        for reg in r["regressions"]:
            logger.warning("%s regressed: %s", r["play"], reg["reason"])
    if summary["suite"] is not None:
        for failure in summary["suite"]["failures"]:
            logger.error("validation suite play %s failed: %s", failure["id"],
                         "; ".join(failure["mismatches"]))  # fmt: skip
    return summary
