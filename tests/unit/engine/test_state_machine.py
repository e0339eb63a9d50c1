"""The position state machine, scenario by scenario, on hand-built 1m bars (exec 1m, so each
bar is one decision). Every transition is logged with a reason and driven by venue events:
flat -> entering -> open -> exiting -> flat; a reversal passes exiting and entering; an
unfilled limit entry expires after ``ttl_bars`` (entering -> flat); and each closed trade
carries the exit reason the engine or the venue gave it."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.plays import play_text
from trade_core.backtest.inputs import bundled_instrument
from trade_core.backtest.runner import BacktestData, RunConfig, run_backtest
from trade_core.data.candles import Candles
from trade_core.play import load_play_text

T0 = 1_704_067_200_000
M = 60_000


def candles(rows: list[tuple[float, float, float, float]]) -> Candles:
    o, h, lo, c = (np.array(col, dtype=float) for col in zip(*rows, strict=True))
    n = len(rows)
    ts = T0 + np.arange(n, dtype=np.int64) * M
    return Candles("BTCUSDT", "1m", ts, o, h, lo, c, np.full(n, 10.0), np.full(n, np.nan))


def flat(price: float, n: int) -> list[tuple[float, float, float, float]]:
    return [(price, price, price, price)] * n


def backtest(rows, **play):
    doc = {"market": {"symbol": "BTCUSDT"}, "timeframes": {"exec": "1m"}, "features": {}}
    doc.update(play)
    p = load_play_text(play_text(**doc), "sm.yml")
    empty_i, empty_f = np.zeros(0, dtype=np.int64), np.zeros(0)
    data = BacktestData(candles(rows), bundled_instrument("BTCUSDT"), empty_i, empty_f, "test")
    return run_backtest(p, data, RunConfig(audit="off"))


def states(result) -> list[str]:
    return [e.detail.split(":")[0] for e in result.events if e.kind == "state"]


def test_entry_then_signal_exit_walks_the_whole_cycle():
    # long when close > 100, exit when close < 100: enter at bar 1's close, fill at bar 2's
    # open; exit at bar 4's close, fill at bar 5's open
    rows = [*flat(100, 1), *flat(101, 3), *flat(99, 3)]
    r = backtest(rows, entries={"long": ["close", "gt", 100]}, exits={"long": ["close", "lt", 100]})
    assert states(r) == [
        "flat -> entering",
        "entering -> open",
        "open -> exiting",
        "exiting -> flat",
    ]
    (t,) = r.trades
    assert (t.side, t.entry_price, t.exit_price, t.exit_reason) == ("long", 101, 99, "exit.long")
    assert (t.entry_ts, t.exit_ts) == (T0 + 2 * M, T0 + 5 * M)
    assert t.bars_held == 3
    assert t.gross_pnl == pytest.approx(-2.0)
    assert t.net_pnl == pytest.approx(-2.0 - 101 * 0.00055 - 99 * 0.00055)


def test_reversal_passes_exiting_and_entering():
    rows = [*flat(100, 1), *flat(101, 2), *flat(98, 3)]
    r = backtest(rows, entries={"long": ["close", "gt", 100], "short": ["close", "lt", 99]})
    assert states(r) == [
        "flat -> entering", "entering -> open",  # long
        "open -> exiting", "exiting -> entering", "entering -> open",  # reverse to short
    ]  # fmt: skip
    (t,) = r.trades
    assert (t.side, t.exit_reason, t.exit_price) == ("long", "reverse to short", 98)
    assert r.open_position.side == "short"


def test_stop_loss_and_take_profit_close_with_their_reasons():
    # long at 100 with a 1 % stop (99) and 2 % target (102)
    stop_rows = [*flat(99.9, 1), *flat(100, 1), (100, 100, 100, 100), (100, 100.5, 98.5, 99)]
    r = backtest(stop_rows, entries={"long": ["close", "gte", 100]},
                 risk={"stop_loss": {"pct": 1.0}, "take_profit": {"pct": 2.0},
                       "sizing": {"qty": 1}})  # fmt: skip
    assert [t.exit_reason for t in r.trades] == ["stop_loss"]
    assert r.trades[0].exit_price == 99.0
    assert states(r)[-1] == "open -> flat"
    tp_rows = [*flat(99.9, 1), *flat(100, 1), (100, 100, 100, 100), (100, 102.5, 99.5, 102)]
    r = backtest(tp_rows, entries={"long": ["close", "gte", 100]},
                 risk={"stop_loss": {"pct": 1.0}, "take_profit": {"pct": 2.0},
                       "sizing": {"qty": 1}})  # fmt: skip
    assert [t.exit_reason for t in r.trades] == ["take_profit"]
    assert r.trades[0].exit_price == 102.0


def test_an_unfilled_limit_entry_expires_after_ttl_bars():
    # limit 1 % under the close never trades: cancelled 3 exec bars after it was placed
    rows = [*flat(99.9, 1), *flat(100, 8)]
    r = backtest(rows, entries={"long": ["close", "gte", 100]},
                 execution={"entry": {"type": "limit", "offset_bps": 100, "ttl_bars": 3}})  # fmt: skip
    cancels = [e for e in r.events if e.kind == "cancel"]
    assert cancels and "ttl_bars" in cancels[0].detail
    first_submit = next(e for e in r.events if e.kind == "submit")
    assert cancels[0].ts == first_submit.ts + 3 * M
    assert states(r)[:2] == ["flat -> entering", "entering -> flat"]
    assert not r.trades and r.open_position.is_flat
    assert r.orders[0].status == "Cancelled" and r.orders[0].status_reason == "ttl"


def test_a_limit_entry_that_fills_before_its_ttl_is_not_cancelled():
    rows = [*flat(99.9, 1), *flat(100, 1), (100, 100, 98.5, 99.5), *flat(99.5, 5)]
    r = backtest(rows, entries={"long": ["close", "gte", 100]},
                 execution={"entry": {"type": "limit", "offset_bps": 100, "ttl_bars": 3}})  # fmt: skip
    assert r.open_position.side == "long" and r.open_position.avg_entry == 99.0
    assert r.orders[0].status == "Filled"
    assert not [e for e in r.events if e.kind == "cancel"]


def test_a_cancelled_entry_returns_to_flat_with_the_reason():
    # a PostOnly buy at the close (100) meets a bar opening below it: it would take
    # liquidity, so the venue cancels it
    rows = [*flat(99.9, 1), *flat(100, 1), (99.5, 99.5, 99.5, 99.5)]
    r = backtest(
        rows,
        entries={"long": ["close", "gte", 100]},
        execution={"entry": {"type": "limit", "offset_bps": 0, "tif": "PostOnly"}},
    )
    assert states(r) == ["flat -> entering", "entering -> flat"]
    assert r.orders[0].status == "Cancelled"
    assert "PostOnly" in r.orders[0].status_reason
    assert not r.trades


def test_sizing_at_the_leverage_cap_leaves_room_for_the_fee():
    # 100 BTC at 100 USDT asks for the whole 10,000 USDT at leverage 1: the cap reserves the
    # taker fee, 10,000 / (1 + 0.00055) = 9994.50 USDT -> 99.9 BTC (qty step 0.001 rounds
    # 99.945 down), and the venue accepts it
    rows = [*flat(99.9, 1), *flat(100, 3)]
    r = backtest(rows, entries={"long": ["close", "gte", 100]},
                 risk={"sizing": {"qty": 100}, "leverage": 1})  # fmt: skip
    assert states(r)[:2] == ["flat -> entering", "entering -> open"]
    assert r.orders[0].qty == pytest.approx(99.945)
    assert r.orders[0].status == "Filled"


def test_an_open_entry_blocks_a_second_and_the_other_side_replaces_it():
    # a limit long 3 % under the close (97) rests, never reached; the long signal repeats ->
    # no second order, logged once; then the short signal fires at 98 -> the resting long is
    # cancelled first
    rows = [*flat(99.9, 1), *flat(100, 3), *flat(98, 2)]
    r = backtest(
        rows,
        entries={"long": ["close", "gte", 100], "short": ["close", "lt", 99]},
        execution={"entry": {"type": "limit", "offset_bps": 300}},
    )
    longs = [o for o in r.orders if o.side == "Buy"]
    assert len(longs) == 1
    waiting = [e for e in r.events if e.kind == "skip" and "entry.long: entry order" in e.detail]
    assert len(waiting) == 1
    replaced = [e for e in r.events if e.kind == "cancel" and "replaced by entry.short" in e.detail]
    assert replaced and replaced[0].detail.startswith(longs[0].link_id)
    assert longs[0].status == "Cancelled"
