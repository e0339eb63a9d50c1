"""Prefect tasks for a validation's market data: make sure it is present (sync the missing
1m bars and funding from Bybit into the store, on request), load it (both retried, because
they are I/O), then check it with the Play's Great Expectations suite.

``data`` is what ``trade backtest --data`` takes: ``store`` (the DuckDB store under
``$TRADE_HOME``), ``bundled`` (the AVAXUSDT month in the package), ``synthetic`` (the
deterministic synthetic market) or the path of a candle file (docs/backtest.md).

The quality check runs on the very 1m candles the backtests run on: the loaded
:class:`~trade_core.backtest.runner.BacktestData` goes from :func:`load_market_data` to both
the check and the backtests in the same process (it is never re-read in between, so nothing
can change under the gate). A failed expectation does not raise: it fails the
``data-quality`` gate (:mod:`tasks.gate_tasks`), and the report goes to MLflow with the
backtests (``data_quality.json``).
"""

from __future__ import annotations

import threading
from typing import Any, TypedDict

from prefect.cache_policies import NO_CACHE

from tasks.task_decorator import trade_task
from trade_core.backtest.inputs import load_data
from trade_core.backtest.runner import BacktestData
from trade_core.data.quality import QualityReport, check_frame, load_suite_json
from trade_core.engine.bars import MINUTE_MS
from trade_core.errors import BadInputError, TradeError
from trade_core.timestamps import fmt_ts

KEYWORD_SOURCES = ("store", "bundled", "synthetic")
MAX_NAMED_FAILURES = 3  # expectations spelled out in a gate reason; the report has them all

# Great Expectations keeps one ephemeral context per process (trade_core.data.quality) and
# DuckDB allows one configuration per file per process: the nightly flow runs plays in
# threads, so both are used by one thread at a time. Each call is short (~0.1-2 s).
_GX_LOCK = threading.Lock()
_STORE_LOCK = threading.Lock()


class SyncSummary(TypedDict):
    """What one sync fetched into the store: the range asked for (ISO UTC), requests made,
    1m bars and funding settlements fetched and newly stored."""

    symbol: str
    start: str
    end: str
    requests: int
    bars_fetched: int
    bars_inserted: int
    funding_fetched: int
    funding_inserted: int


class QualitySummary(TypedDict):
    """The data-quality verdict as plain data (the full report is ``QualityReport``)."""

    suite: str
    passed: bool
    rows: int
    expectations: int
    failed: list[str]  # names of failed or skipped expectations
    reason: str  # one line naming what failed and the numbers


def _retry_on_io(task: Any, task_run: Any, state: Any) -> bool:
    """Retry a failed load only when the failure can pass: an OS error (a file or the store
    briefly unavailable) or a TRADE error of the work (a store lock held by a writer), never
    bad input (no store, unknown symbol, missing file: exit code 2)."""
    try:
        state.result()
    except BadInputError:
        return False
    except TradeError as exc:
        return exc.exit_code != 2
    except OSError:
        return True
    except Exception:
        return False
    return False


@trade_task(
    name="load-market-data",
    retries=2,
    retry_delay_seconds=2,
    retry_condition_fn=_retry_on_io,
    cache_policy=NO_CACHE,  # the store changes as data syncs: always read it fresh
    persist_result=False,  # numpy arrays; they stay in this process
)
def load_market_data(
    symbol: str, data: str = "store", start_ms: int | None = None, end_ms: int | None = None
) -> BacktestData:
    """The 1m bars (``start_ms <= ts < end_ms``, epoch ms; None = all), funding and
    instrument spec of ``symbol`` from ``data``. Retried twice (2 s apart) on I/O errors."""
    if data == "store":
        with _STORE_LOCK:
            return load_data(symbol, data, start=start_ms, end=end_ms)
    return load_data(symbol, data, start=start_ms, end=end_ms)


@trade_task(
    name="sync-market-data",
    retries=2,
    retry_delay_seconds=10,
    retry_condition_fn=_retry_on_io,  # the network: yes; an unknown symbol: never
    cache_policy=NO_CACHE,
    persist_result=False,
)
def sync_market_data(symbol: str, start_ms: int, end_ms: int) -> SyncSummary:
    """Fetch from Bybit (public REST, no keys) the 1m bars and funding settlements of
    ``symbol`` in ``[start_ms, end_ms)`` (epoch ms) that the store does not have yet, and
    store them. Resumable and idempotent (trade_core.data.bybit_sync): a retry or a second
    run fetches only what is still missing. Retried twice, 10 s apart, on network and
    exchange errors."""
    from trade_core.data.bybit_client import make_client
    from trade_core.data.bybit_sync import sync_funding, sync_klines
    from trade_core.data.store import MarketStore
    from trade_core.tracking.backtest_log import iso_utc

    client = make_client()
    with _STORE_LOCK, MarketStore.open() as store:
        bars = sync_klines(store, client, symbol, "1m", start_ms, end_ms)
        funding = sync_funding(store, client, symbol, start_ms, end_ms)
    return SyncSummary(
        symbol=symbol,
        start=iso_utc(start_ms),
        end=iso_utc(end_ms),
        requests=bars.requests + funding.requests,
        bars_fetched=bars.bars_fetched,
        bars_inserted=bars.inserted,
        funding_fetched=funding.bars_fetched,
        funding_inserted=funding.inserted,
    )


def check_candles(data: BacktestData, suite: str = "ohlcv_candles") -> QualityReport:
    """Run ``suite`` (``expectations/<suite>.json``) on ``data``'s 1m candles."""
    frame = data.candles.to_frame()
    with _GX_LOCK:
        return check_frame(frame, "1m", suite=suite, symbol=data.candles.symbol)


@trade_task(name="check-data-quality", cache_policy=NO_CACHE, persist_result=False)
def check_data_quality(data: BacktestData, suite: str = "ohlcv_candles") -> QualityReport:
    """The Great Expectations report of the exact candles the backtests use. Never retried:
    the same data gives the same verdict."""
    return check_candles(data, suite)


def summarise_quality(report: QualityReport) -> QualitySummary:
    """The verdict of ``report`` and a one-line reason with the numbers, e.g.
    ``data quality: 1 of 26 expectations of ohlcv_candles failed: gap_within_limit on 1
    row(s) (max_gap_bars = 5), first at 2026-06-10 12:30 UTC``."""
    bad = [o for o in report.outcomes if not o.success]
    n = len(report.outcomes)
    if not bad:
        reason = (
            f"data quality: all {n} expectations of {report.suite} pass on {report.rows:,} 1m bars"
        )
    else:
        params = _parameters_by_expectation(report.suite)
        named = [_describe(o, params.get(o.name, ()), report) for o in bad[:MAX_NAMED_FAILURES]]
        more = (
            f"; and {len(bad) - MAX_NAMED_FAILURES} more" if len(bad) > MAX_NAMED_FAILURES else ""
        )
        reason = (
            f"data quality: {len(bad)} of {n} expectations of {report.suite} failed: "
            + "; ".join(named)
            + more
        )
    return QualitySummary(
        suite=report.suite,
        passed=report.success,
        rows=report.rows,
        expectations=n,
        failed=[o.name for o in bad],
        reason=reason,
    )


def _describe(outcome: Any, params: tuple[str, ...], report: QualityReport) -> str:
    text = outcome.name
    if not outcome.evaluated:
        return f"{text} not checked ({outcome.note})"
    if outcome.unexpected_count is not None:
        text += f" on {outcome.unexpected_count:,} row(s)"
    if params:
        text += " (" + ", ".join(f"{p} = {report.parameters.get(p)}" for p in params) + ")"
    if outcome.sample_ts:
        text += f", first at {fmt_ts(outcome.sample_ts[0])} UTC"
    return text


def _parameters_by_expectation(suite: str) -> dict[str, tuple[str, ...]]:
    """Expectation name -> the suite parameters (``{"$PARAMETER": ...}``) it is limited by."""
    try:
        data = load_suite_json(suite)
    except BadInputError:
        return {}
    out: dict[str, tuple[str, ...]] = {}
    for exp in data.get("expectations", []):
        name = (exp.get("meta") or {}).get("name")
        refs = tuple(
            str(v["$PARAMETER"])
            for v in (exp.get("kwargs") or {}).values()
            if isinstance(v, dict) and "$PARAMETER" in v
        )
        if name and refs:
            out[str(name)] = refs
    return out


def parse_data_source(data: str) -> str:
    """``data`` checked up front: a keyword or an existing candle file (else bad input)."""
    from pathlib import Path

    if data in KEYWORD_SOURCES:
        return data
    if not Path(data).is_file():
        raise BadInputError(
            f"--data {data}: no such file (expected store, bundled, synthetic or a candle file)"
        )
    return data


def span_of(data: BacktestData) -> tuple[int, int]:
    """``(first bar open, last bar close)`` of the data, epoch ms."""
    return int(data.candles.ts[0]), int(data.candles.ts[-1]) + MINUTE_MS
