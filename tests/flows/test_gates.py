"""The pure parts of the flows, without Prefect running: the gates and their reasons, the
time split, the data-quality summary, night-to-night regressions, task-runner specs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.backtest_tasks import split_cut
from tasks.data_tasks import summarise_quality
from tasks.gate_tasks import audit_gate, evaluate_gates, num, threshold_gates
from tasks.tracking_tasks import find_regressions
from tests.unit.tracking.helpers import quality_report
from trade_core.errors import BadInputError

THRESHOLDS = {"min_trades": 30, "max_drawdown_pct": 25.0, "min_profit_factor": 1.0,
              "min_sharpe": 0.0}  # fmt: skip
GOOD = {"trades": 40, "max_drawdown_pct": 12.0, "profit_factor": 1.6, "sharpe": 1.2}
DAY_MS = 86_400_000


def _by_gate(metrics: dict) -> dict:
    return {g["gate"]: g for g in threshold_gates(metrics, THRESHOLDS)}


def test_numbers_in_reasons_have_at_most_two_decimals() -> None:
    assert [num(31.234), num(25.0), num(-0.4), num(1234.5), num(0), num(None)] == [
        "31.23", "25", "-0.4", "1,234.5", "0", "undefined",
    ]  # fmt: skip


def test_thresholds_pass_and_fail_with_the_gate_and_the_number_in_the_reason() -> None:
    assert all(g["passed"] for g in threshold_gates(GOOD, THRESHOLDS))
    bad = _by_gate({"trades": 12, "max_drawdown_pct": 31.2, "profit_factor": 0.85,
                    "sharpe": -0.4})  # fmt: skip
    assert {k: (g["passed"], g["reason"]) for k, g in bad.items()} == {
        "min-trades": (False, "out-of-sample trades 12 < 30"),
        "max-drawdown": (False, "out-of-sample max drawdown 31.2 % > 25 %"),
        "min-profit-factor": (False, "out-of-sample profit factor 0.85 < 1"),
        "min-sharpe": (False, "out-of-sample Sharpe -0.4 < 0"),
    }
    assert bad["max-drawdown"]["value"] == 31.2
    assert bad["max-drawdown"]["threshold"] == 25.0
    edge = _by_gate({**GOOD, "trades": 30, "max_drawdown_pct": 25.0})
    assert edge["min-trades"]["passed"] and edge["max-drawdown"]["passed"]  # limits inclusive


def test_undefined_metrics_fail_except_a_profit_factor_without_losers() -> None:
    no_trades = _by_gate({"trades": 0, "max_drawdown_pct": 0.0, "profit_factor": None,
                          "sharpe": None})  # fmt: skip
    assert not no_trades["min-profit-factor"]["passed"]
    assert "undefined (no trades)" in no_trades["min-profit-factor"]["reason"]
    assert not no_trades["min-sharpe"]["passed"]
    assert no_trades["min-sharpe"]["value"] is None
    winners_only = _by_gate({**GOOD, "profit_factor": None})
    assert winners_only["min-profit-factor"]["passed"]
    assert "unbounded" in winners_only["min-profit-factor"]["reason"]


def test_the_audit_gate_needs_all_23_checks_run_and_passed() -> None:
    ok = [{"number": n, "name": f"c{n}", "passed": True, "skipped": False, "detail": ""}
          for n in range(1, 24)]  # fmt: skip
    assert audit_gate({"in-sample": ok, "out-of-sample": ok})["passed"]
    failed = [*ok[:16], {**ok[16], "passed": False, "detail": "17.4 % != 17.5 %"}, *ok[17:]]
    gate = audit_gate({"in-sample": ok, "out-of-sample": failed})
    assert not gate["passed"]
    assert gate["value"] == 1.0
    assert gate["reason"] == (
        "audit: 1 problem(s) in 46 checks: out-of-sample (17) c17 failed: 17.4 % != 17.5 %"
    )
    basic = [*ok[:21], {**ok[21], "skipped": True}, {**ok[22], "skipped": True}]
    assert not audit_gate({"in-sample": basic})["passed"]


def test_gates_come_in_a_fixed_order() -> None:
    quality = summarise_quality(quality_report(success=True))
    ok = [{"number": n, "name": "c", "passed": True, "skipped": False} for n in range(1, 24)]
    names = [g["gate"] for g in evaluate_gates(quality, {"out-of-sample": ok}, GOOD, THRESHOLDS)]
    assert names == ["data-quality", "audit", "min-trades", "max-drawdown", "min-profit-factor",
                     "min-sharpe"]  # fmt: skip


def test_a_failed_expectation_is_named_with_its_rows_limit_and_first_time() -> None:
    quality = summarise_quality(quality_report(success=False))
    assert not quality["passed"]
    assert quality["failed"] == ["no_gaps"]
    assert quality["reason"] == (
        "data quality: 1 of 1 expectations of ohlcv_candles failed: no_gaps on 3 row(s), "
        "first at 2026-06-01 00:00 UTC"
    )


def test_the_split_cuts_on_a_whole_minute_at_the_fraction_of_the_span() -> None:
    start = 1_780_272_000_000  # 2026-06-01 00:00 UTC
    assert split_cut(start, start + 30 * DAY_MS, 0.7) == start + 21 * DAY_MS
    cut = split_cut(start, start + 10 * 60_000 + 7, 0.33)  # 3.3 minutes in
    assert cut == start + 3 * 60_000
    assert split_cut(start, start + 2 * 60_000, 0.01) == start + 60_000  # both keep a minute
    for bad in (0.0, 1.0, -0.2, float("nan")):
        with pytest.raises(BadInputError, match="between 0 and 1"):
            split_cut(start, start + DAY_MS, bad)


def test_regressions_are_worsenings_beyond_the_threshold_in_the_right_direction() -> None:
    before = {"oos.net_pnl": 1000.0, "oos.sharpe": 2.0, "oos.max_drawdown_pct": 10.0}
    same = {"net_pnl": 1000.0, "sharpe": 2.0, "max_drawdown_pct": 10.0}
    assert find_regressions(before, same, 20.0) == []
    within = {"net_pnl": 850.0, "sharpe": 1.7, "max_drawdown_pct": 11.9}  # 15 %, 15 %, 19 %
    assert find_regressions(before, within, 20.0) == []
    better = {"net_pnl": 5000.0, "sharpe": 9.0, "max_drawdown_pct": 1.0}
    assert find_regressions(before, better, 0.0) == []
    worse = {"net_pnl": 500.0, "sharpe": None, "max_drawdown_pct": 13.0}
    found = find_regressions(before, worse, 20.0)
    assert [r["metric"] for r in found] == ["net_pnl", "max_drawdown_pct"]
    assert found[0]["reason"] == (
        "out-of-sample net PnL 500 USDT vs 1,000 USDT the previous night: 50 % worse (> 20 %)"
    )
    assert found[1]["worse_pct"] == pytest.approx(30.0)
    negative = find_regressions({"oos.net_pnl": -100.0}, {"net_pnl": -150.0}, 20.0)
    assert negative[0]["worse_pct"] == pytest.approx(50.0)  # % of |previous|


def test_task_runner_specs() -> None:
    from prefect.task_runners import ThreadPoolTaskRunner

    from flows.nightly import build_task_runner

    default = build_task_runner(None)
    assert isinstance(default, ThreadPoolTaskRunner)
    assert build_task_runner("threads:3")._max_workers == 3
    by_path = build_task_runner("prefect.task_runners:ThreadPoolTaskRunner", {"max_workers": 2})
    assert isinstance(by_path, ThreadPoolTaskRunner) and by_path._max_workers == 2
    dotted = build_task_runner("prefect.task_runners.ThreadPoolTaskRunner")
    assert isinstance(dotted, ThreadPoolTaskRunner)
    with pytest.raises(BadInputError, match="cannot import it"):
        build_task_runner("prefect_dask_missing:DaskTaskRunner")
    with pytest.raises(BadInputError, match="threads:N"):
        build_task_runner("threads:zero")
    with pytest.raises(BadInputError, match="not a TaskRunner"):
        build_task_runner("collections:OrderedDict")


def test_task_runner_from_settings_reads_the_environment_and_dotenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.nightly import task_runner_from_settings
    from trade_core.config import get_settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRADE_TASK_RUNNER", raising=False)
    monkeypatch.delenv("TRADE_TASK_RUNNER_OPTIONS", raising=False)
    (tmp_path / ".env").write_text(
        "TRADE_TASK_RUNNER=prefect.task_runners:ThreadPoolTaskRunner\n"
        'TRADE_TASK_RUNNER_OPTIONS={"max_workers": 3}\n',
        encoding="utf-8",
    )
    get_settings.cache_clear()
    try:
        assert task_runner_from_settings()._max_workers == 3
        monkeypatch.setenv("TRADE_TASK_RUNNER", "threads:5")
        monkeypatch.setenv("TRADE_TASK_RUNNER_OPTIONS", "")
        get_settings.cache_clear()
        assert task_runner_from_settings()._max_workers == 5
        monkeypatch.setenv("TRADE_TASK_RUNNER_OPTIONS", "[1]")
        get_settings.cache_clear()
        with pytest.raises(BadInputError, match="JSON list; expected an object"):
            task_runner_from_settings()
        monkeypatch.setenv("TRADE_TASK_RUNNER_OPTIONS", "{bad")
        get_settings.cache_clear()
        with pytest.raises(BadInputError, match="TRADE_TASK_RUNNER_OPTIONS is not JSON"):
            task_runner_from_settings()
    finally:
        get_settings.cache_clear()


def test_a_relative_play_path_falls_back_to_the_packaged_plays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import trade_core
    from tasks.play_tasks import resolve_play_path

    package = tmp_path / "site" / "trade_core"
    packaged = package / "_resources" / "plays" / "examples" / "x.yml"
    packaged.parent.mkdir(parents=True)
    packaged.write_text("name: x\n", encoding="utf-8")
    monkeypatch.setattr(trade_core, "__file__", str(package / "__init__.py"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert resolve_play_path("plays/examples/x.yml") == packaged
    assert resolve_play_path("plays/examples") == packaged.parent
    assert resolve_play_path("plays/examples/y.yml") == Path("plays/examples/y.yml")
    checkout = tmp_path / "site" / "plays" / "examples" / "y.yml"  # an editable install
    checkout.parent.mkdir(parents=True)
    checkout.write_text("name: y\n", encoding="utf-8")
    assert resolve_play_path("plays/examples/y.yml") == checkout
    local = work / "plays" / "examples" / "x.yml"
    local.parent.mkdir(parents=True)
    local.write_text("name: x\n", encoding="utf-8")
    assert resolve_play_path("plays/examples/x.yml") == local  # the working directory first


def test_the_deployments_are_on_demand_and_nightly_at_2_utc() -> None:
    from deployments.serve import build_deployments

    on_demand, nightly = build_deployments()
    assert (on_demand.flow_name, on_demand.name) == ("validate-play", "on-demand")
    assert on_demand.schedules in (None, [])
    assert (nightly.flow_name, nightly.name) == ("nightly-validation", "nightly")
    (schedule,) = nightly.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 2 * * *", "UTC")
    assert on_demand.entrypoint == "flows.validate_play.validate_play"
    assert nightly.entrypoint == "flows.nightly.nightly_validation"
    assert nightly.parameters == {"data": "store", "sync": True}  # fresh data every night


def test_the_sync_window_needs_the_store_and_defaults_to_90_days_to_now(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import flows.validate_play as vp

    with pytest.raises(BadInputError, match="it needs data=store, not data=bundled"):
        vp.sync_window("bundled", None, None)
    monkeypatch.setattr(vp, "now_ms", lambda: 1_704_067_200_000 + 90 * 86_400_000 + 59_999)
    assert vp.sync_window("store", None, None) == (
        1_704_067_200_000,
        1_704_067_200_000 + 90 * 86_400_000,
    )
    assert vp.sync_window("store", 5 * 60_000, 9 * 60_000) == (5 * 60_000, 9 * 60_000)
    with pytest.raises(BadInputError, match="is not after start"):
        vp.sync_window("store", 2_000_000_000_000, None)
