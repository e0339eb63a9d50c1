"""Parent runs per flow run with child runs per gate and backtest, the previous comparable
run's metrics, and links to runs in the MLflow UI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.tracking.helpers import PLAY_NAME, user_tags
from trade_core.backtest.report import ReportFiles
from trade_core.backtest.result import BacktestResult
from trade_core.backtest.runner import BacktestData
from trade_core.config import get_settings
from trade_core.play import Play
from trade_core.tracking import (
    code_version,
    experiment_for_play,
    log_backtest,
    log_gate,
    log_metrics,
    previous_metrics,
    run_url,
    set_tags,
    start_parent_run,
    tracking_uri,
)


def _client():
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri())


def test_a_parent_run_nests_its_gate_and_backtest_children(
    mlflow_home: Path, tracked_play: Play, result: BacktestResult, report_files: ReportFiles
) -> None:
    with start_parent_run(
        tracked_play, flow_run_id="flow-123", run_name="nightly", tags={"trigger": "cron"}
    ) as parent_id:
        assert _client().get_run(parent_id).info.status == "RUNNING"
        bt = log_backtest(result, tracked_play, run_name="backtest", parent_run_id=parent_id,
                          report_files=report_files)  # fmt: skip
        ok = log_gate(parent_id, "audit", True, 21.0, 21.0, "21 of 21 checks passed")
        bad = log_gate(parent_id, "min-trades", False, 3.0, 30.0, "3 trades < 30")
    c = _client()
    parent = c.get_run(parent_id)
    assert parent.info.status == "FINISHED"
    assert parent.info.experiment_id == experiment_for_play(PLAY_NAME)
    assert user_tags(parent.data.tags) == {
        "trade.kind": "flow",
        "trade.play": PLAY_NAME,
        "trade.flow_run_id": "flow-123",
        "trigger": "cron",
    }
    assert parent.data.params == {
        "play.name": PLAY_NAME,
        "play.version": "1",
        "play.hash": tracked_play.hash,
        "symbol": "AVAXUSDT",
        "code.version": code_version(),
        "code.dirty": parent.data.params["code.dirty"],
    }
    assert parent.data.metrics == {"gate.audit": 1.0, "gate.min-trades": 0.0}

    children = c.search_runs(
        [parent.info.experiment_id], filter_string=f"tags.`mlflow.parentRunId` = '{parent_id}'"
    )
    assert {r.info.run_id for r in children} == {bt, ok, bad}
    gate = c.get_run(bad)
    assert gate.info.run_name == "gate/min-trades"
    assert gate.info.status == "FINISHED"
    assert gate.data.metrics == {"passed": 0.0, "value": 3.0, "threshold": 30.0}
    assert gate.data.params == {"gate": "min-trades"}
    assert user_tags(gate.data.tags) == {
        "trade.kind": "gate",
        "trade.play": PLAY_NAME,
        "trade.gate": "min-trades",
        "trade.gate.reason": "3 trades < 30",
    }
    assert gate.data.tags["mlflow.note.content"] == "3 trades < 30"


def test_a_gate_without_numbers_logs_only_its_verdict(mlflow_home: Path) -> None:
    with start_parent_run("unloadable", flow_run_id=None, run_name="validate") as parent_id:
        gate = log_gate(parent_id, "schema", False, None, None, "line 3: unknown key")
    run = _client().get_run(gate)
    assert run.data.metrics == {"passed": 0.0}
    parent = _client().get_run(parent_id)
    assert parent.data.params == {}  # only a name: the play did not load
    assert "trade.flow_run_id" not in parent.data.tags
    assert parent.info.experiment_id == experiment_for_play("unloadable")


def test_a_failing_or_interrupted_flow_leaves_its_parent_run_failed_or_killed(
    mlflow_home: Path,
) -> None:
    with (
        pytest.raises(RuntimeError, match="boom"),
        start_parent_run("crashy", flow_run_id="f", run_name="r") as parent_id,
    ):
        raise RuntimeError("boom")
    assert _client().get_run(parent_id).info.status == "FAILED"
    with (
        pytest.raises(KeyboardInterrupt),
        start_parent_run("crashy", flow_run_id="f", run_name="r") as parent_id,
    ):
        raise KeyboardInterrupt
    assert _client().get_run(parent_id).info.status == "KILLED"


def test_metrics_and_tags_can_be_added_to_a_parent(mlflow_home: Path) -> None:
    with start_parent_run("totals", flow_run_id="f", run_name="r") as parent_id:
        log_metrics(parent_id, {"regressions": 2.0})
        set_tags(parent_id, {"trade.regression": "true"})
    run = _client().get_run(parent_id)
    assert run.data.metrics == {"regressions": 2.0}
    assert run.data.tags["trade.regression"] == "true"


def test_a_backtest_cannot_nest_under_a_parent_of_another_play(
    mlflow_home: Path, tracked_play: Play, result: BacktestResult, report_files: ReportFiles
) -> None:
    with (
        start_parent_run("another_play", flow_run_id="f", run_name="r") as parent_id,
        pytest.raises(ValueError, match="open the parent for this play"),
    ):
        log_backtest(result, tracked_play, run_name="bt", parent_run_id=parent_id,
                     report_files=report_files)  # fmt: skip


def test_previous_metrics_are_the_last_earlier_finished_run_with_the_tag(
    mlflow_home: Path, tracked_play: Play, result: BacktestResult, report_files: ReportFiles
) -> None:
    def nightly(**tags: str) -> str:
        return log_backtest(result, tracked_play, run_name="nightly", report_files=report_files,
                            tags={"trade.schedule": "nightly", **tags})  # fmt: skip

    kw = {"tag_key": "trade.schedule", "tag_value": "nightly"}
    assert previous_metrics("never_logged", **kw) is None
    assert previous_metrics(PLAY_NAME, **kw) is None

    first = nightly(night="1")
    assert previous_metrics(PLAY_NAME, before_run_id=first, **kw) is None
    log_backtest(result, tracked_play, run_name="adhoc", report_files=report_files)  # no tag
    second = nightly(night="2")
    log_metrics(first, {"marker": 1.0})  # tell the two runs apart
    log_metrics(second, {"marker": 2.0})

    before_second = previous_metrics(PLAY_NAME, before_run_id=second, **kw)
    assert before_second is not None
    assert before_second["marker"] == 1.0
    assert before_second["final_equity"] == result.final_equity
    latest = previous_metrics(PLAY_NAME, **kw)
    assert latest is not None
    assert latest["marker"] == 2.0

    _client().set_terminated(second, "FAILED")  # only finished runs count
    latest = previous_metrics(PLAY_NAME, **kw)
    assert latest is not None
    assert latest["marker"] == 1.0


def test_previous_metrics_refuses_quotes_in_the_filter(mlflow_home: Path) -> None:
    with pytest.raises(ValueError, match="quotes"):
        previous_metrics(PLAY_NAME, tag_key="trade.kind", tag_value="x' OR '1'='1")


def test_run_urls_point_at_the_local_ui_or_at_the_server(
    mlflow_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with start_parent_run("linked", flow_run_id=None, run_name="r") as run_id:
        exp = experiment_for_play("linked")
        assert run_url(run_id) == f"http://127.0.0.1:5000/#/experiments/{exp}/runs/{run_id}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "https://mlflow.example.com/")
    get_settings.cache_clear()
    assert (
        run_url("abc", experiment_id="7") == "https://mlflow.example.com/#/experiments/7/runs/abc"
    )


def test_backtests_of_several_plays_compare_in_one_table(
    mlflow_home: Path, play_dir: Path, data: BacktestData, report_files: ReportFiles
) -> None:
    """docs/tracking.md: one experiment per play, the same param/metric names in each, so
    ``mlflow.search_runs(experiment_names=[...])`` lines them up."""
    import mlflow

    from tests.unit.tracking.helpers import backtest, write_play

    for name in ("cmp_a", "cmp_b"):
        play = write_play(play_dir / "cmp", name)
        log_backtest(backtest(play, data), play, run_name=name, report_files=report_files)
    table = mlflow.search_runs(
        experiment_names=["play/cmp_a", "play/cmp_b"],
        filter_string="tags.`trade.kind` = 'backtest'",
        order_by=["metrics.sharpe DESC"],
    )
    assert sorted(table["params.play.name"]) == ["cmp_a", "cmp_b"]
    assert {"metrics.sharpe", "metrics.final_equity", "params.data.fingerprint"} <= set(
        table.columns
    )
