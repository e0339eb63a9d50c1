"""Tracking fixtures: a fresh local sqlite MLflow store per test (copied from one template
initialised once per session, so the ~2 s schema migration runs once), and one real audited
backtest shared by the tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.tracking.helpers import SECRET_VARS, backtest, bundled_data, write_play
from trade_core.backtest.report import ReportFiles, write_report
from trade_core.backtest.result import BacktestResult
from trade_core.backtest.runner import BacktestData
from trade_core.play import Play


@pytest.fixture(scope="session")
def mlflow_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, fully migrated MLflow sqlite database."""
    from mlflow import MlflowClient

    db = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{db}").search_experiments()
    return db


@pytest.fixture
def mlflow_home(
    trade_home: Path, mlflow_template: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """TRADE_HOME with its own MLflow store, ``MLFLOW_TRACKING_URI=sqlite:///$TRADE_HOME/
    mlflow.db``, no Bybit keys in the environment; yields TRADE_HOME."""
    from trade_core.config import get_settings

    trade_home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(mlflow_template, trade_home / "mlflow.db")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{trade_home / 'mlflow.db'}")
    for name in SECRET_VARS:
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield trade_home
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def play_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("plays")


@pytest.fixture(scope="session")
def tracked_play(play_dir: Path) -> Play:
    return write_play(play_dir)


@pytest.fixture(scope="session")
def data() -> BacktestData:
    return bundled_data()


@pytest.fixture(scope="session")
def result(tracked_play: Play, data: BacktestData) -> BacktestResult:
    return backtest(tracked_play, data)


@pytest.fixture(scope="session")
def report_files(
    result: BacktestResult, data: BacktestData, tmp_path_factory: pytest.TempPathFactory
) -> ReportFiles:
    return write_report(result, data.candles, tmp_path_factory.mktemp("report"))
