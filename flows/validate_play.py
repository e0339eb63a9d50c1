"""The ``validate-play`` flow: a Play's backtest stage, gate by gate.

    load-play -> [sync-market-data] -> load-market-data (both retried on I/O)
              -> check-data-quality
              -> backtest (in-sample) -> backtest (out-of-sample) -> evaluate-gates
              -> MLflow (parent run, a child per backtest and per gate) -> markdown artifact

It returns a verdict (plain data, JSON-safe; also the flow run's persisted result)::

    {"play": "bos_entry_avax", "passed": False, "gates": [{gate, passed, value, threshold,
     reason}, ...], "failed_reasons": ["out-of-sample trades 0 < 30", ...],
     "metrics_is": {...}, "metrics_oos": {...}, "mlflow_run_id": "...", "mlflow_url": "...",
     ...}

Failing a gate is a verdict, not an error: the flow run ends Completed with ``passed`` false.
A bad Play, missing data or a broken store fail the flow run with the error (a Play's
problems as ``file:line: yaml.path: message``). What the gates check and why the thresholds
apply to the out-of-sample run: :mod:`tasks.gate_tasks`. How to run and serve it:
docs/orchestration.md.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any, TypedDict

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from tasks.backtest_tasks import (
    DEFAULT_SPLIT,
    PART_NAMES,
    backtest_part,
    check_split,
    report_root,
    run_key,
    split_cut,
)
from tasks.data_tasks import (
    SyncSummary,
    check_data_quality,
    load_market_data,
    span_of,
    summarise_quality,
    sync_market_data,
)
from tasks.gate_tasks import GateResult, evaluate_gates_task, num
from tasks.play_tasks import PlaySummary, load_play_task
from tasks.tracking_tasks import log_backtest_run, log_gate_runs, log_parent_summary, parent_run
from trade_core.errors import BadInputError
from trade_core.timestamps import DAY_MS, MINUTE_MS, fmt_ts, now_ms, parse_time
from trade_core.tracking.backtest_log import iso_utc

FLOW_NAME = "validate-play"
DEFAULT_SYNC_DAYS = 90  # the window synced (and validated) when sync is on and start is not set
# (summary key, label, format) of the metrics shown in the artifact
KEY_METRICS: tuple[tuple[str, str, str], ...] = (
    ("net_pnl", "net PnL (USDT)", ",.2f"),
    ("return_pct", "return (%)", ".2f"),
    ("max_drawdown_pct", "max drawdown (%)", ".2f"),
    ("sharpe", "Sharpe", ".2f"),
    ("profit_factor", "profit factor", ".2f"),
    ("trades", "trades", ","),
    ("win_rate_pct", "win rate (%)", ".1f"),
)


class Verdict(TypedDict):
    """The outcome of one Play's validation (module docstring). Times ISO UTC."""

    play: str
    passed: bool
    gates: list[GateResult]
    failed_reasons: list[str]
    metrics_is: dict[str, Any]
    metrics_oos: dict[str, Any]
    mlflow_run_id: str | None
    mlflow_url: str | None
    play_file: str
    play_hash: str
    symbol: str
    data: str  # the data source asked for: store, bundled, synthetic or a path
    period: dict[str, str]  # start, cut (in-sample end = out-of-sample start), end
    split: float
    flow_run_id: str | None
    report_dir: str
    sync: SyncSummary | None  # what was fetched from Bybit first (sync on), else None


def current_flow_run_id() -> str | None:
    """The id of the Prefect flow run this code runs in (None outside one)."""
    from prefect.runtime import flow_run

    run_id = flow_run.id
    return str(run_id) if run_id else None


def parse_period(start: str | None, end: str | None) -> tuple[int | None, int | None]:
    """``start``/``end`` (ISO UTC or epoch ms; None = all the data) as epoch ms."""
    lo = parse_time(start) if start else None
    hi = parse_time(end) if end else None
    if lo is not None and hi is not None and hi <= lo:
        raise BadInputError(f"end {fmt_ts(hi)} is not after start {fmt_ts(lo)}")
    return lo, hi


def sync_window(data: str, lo: int | None, hi: int | None) -> tuple[int, int]:
    """The ``[start, end)`` (epoch ms) to sync into the store and validate on: as given,
    else ending at the current minute and starting ``DEFAULT_SYNC_DAYS`` before the end.
    Sync fills the store, so it needs ``data="store"``."""
    if data != "store":
        raise BadInputError(
            f"sync fetches from Bybit into the store: it needs data=store, not data={data}"
        )
    end = hi if hi is not None else now_ms() // MINUTE_MS * MINUTE_MS
    start = lo if lo is not None else end - DEFAULT_SYNC_DAYS * DAY_MS
    if end <= start:
        raise BadInputError(f"end {fmt_ts(end)} is not after start {fmt_ts(start)}")
    return start, end


def validate(
    play: str,
    data: str = "store",
    split: float = DEFAULT_SPLIT,
    start: str | None = None,
    end: str | None = None,
    track: bool = True,
    *,
    sync: bool = False,
    flow_name: str = FLOW_NAME,
    nightly: bool = False,
) -> Verdict:
    """One Play's validation, task by task (module docstring); the work of the
    ``validate-play`` flow, and of each mapped task of ``nightly-validation`` (``nightly``
    tags the MLflow parent ``trade.nightly=true``). With ``sync``, the missing 1m bars and
    funding of the period are fetched from Bybit into the store first. Publishes the
    markdown artifact."""
    logger = get_run_logger()
    summary = load_play_task(play)
    lo, hi = parse_period(start, end)
    if sync:
        lo, hi = sync_window(data, lo, hi)
    check_split(split)
    flow_run_id = current_flow_run_id()
    tracking = (
        parent_run(summary, flow_run_id=flow_run_id, flow_name=flow_name, nightly=nightly)
        if track
        else nullcontext(None)
    )
    with tracking as parent_id:
        synced = sync_market_data(summary["symbol"], lo, hi) if sync else None
        if synced is not None:
            logger.info(
                "%s: synced %s new 1m bars and %s funding settlements in %s requests",
                summary["symbol"], f"{synced['bars_inserted']:,}", synced["funding_inserted"],
                synced["requests"],
            )  # fmt: skip
        bt_data = load_market_data(summary["symbol"], data, lo, hi)
        report = check_data_quality(bt_data, summary["quality_suite"])
        quality = summarise_quality(report)
        first, last = span_of(bt_data)
        cut = split_cut(first, last, split)
        root = report_root(summary["name"], run_key(flow_run_id))
        logger.info(
            "%s: %s 1m bars %s -> %s, cut at %s",
            summary["name"],
            f"{len(bt_data.candles):,}",
            fmt_ts(first),
            fmt_ts(last),
            fmt_ts(cut),
        )
        runs = {
            "is": backtest_part(summary, bt_data, "is", None, cut, str(root / "is")),
            "oos": backtest_part(summary, bt_data, "oos", cut, None, str(root / "oos")),
        }
        audits = {PART_NAMES[p]: r.audit for p, r in runs.items()}
        gates = evaluate_gates_task(quality, audits, runs["oos"].metrics, summary["thresholds"])
        passed = all(g["passed"] for g in gates)
        url = None
        if parent_id is not None:
            for r in runs.values():
                log_backtest_run(r, summary, parent_id, report)
            log_gate_runs(parent_id, gates)
            url = log_parent_summary(parent_id, passed, {p: r.metrics for p, r in runs.items()})
    verdict = Verdict(
        play=summary["name"],
        passed=passed,
        gates=gates,
        failed_reasons=[g["reason"] for g in gates if not g["passed"]],
        metrics_is=runs["is"].metrics,
        metrics_oos=runs["oos"].metrics,
        mlflow_run_id=parent_id,
        mlflow_url=url,
        play_file=summary["file"],
        play_hash=summary["hash"],
        symbol=summary["symbol"],
        data=data,
        period={"start": iso_utc(first), "cut": iso_utc(cut), "end": iso_utc(last)},
        split=split,
        flow_run_id=flow_run_id,
        report_dir=str(root),
        sync=synced,
    )
    publish_verdict(verdict, summary)
    for reason in verdict["failed_reasons"]:
        logger.info("%s: gate failed: %s", summary["name"], reason)
    logger.info("%s: %s", summary["name"], "PASSED" if passed else "FAILED")
    return verdict


def artifact_key(play_name: str) -> str:
    """The artifact key of a Play's verdict: ``validate-play-<name>`` with ``_`` as ``-``
    (Prefect keys allow lowercase letters, digits and dashes); one key per Play, so the UI
    keeps each Play's verdicts as versions of one artifact."""
    return f"{FLOW_NAME}-{play_name.replace('_', '-')}"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _fmt(value: Any, spec: str) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    return format(value, spec)


def verdict_markdown(verdict: Verdict, summary: PlaySummary) -> str:
    """The verdict as markdown: a gate table, key metrics in- and out-of-sample, links."""
    mark = "PASSED" if verdict["passed"] else "FAILED"
    p = verdict["period"]
    lines = [
        f"# {verdict['play']}: {mark}",
        "",
        f"Play `{verdict['play']}` v{summary['version']} (hash `{verdict['play_hash'][:12]}`) "
        f"on {verdict['symbol']}, data `{_cell(verdict['data'])}`: "
        f"in-sample {p['start']} → {p['cut']}, out-of-sample {p['cut']} → {p['end']} "
        f"(split {num(verdict['split'] * 100)} / {num(100 - verdict['split'] * 100)} by time). "
        "Thresholds apply to the out-of-sample backtest.",
        "",
        "| gate | result | value | threshold | reason |",
        "|---|---|---|---|---|",
    ]
    for g in verdict["gates"]:
        result = "✅ pass" if g["passed"] else "❌ FAIL"
        lines.append(
            f"| {g['gate']} | {result} | {num(g['value'])} | {num(g['threshold'])} | "
            f"{_cell(g['reason'])} |"
        )
    lines += ["", "| metric | in-sample | out-of-sample |", "|---|---|---|"]
    for key, label, spec in KEY_METRICS:
        lines.append(
            f"| {label} | {_fmt(verdict['metrics_is'].get(key), spec)} | "
            f"{_fmt(verdict['metrics_oos'].get(key), spec)} |"
        )
    lines.append("")
    if verdict["mlflow_url"]:
        lines.append(
            f"MLflow run: [{verdict['mlflow_run_id']}]({verdict['mlflow_url']}) "
            "(start the MLflow UI first: docs/tracking.md)"
        )
    else:
        lines.append("MLflow: not tracked (track=false)")
    lines.append(f"Reports: `{verdict['report_dir']}`")
    synced = verdict["sync"]
    if synced is not None:
        lines.append(
            f"Data synced from Bybit first ({synced['start']} → {synced['end']}): "
            f"{synced['requests']} requests, {synced['bars_inserted']:,} new 1m bars, "
            f"{synced['funding_inserted']} new funding settlements."
        )
    return "\n".join(lines) + "\n"


def publish_verdict(verdict: Verdict, summary: PlaySummary) -> None:
    """The verdict as a markdown artifact of the current flow (or task) run."""
    create_markdown_artifact(
        markdown=verdict_markdown(verdict, summary),
        key=artifact_key(verdict["play"]),
        description=f"validate-play verdict of {verdict['play']}: "
        f"{'passed' if verdict['passed'] else 'failed'}",
    )


@flow(
    name=FLOW_NAME,
    description="Backtest a Play in- and out-of-sample, check its data and audit, gate it.",
    persist_result=True,
    result_serializer="json",
)
def validate_play(
    play: str,
    data: str = "store",
    split: float = DEFAULT_SPLIT,
    start: str | None = None,
    end: str | None = None,
    track: bool = True,
    sync: bool = False,
) -> Verdict:
    """Validate the Play file ``play`` on ``data`` (store, bundled, synthetic or a candle
    file) between ``start`` and ``end`` (ISO UTC; default all the data): ``split`` (0-1) of
    the span in-sample, the rest out-of-sample; log to MLflow unless ``track`` is false.
    ``sync`` (data=store only) first fetches the period's missing 1m bars and funding from
    Bybit into the store; the period then defaults to the last 90 days.
    Returns the verdict; a failed gate is a verdict, not a failed flow run."""
    return validate(play, data, split, start, end, track, sync=sync)
