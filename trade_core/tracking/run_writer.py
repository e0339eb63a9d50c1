"""Write one finished run: check it for secrets, create it, log params/metrics/artifacts,
mark it FINISHED (FAILED if logging broke half-way, so a partial run never looks complete).

Every run TRADE logs that is complete when created (a backtest, a gate) goes through
:func:`write_run`; parent runs, which stay open while a flow runs, are opened by
:mod:`trade_core.tracking.runs` with the same guard.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path

from trade_core.config import Settings
from trade_core.tracking.mlflow_setup import client
from trade_core.tracking.secrets_guard import check_files, check_values, configured_secrets

PARENT_TAG = "mlflow.parentRunId"  # MLflow's own tag: the UI nests runs by it
BATCH_PARAMS = 100  # MLflow's per-request limits (params/tags 100, metrics 1000)
BATCH_METRICS = 1000


def guard(
    *,
    params: Mapping[str, str] | None = None,
    tags: Mapping[str, str] | None = None,
    run_name: str | None = None,
    artifact_dir: Path | None = None,
    settings: Settings | None = None,
) -> None:
    """Raise :class:`~trade_core.tracking.secrets_guard.SecretLeakError` if anything about to
    be logged holds a configured secret."""
    secrets = configured_secrets(settings)
    if not secrets:
        return
    check_values("param", params or {}, secrets)
    check_values("tag", tags or {}, secrets)
    if run_name is not None:
        check_values("run name", {"run_name": run_name}, secrets)
    if artifact_dir is not None:
        check_files([artifact_dir], secrets)


def log_values(
    run_id: str,
    *,
    params: Mapping[str, str] | None = None,
    metrics: Mapping[str, float] | None = None,
    tags: Mapping[str, str] | None = None,
    settings: Settings | None = None,
) -> None:
    """Log params, metrics (step 0, now) and tags on an existing run, in MLflow-sized batches.
    The caller has run :func:`guard` on them."""
    from mlflow.entities import Metric, Param, RunTag

    c = client(settings)
    now = int(time.time() * 1000)
    ps = [Param(k, str(v)) for k, v in (params or {}).items()]
    ts = [RunTag(k, str(v)) for k, v in (tags or {}).items()]
    ms = [Metric(k, float(v), now, 0) for k, v in (metrics or {}).items()]
    for i in range(0, len(ps), BATCH_PARAMS):
        c.log_batch(run_id, params=ps[i : i + BATCH_PARAMS])
    for i in range(0, len(ts), BATCH_PARAMS):
        c.log_batch(run_id, tags=ts[i : i + BATCH_PARAMS])
    for i in range(0, len(ms), BATCH_METRICS):
        c.log_batch(run_id, metrics=ms[i : i + BATCH_METRICS])


def write_run(
    experiment_id: str,
    *,
    run_name: str,
    params: Mapping[str, str],
    metrics: Mapping[str, float],
    tags: Mapping[str, str],
    parent_run_id: str | None = None,
    artifact_dir: Path | None = None,
    settings: Settings | None = None,
) -> str:
    """Create a run in ``experiment_id`` holding exactly these params, metrics, tags and the
    files under ``artifact_dir`` (at the artifact root, sub-folders kept); a child of
    ``parent_run_id`` when given. Returns the run id. Nothing is sent if a secret is found."""
    guard(params=params, tags=tags, run_name=run_name, artifact_dir=artifact_dir,
          settings=settings)  # fmt: skip
    c = client(settings)
    all_tags = dict(tags)
    if parent_run_id:
        all_tags[PARENT_TAG] = parent_run_id
    run_id = c.create_run(experiment_id, run_name=run_name, tags=all_tags).info.run_id
    try:
        log_values(run_id, params=params, metrics=metrics, settings=settings)
        if artifact_dir is not None:
            c.log_artifacts(run_id, str(artifact_dir))
    except BaseException:
        with suppress(Exception):  # keep the original error if the store is unreachable
            c.set_terminated(run_id, "FAILED")
        raise
    c.set_terminated(run_id, "FINISHED")
    return run_id
