"""Feeds: the historical (precomputed and streamed) and replay feeds yield identical steps."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trade_core.data.candles import Candles
from trade_core.engine.bars import Bar, Step, close_time
from trade_core.engine.clock import MultiTimeframeClock, role_order
from trade_core.engine.feeds import HistoricalFeed, Kline, MarketFeed, ReplayFeed, candle_bars
from trade_core.errors import BadInputError

from .streams import FIL_PATH, T0, M, bundled, fil, keep_rows, make_1m, reference, with_gaps

needs_fil = pytest.mark.skipif(not FIL_PATH.exists(), reason=f"{FIL_PATH} not present")
THREE = {"exec": "15m", "med": "1h", "high": "4h"}


def all_feeds(candles: Candles, roles: dict[str, str], seed: int = 0) -> dict[str, list[Step]]:
    return {
        "precomputed": list(HistoricalFeed(candles, roles)),
        "streamed": list(HistoricalFeed(candles, roles, precompute=False)),
        "replay": list(ReplayFeed(candles, roles)),
        "replay-shuffled": list(ReplayFeed(candles, roles, shuffle_seed=seed)),
    }


def assert_contract(steps: list[Step], candles: Candles, roles: dict[str, str]) -> None:
    """The MarketFeed contract (feeds.py docstring), checked on one run."""
    order = [r for r, _ in role_order(roles)]
    times = [s.time for s in steps]
    assert times == sorted(set(times))
    assert [s.bar for s in steps if s.bar is not None] == candle_bars(candles)
    for s in steps:
        assert s.bar is not None or s.closed
        assert s.bar is None or s.bar.ts == s.time - M
        assert all(close_time(e) == s.time for e in s.closed)
        assert [e.role for e in s.closed] == [r for r in order if r in {e.role for e in s.closed}]
    for role, tf in roles.items():
        got = [(e.bar, e.complete) for s in steps for e in s.closed if e.role == role]
        assert got == list(zip(*reference(candles, tf), strict=True))


def assert_all_equal(runs: dict[str, list[Step]]) -> None:
    first = runs["precomputed"]
    for name, steps in runs.items():
        assert len(steps) == len(first), name
        mismatch = next(
            (i for i, (a, b) in enumerate(zip(first, steps, strict=True)) if a != b), None
        )
        assert mismatch is None, f"{name} differs at step {mismatch}: {steps[mismatch]}"


CASES = [
    ("fil", THREE, None),
    ("fil", THREE, 1),
    ("fil", {"exec": "5m", "med": "30m"}, 2),
    ("bundled", {"exec": "1h", "high": "1d"}, None),
    ("bundled", {"exec": "1m", "med": "15m", "high": "1h"}, 3),
    ("bundled", THREE, 4),
]


@pytest.mark.parametrize(
    ("source", "roles", "gaps"),
    CASES,
    ids=[f"{s}-{'/'.join(r.values())}-{'gaps' if g else 'clean'}" for s, r, g in CASES],
)
def test_feeds_agree_event_for_event_on_real_data(source, roles, gaps):
    if source == "fil" and not FIL_PATH.exists():
        pytest.skip(f"{FIL_PATH} not present")
    candles = fil() if source == "fil" else bundled()
    if gaps is not None:
        candles = with_gaps(candles, seed=gaps)
    runs = all_feeds(candles, roles, seed=gaps or 0)
    assert_all_equal(runs)
    assert_contract(runs["precomputed"], candles, roles)
    late = [s for s in runs["precomputed"] if s.bar is None]
    assert (len(late) > 0) == (gaps is not None)  # gaps swallowed some closes


def test_feeds_implement_the_port():
    c = make_1m(10)
    for feed in (HistoricalFeed(c, THREE), ReplayFeed(c, THREE)):
        assert isinstance(feed, MarketFeed)
        assert feed.roles == THREE


def test_replay_messages_come_as_a_live_stream_orders_them():
    c = make_1m(60)
    msgs = list(ReplayFeed(c, {"exec": "15m", "med": "1h"}).messages())
    bars = candle_bars(c)
    first_exec = reference(c, "15m")[0][0]
    assert msgs[:16] == [*(Kline("1m", b) for b in bars[:15]), Kline("15m", first_exec)]
    assert [m.tf for m in msgs[-3:]] == ["1m", "15m", "1h"]  # 01:00: 1m first, then by tf
    assert len(msgs) == 60 + 4 + 1
    shuffled = list(ReplayFeed(c, {"exec": "15m", "med": "1h"}, shuffle_seed=5).messages())
    assert sorted(shuffled) == sorted(msgs) and shuffled != msgs

    def instant(m: Kline) -> int:
        return m.bar.ts + {"1m": M, "15m": 15 * M, "1h": 60 * M}[m.tf]

    assert [instant(m) for m in shuffled] == sorted(instant(m) for m in msgs)


def test_replay_sends_role_klines_at_their_close_even_inside_a_gap():
    c = keep_rows(make_1m(40), np.arange(40) != 14)  # the 1m bar closing at 00:15 is missing
    msgs = list(ReplayFeed(c, {"exec": "15m"}).messages())
    assert [m.tf for m in msgs[13:16]] == ["1m", "15m", "1m"]
    steps = list(ReplayFeed(c, {"exec": "15m"}))
    gap = next(s for s in steps if s.bar is None)
    assert gap.time == T0 + 15 * M and not gap.closed[0].complete
    assert steps == list(HistoricalFeed(c, {"exec": "15m"}))


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 900),
    offset=st.integers(0, 1500),
    runs=st.lists(st.tuples(st.integers(0, 899), st.integers(1, 200)), max_size=8),
    roles=st.sampled_from(
        [
            THREE,
            {"exec": "5m", "med": "30m"},
            {"exec": "1m", "med": "5m", "high": "15m"},
            {"exec": "3m", "high": "1h"},
        ]
    ),
    seed=st.integers(0, 2**16),
)
def test_property_all_feeds_agree_on_random_gappy_streams(n, offset, runs, roles, seed):
    c = make_1m(n, seed=seed, start=T0 + offset * M)
    keep = np.ones(n, bool)
    for start, length in runs:
        keep[start : start + length] = False
    c = keep_rows(c, keep)
    runs_by_feed = all_feeds(c, roles, seed)
    assert_all_equal(runs_by_feed)
    if len(c):
        assert_contract(runs_by_feed["precomputed"], c, roles)


@needs_fil
def test_precomputed_feed_has_no_look_ahead_prefixes_agree():
    """Cutting the data at any bar leaves the steps up to that bar unchanged."""
    c = with_gaps(fil().slice(0, 20_000), seed=9, runs=20)
    full = list(HistoricalFeed(c, THREE))
    for k in (1, 59, 239, 240, 241, 5_000, 11_111, len(c) - 1):
        end = int(c.ts[k - 1]) + M
        assert list(HistoricalFeed(c.slice(0, k), THREE)) == [s for s in full if s.time <= end]


def test_bad_candles():
    c = make_1m(10)
    with pytest.raises(BadInputError, match="1m candles"):
        HistoricalFeed(
            Candles("X", "5m", c.ts, c.open, c.high, c.low, c.close, c.volume, c.turnover), THREE
        )
    rev = Candles("X", "1m", c.ts[::-1], c.open, c.high, c.low, c.close, c.volume, c.turnover)
    with pytest.raises(BadInputError, match="increasing"):
        ReplayFeed(rev, THREE)
    off = Candles("X", "1m", c.ts + 1, c.open, c.high, c.low, c.close, c.volume, c.turnover)
    with pytest.raises(BadInputError, match="minute boundary"):
        HistoricalFeed(off, THREE)
    with pytest.raises(BadInputError, match="exec"):
        HistoricalFeed(c, {"med": "1h"})
    empty = c.slice(0, 0)
    assert list(HistoricalFeed(empty, THREE)) == []
    assert list(HistoricalFeed(empty, THREE, precompute=False)) == []
    assert list(ReplayFeed(empty, THREE)) == []


def test_steps_hold_plain_python_values():
    (step,) = list(HistoricalFeed(make_1m(1), {"exec": "1m"}))
    assert type(step.time) is int and type(step.bar) is Bar
    assert type(step.bar.ts) is int and all(type(v) is float for v in step.bar[1:])


def test_live_path_survives_lost_and_late_klines():
    """Lost klines are replaced by the 1m aggregate, late ones dropped: same steps as history."""
    candles = with_gaps(bundled().slice(0, 20_000), seed=11, runs=15)
    roles = THREE
    msgs = list(ReplayFeed(candles, roles).messages())
    rng = np.random.default_rng(3)
    role_at = [i for i, m in enumerate(msgs) if m.tf != "1m"]
    lost = set(rng.choice(role_at, 40, replace=False).tolist())
    late = [i for i in role_at if i not in lost and rng.random() < 0.05]
    order = [i for i in range(len(msgs)) if i not in lost]
    for i in late:  # deliver it after the next 1m kline of a later instant
        pos = order.index(i)
        nxt = next(j for j in range(pos + 1, len(order)) if msgs[order[j]].tf == "1m")
        order.insert(nxt + 1, order.pop(pos))
    clock = MultiTimeframeClock(roles, delivered=["exec", "med", "high"])
    role_of = {tf: r for r, tf in roles.items()}
    steps = []
    for i in order:
        m = msgs[i]
        steps += clock.on_1m(m.bar) if m.tf == "1m" else clock.on_role_bar(role_of[m.tf], m.bar)
    steps += clock.flush()
    assert steps == list(HistoricalFeed(candles, roles))
    assert clock.late_role_bars == len(late) > 0
