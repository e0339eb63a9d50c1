"""Prefect tasks for the validation backtests: split the data by time into an in-sample and
an out-of-sample part, and backtest the Play on each with the full 23-check audit.

The split is by time, never by trade: the first ``split`` fraction of the span (default 70 %)
is in-sample, the rest out-of-sample, cut on a whole UTC minute so both parts are whole 1m
bars. Each part is an independent backtest (its own starting equity and warm-up): the
out-of-sample run warms its features up on its own first bars, exactly as a play started
fresh at the cut would (``play.warmup``; audit check 7 proves no entry comes earlier).

Each backtest writes its report (``report.html``, ``equity.png``, ``price.png``,
``trades.csv``, plus ``result.json``) into ``$TRADE_HOME/reports/<play>/<run>/<part>``.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect.cache_policies import NO_CACHE

from tasks.play_tasks import PlaySummary, load_checked
from tasks.task_decorator import trade_task
from trade_core.backtest.report import write_report
from trade_core.backtest.result import BacktestResult
from trade_core.backtest.runner import BacktestData, RunConfig, run_backtest
from trade_core.config import get_settings
from trade_core.engine.bars import MINUTE_MS
from trade_core.errors import BadInputError

PARTS = ("is", "oos")  # in-sample, out-of-sample
PART_NAMES = {"is": "in-sample", "oos": "out-of-sample"}
DEFAULT_SPLIT = 0.7

# The report draws with matplotlib under a temporary rc/style context (process-global
# state); the nightly flow runs plays in threads, so one report is drawn at a time (~0.3 s).
_REPORT_LOCK = threading.Lock()


@dataclass(frozen=True)
class BacktestRun:
    """One finished validation backtest as plain data, plus the engine's result.

    ``result`` is the one engine object that crosses a task boundary: the MLflow child run
    (:func:`tasks.tracking_tasks.log_backtest_run`) stores its trades, equity curve and audit
    through :func:`trade_core.tracking.log_backtest`, which needs it. A Play's whole
    validation runs in one process (the flow, or one mapped task of the nightly flow), so
    it is never serialised. Money USDT, times epoch ms UTC.
    """

    part: str  # "is" or "oos"
    start_ts: int  # first 1m bar's open
    end_ts: int  # last 1m bar's close
    bars: int  # 1m bars run
    metrics: dict[str, Any]  # result.summary(): every metric (None = undefined), "trades"
    audit: list[dict[str, Any]]  # each check: number, name, passed, detail, skipped
    report_dir: str
    result: BacktestResult = field(repr=False, compare=False)


def check_split(split: float) -> float:
    """``split`` if it is a fraction strictly between 0 and 1, else :class:`BadInputError`."""
    if not (isinstance(split, int | float) and math.isfinite(split) and 0.0 < split < 1.0):
        raise BadInputError(f"split {split!r}: expected a fraction between 0 and 1 (e.g. 0.7)")
    return float(split)


def split_cut(start_ms: int, end_ms: int, split: float = DEFAULT_SPLIT) -> int:
    """Where in-sample ends and out-of-sample begins: ``start + split * (end - start)``,
    rounded down to a whole UTC minute (epoch ms). Both parts keep at least one minute."""
    check_split(split)
    if end_ms - start_ms < 2 * MINUTE_MS:
        raise BadInputError("the data spans under 2 minutes: too short to split")
    cut = start_ms + int(split * (end_ms - start_ms))
    cut -= cut % MINUTE_MS
    return min(max(cut, start_ms + MINUTE_MS), end_ms - MINUTE_MS)


def report_root(play_name: str, run_key: str) -> Path:
    """``$TRADE_HOME/reports/<play>/<run_key>``: where one validation's reports go."""
    return get_settings().trade_home / "reports" / play_name / run_key


def run_key(flow_run_id: str | None) -> str:
    """A sortable, unique folder name for one validation: ``20260701T020000Z-1a2b3c4d``
    (UTC now, then the first 8 characters of the Prefect flow run id when there is one)."""
    stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{str(flow_run_id)[:8]}" if flow_run_id else stamp


@trade_task(name="backtest", cache_policy=NO_CACHE, persist_result=False)
def backtest_part(
    play: PlaySummary,
    data: BacktestData,
    part: str,
    start_ms: int | None,
    end_ms: int | None,
    out_dir: str,
) -> BacktestRun:
    """Backtest ``play`` on the bars of ``data`` with ``start_ms <= ts < end_ms`` (epoch ms,
    None = unbounded) with ``RunConfig(audit="full")`` (all 23 checks, 22-23 re-run the
    engine), and write its report and ``result.json`` into ``out_dir``."""
    if part not in PARTS:
        raise ValueError(f"part {part!r}: expected one of {PARTS}")
    compiled = load_checked(play)
    window = data.window(start_ms, end_ms)
    cfg = RunConfig(audit="full", max_leverage=get_settings().trade_max_leverage)
    result = run_backtest(compiled, window, cfg)
    folder = Path(out_dir)
    with _REPORT_LOCK:
        write_report(result, window.candles, folder)
    (folder / "result.json").write_text(result.to_json() + "\n", encoding="utf-8")
    return BacktestRun(
        part=part,
        start_ts=result.start_ts,
        end_ts=result.end_ts,
        bars=result.bars_1m,
        metrics=result.summary(),
        audit=[c.to_dict() for c in result.audit],
        report_dir=str(folder),
        result=result,
    )
