"""One backtest as one MLflow run in its Play's experiment (``play/<name>``).

What a run holds (docs/tracking.md has the same tables):

- **params** (text): ``play.name``, ``play.version``, ``play.hash``, ``symbol``, ``tf.exec``,
  ``tf.med``, ``tf.high`` (``none`` for a role the Play does not declare), ``period.start``,
  ``period.end`` (ISO UTC; the end is exclusive: the last 1m bar's close), ``bars.1m``,
  ``bars.exec``, ``feed``, ``data.source``, ``data.fingerprint``, ``code.version`` (git sha,
  else the package version), ``code.dirty``, and ``sim.<key>`` for each of the result's
  simulation settings (``sim.taker_fee``, ``sim.maker_fee`` as fractions, ``sim.slippage_bps``,
  ``sim.leverage``, ``sim.max_leverage`` as multiples, ``sim.mm_basis``); plus
  ``extra_params``.
- **metrics** (numbers, step 0): every non-None metric of ``result.summary()`` under its own
  name (USDT, %, ms as the metric says: ``final_equity``, ``sharpe``, ``trades`` ...), the
  audit counts ``audit_passed``, ``audit_failed``, ``audit_skipped`` and ``audit_<n>`` = 1/0
  for each check that ran (skipped checks have none); with ``quality``, ``data_quality_ok``
  = 1/0.
- **artifacts**: ``play/<file name>`` (the Play's YAML when ``play.file`` is a file),
  ``play/canonical.json`` (the canonical form the hash is computed over), ``result.json``
  (``result.to_json()``), the report ``report.html``, ``equity.png``, ``price.png``,
  ``trades.csv``; with ``quality``, ``data_quality.json`` (``QualityReport.to_dict()``).
- **tags**: ``trade.kind`` (``backtest`` unless ``kind`` says otherwise), ``trade.play``,
  plus ``tags``; ``mlflow.runName`` and, for a child, ``mlflow.parentRunId`` are MLflow's.

The report comes from ``report_files`` (an earlier :func:`write_report`) or is written here
from ``candles`` (the 1m bars the run used) into a temporary folder: one of the two is
required, so every run carries its report.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from trade_core.config import Settings
from trade_core.play.model import ROLES
from trade_core.tracking.mlflow_setup import client, code_dirty, code_version, experiment_for_play
from trade_core.tracking.run_writer import write_run

if TYPE_CHECKING:
    from trade_core.backtest.report import ReportFiles
    from trade_core.backtest.result import BacktestResult
    from trade_core.data.candles import Candles
    from trade_core.data.quality import QualityReport
    from trade_core.play import Play

KIND_TAG = "trade.kind"
PLAY_TAG = "trade.play"
NO_TIMEFRAME = "none"


def iso_utc(ts_ms: int) -> str:
    """Epoch ms as ISO-8601 UTC, ``2024-01-01T00:00:00Z`` (milliseconds shown if non-zero)."""
    dt = datetime.fromtimestamp(ts_ms / 1000, tz=UTC)
    spec = "seconds" if ts_ms % 1000 == 0 else "milliseconds"
    return dt.isoformat(timespec=spec).replace("+00:00", "Z")


def backtest_params(result: BacktestResult) -> dict[str, str]:
    """The run's params: what was run, on what data, with which code and settings."""
    params = {
        "play.name": result.play_name,
        "play.version": str(result.play_version),
        "play.hash": result.play_hash,
        "symbol": result.symbol,
        **{f"tf.{r}": result.timeframes.get(r) or NO_TIMEFRAME for r in ROLES},
        "period.start": iso_utc(result.start_ts),
        "period.end": iso_utc(result.end_ts),
        "bars.1m": str(result.bars_1m),
        "bars.exec": str(result.exec_bars),
        "feed": result.feed,
        "data.source": result.data_source,
        "data.fingerprint": result.data_fingerprint,
        "code.version": code_version(),
        "code.dirty": code_dirty(),
    }
    params.update({f"sim.{k}": str(v) for k, v in result.settings.items()})
    return params


def backtest_metrics(result: BacktestResult) -> dict[str, float]:
    """The run's metrics: the summary's numbers (None skipped) and the audit verdicts."""
    out: dict[str, float] = {}
    for name, value in result.summary().items():
        if isinstance(value, int | float):  # None = undefined (e.g. no losing day)
            out[name] = float(value)
    ran = [c for c in result.audit if not c.skipped]
    out["audit_passed"] = float(sum(c.passed for c in ran))
    out["audit_failed"] = float(sum(not c.passed for c in result.audit))
    out["audit_skipped"] = float(sum(c.skipped for c in result.audit))
    for c in ran:
        out[f"audit_{c.number}"] = 1.0 if c.passed else 0.0
    return out


def stage_artifacts(
    out: Path,
    result: BacktestResult,
    play: Play,
    *,
    report_files: ReportFiles | None,
    candles: Candles | None,
    quality: QualityReport | None,
) -> None:
    """Put every artifact of the run into folder ``out``, under its artifact name."""
    play_dir = out / "play"
    play_dir.mkdir(parents=True)
    source = Path(play.file)
    if source.is_file():
        shutil.copyfile(source, play_dir / source.name)
    (play_dir / "canonical.json").write_text(play.canonical, encoding="utf-8")
    (out / "result.json").write_text(result.to_json(), encoding="utf-8")
    if report_files is None:
        from trade_core.backtest.report import write_report

        assert candles is not None  # checked by log_backtest
        report_files = write_report(result, candles, out / "_report")
    for src, name in (
        (report_files.html, "report.html"),
        (report_files.equity_png, "equity.png"),
        (report_files.price_png, "price.png"),
        (report_files.trades_csv, "trades.csv"),
    ):
        shutil.copyfile(src, out / name)
    shutil.rmtree(out / "_report", ignore_errors=True)
    if quality is not None:
        text = json.dumps(quality.to_dict(), indent=2, allow_nan=False)
        (out / "data_quality.json").write_text(text, encoding="utf-8")


def log_backtest(
    result: BacktestResult,
    play: Play,
    *,
    run_name: str,
    parent_run_id: str | None = None,
    report_files: ReportFiles | None = None,
    candles: Candles | None = None,
    quality: QualityReport | None = None,
    extra_params: Mapping[str, object] | None = None,
    tags: Mapping[str, str] | None = None,
    kind: str = "backtest",
    settings: Settings | None = None,
) -> str:
    """Log ``result`` (a backtest of ``play``) as a finished run; returns its run id.

    ``report_files`` (from :func:`~trade_core.backtest.report.write_report`) or ``candles``
    (to write the report here) is required. ``parent_run_id``: a run of the same Play's
    experiment (e.g. :func:`~trade_core.tracking.runs.start_parent_run`) to nest under.
    ``quality``: the data-quality report of the data the run used. ``extra_params`` and
    ``tags`` must not reuse a name the run sets itself. Raises
    :class:`~trade_core.tracking.secrets_guard.SecretLeakError` (nothing logged) if any of
    it holds a configured secret.
    """
    if result.play_hash != play.hash:
        raise ValueError(
            f"result is of play {result.play_name} hash {result.play_hash[:12]}, "
            f"not of {play.name} hash {play.hash[:12]}"
        )
    if report_files is None and candles is None:
        raise ValueError("log_backtest needs report_files or the candles to write the report")
    params = backtest_params(result)
    _merge(params, {k: str(v) for k, v in (extra_params or {}).items()}, "param")
    all_tags = {KIND_TAG: kind, PLAY_TAG: play.name}
    _merge(all_tags, dict(tags or {}), "tag")
    metrics = backtest_metrics(result)
    if quality is not None:
        metrics["data_quality_ok"] = 1.0 if quality.success else 0.0
    experiment_id = experiment_for_play(play.name, settings)
    if parent_run_id:
        _check_parent(parent_run_id, experiment_id, play.name, settings)
    with tempfile.TemporaryDirectory(prefix="trade-mlflow-") as tmp:
        staged = Path(tmp) / "artifacts"
        stage_artifacts(staged, result, play, report_files=report_files, candles=candles,
                        quality=quality)  # fmt: skip
        return write_run(
            experiment_id,
            run_name=run_name,
            params=params,
            metrics=metrics,
            tags=all_tags,
            parent_run_id=parent_run_id,
            artifact_dir=staged,
            settings=settings,
        )


def _merge(into: dict[str, str], extra: Mapping[str, str], what: str) -> None:
    clash = sorted(set(into) & set(extra))
    if clash:
        raise ValueError(f"{what}(s) {', '.join(clash)} are set by log_backtest itself")
    into.update(extra)


def _check_parent(run_id: str, experiment_id: str, play_name: str, s: Settings | None) -> None:
    """The MLflow UI nests runs only inside one experiment: refuse a parent of another."""
    parent = client(s).get_run(run_id)
    if parent.info.experiment_id != experiment_id:
        raise ValueError(
            f"parent run {run_id} is in experiment {parent.info.experiment_id}, not in "
            f"play/{play_name}'s ({experiment_id}); open the parent for this play"
        )
