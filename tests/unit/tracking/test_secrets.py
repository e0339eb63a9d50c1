"""No configured secret (the BYBIT_* keys) ever reaches the tracking store: values holding
one are refused before anything is sent, and a full flow's runs hold none anywhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.tracking.helpers import PLAY_NAME, SECRET_VARS, backtest, write_play
from trade_core.backtest.report import ReportFiles
from trade_core.backtest.result import BacktestResult
from trade_core.backtest.runner import BacktestData
from trade_core.config import get_settings
from trade_core.play import Play
from trade_core.tracking import (
    SecretLeakError,
    experiment_for_play,
    log_backtest,
    log_gate,
    set_tags,
    start_parent_run,
    tracking_uri,
)
from trade_core.tracking.secrets_guard import configured_secrets

SECRETS = {
    "BYBIT_DEMO_API_KEY": "DemoKeyQ7f3Zx91",
    "BYBIT_DEMO_API_SECRET": "DemoSecret8Hk2Lm5Np0Rs4Tv6",
    "BYBIT_LIVE_API_KEY": "LiveKeyW2e4R6t8",
    "BYBIT_LIVE_API_SECRET": "LiveSecret3Jd9Kf1Gh7Yu5Io2",
}


@pytest.fixture
def secret_env(mlflow_home: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return SECRETS


def _client():
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri())


def _run_count(play_name: str) -> int:
    return len(_client().search_runs([experiment_for_play(play_name)]))


def test_the_secrets_are_the_bybit_keys_from_the_settings(secret_env: dict[str, str]) -> None:
    assert set(SECRET_VARS) == set(SECRETS)
    assert configured_secrets() == frozenset(SECRETS.values())


def test_a_flow_with_keys_in_the_environment_logs_no_secret_anywhere(
    secret_env: dict[str, str],
    tracked_play: Play,
    result: BacktestResult,
    data: BacktestData,
    mlflow_home: Path,
) -> None:
    from tests.unit.tracking.helpers import quality_report

    with start_parent_run(tracked_play, flow_run_id="f-1", run_name="nightly") as parent_id:
        log_backtest(result, tracked_play, run_name="bt", parent_run_id=parent_id,
                     candles=data.candles, quality=quality_report())  # fmt: skip
        log_gate(parent_id, "audit", True, 21.0, 21.0, "ok")
    runs = _client().search_runs([experiment_for_play(PLAY_NAME)])
    assert len(runs) == 3
    texts: list[str] = []
    for run in runs:
        texts += [*run.data.params, *run.data.params.values()]
        texts += [*run.data.tags, *run.data.tags.values(), *run.data.metrics]
    files = [p for p in (mlflow_home / "mlartifacts").rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"report.html", "result.json", "data_quality.json"}
    for secret in secret_env.values():
        assert not [t for t in texts if secret in t]
        for f in [*files, mlflow_home / "mlflow.db"]:
            assert secret.encode() not in f.read_bytes(), f


@pytest.mark.parametrize("where", ["extra_params", "tags", "run_name"])
def test_a_secret_in_a_param_tag_or_name_refuses_the_run(
    secret_env: dict[str, str],
    tracked_play: Play,
    result: BacktestResult,
    report_files: ReportFiles,
    where: str,
) -> None:
    secret = secret_env["BYBIT_LIVE_API_SECRET"]
    kw: dict = {"run_name": "bt", "report_files": report_files}
    if where == "run_name":
        kw["run_name"] = f"run {secret}"
    else:
        kw[where] = {"note": secret}
    with pytest.raises(SecretLeakError) as err:
        log_backtest(result, tracked_play, **kw)
    assert secret not in str(err.value)
    assert _run_count(PLAY_NAME) == 0


def test_a_secret_in_the_play_file_refuses_the_run(
    secret_env: dict[str, str],
    tmp_path: Path,
    data: BacktestData,
    report_files: ReportFiles,
) -> None:
    play = write_play(tmp_path, "leaky", comment=f"key {secret_env['BYBIT_DEMO_API_KEY']}")
    result = backtest(play, data)
    with pytest.raises(SecretLeakError, match=r"artifact 'leaky\.yml'"):
        log_backtest(result, play, run_name="bt", report_files=report_files)
    assert _run_count("leaky") == 0


def test_parents_gates_and_tags_refuse_secrets_too(secret_env: dict[str, str]) -> None:
    secret = secret_env["BYBIT_DEMO_API_SECRET"]
    with pytest.raises(SecretLeakError):
        start_parent_run("guarded", flow_run_id=secret, run_name="r").__enter__()
    with pytest.raises(SecretLeakError):
        start_parent_run("guarded", flow_run_id="f", run_name="r", tags={"k": secret}).__enter__()
    assert _run_count("guarded") == 0
    with start_parent_run("guarded", flow_run_id="f", run_name="r") as parent_id:
        with pytest.raises(SecretLeakError):
            log_gate(parent_id, "g", False, None, None, f"bad key {secret}")
        with pytest.raises(SecretLeakError):
            set_tags(parent_id, {"x": secret})
    assert _run_count("guarded") == 1  # only the parent
    assert not [v for v in _client().get_run(parent_id).data.tags.values() if secret in v]


def test_a_short_secret_is_refused_only_as_a_whole_value(
    mlflow_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    tracked_play: Play,
    result: BacktestResult,
    report_files: ReportFiles,
) -> None:
    """A 3-character key would match ordinary text inside files and longer values."""
    monkeypatch.setenv("BYBIT_DEMO_API_KEY", "abc")
    get_settings.cache_clear()
    with pytest.raises(SecretLeakError):
        log_backtest(result, tracked_play, run_name="bt", report_files=report_files,
                     extra_params={"note": "abc"})  # fmt: skip
    log_backtest(result, tracked_play, run_name="bt", report_files=report_files,
                 extra_params={"note": "abcdef"})  # fmt: skip
    assert _run_count(PLAY_NAME) == 1
