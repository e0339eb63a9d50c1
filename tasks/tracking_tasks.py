"""MLflow logging of a validation through :mod:`trade_core.tracking` (docs/tracking.md).

Per flow run, in the Play's experiment ``play/<name>``::

    validate-play           trade.kind=flow, trade.flow_run_id=<Prefect flow run id>,
    │                       trade.flow=<flow name>[, trade.nightly=true]
    ├── backtest/is         the in-sample backtest (trade.split=is)
    ├── backtest/oos        the out-of-sample backtest (trade.split=oos)
    ├── gate/data-quality   one child per gate: passed, value, threshold, reason
    ├── gate/audit
    └── gate/min-trades ...

The parent also gets the metrics ``is.<metric>`` and ``oos.<metric>`` (every defined number
of each backtest's summary), so parents of many nights line up in one table and the nightly
flow compares a night with the one before (:func:`previous_nightly_metrics`).

The parent run is a context manager (:func:`parent_run`), not a task: it must stay open
around the tasks that log into it and end FINISHED or FAILED with them, which a single task
call cannot do. Everything else is a task. MLflow writes are serialised inside a process
(one lock): the nightly flow validates plays in threads, and a local sqlite store is happier
with one writer at a time; each write takes ~0.03 s.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypedDict

from prefect.cache_policies import NO_CACHE

from tasks.backtest_tasks import BacktestRun
from tasks.gate_tasks import GateResult, num
from tasks.play_tasks import PlaySummary, load_checked
from tasks.task_decorator import trade_task
from trade_core.backtest.report import ReportFiles
from trade_core.data.quality import QualityReport
from trade_core.tracking import (
    log_backtest,
    log_gate,
    log_metrics,
    previous_metrics,
    run_url,
    set_tags,
    start_parent_run,
)

NIGHTLY_TAG = "trade.nightly"
FLOW_TAG = "trade.flow"
SPLIT_TAG = "trade.split"
REGRESSION_TAG = "trade.regression"
# (metric, True if higher is better, unit) compared night to night on the out-of-sample run
REGRESSION_METRICS: tuple[tuple[str, bool, str], ...] = (
    ("net_pnl", True, " USDT"),
    ("sharpe", True, ""),
    ("max_drawdown_pct", False, " %"),
)
METRIC_LABELS = {"net_pnl": "net PnL", "sharpe": "Sharpe", "max_drawdown_pct": "max drawdown"}

_MLFLOW_LOCK = threading.RLock()


class Regression(TypedDict):
    """One out-of-sample metric that got worse than the night before by more than allowed."""

    metric: str
    previous: float
    current: float
    worse_pct: float  # how much worse, in % of |previous|
    reason: str


@contextmanager
def parent_run(
    play: PlaySummary, *, flow_run_id: str | None, flow_name: str, nightly: bool = False
) -> Iterator[str]:
    """Open the parent MLflow run of one flow run for ``play``; yields its run id. Ends
    FINISHED when the block exits normally, FAILED on an error (re-raised)."""
    tags = {FLOW_TAG: flow_name}
    if nightly:
        tags[NIGHTLY_TAG] = "true"
    compiled = load_checked(play)
    cm = start_parent_run(compiled, flow_run_id=flow_run_id, run_name=flow_name, tags=tags)
    with _MLFLOW_LOCK:
        run_id = cm.__enter__()
    try:
        yield run_id
    except BaseException as exc:
        with _MLFLOW_LOCK:
            if not cm.__exit__(type(exc), exc, exc.__traceback__):
                raise
    else:
        with _MLFLOW_LOCK:
            cm.__exit__(None, None, None)


@trade_task(name="log-backtest", cache_policy=NO_CACHE, persist_result=False)
def log_backtest_run(
    run: BacktestRun, play: PlaySummary, parent_run_id: str, quality: QualityReport
) -> str:
    """Log one validation backtest as the child ``backtest/<part>`` of the parent, with its
    report files and the data-quality report of the candles it ran on; its run id."""
    folder = Path(run.report_dir)
    files = ReportFiles(
        folder / "report.html", folder / "equity.png", folder / "price.png", folder / "trades.csv"
    )
    with _MLFLOW_LOCK:
        return log_backtest(
            run.result,
            load_checked(play),
            run_name=f"backtest/{run.part}",
            parent_run_id=parent_run_id,
            report_files=files,
            quality=quality,
            tags={SPLIT_TAG: run.part},
        )


@trade_task(name="log-gates", cache_policy=NO_CACHE)
def log_gate_runs(parent_run_id: str, gates: Sequence[GateResult]) -> list[str]:
    """One child run ``gate/<name>`` per gate; their run ids."""
    with _MLFLOW_LOCK:
        return [
            log_gate(parent_run_id, g["gate"], g["passed"], g["value"], g["threshold"], g["reason"])
            for g in gates
        ]


@trade_task(name="log-summary", cache_policy=NO_CACHE)
def log_parent_summary(
    parent_run_id: str, passed: bool, metrics: Mapping[str, Mapping[str, Any]]
) -> str:
    """The parent's totals: ``passed`` (1/0), ``<part>.<metric>`` for every defined number of
    each part's summary (``metrics``: part -> summary), tag ``trade.passed``; returns the
    parent's link in the MLflow UI."""
    values = {"passed": 1.0 if passed else 0.0}
    for part, summary in metrics.items():
        for name, value in summary.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                values[f"{part}.{name}"] = float(value)
    with _MLFLOW_LOCK:
        log_metrics(parent_run_id, values)
        set_tags(parent_run_id, {"trade.passed": "true" if passed else "false"})
        return run_url(parent_run_id)


def find_regressions(
    previous: Mapping[str, float], current: Mapping[str, Any], regression_pct: float
) -> list[Regression]:
    """The out-of-sample metrics of :data:`REGRESSION_METRICS` that are worse than
    ``previous`` (the night before's parent metrics, ``oos.<metric>``) by more than
    ``regression_pct`` % of the previous value's magnitude. With a previous value of 0 any
    worsening counts. A metric missing on either side is not compared."""
    out: list[Regression] = []
    for name, higher_is_better, unit in REGRESSION_METRICS:
        prev, cur = previous.get(f"oos.{name}"), current.get(name)
        if prev is None or cur is None:
            continue
        worse_by = (prev - cur) if higher_is_better else (cur - prev)
        if worse_by <= 0:
            continue
        base = abs(prev)
        worse_pct = worse_by / base * 100.0 if base > 0 else float("inf")
        if worse_pct <= regression_pct:
            continue
        pct_text = f"{num(worse_pct)} %" if base > 0 else "any change (previous was 0)"
        label = METRIC_LABELS.get(name, name)
        out.append(
            Regression(
                metric=name,
                previous=float(prev),
                current=float(cur),
                worse_pct=worse_pct if base > 0 else -1.0,
                reason=f"out-of-sample {label} {num(cur)}{unit} vs {num(prev)}{unit} the previous "
                f"night: {pct_text} worse (> {num(regression_pct)} %)",
            )
        )
    return out


@trade_task(name="compare-with-previous-night", cache_policy=NO_CACHE)
def previous_nightly_metrics(
    play_name: str, parent_run_id: str, oos_metrics: Mapping[str, Any], regression_pct: float
) -> tuple[bool, list[Regression]]:
    """Compare this night's out-of-sample metrics with the most recent earlier FINISHED
    nightly parent (tag ``trade.nightly=true``) of the Play; ``(had a previous night, the
    regressions)``. Tags this night's parent ``trade.regression=true|false``."""
    with _MLFLOW_LOCK:
        before = previous_metrics(
            play_name, tag_key=NIGHTLY_TAG, tag_value="true", before_run_id=parent_run_id
        )
    if before is None:
        return False, []
    found = find_regressions(before, oos_metrics, regression_pct)
    with _MLFLOW_LOCK:
        set_tags(parent_run_id, {REGRESSION_TAG: "true" if found else "false"})
    return True, found
