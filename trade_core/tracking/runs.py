"""Runs around a flow: a parent run per flow run, a child run per gate, the metrics of the
previous comparable run (to flag regressions), and a run's link in the MLflow UI.

Layout in the Play's experiment ``play/<name>``::

    parent (trade.kind=flow, trade.flow_run_id=<Prefect flow run id>)
    ├── gate/<name>   (trade.kind=gate)      one per gate: passed, value, threshold, reason
    └── <backtest>    (trade.kind=backtest)  log_backtest(..., parent_run_id=parent)

Children carry MLflow's ``mlflow.parentRunId`` tag, so the UI shows them nested under the
parent (a parent and its children must be in one experiment: one Play). Each gate's verdict
is also a metric ``gate.<name>`` (1/0) on the parent, so the parents of many flow runs can be
compared side by side.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

from trade_core.config import Settings
from trade_core.tracking.backtest_log import KIND_TAG, PLAY_TAG
from trade_core.tracking.mlflow_setup import (
    client,
    code_dirty,
    code_version,
    experiment_for_play,
    experiment_name,
    is_remote,
    tracking_uri,
)
from trade_core.tracking.run_writer import guard, log_values, write_run

if TYPE_CHECKING:
    from trade_core.play import Play

FLOW_RUN_TAG = "trade.flow_run_id"
GATE_TAG = "trade.gate"
GATE_REASON_TAG = "trade.gate.reason"
LOCAL_UI = "http://127.0.0.1:5000"  # where `mlflow ui` / `mlflow server` listen by default
MAX_REASON_CHARS = 5000  # MLflow caps tag values (8000 chars); keep well inside
_METRIC_UNSAFE = re.compile(r"[^A-Za-z0-9_.\- /]")
_QUOTES = ("'", '"', "`", "\\")


@contextmanager
def start_parent_run(
    play: Play | str,
    *,
    flow_run_id: str | None,
    run_name: str,
    tags: Mapping[str, str] | None = None,
    kind: str = "flow",
    settings: Settings | None = None,
) -> Iterator[str]:
    """Open a parent run in the Play's experiment for one flow run; yields its run id.

    ``play``: the Play, or its name when it could not be loaded. Tags: ``trade.kind`` =
    ``kind``, ``trade.play``, ``trade.flow_run_id`` (the Prefect flow run id, when given),
    plus ``tags``. With a Play, params ``play.name``, ``play.version``, ``play.hash``,
    ``symbol``, ``code.version``, ``code.dirty``. The run ends FINISHED when the block exits
    normally, KILLED on KeyboardInterrupt, FAILED on any other exception (re-raised).
    """
    name = play if isinstance(play, str) else play.name
    all_tags = {KIND_TAG: kind, PLAY_TAG: name}
    if flow_run_id:
        all_tags[FLOW_RUN_TAG] = str(flow_run_id)
    all_tags.update(tags or {})
    params: dict[str, str] = {}
    if not isinstance(play, str):
        params = {
            "play.name": play.name,
            "play.version": str(play.version),
            "play.hash": play.hash,
            "symbol": play.symbol,
            "code.version": code_version(),
            "code.dirty": code_dirty(),
        }
    guard(params=params, tags=all_tags, run_name=run_name, settings=settings)
    c = client(settings)
    experiment_id = experiment_for_play(name, settings)
    run_id = c.create_run(experiment_id, run_name=run_name, tags=all_tags).info.run_id
    try:
        log_values(run_id, params=params, settings=settings)
        yield run_id
    except BaseException as exc:
        status = "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED"
        with suppress(Exception):  # keep the flow's own error if the store is unreachable
            c.set_terminated(run_id, status)
        raise
    c.set_terminated(run_id, "FINISHED")


def log_gate(
    parent_run_id: str,
    gate_name: str,
    passed: bool,
    value: float | None,
    threshold: float | None,
    reason: str,
    *,
    settings: Settings | None = None,
) -> str:
    """Record one gate's verdict as a child run ``gate/<gate_name>`` of the parent; returns
    the child's run id.

    Child: metrics ``passed`` (1/0), ``value`` and ``threshold`` (when not None, in the
    gate's own unit), param ``gate``, tags ``trade.kind=gate``, ``trade.gate``,
    ``trade.play`` (the parent's) and ``trade.gate.reason`` (``reason``, also the run's
    description). Parent: metric ``gate.<gate_name>`` = 1/0.
    """
    c = client(settings)
    parent = c.get_run(parent_run_id)
    reason = reason[:MAX_REASON_CHARS]
    tags = {
        KIND_TAG: "gate",
        PLAY_TAG: parent.data.tags.get(PLAY_TAG, ""),
        GATE_TAG: gate_name,
        GATE_REASON_TAG: reason,
        "mlflow.note.content": reason,
    }
    metrics = {"passed": 1.0 if passed else 0.0}
    if value is not None:
        metrics["value"] = float(value)
    if threshold is not None:
        metrics["threshold"] = float(threshold)
    run_id = write_run(
        parent.info.experiment_id,
        run_name=f"gate/{gate_name}",
        params={"gate": gate_name},
        metrics=metrics,
        tags=tags,
        parent_run_id=parent_run_id,
        settings=settings,
    )
    log_values(parent_run_id, metrics={gate_metric(gate_name): metrics["passed"]},
               settings=settings)  # fmt: skip
    return run_id


def gate_metric(gate_name: str) -> str:
    """The parent's metric name for a gate's verdict: ``gate.<name>`` (MLflow-safe)."""
    return "gate." + _METRIC_UNSAFE.sub("_", gate_name)


def log_metrics(
    run_id: str, metrics: Mapping[str, float], *, settings: Settings | None = None
) -> None:
    """Add metrics (step 0) to an existing run, e.g. a parent's totals at the end of a flow."""
    guard(tags=dict.fromkeys(metrics, ""), settings=settings)
    log_values(run_id, metrics=metrics, settings=settings)


def set_tags(run_id: str, tags: Mapping[str, str], *, settings: Settings | None = None) -> None:
    """Set tags on an existing run (e.g. ``trade.regression=true``), checked for secrets."""
    guard(tags=tags, settings=settings)
    log_values(run_id, tags=tags, settings=settings)


def previous_metrics(
    play_name: str,
    *,
    tag_key: str,
    tag_value: str,
    before_run_id: str | None = None,
    settings: Settings | None = None,
) -> dict[str, float] | None:
    """The metrics (latest value of each) of the most recent FINISHED run tagged
    ``tag_key=tag_value`` in the Play's experiment; None if there is none (or no experiment).

    ``before_run_id``: only runs started at or before that run, other than it (e.g. the
    nightly backtest just logged, to compare it with the night before). Runs are ordered by
    start time (ms); two started in the same millisecond are in no defined order.
    """
    for text in (tag_key, tag_value):
        if any(q in text for q in _QUOTES):
            raise ValueError(f"tag key/value {text!r} may not contain quotes or backslashes")
    c = client(settings)
    exp = c.get_experiment_by_name(experiment_name(play_name))
    if exp is None:
        return None
    where = f"tags.`{tag_key}` = '{tag_value}' AND attributes.status = 'FINISHED'"
    if before_run_id:
        start = c.get_run(before_run_id).info.start_time
        where += f" AND attributes.start_time <= {int(start)}"
    runs = c.search_runs(
        [exp.experiment_id],
        filter_string=where,
        order_by=["attributes.start_time DESC"],
        max_results=10,
    )
    for run in runs:
        if run.info.run_id != before_run_id:
            return {k: float(v) for k, v in run.data.metrics.items()}
    return None


def run_url(
    run_id: str, *, experiment_id: str | None = None, settings: Settings | None = None
) -> str:
    """A link to the run in the MLflow UI: on the tracking server for an ``http(s)`` URI,
    else on a local ``mlflow ui`` at :data:`LOCAL_UI` (docs/tracking.md: how to start it).
    ``experiment_id`` saves a lookup when the caller knows it."""
    uri = tracking_uri(settings)
    base = uri.rstrip("/") if is_remote(uri) and uri.startswith("http") else LOCAL_UI
    if experiment_id is None:
        experiment_id = client(settings).get_run(run_id).info.experiment_id
    return f"{base}/#/experiments/{experiment_id}/runs/{run_id}"
