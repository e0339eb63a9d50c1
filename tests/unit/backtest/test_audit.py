"""The backtest audit: all 23 checks pass on real clean runs (bundled AVAX month with stops,
targets and trailing; synthetic BTC with funding; a liquidated high-leverage play; a play that
halts), and each of checks 1-21 fails - alone, naming the offender - when exactly the thing
it guards is tampered with. Checks 22-23 are shown failing in test_lookahead.py / below."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
import pytest

from tests.support.plays import AVAX_TREND, avax_trend_text, play_text
from trade_core.backtest.audit import run_audit
from trade_core.backtest.audit_tables import fill_kind
from trade_core.backtest.inputs import load_data, synthetic_data
from trade_core.backtest.metrics import compute_metrics
from trade_core.backtest.result import BacktestResult, CheckResult
from trade_core.backtest.runner import (
    BacktestData,
    RunConfig,
    exposure_ms,
    run_backtest,
    trade_stats,
)
from trade_core.config import get_settings
from trade_core.play import Play, load_play_text
from trade_core.play.analysis import Warmup
from trade_core.timestamps import DAY_MS

START = 1_704_067_200_000  # 2024-01-01 00:00 UTC
AVAX = {
    "market": {"symbol": "AVAXUSDT"},
    "timeframes": {"exec": "15m", "high": "1h"},
    "features": {
        "fast": {"indicator": "ema", "length": 9},
        "slow": {"indicator": "ema", "length": 21},
        "trend": {"indicator": "ema", "length": 50, "tf": "high"},
        "atr": {"indicator": "atr", "length": 14},
    },
}
CROSS = {"long": ["fast", "cross_above", "slow"], "short": ["fast", "cross_below", "slow"]}

MAIN = avax_trend_text(
    risk={k: v for k, v in AVAX_TREND["risk"].items() if k != "max_drawdown_pct"}
)
TIGHT = play_text(
    market={"symbol": "AVAXUSDT"},
    timeframes={"exec": "5m"},
    features={
        "fast": {"indicator": "ema", "length": 5},
        "slow": {"indicator": "ema", "length": 13},
    },
    entries=CROSS,
    risk={
        "stop_loss": {"pct": 0.15},
        "take_profit": {"rr": 1.0},
        "sizing": {"risk_pct": 0.5},
        "leverage": 5,
    },
    execution={"slippage_bps": 3},
)
FUNDING = play_text(
    market={"symbol": "BTCUSDT"},
    timeframes={"exec": "5m"},
    features={
        "fast": {"indicator": "ema", "length": 12},
        "slow": {"indicator": "ema", "length": 48},
        "atr": {"indicator": "atr", "length": 14},
    },
    entries=CROSS,
    risk={
        "stop_loss": {"atr": "atr", "mult": 3.0},
        "take_profit": {"rr": 3.0},
        "sizing": {"risk_pct": 1.0},
        "leverage": 5,
    },
    execution={"slippage_bps": 1},
)
LIQUIDATED = play_text(
    **AVAX, entries=CROSS, risk={"sizing": {"notional": 400_000}, "leverage": 50}
)
HALTS = play_text(
    **AVAX,
    entries=CROSS,
    risk={
        "stop_loss": {"atr": "atr", "mult": 1.0},
        "take_profit": {"rr": 1.5},
        "sizing": {"risk_pct": 3.0},
        "leverage": 5,
        "max_drawdown_pct": 12,
        "daily_loss_pct": 2,
    },
)


@dataclass(frozen=True)
class Run:
    play: Play
    data: BacktestData
    cfg: RunConfig
    result: BacktestResult


def backtest(text: str, data: BacktestData, **cfg: object) -> Run:
    play = load_play_text(text, "audit.yml")
    config = RunConfig(audit="full", **cfg)  # type: ignore[arg-type]
    return Run(play, data, config, run_backtest(play, data, config))


@pytest.fixture(scope="module")
def avax() -> BacktestData:
    return load_data("AVAXUSDT", "bundled")


@pytest.fixture(scope="module")
def main(avax: BacktestData) -> Run:
    return backtest(MAIN, avax)


@pytest.fixture(scope="module")
def tight(avax: BacktestData) -> Run:
    return backtest(TIGHT, avax)


@pytest.fixture(scope="module")
def funding() -> Run:
    return backtest(FUNDING, synthetic_data("BTCUSDT", start=START, end=START + 6 * DAY_MS))


@pytest.fixture(scope="module")
def liquidated(avax: BacktestData) -> Iterator[Run]:
    with pytest.MonkeyPatch.context() as mp:  # the play asks for 50x: lift the system cap
        mp.setenv("TRADE_MAX_LEVERAGE", "50")
        get_settings.cache_clear()
        yield backtest(LIQUIDATED, avax, max_leverage=50.0)
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def halts(avax: BacktestData) -> Run:
    return backtest(HALTS, avax)


def audit(
    run: Run,
    result: BacktestResult | None = None,
    *,
    play: Play | None = None,
    data: BacktestData | None = None,
) -> list[CheckResult]:
    """Checks 1-21 of a (tampered) copy of the run."""
    return run_audit(
        result or run.result, play or run.play, data or run.data, replace(run.cfg, audit="basic")
    )


def failed(checks: list[CheckResult]) -> set[int]:
    return {c.number for c in checks if not c.passed}


def detail(checks: list[CheckResult], number: int) -> str:
    return checks[number - 1].detail


def copy(result: BacktestResult, **changes: object) -> BacktestResult:
    return replace(result, **changes)


def remetered(r: BacktestResult, eq: np.ndarray, final: float | None = None) -> BacktestResult:
    """``r`` with another equity curve (and final equity) and metrics recomputed from it, as
    a consistent but false report would be."""
    pos = r.open_position
    exposure = exposure_ms(r.trades, pos.side is not None, pos.opened_ts, r.end_ts)
    metrics = compute_metrics(
        r.equity_ts,
        eq,
        r.starting_equity,
        [trade_stats(t) for t in r.trades],
        exposure_ms=exposure,
        start_ts=r.start_ts,
    )
    return copy(
        r, equity=eq, metrics=metrics, final_equity=r.final_equity if final is None else final
    )


def with_order(r: BacktestResult, link: str, **changes: object) -> BacktestResult:
    orders = [replace(o, **changes) if o.link_id == link else o for o in r.orders]
    return copy(r, orders=orders)


# ---------------------------------------------------------------------- clean runs


@pytest.mark.parametrize("name", ["main", "tight", "funding", "liquidated", "halts"])
def test_all_23_checks_pass_on_clean_runs(name: str, request: pytest.FixtureRequest) -> None:
    run: Run = request.getfixturevalue(name)
    checks = run.result.audit
    assert [c.number for c in checks] == list(range(1, 24))
    assert not failed(checks), [c for c in checks if not c.passed]
    assert not any(c.skipped for c in checks)
    assert all(c.detail and c.name for c in checks)


def test_the_runs_exercise_what_the_checks_guard(
    main: Run, tight: Run, funding: Run, liquidated: Run, halts: Run
) -> None:
    reasons = {t.exit_reason for t in main.result.trades}
    assert {"stop_loss", "trailing_stop", "take_profit"} <= reasons
    assert main.result.open_position.side is not None
    both = re.search(r"; (\d+) bars reached both", detail(tight.result.audit, 9))
    assert both and int(both.group(1)) > 0
    assert len(funding.result.funding) > 3
    assert len(liquidated.result.liquidations) > 3
    assert any(e.kind == "halt" for e in halts.result.events)


def test_a_basic_audit_skips_the_rerun_checks(main: Run) -> None:
    checks = audit(main)
    assert len(checks) == 23
    assert [c.number for c in checks if c.skipped] == [22, 23]
    assert all(c.passed and c.detail == "runs with --audit full" for c in checks[21:])
    assert not failed(checks)


def test_the_audit_reports_an_unreadable_result_instead_of_raising(main: Run) -> None:
    broken = copy(main.result, trades=main.result.trades[:-1])
    checks = audit(main, broken)
    assert {3, 4, 20} <= failed(checks)
    assert "trades but the fills close quantity" in detail(checks, 3)


# ---------------------------------------------------------------------- tampering 1-21


def test_1_a_fill_outside_its_bar(main: Run) -> None:
    r, c = main.result, main.data.candles
    rows = np.searchsorted(c.ts, [f.ts - f.ts % 60_000 for f in r.fills])
    lonely = [
        i
        for i, f in enumerate(r.fills)
        if f.link_id.endswith("-x") and np.sum(rows == rows[i]) == 1
    ]
    i = lonely[0]
    row, fill = int(rows[i]), r.fills[i]
    cols = {k: getattr(c, k).copy() for k in ("open", "high", "low", "close")}
    for col in cols.values():
        col[row] = fill.price * 1.01  # the bar now sits 1 % above the fill
    data = replace(main.data, candles=replace(c, **cols))
    checks = audit(main, data=data)
    assert failed(checks) == {1}
    assert fill.link_id in detail(checks, 1) and "outside bar" in detail(checks, 1)


def test_2_a_fee_at_the_wrong_rate(main: Run) -> None:
    r = main.result
    fills = list(r.fills)
    fills[5] = replace(fills[5], liquidity="maker")  # it paid the taker rate
    checks = audit(main, copy(r, fills=fills))
    assert failed(checks) == {2}
    assert fills[5].link_id in detail(checks, 2)


def test_3_a_gross_pnl_that_is_not_exit_minus_entry(main: Run) -> None:
    trades = list(main.result.trades)
    trades[3] = replace(trades[3], exit_price=trades[3].exit_price + 0.01)
    checks = audit(main, copy(main.result, trades=trades))
    assert failed(checks) == {3}
    assert f"trade #{trades[3].trade_id} " in detail(checks, 3)


def test_4_fees_that_do_not_reconcile(main: Run) -> None:
    trades = list(main.result.trades)
    trades[7] = replace(trades[7], entry_fee=trades[7].entry_fee + 0.5)
    checks = audit(main, copy(main.result, trades=trades))
    assert failed(checks) == {4}
    assert f"trade #{trades[7].trade_id}" in detail(checks, 4)


def test_5_trades_that_do_not_add_up_to_the_equity_change(main: Run) -> None:
    r = main.result
    eq = r.equity.copy()
    eq[-1] += 1.0
    checks = audit(main, remetered(r, eq, final=r.final_equity + 1.0))
    assert failed(checks) == {5}
    assert "final - start equity" in detail(checks, 5)


def test_6_a_curve_that_ends_elsewhere(main: Run) -> None:
    eq = main.result.equity.copy()
    eq[-1] += 1.0
    checks = audit(main, remetered(main.result, eq))
    assert failed(checks) == {6}
    assert "final equity" in detail(checks, 6)


def test_7_an_entry_before_warm_up(main: Run) -> None:
    p = main.play
    longer = Warmup({role: n * 20 for role, n in p.warmup.bars.items()}, p.warmup.minutes * 20)
    checks = audit(main, play=replace(p, warmup=longer))
    assert failed(checks) == {7}
    first = next(o for o in main.result.orders if not o.reduce_only)
    assert first.link_id in detail(checks, 7)


def test_8_a_stop_filled_better_than_its_trigger(main: Run) -> None:
    r = main.result
    t = next(t for t in r.trades if t.exit_reason == "stop_loss")
    tick = main.data.instrument.tick_size
    sign = 1 if t.side == "long" else -1
    better = round(round(t.exit_price / tick) * tick - sign * 5 * tick, 3)  # past the fill
    checks = audit(main, with_order(r, t.entry_link_id, stop_loss=better))
    assert failed(checks) == {8}
    assert "better than its trigger" in detail(checks, 8) and repr(better) in detail(checks, 8)


def test_9_a_bar_that_reached_both_levels_closed_at_the_target(tight: Run) -> None:
    r, c = tight.result, tight.data.candles
    for t in (t for t in r.trades if t.exit_reason == "take_profit"):
        row = int(np.searchsorted(c.ts, t.exit_ts - t.exit_ts % 60_000))
        entry = next(o for o in r.orders if o.link_id == t.entry_link_id)
        long = t.side == "long"
        opened_beyond = (
            c.open[row] >= entry.take_profit if long else c.open[row] <= entry.take_profit
        )
        stop = float(c.low[row] if long else c.high[row])  # a stop this bar reaches
        if not opened_beyond and (stop < entry.take_profit if long else stop > entry.take_profit):
            break
    else:
        pytest.fail("no take-profit close to tamper with")
    checks = audit(tight, with_order(r, t.entry_link_id, stop_loss=stop))
    assert failed(checks) == {9}
    assert "closed at the target" in detail(checks, 9) and repr(stop) in detail(checks, 9)


def test_10_an_entry_above_the_leverage_cap(main: Run) -> None:
    r = main.result
    entry = next(o for o in r.orders if not o.reduce_only)
    checks = audit(main, with_order(r, entry.link_id, qty=round(entry.qty * 50, 1)))
    assert failed(checks) == {10}
    assert entry.link_id in detail(checks, 10) and "3x equity" in detail(checks, 10)


def test_11_a_quantity_off_the_step(main: Run) -> None:
    r = main.result
    entry = next(o for o in r.orders if not o.reduce_only)
    checks = audit(main, with_order(r, entry.link_id, qty=entry.qty - 0.05))
    assert failed(checks) == {11}
    assert entry.link_id in detail(checks, 11) and "qtyStep" in detail(checks, 11)


def test_12_a_target_off_the_tick(main: Run) -> None:
    r = main.result
    t = next(t for t in r.trades if t.exit_reason.startswith("exit."))
    entry = next(o for o in r.orders if o.link_id == t.entry_link_id)
    checks = audit(main, with_order(r, entry.link_id, take_profit=entry.take_profit + 0.0005))
    assert failed(checks) == {12}
    assert entry.link_id in detail(checks, 12) and "take_profit" in detail(checks, 12)


def test_13_a_funding_amount_off_the_formula(funding: Run) -> None:
    r = funding.result
    settled = list(r.funding)
    settled[2] = replace(settled[2], amount=settled[2].amount * 1.01)
    checks = audit(funding, copy(r, funding=settled))
    assert failed(checks) == {13}
    assert "expected" in detail(checks, 13)


def test_13_a_settlement_while_flat(funding: Run) -> None:
    r = funding.result
    extra = replace(r.funding[-1], ts=int(funding.data.funding_ts[-1]) + 8 * 3_600_000)
    checks = audit(funding, copy(r, funding=[*r.funding, extra]))
    assert failed(checks) == {13}
    assert "expected none" in detail(checks, 13)


def test_14_a_balance_below_zero_without_a_liquidation(main: Run) -> None:
    p = main.play
    dip = p.model.account.starting_equity - min(_balances(main))  # deepest fall, USDT
    assert dip > 0
    small = dip / 2  # an account this size would go dip / 2 below zero
    account = p.model.account.model_copy(update={"starting_equity": small})
    poorer = replace(p, model=p.model.model_copy(update={"account": account}))
    checks = audit(main, play=poorer)
    assert failed(checks) == {14}
    assert "with no liquidation" in detail(checks, 14)


def _balances(run: Run) -> list[float]:
    from trade_core.backtest.audit_context import AuditContext

    return AuditContext(run.result, run.play, run.data, run.cfg).replay.balance.tolist()


def test_15_a_missed_liquidation(liquidated: Run) -> None:
    inst = liquidated.data.instrument
    tiers = tuple(
        t.model_copy(update={"maintenance_margin": t.maintenance_margin * 4})
        for t in inst.risk_tiers
    )
    data = replace(liquidated.data, instrument=inst.model_copy(update={"risk_tiers": tiers}))
    checks = audit(liquidated, data=data)
    assert failed(checks) == {15}
    assert "but it was not liquidated" in detail(checks, 15)


def test_15_a_liquidation_the_mark_never_justified(liquidated: Run) -> None:
    inst = liquidated.data.instrument
    tiers = tuple(
        t.model_copy(update={"maintenance_margin": 0.0, "mm_deduction": 0.0})
        for t in inst.risk_tiers
    )
    data = replace(liquidated.data, instrument=inst.model_copy(update={"risk_tiers": tiers}))
    checks = audit(liquidated, data=data)
    assert failed(checks) == {15}
    assert "never reached its liquidation price" in detail(checks, 15)


def test_16_a_daily_loss_halt_that_was_not_taken(halts: Run) -> None:
    r = halts.result
    first = next(i for i, e in enumerate(r.events) if e.kind == "halt")
    events = r.events[:first] + r.events[first + 1 :]
    checks = audit(halts, copy(r, events=events))
    assert failed(checks) == {16}
    assert "daily-loss halts expected" in detail(checks, 16)


def test_16_an_entry_after_a_halt(halts: Run) -> None:
    r = halts.result
    halt = next(e for e in r.events if e.kind == "halt")
    at = int(np.searchsorted(r.equity_ts, halt.ts))
    close = float(halts.data.candles.close[np.searchsorted(halts.data.candles.ts, halt.ts) - 1])
    room = 5 * float(r.equity[at]) / close  # qty the 5x cap allows at the halt
    entry = next(o for o in r.orders if not o.reduce_only and o.qty < room)
    late = replace(entry, ts=halt.ts)  # as if placed at the halting decision
    orders = [late if o is entry else o for o in r.orders]
    checks = audit(halts, copy(r, orders=orders))
    assert failed(checks) == {16}
    assert late.link_id in detail(checks, 16) and "after the daily-loss halt" in detail(checks, 16)


def test_17_a_misreported_drawdown(main: Run) -> None:
    m = replace(main.result.metrics, max_drawdown_pct=main.result.metrics.max_drawdown_pct + 0.1)
    checks = audit(main, copy(main.result, metrics=m))
    assert failed(checks) == {17}
    assert "metrics say" in detail(checks, 17)


def test_18_a_misreported_sharpe(main: Run) -> None:
    m = replace(main.result.metrics, sharpe=(main.result.metrics.sharpe or 0.0) + 0.5)
    checks = audit(main, copy(main.result, metrics=m))
    assert failed(checks) == {18}
    assert detail(checks, 18).startswith("sharpe:")


def test_19_quantity_that_appears_from_nowhere(main: Run) -> None:
    r = main.result
    pos = replace(r.open_position, qty=r.open_position.qty + 0.1)
    checks = audit(main, copy(r, open_position=pos))
    assert failed(checks) == {19}
    assert "unaccounted" in detail(checks, 19)


def test_20_two_positions_at_once(main: Run) -> None:
    trades = list(main.result.trades)
    k = 5
    trades[k] = replace(trades[k], entry_ts=trades[k - 1].exit_ts - 60_000)
    checks = audit(main, copy(main.result, trades=trades))
    assert failed(checks) == {20}
    assert f"trade #{trades[k].trade_id}" in detail(checks, 20)


def test_21_a_reduce_only_fill_that_opened_a_position(main: Run) -> None:
    fills = list(main.result.fills)
    i = next(i for i, f in enumerate(fills) if not f.reduce_only)
    fills[i] = replace(fills[i], reduce_only=True)
    checks = audit(main, copy(main.result, fills=fills))
    assert failed(checks) == {21}
    assert fills[i].link_id in detail(checks, 21)


def test_23_a_result_the_engine_does_not_reproduce(main: Run) -> None:
    trades = list(main.result.trades)
    trades[0] = replace(trades[0], bars_held=trades[0].bars_held + 1)  # only in the fingerprint
    checks = run_audit(copy(main.result, trades=trades), main.play, main.data, main.cfg)
    assert failed(checks) == {23}
    assert "differs" in detail(checks, 23)


def test_fill_kinds_come_from_the_venue_link_suffixes() -> None:
    assert [
        fill_kind(x) for x in ("a-1-el", "a-1-el-sl", "a-1-es-sl2", "a-1-es-tp", "a-1-x-liq", "a-x")
    ] == [0, 1, 1, 2, 3, 0]
