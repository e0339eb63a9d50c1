"""The backtest's fast paths change nothing: each is switched off and the run compared whole.

* the venue skips the bar walk when no order is open and the bar's range reaches no level of
  the position (``bar_is_quiet``), and the funding search while no settlement is due;
* the account caches the position state until something it shows changes;
* the multi-timeframe clock keeps only the last 1m bars a bucket can need, and takes the
  next consecutive 1m bar through a short path when nothing is held and no bucket closes.

Each run is compared by its trades, fills, every venue and engine event and the equity curve.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tests.support.plays import play_text
from tests.unit.engine.streams import make_1m, reference, role_events, stream, with_gaps
from trade_core.backtest.inputs import SYNTH_START_MS, synthetic_data
from trade_core.backtest.runner import RunConfig, run_backtest
from trade_core.engine import clock as clock_module
from trade_core.engine import feeds
from trade_core.engine.clock import MultiTimeframeClock
from trade_core.engine.feeds import HistoricalFeed, ReplayFeed
from trade_core.play import load_play_text
from trade_core.sim import account as account_module
from trade_core.sim import bar_walk, venue

DAY = 86_400_000
PLAYS = {
    "1m, SL/TP, reversals": {
        "timeframes": {"exec": "1m"},
        "features": {"fast": {"indicator": "ema", "length": 5},
                     "slow": {"indicator": "ema", "length": 13}},
        "entries": {"long": ["fast", "cross_above", "slow"],
                    "short": ["fast", "cross_below", "slow"]},
        "risk": {"stop_loss": {"pct": 0.3}, "take_profit": {"pct": 0.5}, "sizing": {"qty": 1.0}},
    },
    "5m limits with ttl, trailing, leverage 10": {
        "timeframes": {"exec": "5m", "high": "1h"},
        "features": {"fast": {"indicator": "ema", "length": 5},
                     "slow": {"indicator": "ema", "length": 13},
                     "atr": {"indicator": "atr", "length": 14}},
        "entries": {"long": ["fast", "cross_above", "slow"],
                    "short": ["fast", "cross_below", "slow"]},
        "exits": {"long": ["close@high", "lt", "slow"]},
        "risk": {"stop_loss": {"atr": "atr", "mult": 3.0}, "take_profit": {"rr": 2.0},
                 "trailing": {"activate_rr": 0.5, "atr": "atr", "mult": 1.0},
                 "sizing": {"equity_pct": 900.0}, "leverage": 10},
        "execution": {"entry": {"type": "limit", "offset_bps": 3, "ttl_bars": 2}},
    },
}  # fmt: skip


def outcome(result) -> tuple:
    return (
        result.fingerprint(),
        [dataclasses.astuple(e) for e in result.venue_events],
        [dataclasses.astuple(e) for e in result.events],
        result.equity.tobytes(),
        result.final_equity,
        dataclasses.astuple(result.open_position),
    )


@pytest.fixture(scope="module")
def data():
    return synthetic_data("BTCUSDT", end=SYNTH_START_MS + 4 * DAY)


@pytest.mark.parametrize("name", list(PLAYS))
@pytest.mark.parametrize("feed", ["batch", "stream"])
def test_results_are_the_same_with_every_fast_path_off(name, feed, data, monkeypatch):
    play = load_play_text(play_text(**PLAYS[name]), "fast.yml")
    fast = run_backtest(play, data, RunConfig(feed=feed, audit="off"))
    assert fast.trades and fast.funding  # the scenario trades and pays funding

    never_quiet = lambda account, bar: False  # noqa: E731
    monkeypatch.setattr(venue, "bar_is_quiet", never_quiet)
    monkeypatch.setattr(bar_walk, "bar_is_quiet", never_quiet)

    def slow_state(self, symbol):
        self._state_key = None  # never reuse the cached PositionState
        return original_state(self, symbol)

    original_state = account_module.IsolatedAccount.position_state
    monkeypatch.setattr(account_module.IsolatedAccount, "position_state", slow_state)
    original_init = venue.SimVenue.__init__

    def no_funding_shortcut(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self._next_after = None  # search the funding model on every step

    monkeypatch.setattr(venue.SimVenue, "__init__", no_funding_shortcut)
    slow = run_backtest(play, data, RunConfig(feed=feed, audit="off"))
    assert outcome(slow) == outcome(fast)


@pytest.mark.parametrize("roles", [{"exec": "5m", "med": "15m", "high": "1h"},
                                   {"exec": "1m", "high": "4h"}])  # fmt: skip
def test_the_clock_keeps_few_bars_and_still_aggregates_exactly(roles, monkeypatch):
    # trim the clock's list of recent 1m bars as often as possible: buckets still see
    # exactly their bars (equal to resample, complete flags included) across gaps
    monkeypatch.setattr(clock_module, "_TRIM_AT", 1)
    candles = with_gaps(make_1m(6_000, seed=3), seed=5, runs=30, max_len=90)
    clock = MultiTimeframeClock(roles)
    steps = stream(clock, candles)
    for role, tf in roles.items():
        got = [(e.bar, e.complete) for e in role_events(steps, role)]
        assert got == list(zip(*reference(candles, tf), strict=True))
    longest = max(clock_module.tf_ms(tf) for tf in roles.values()) // 60_000
    # trimmed on the general path, which runs at least once per gcd of the bucket steps
    assert len(clock._recent) <= 1 + longest + clock._fast_gcd // 60_000
    assert np.isfinite([s.time for s in steps]).all()


def random_venue_run(seed: int) -> list[tuple]:
    """A wild random walk through a 10x venue: market entries with and without SL/TP, both
    sides, liquidations; every event of the run."""
    from tests.unit.sim._venue_support import BTC, buy, sell
    from trade_core.engine.bars import Bar, Step
    from trade_core.sim.venue import SimVenue

    rng = np.random.default_rng(seed)
    v = SimVenue(BTC, starting_balance=10_000.0, leverage=10.0,
                 funding=([SYNTH_START_MS + k * 8 * 3_600_000 for k in range(1, 20)],
                          [0.001] * 19))  # fmt: skip
    price, events, n = 20_000.0, [], 0
    for i in range(3_000):
        ts = SYNTH_START_MS + i * 60_000
        o = price
        c = max(1_000.0, o * (1 + rng.normal(0, 0.008)))
        h, lo = max(o, c) * (1 + rng.uniform(0, 0.004)), min(o, c) * (1 - rng.uniform(0, 0.004))
        v.on_market(Step(ts + 60_000, Bar(ts, o, h, lo, c, 10.0, float("nan")), ()))
        events.extend(v.drain())
        price = round(c, 1)
        if rng.random() < 0.01:
            n += 1
            side = buy if rng.random() < 0.5 else sell
            long = side is buy
            kw = {}
            if rng.random() < 0.5:
                kw = {"stop_loss": round(price * (0.97 if long else 1.03), 1),
                      "take_profit": round(price * (1.03 if long else 0.97), 1)}  # fmt: skip
            v.submit(side(f"o{n}", 2.0, created_ts=ts + 60_000, **kw))
    return [dataclasses.astuple(e) for e in events]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_venue_fast_paths_on_a_wild_market_with_liquidations(seed, monkeypatch):
    fast = random_venue_run(seed)
    assert any(e[0].endswith("-liq") for e in fast if isinstance(e[0], str))
    monkeypatch.setattr(venue, "bar_is_quiet", lambda account, bar: False)
    monkeypatch.setattr(bar_walk, "bar_is_quiet", lambda account, bar: False)
    assert random_venue_run(seed) == fast


@pytest.mark.parametrize("roles", [{"exec": "15m", "med": "1h", "high": "4h"},
                                   {"exec": "1m", "high": "1h"}, {"exec": "1m"}])  # fmt: skip
def test_the_clock_short_path_changes_no_step(roles, monkeypatch):
    """Every 1m bar through the general path instead: the same steps, historical and live
    (in order and shuffled), across gaps."""
    candles = with_gaps(make_1m(20_000, seed=11), seed=12, runs=25, max_len=200)

    def runs() -> list[list]:
        return [list(HistoricalFeed(candles, roles, precompute=False)),
                list(ReplayFeed(candles, roles)),
                list(ReplayFeed(candles, roles, shuffle_seed=4))]  # fmt: skip

    fast = runs()
    assert fast[0] == list(HistoricalFeed(candles, roles))  # and the numpy-built steps

    class GeneralOnly(MultiTimeframeClock):  # a subclass: the compiled clock's methods are fixed
        def on_1m(self, bar):
            ts = bar[0]
            out = self._on_1m(bar, ts, ts + 60_000)
            self._arm()
            return out

    monkeypatch.setattr(feeds, "MultiTimeframeClock", GeneralOnly)
    assert runs() == fast
