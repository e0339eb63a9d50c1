"""A logged backtest holds exactly the documented params, metrics, tags and artifacts, with
the values of the result it came from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.tracking.helpers import (
    PLAY_NAME,
    REPORT_ARTIFACTS,
    expected_metrics,
    expected_params,
    quality_report,
    tracked_play_text,
    user_tags,
)
from trade_core.backtest.report import ReportFiles
from trade_core.backtest.result import BacktestResult
from trade_core.backtest.runner import BacktestData
from trade_core.play import Play, load_play_text
from trade_core.tracking import code_version, experiment_for_play, log_backtest, tracking_uri
from trade_core.tracking.backtest_log import iso_utc


def _client():
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri())


def _artifact_paths(run_id: str, path: str | None = None) -> set[str]:
    out: set[str] = set()
    for item in _client().list_artifacts(run_id, path):
        out |= _artifact_paths(run_id, item.path) if item.is_dir else {item.path}
    return out


def _artifact_bytes(run_id: str, path: str, dst: Path) -> bytes:
    local = _client().download_artifacts(run_id, path, str(dst))
    return Path(local).read_bytes()


def test_a_logged_backtest_holds_exactly_the_listed_params_metrics_tags_artifacts(
    mlflow_home: Path,
    tracked_play: Play,
    result: BacktestResult,
    report_files: ReportFiles,
    tmp_path: Path,
) -> None:
    run_id = log_backtest(
        result, tracked_play, run_name="bt-1", report_files=report_files, tags={"team": "x"}
    )
    run = _client().get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "bt-1"
    assert run.info.experiment_id == experiment_for_play(PLAY_NAME)

    params = run.data.params
    assert set(params) == expected_params(result)
    assert params["play.name"] == PLAY_NAME
    assert params["play.version"] == "1"
    assert params["play.hash"] == tracked_play.hash
    assert params["symbol"] == "AVAXUSDT"
    assert (params["tf.exec"], params["tf.med"], params["tf.high"]) == ("15m", "1h", "4h")
    assert params["period.start"] == iso_utc(result.start_ts) == "2026-06-01T00:00:00Z"
    assert params["period.end"] == iso_utc(result.end_ts) == "2026-07-01T00:00:00Z"
    assert params["bars.1m"] == str(result.bars_1m) == "43200"
    assert params["bars.exec"] == str(result.exec_bars)
    assert params["feed"] == "batch"
    assert params["data.source"] == "bundled"
    assert params["data.fingerprint"] == result.data_fingerprint
    assert params["code.version"] == code_version()
    assert params["code.dirty"] in {"true", "false", "unknown"}
    assert params["sim.taker_fee"] == repr(result.settings["taker_fee"])
    assert params["sim.leverage"] == "3.0"

    metrics = run.data.metrics
    assert metrics == expected_metrics(result)
    assert metrics["trades"] == len(result.trades) > 0
    assert metrics["final_equity"] == result.final_equity
    assert metrics["sharpe"] == result.metrics.sharpe
    assert (metrics["audit_passed"], metrics["audit_failed"], metrics["audit_skipped"]) == (
        21,
        0,
        2,
    )
    assert metrics["audit_1"] == 1.0
    assert "audit_22" not in metrics  # skipped by the basic audit
    assert "data_quality_ok" not in metrics

    assert user_tags(run.data.tags) == {
        "trade.kind": "backtest",
        "trade.play": PLAY_NAME,
        "team": "x",
    }
    assert "mlflow.parentRunId" not in run.data.tags

    assert _artifact_paths(run_id) == REPORT_ARTIFACTS | {
        f"play/{PLAY_NAME}.yml",
        "play/canonical.json",
    }
    assert run.info.artifact_uri.startswith(
        (mlflow_home / "mlartifacts" / "play" / PLAY_NAME).as_uri()
    )
    got = tmp_path / "got"
    assert (
        _artifact_bytes(run_id, f"play/{PLAY_NAME}.yml", got)
        == Path(tracked_play.file).read_bytes()
    )
    assert _artifact_bytes(run_id, "play/canonical.json", got).decode() == tracked_play.canonical
    assert _artifact_bytes(run_id, "result.json", got).decode() == result.to_json()
    for name, src in (
        ("report.html", report_files.html),
        ("equity.png", report_files.equity_png),
        ("price.png", report_files.price_png),
        ("trades.csv", report_files.trades_csv),
    ):
        assert _artifact_bytes(run_id, name, got) == src.read_bytes(), name


def test_the_report_is_written_from_candles_and_the_quality_report_is_logged(
    mlflow_home: Path,
    tracked_play: Play,
    result: BacktestResult,
    data: BacktestData,
    report_files: ReportFiles,
    tmp_path: Path,
) -> None:
    quality = quality_report(success=False)
    run_id = log_backtest(
        result,
        tracked_play,
        run_name="bt-candles",
        candles=data.candles,
        quality=quality,
        extra_params={"trigger": "manual"},
    )
    run = _client().get_run(run_id)
    assert set(run.data.params) == expected_params(result) | {"trigger"}
    assert run.data.metrics["data_quality_ok"] == 0.0
    assert _artifact_paths(run_id) == REPORT_ARTIFACTS | {
        f"play/{PLAY_NAME}.yml",
        "play/canonical.json",
        "data_quality.json",
    }
    got = tmp_path / "got"
    gx = json.loads(_artifact_bytes(run_id, "data_quality.json", got))
    assert gx == json.loads(json.dumps(quality.to_dict()))
    assert gx["outcomes"][0]["status"] == "failed"
    # the report written here is byte-identical to the one written beforehand
    assert _artifact_bytes(run_id, "report.html", got) == report_files.html.read_bytes()
    assert _artifact_bytes(run_id, "trades.csv", got) == report_files.trades_csv.read_bytes()


def test_a_play_without_a_file_is_logged_by_its_canonical_form(
    mlflow_home: Path, data: BacktestData, report_files: ReportFiles, tmp_path: Path
) -> None:
    from tests.unit.tracking.helpers import backtest

    play = load_play_text(tracked_play_text("textual"), "<play>")
    result = backtest(play, data)
    run_id = log_backtest(result, play, run_name="bt", report_files=report_files)
    paths = _artifact_paths(run_id)
    assert {p for p in paths if p.startswith("play/")} == {"play/canonical.json"}
    assert _client().get_run(run_id).info.experiment_id == experiment_for_play("textual")


def test_a_result_of_another_play_is_refused(
    mlflow_home: Path, result: BacktestResult, report_files: ReportFiles
) -> None:
    other = load_play_text(tracked_play_text("other_play"), "<play>")
    with pytest.raises(ValueError, match="not of other_play"):
        log_backtest(result, other, run_name="bt", report_files=report_files)


def test_the_report_or_the_candles_are_required(
    mlflow_home: Path, tracked_play: Play, result: BacktestResult
) -> None:
    with pytest.raises(ValueError, match="report_files or the candles"):
        log_backtest(result, tracked_play, run_name="bt")


def test_extra_params_and_tags_may_not_overwrite_the_runs_own(
    mlflow_home: Path, tracked_play: Play, result: BacktestResult, report_files: ReportFiles
) -> None:
    with pytest.raises(ValueError, match=r"param\(s\) play.hash"):
        log_backtest(result, tracked_play, run_name="bt", report_files=report_files,
                     extra_params={"play.hash": "x"})  # fmt: skip
    with pytest.raises(ValueError, match=r"tag\(s\) trade.kind"):
        log_backtest(result, tracked_play, run_name="bt", report_files=report_files,
                     tags={"trade.kind": "x"})  # fmt: skip
    assert _client().search_runs([experiment_for_play(PLAY_NAME)]) == []


def test_iso_utc_shows_milliseconds_only_when_there_are_some() -> None:
    assert iso_utc(0) == "1970-01-01T00:00:00Z"
    assert iso_utc(1_704_067_200_123) == "2024-01-01T00:00:00.123Z"
