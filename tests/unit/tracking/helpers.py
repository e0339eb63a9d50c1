"""Shared builders for the tracking tests: a small Play written to a file, a real audited
backtest of it on the bundled AVAXUSDT month, and readers of what a run holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.plays import EMA_CROSS_ATR, play_text
from trade_core.backtest.inputs import load_data
from trade_core.backtest.result import BacktestResult
from trade_core.backtest.runner import BacktestData, RunConfig, run_backtest
from trade_core.data.quality import ExpectationOutcome, QualityReport
from trade_core.play import Play, load_play

PLAY_NAME = "tracked_ema"
SECRET_VARS = (
    "BYBIT_DEMO_API_KEY",
    "BYBIT_DEMO_API_SECRET",
    "BYBIT_LIVE_API_KEY",
    "BYBIT_LIVE_API_SECRET",
)


def tracked_play_text(name: str = PLAY_NAME, comment: str = "") -> str:
    """An EMA-cross Play on AVAXUSDT with all three timeframe roles (it trades on the
    bundled month); ``comment`` is prepended as a YAML comment."""
    text = play_text(
        name=name, **{**EMA_CROSS_ATR, "timeframes": {"exec": "15m", "med": "1h", "high": "4h"}}
    )
    return (f"# {comment}\n" if comment else "") + text


def write_play(folder: Path, name: str = PLAY_NAME, comment: str = "") -> Play:
    """The Play saved as ``<folder>/<name>.yml`` and loaded from there (so ``play.file``
    is a real file)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yml"
    path.write_text(tracked_play_text(name, comment), encoding="utf-8")
    return load_play(path)


def bundled_data() -> BacktestData:
    return load_data("AVAXUSDT", "bundled")


def backtest(play: Play, data: BacktestData) -> BacktestResult:
    """A real backtest with the basic audit (checks 1-21 run, 22-23 skipped)."""
    return run_backtest(play, data, RunConfig(audit="basic"))


def quality_report(success: bool = True) -> QualityReport:
    """A data-quality report as the GX check returns it (built directly: no GX import)."""
    outcome = ExpectationOutcome(
        name="no_gaps",
        expectation_type="expect_column_values_to_be_between",
        columns=("gap_bars",),
        description="no missing bars",
        success=success,
        unexpected_count=0 if success else 3,
        unexpected_percent=0.0 if success else 0.01,
        sample_ts=[] if success else [1_780_272_000_000],
        sample_rows=[] if success else [0],
    )
    return QualityReport(
        suite="ohlcv_candles",
        tf="1m",
        rows=43_200,
        success=success,
        parameters={"max_gap_bars": 0, "jump_window": 60, "jump_range_floor_bps": 5.0},
        outcomes=[outcome],
        symbol="AVAXUSDT",
        first_ts=1_780_272_000_000,
        last_ts=1_782_863_940_000,
    )


def expected_params(result: BacktestResult) -> set[str]:
    """The param names log_backtest sets (docs/tracking.md)."""
    fixed = {
        "play.name", "play.version", "play.hash", "symbol", "tf.exec", "tf.med", "tf.high",
        "period.start", "period.end", "bars.1m", "bars.exec", "feed", "data.source",
        "data.fingerprint", "code.version", "code.dirty",
    }  # fmt: skip
    return fixed | {f"sim.{k}" for k in result.settings}


def expected_metrics(result: BacktestResult) -> dict[str, float]:
    """The metrics log_backtest sets, with their values."""
    out = {k: float(v) for k, v in result.summary().items() if v is not None}
    ran = [c for c in result.audit if not c.skipped]
    out["audit_passed"] = float(sum(c.passed for c in ran))
    out["audit_failed"] = float(sum(not c.passed for c in result.audit))
    out["audit_skipped"] = float(sum(c.skipped for c in result.audit))
    out.update({f"audit_{c.number}": float(c.passed) for c in ran})
    return out


REPORT_ARTIFACTS = {"report.html", "equity.png", "price.png", "trades.csv", "result.json"}


def user_tags(tags: dict[str, Any]) -> dict[str, Any]:
    """Tags without MLflow's own (``mlflow.*``)."""
    return {k: v for k, v in tags.items() if not k.startswith("mlflow.")}
