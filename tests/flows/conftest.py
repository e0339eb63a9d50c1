"""Fixtures of the flow tests: one temporary Prefect server for the whole package (its start
costs ~10 s on 2 cores, so it is started once) and an isolated TRADE_HOME with its own MLflow
sqlite store and Prefect home.

Package scope, not session: the environment and Prefect settings set here are undone when
the package's tests end, so no other test sees them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.bybit_stub import bybit_stub  # noqa: F401  (a fixture, used by name)

SECRET_VARS = (
    "BYBIT_DEMO_API_KEY",
    "BYBIT_DEMO_API_SECRET",
    "BYBIT_LIVE_API_KEY",
    "BYBIT_LIVE_API_SECRET",
)
STARTUP_TIMEOUT_S = 120  # the harness server: ~10 s idle, several times that on a busy host


@pytest.fixture(scope="package")
def flow_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """TRADE_HOME for every flow test, with ``MLFLOW_TRACKING_URI=sqlite:///$TRADE_HOME/
    mlflow.db`` and ``PREFECT_HOME`` beside it; no Bybit keys. Yields TRADE_HOME."""
    from trade_core.config import get_settings

    root = tmp_path_factory.mktemp("flows")
    home = root / "home"
    home.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRADE_HOME", str(home))
        mp.delenv("TRADE_DB_PATH", raising=False)
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{home / 'mlflow.db'}")
        mp.setenv("PREFECT_HOME", str(root / "prefect-home"))
        mp.delenv("PREFECT_API_URL", raising=False)
        mp.delenv("TRADE_TASK_RUNNER", raising=False)
        mp.delenv("TRADE_TASK_RUNNER_OPTIONS", raising=False)
        for name in SECRET_VARS:
            mp.delenv(name, raising=False)
        get_settings.cache_clear()
        yield home
    get_settings.cache_clear()


@pytest.fixture(scope="package")
def prefect_server(flow_home: Path) -> Iterator[str]:
    """A temporary Prefect server (``prefect_test_harness``) that every flow in the package
    reports to, with persisted results under the package's PREFECT_HOME; yields its API URL."""
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_LOCAL_STORAGE_PATH,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        temporary_settings,
    )
    from prefect.testing.utilities import prefect_test_harness

    storage = flow_home.parent / "prefect-home" / "storage"
    with (
        temporary_settings(
            updates={
                PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: STARTUP_TIMEOUT_S,
                PREFECT_LOCAL_STORAGE_PATH: storage,
            }
        ),
        prefect_test_harness(server_startup_timeout=STARTUP_TIMEOUT_S),
    ):
        yield str(PREFECT_API_URL.value())
