"""The ``validate-play`` flow on the bundled AVAXUSDT month, run against the package's
temporary Prefect server: a play that passes every gate, one whose out-of-sample drawdown
is over its limit, data with a hole, a broken play; the artifact and the MLflow runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.flows.helpers import (
    GATES,
    OOS_MAX_DRAWDOWN,
    PASSING,
    TIGHT_DRAWDOWN,
    artifacts_of,
    mlflow_runs,
    write_gapped_candles,
    write_play,
)
from trade_core.play import PlayValidationError
from trade_core.timestamps import fmt_ts, parse_time

pytestmark = pytest.mark.usefixtures("prefect_server")


@pytest.fixture(scope="module")
def plays(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("plays")


@pytest.fixture(scope="module")
def passing_verdict(plays: Path, prefect_server: str) -> dict:
    from flows.validate_play import validate_play

    return validate_play(str(write_play(plays, "flow_pass", PASSING)), data="bundled")


def test_a_play_that_clears_its_thresholds_passes_every_gate(passing_verdict: dict) -> None:
    v = passing_verdict
    assert v["play"] == "flow_pass"
    assert v["passed"] is True
    assert [g["gate"] for g in v["gates"]] == GATES
    assert all(g["passed"] for g in v["gates"]), v["failed_reasons"]
    assert v["failed_reasons"] == []
    assert v["period"] == {
        "start": "2026-06-01T00:00:00Z",
        "cut": "2026-06-22T00:00:00Z",  # 70 % of 30 days = 21 days
        "end": "2026-07-01T00:00:00Z",
    }
    assert v["metrics_oos"]["trades"] == 10
    assert v["metrics_is"]["trades"] == 31
    gates = {g["gate"]: g for g in v["gates"]}
    assert gates["audit"]["reason"] == (
        "audit: all 23 checks pass in the in-sample and out-of-sample backtests"
    )
    assert gates["min-trades"] == {
        "gate": "min-trades",
        "passed": True,
        "value": 10.0,
        "threshold": 5.0,
        "reason": "out-of-sample trades 10 >= 5",
    }
    assert gates["data-quality"]["reason"].startswith("data quality: all 26 expectations")
    for part in ("is", "oos"):
        folder = Path(v["report_dir"]) / part
        assert {p.name for p in folder.iterdir()} == {
            "report.html", "equity.png", "price.png", "trades.csv", "result.json",
        }  # fmt: skip


def test_the_verdict_is_published_as_a_markdown_artifact(passing_verdict: dict) -> None:
    markdown = artifacts_of(passing_verdict["flow_run_id"])["validate-play-flow-pass"]
    assert markdown.startswith("# flow_pass: PASSED")
    assert "| gate | result | value | threshold | reason |" in markdown
    for gate in GATES:
        assert f"| {gate} | ✅ pass |" in markdown
    assert "| min-trades | ✅ pass | 10 | 5 | out-of-sample trades 10 >= 5 |" in markdown
    assert "| trades | 31 | 10 |" in markdown
    assert f"[{passing_verdict['mlflow_run_id']}]({passing_verdict['mlflow_url']})" in markdown


def test_mlflow_holds_a_parent_run_with_a_child_per_backtest_and_gate(
    passing_verdict: dict,
) -> None:
    v = passing_verdict
    runs = mlflow_runs("flow_pass")
    parent = runs[runs["run_id"] == v["mlflow_run_id"]].iloc[0]
    assert parent["status"] == "FINISHED"
    assert parent["tags.trade.flow_run_id"] == v["flow_run_id"]
    assert parent["tags.trade.kind"] == "flow"
    assert parent["params.play.name"] == "flow_pass"
    assert parent["params.play.hash"] == v["play_hash"]
    assert parent["params.symbol"] == "AVAXUSDT"
    assert parent["metrics.passed"] == 1.0
    assert parent["metrics.oos.trades"] == 10.0
    assert parent["metrics.gate.max-drawdown"] == 1.0
    assert v["mlflow_url"].endswith(f"/runs/{v['mlflow_run_id']}")

    children = runs[runs["tags.mlflow.parentRunId"] == v["mlflow_run_id"]]
    names = set(children["tags.mlflow.runName"])
    assert names == {"backtest/is", "backtest/oos"} | {f"gate/{g}" for g in GATES}
    backtests = children[children["tags.trade.kind"] == "backtest"]
    for _, run in backtests.iterrows():
        assert run["params.play.name"] == "flow_pass"
        assert run["params.play.hash"] == v["play_hash"]
        assert run["metrics.audit_passed"] == 23.0
        assert run["metrics.data_quality_ok"] == 1.0
    oos = backtests[backtests["tags.trade.split"] == "oos"].iloc[0]
    assert oos["params.period.start"] == "2026-06-22T00:00:00Z"
    assert oos["metrics.trades"] == 10.0


def test_an_out_of_sample_drawdown_over_the_limit_fails_with_the_number(
    plays: Path,
) -> None:
    from flows.validate_play import validate_play

    path = write_play(plays, "flow_tight", TIGHT_DRAWDOWN)
    v = validate_play(str(path), data="bundled", track=False)
    assert v["passed"] is False
    failed = [g for g in v["gates"] if not g["passed"]]
    assert [g["gate"] for g in failed] == ["max-drawdown"]
    assert v["failed_reasons"] == [f"out-of-sample max drawdown {OOS_MAX_DRAWDOWN} % > 1 %"]
    assert failed[0]["threshold"] == 1.0
    assert round(failed[0]["value"], 2) == float(OOS_MAX_DRAWDOWN)
    assert v["mlflow_run_id"] is None and v["mlflow_url"] is None
    markdown = artifacts_of(v["flow_run_id"])["validate-play-flow-tight"]
    assert markdown.startswith("# flow_tight: FAILED")
    assert "| max-drawdown | ❌ FAIL | 1.56 | 1 |" in markdown


def test_a_hole_in_the_candles_fails_the_data_quality_gate(plays: Path, tmp_path: Path) -> None:
    from flows.validate_play import validate_play

    candles = tmp_path / "AVAXUSDT_1m_gap.csv"
    after_hole = write_gapped_candles(candles, start_row=10_000, bars=30)
    v = validate_play(str(write_play(plays, "flow_gap", PASSING)), data=str(candles), track=False)
    assert v["passed"] is False
    gate = v["gates"][0]
    assert gate["gate"] == "data-quality"
    assert gate["passed"] is False
    assert gate["value"] == 1.0
    assert gate["reason"] == (
        "data quality: 1 of 26 expectations of ohlcv_candles failed: gap_within_limit on 1 "
        f"row(s) (max_gap_bars = 5), first at {fmt_ts(after_hole)} UTC"
    )
    assert v["failed_reasons"] == [gate["reason"]]


def test_a_broken_play_fails_the_flow_naming_file_and_line(plays: Path) -> None:
    from flows.validate_play import validate_play

    bad = plays / "broken.yml"
    text = write_play(plays, "broken", PASSING).read_text(encoding="utf-8")
    bad.write_text(text.replace("length: 21", "length: -21"), encoding="utf-8")
    line = 1 + text.splitlines().index("    length: 21")
    with pytest.raises(PlayValidationError, match=rf"{bad}:{line}: features\.slow\.length"):
        validate_play(str(bad), data="bundled", track=False)


def test_the_data_load_is_retried_twice_on_io_errors_and_never_on_bad_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from prefect import flow

    from tasks import data_tasks
    from trade_core.errors import BadInputError

    real = data_tasks.load_data
    calls: list[str] = []

    def flaky(symbol: str, source: str, **kw: object) -> object:
        calls.append(source)
        if source == "bundled" and len(calls) < 3:
            raise OSError("store briefly unavailable")
        if source == "nowhere":
            raise BadInputError("no such data")
        return real(symbol, source, **kw)

    monkeypatch.setattr(data_tasks, "load_data", flaky)
    load = data_tasks.load_market_data.with_options(retry_delay_seconds=0)

    @flow
    def load_it(source: str) -> int:
        return len(load("AVAXUSDT", source).candles)

    assert load_it("bundled") == 43_200
    assert calls == ["bundled"] * 3  # two failures, two retries, then the data
    calls.clear()
    with pytest.raises(BadInputError, match="no such data"):
        load_it("nowhere")
    assert calls == ["nowhere"]


def test_a_flow_run_that_fails_leaves_its_mlflow_parent_failed(plays: Path, tmp_path: Path) -> None:
    from flows.validate_play import validate_play
    from trade_core.errors import BadInputError

    path = write_play(plays, "flow_nodata", PASSING)
    with pytest.raises(BadInputError, match=r"missing\.csv: no such file"):
        validate_play(str(path), data=str(tmp_path / "missing.csv"))
    runs = mlflow_runs("flow_nodata")
    assert list(runs["status"]) == ["FAILED"]
    assert list(runs["tags.trade.kind"]) == ["flow"]


def test_sync_fetches_the_missing_data_from_bybit_then_validates_on_it(
    bybit_stub, trade_home: Path, plays: Path
) -> None:
    """data=store with sync against the local Bybit stub: the week's 1m bars and funding are
    fetched into an empty store, then validated; a second sync fetches nothing."""
    from flows.validate_play import validate_play
    from tasks.data_tasks import sync_market_data
    from tests.support.plays import avax_trend_text
    from trade_core.data.store import MarketStore

    path = plays / "btc_sync.yml"
    path.write_text(avax_trend_text(name="btc_sync", market={"symbol": "BTCUSDT"},
                                    promotion={"backtest": PASSING}), encoding="utf-8")  # fmt: skip
    start, end = "2024-01-01", "2024-01-08"
    v = validate_play(str(path), data="store", start=start, end=end, sync=True, track=False)

    synced = v["sync"]
    assert synced is not None
    assert (synced["start"], synced["end"]) == ("2024-01-01T00:00:00Z", "2024-01-08T00:00:00Z")
    assert synced["bars_inserted"] == synced["bars_fetched"] == 7 * 1440
    assert synced["funding_inserted"] == 21  # every 8 h
    assert synced["requests"] == 11 + 1  # 1000 bars per kline request, one funding page
    assert v["period"] == {"start": "2024-01-01T00:00:00Z", "cut": v["period"]["cut"],
                           "end": "2024-01-08T00:00:00Z"}  # fmt: skip
    assert [g["gate"] for g in v["gates"]] == GATES
    with MarketStore.open(read_only=True) as store:
        assert store.coverage("BTCUSDT", "1m").bars == 7 * 1440
    again = sync_market_data.fn("BTCUSDT", parse_time(start), parse_time(end))
    # no kline request; one funding request checks the tail after the last settlement
    assert (again["requests"], again["bars_inserted"], again["funding_inserted"]) == (1, 0, 0)
    assert (
        "Data synced from Bybit first" in artifacts_of(v["flow_run_id"])["validate-play-btc-sync"]
    )
