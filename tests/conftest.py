"""Suite-wide test set-up: telemetry off, an isolated TRADE_HOME per test, shared data paths."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

for _key, _value in {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "GX_ANALYTICS_ENABLED": "false",
}.items():
    os.environ.setdefault(_key, _value)

REPO = Path(__file__).resolve().parents[1]
SHARED_REAL = REPO.parent / "shared" / "data" / "real"


@pytest.fixture
def trade_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty TRADE_HOME for one test; settings are re-read from the environment."""
    from trade_core.config import get_settings

    home = tmp_path / "home"
    monkeypatch.setenv("TRADE_HOME", str(home))
    monkeypatch.delenv("TRADE_DB_PATH", raising=False)
    monkeypatch.setenv("TRADE_LOCK_TIMEOUT_S", "0.5")
    monkeypatch.chdir(tmp_path)  # so a developer's ./.env is never read by tests
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


@pytest.fixture
def shared_real() -> Path:
    """``../shared/data/real`` beside the checkout; tests skip with a reason where it is absent."""
    if not SHARED_REAL.is_dir():
        pytest.skip(f"shared real data not present at {SHARED_REAL} (only beside a dev checkout)")
    return SHARED_REAL
