"""Effective configuration, from the environment or a ``.env`` file (pydantic-settings).

All of TRADE's local state lives under one home, ``TRADE_HOME`` (default ``./data``): the
DuckDB store, the MLflow store and artifacts, the reports. Prefect keeps its own local
database under ``PREFECT_HOME`` (default ``~/.prefect``). Secrets (Bybit keys) are ``SecretStr``
so they never print by accident; demo and live keys are separate fields so a demo process
cannot pick up live keys.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Process-wide settings. Environment variable names are the upper-case field names."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    trade_home: Path = Field(Path("./data"), description="Home of all local state.")
    trade_db_path: Path | None = Field(
        None, description="DuckDB file; default $TRADE_HOME/trade.duckdb."
    )
    mlflow_tracking_uri: str | None = Field(
        None, description="MLflow tracking URI; default sqlite:///$TRADE_HOME/mlflow.db."
    )
    trade_lock_timeout_s: float = Field(
        10.0,
        ge=0,
        description="Seconds to wait for another process's DuckDB lock before failing.",
    )
    trade_max_leverage: float = Field(
        10.0, ge=1, le=100, description="System cap on any play's leverage (hard limit)."
    )
    trade_bybit_rest_url: str | None = Field(
        None,
        description="Override of the Bybit REST base URL (emulator or test stub).",
    )
    trade_bybit_requests_per_s: float = Field(
        8.0, gt=0, description="Client-side rate limit for Bybit public REST calls."
    )
    trade_task_runner: str = Field(
        "threads",
        description="Task runner of the nightly-validation flow: threads, threads:N or "
        "package.module:ClassName (e.g. prefect_dask:DaskTaskRunner).",
    )
    trade_task_runner_options: str | None = Field(
        None, description="Keyword arguments of that task runner, as a JSON object."
    )
    bybit_demo_api_key: SecretStr | None = None
    bybit_demo_api_secret: SecretStr | None = None
    bybit_live_api_key: SecretStr | None = None
    bybit_live_api_secret: SecretStr | None = None

    @field_validator(
        "bybit_demo_api_key",
        "bybit_demo_api_secret",
        "bybit_live_api_key",
        "bybit_live_api_secret",
        mode="before",
    )
    @classmethod
    def _empty_secret_is_unset(cls, v: object) -> object:
        return None if v == "" else v

    @property
    def db_path(self) -> Path:
        """The DuckDB market-data file."""
        return self.trade_db_path or self.trade_home / "trade.duckdb"

    @property
    def mlflow_uri(self) -> str:
        """The MLflow tracking URI (MLflow 3 refuses the file store, so the default is sqlite)."""
        if self.mlflow_tracking_uri:
            return self.mlflow_tracking_uri
        return f"sqlite:///{(self.trade_home / 'mlflow.db').resolve()}"

    @property
    def mlflow_artifacts(self) -> Path:
        return self.trade_home / "mlartifacts"

    def masked(self) -> dict[str, str]:
        """Every effective setting as text, secrets replaced by whether they are set."""
        out: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                out[name.upper()] = "******** (set)"
            elif value is None and "api_" in name:
                out[name.upper()] = "(not set)"
            else:
                out[name.upper()] = "" if value is None else str(value)
        out["(effective) DB path"] = str(self.db_path)
        out["(effective) MLflow URI"] = self.mlflow_uri
        return out


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once. Tests call ``get_settings.cache_clear()``."""
    return Settings()
