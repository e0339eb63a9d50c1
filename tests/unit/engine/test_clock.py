"""The multi-timeframe clock: exact aggregation, event order, gaps, no look-ahead, live path."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trade_core.data.resample import resample
from trade_core.data.timeframes import tf_ms
from trade_core.engine.bars import Bar, BarClosed, Step, close_time
from trade_core.engine.clock import MultiTimeframeClock, role_order
from trade_core.engine.feeds import candle_bars
from trade_core.errors import BadInputError

from .streams import (
    FIL_PATH,
    T0,
    M,
    aggregate,
    bundled,
    fil,
    keep_rows,
    make_1m,
    reference,
    role_events,
    stream,
    with_gaps,
)

COMBOS = [
    {"exec": "15m", "med": "1h", "high": "4h"},
    {"exec": "5m", "med": "30m"},
    {"exec": "1h", "high": "1d"},
    {"exec": "1m", "med": "15m", "high": "1h"},
    {"exec": "3m", "med": "12h"},
]
needs_fil = pytest.mark.skipif(not FIL_PATH.exists(), reason=f"{FIL_PATH} not present")


def assert_matches_resample(candles, roles, steps):
    for role, tf in roles.items():
        got = role_events(steps, role)
        bars, complete = reference(candles, tf)
        assert [e.bar for e in got] == bars, f"{role} {tf}: bars differ from resample"
        assert [e.complete for e in got] == complete, f"{role} {tf}: complete flags differ"
        assert all(e.tf == tf for e in got)


@pytest.mark.parametrize("roles", COMBOS, ids=lambda r: "/".join(r.values()))
@needs_fil
def test_aggregation_equals_resample_bit_for_bit_on_fil(roles):
    candles = fil()
    steps = stream(MultiTimeframeClock(roles), candles)
    assert_matches_resample(candles, roles, steps)
    assert all(e.complete for s in steps for e in s.closed)  # FIL has no gaps


@pytest.mark.parametrize("roles", COMBOS[:3], ids=lambda r: "/".join(r.values()))
def test_aggregation_equals_resample_on_bundled_sample_with_gaps(roles):
    candles = with_gaps(bundled(), seed=7)
    steps = stream(MultiTimeframeClock(roles), candles)
    assert_matches_resample(candles, roles, steps)
    assert any(not e.complete for s in steps for e in s.closed)


def test_running_sum_would_not_be_exact():
    """Why buckets keep their volumes: numpy's pairwise sum differs from a running +=."""
    c = bundled().slice(0, 1440)
    res = resample(c, "15m").candles
    running = [sum(c.turnover[i : i + 15].tolist()) for i in range(0, 1440, 15)]
    assert running != res.turnover.tolist()  # so the clock must not use a running sum


@needs_fil
def test_roles_closing_together_come_in_one_step_exec_first():
    steps = stream(MultiTimeframeClock({"high": "4h", "exec": "15m", "med": "1h"}), fil())
    for s in steps:
        expected = [
            r
            for r, tf in (("exec", "15m"), ("med", "1h"), ("high", "4h"))
            if s.time % tf_ms(tf) == 0
        ]
        assert [e.role for e in s.closed] == expected
        assert all(close_time(e) == s.time for e in s.closed)
        assert s.bar is not None and s.bar.ts == s.time - M
    assert [s.time for s in steps] == [t + M for t in fil().ts.tolist()]


def test_role_order_is_ascending_timeframe():
    assert role_order({"high": "4h", "med": "1h", "exec": "15m"}) == (
        ("exec", "15m"),
        ("med", "1h"),
        ("high", "4h"),
    )


def gap_stream():
    """00:00-00:50 and 01:20-01:29 of 1m bars: the gap swallows the 01:00 close."""
    c = make_1m(90)
    keep = np.zeros(90, bool)
    keep[:51] = True
    keep[80:90] = True
    return keep_rows(c, keep)


def test_gap_over_a_close_emits_the_pending_bars_late_as_incomplete():
    c = gap_stream()
    clock = MultiTimeframeClock({"exec": "15m", "med": "1h"})
    bars = candle_bars(c)
    before = [s for b in bars[:51] for s in clock.on_1m(b)]
    assert before[-1].time == T0 + 51 * M
    assert all(s.time <= T0 + 51 * M for s in before)  # nothing emitted before its close
    out = clock.on_1m(bars[51])  # 01:20 proves 01:00 is over
    assert [s.time for s in out] == [T0 + 60 * M, T0 + 81 * M]
    late = out[0]
    assert late.bar is None
    assert [(e.role, e.bar.ts, e.complete) for e in late.closed] == [
        ("exec", T0 + 45 * M, False),
        ("med", T0, False),
    ]
    assert late.closed[0].bar == aggregate(c.slice(45, 51), "15m")
    assert out[1] == Step(T0 + 81 * M, bars[51], ())
    rest = [s for b in bars[52:] for s in clock.on_1m(b)]
    # 01:00-01:14 had no 1m bar at all: no event; 01:15 bucket closes on time, incomplete
    assert [(s.time, [(e.role, e.complete) for e in s.closed]) for s in rest if s.closed] == [
        (T0 + 90 * M, [("exec", False)])
    ]
    assert clock.flush() == []


def test_missing_bar_inside_a_bucket_flags_it_on_time():
    c = keep_rows(make_1m(30), np.arange(30) != 7)
    steps = stream(MultiTimeframeClock({"exec": "15m"}), c)
    closes = [(s.time, s.closed[0].complete) for s in steps if s.closed]
    assert closes == [(T0 + 15 * M, False), (T0 + 30 * M, True)]


def test_partial_first_bucket_is_incomplete_and_trailing_one_never_emitted():
    c = make_1m(35, start=T0 + 5 * M)  # 00:05 .. 00:39
    steps = stream(MultiTimeframeClock({"exec": "15m"}), c)
    closes = [(s.time, e.complete) for s in steps for e in s.closed]
    assert closes == [(T0 + 15 * M, False), (T0 + 30 * M, True)]  # 00:30 bucket: not closed
    assert steps[-1].time == T0 + 40 * M and not steps[-1].closed


def test_exec_on_1m_is_the_1m_bar_itself():
    c = make_1m(60)
    steps = stream(MultiTimeframeClock({"exec": "1m", "high": "15m"}), c)
    bars = candle_bars(c)
    assert [s.closed[0] for s in steps] == [BarClosed("exec", "1m", b, True) for b in bars]
    assert [e.role for e in steps[14].closed] == ["exec", "high"]


@pytest.mark.parametrize(
    ("roles", "match"),
    [
        ({"med": "1h"}, "exec"),
        ({"exec": "7m"}, "unknown timeframe"),
        ({"exec": "15m", "med": "5m"}, "longer whole multiple"),
        ({"exec": "4h", "high": "6h"}, "longer whole multiple"),
        ({"exec": "15m", "med": "15m"}, "longer whole multiple"),
        ({"exec": "15m", "med": "1h", "high": "1h"}, "share a timeframe"),
        ({"exec": "15m", "": "1h"}, "non-empty"),
        (["exec"], "mapping"),
    ],
)
def test_bad_roles(roles, match):
    with pytest.raises(BadInputError, match=match):
        MultiTimeframeClock(roles)


def test_bad_1m_bars():
    clock = MultiTimeframeClock({"exec": "15m"})
    bars = candle_bars(make_1m(5))
    clock.on_1m(bars[1])
    with pytest.raises(BadInputError, match="minute boundary"):
        clock.on_1m(bars[2]._replace(ts=bars[2].ts + 1))
    with pytest.raises(BadInputError, match="out of order or twice"):
        clock.on_1m(bars[1])
    with pytest.raises(BadInputError, match="out of order or twice"):
        clock.on_1m(bars[0])
    assert clock.on_1m(bars[2])[0].bar == bars[2]  # a rejected bar leaves the clock intact


def test_bad_live_inputs():
    with pytest.raises(BadInputError, match="delivered role"):
        MultiTimeframeClock({"exec": "15m"}, delivered=["med"])
    with pytest.raises(BadInputError, match="delivered role"):
        MultiTimeframeClock({"exec": "1m", "med": "1h"}, delivered=["exec"])
    clock = MultiTimeframeClock({"exec": "15m", "med": "1h"}, delivered=["exec"])
    with pytest.raises(BadInputError, match="not delivered"):
        clock.on_role_bar("med", Bar(T0, 1, 1, 1, 1, 1, 1))
    with pytest.raises(BadInputError, match="boundary"):
        clock.on_role_bar("exec", Bar(T0 + M, 1, 1, 1, 1, 1, 1))
    clock.on_role_bar("exec", Bar(T0, 1, 1, 1, 1, 1, 1))
    with pytest.raises(BadInputError, match="out of order or twice"):
        clock.on_role_bar("exec", Bar(T0, 1, 1, 1, 1, 1, 1))
    (late, _) = clock.on_1m(Bar(T0 + 15 * M, 1, 1, 1, 1, 1, 1))  # proves 00:15 over
    assert late.bar is None and not late.closed[0].complete  # no 1m bar of it arrived
    with pytest.raises(BadInputError, match="out of order or twice"):
        clock.on_1m(Bar(T0 + 14 * M, 1, 1, 1, 1, 1, 1))


class Live:
    """A clock in live mode for exec/med, with the resample bars the exchange would send."""

    def __init__(self, n: int = 120) -> None:
        self.candles = make_1m(n)
        self.bars = candle_bars(self.candles)
        self.clock = MultiTimeframeClock({"exec": "15m", "med": "1h"}, delivered=["exec", "med"])
        self.exec_bars = {b.ts: b for b in reference(self.candles, "15m")[0]}
        self.med_bars = {b.ts: b for b in reference(self.candles, "1h")[0]}

    def feed(self, lo: int, hi: int) -> list[Step]:
        return [s for b in self.bars[lo:hi] for s in self.clock.on_1m(b)]


def test_live_instant_waits_for_every_kline_closing_then():
    live = Live()
    assert len(live.feed(0, 14)) == 14
    assert live.feed(14, 15) == []  # 00:15: 1m bar in, exec kline not yet
    out = live.clock.on_role_bar("exec", live.exec_bars[T0])
    assert out == [
        Step(T0 + 15 * M, live.bars[14], (BarClosed("exec", "15m", live.exec_bars[T0], True),))
    ]
    # kline first, 1m bar second: same step
    live.feed(15, 29)
    assert live.clock.on_role_bar("exec", live.exec_bars[T0 + 15 * M]) == []
    (step,) = live.feed(29, 30)
    assert step.time == T0 + 30 * M and step.closed[0].bar == live.exec_bars[T0 + 15 * M]


def test_live_lost_kline_is_replaced_by_the_aggregate_and_a_late_one_dropped():
    live = Live()
    for lo in (0, 15):
        live.feed(lo, lo + 15)
        live.clock.on_role_bar("exec", live.exec_bars[T0 + lo * M])
    live.feed(30, 45)  # the 00:30 exec kline never comes
    out = live.feed(45, 46)  # 00:46 proves 00:45 over
    assert [s.time for s in out] == [T0 + 45 * M, T0 + 46 * M]
    assert out[0].closed == (BarClosed("exec", "15m", live.exec_bars[T0 + 30 * M], True),)
    assert live.clock.on_role_bar("exec", live.exec_bars[T0 + 30 * M]) == []
    assert live.clock.late_role_bars == 1
    live.feed(46, 60)  # 01:00: exec and med klines due; shutdown before they come
    (last,) = live.clock.flush()
    assert last.time == T0 + 60 * M and last.bar == live.bars[59]
    assert [e.bar for e in last.closed] == [live.exec_bars[T0 + 45 * M], live.med_bars[T0]]
    assert live.clock.flush() == []


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(1, 700),
    offset=st.integers(0, 300),
    runs=st.lists(st.tuples(st.integers(0, 699), st.integers(1, 120)), max_size=8),
    roles=st.sampled_from([*COMBOS[:2], {"exec": "5m", "med": "15m", "high": "1h"}, COMBOS[3]]),
)
def test_property_no_look_ahead_and_exact_on_random_gappy_streams(n, offset, runs, roles):
    c = make_1m(n, seed=n, start=T0 + offset * M)
    keep = np.ones(n, bool)
    for start, length in runs:
        keep[start : start + length] = False
    c = keep_rows(c, keep)
    if not len(c):
        return
    clock, bars, steps = MultiTimeframeClock(roles), candle_bars(c), []
    order = [r for r, _ in role_order(roles)]
    for k, bar in enumerate(bars):
        for s in clock.on_1m(bar):
            assert bar.ts + M >= s.time  # never before its close ...
            assert k == 0 or bars[k - 1].ts + M < s.time  # ... and as soon as it is proven
            for e in s.closed:  # built only from 1m bars already fed, inside its bucket
                fed = c.slice(0, k + 1)
                inside = (fed.ts >= e.bar.ts) & (fed.ts < close_time(e))
                assert e.bar == aggregate(keep_rows(fed, inside), e.tf)
            steps.append(s)
    assert clock.flush() == []
    assert [s.bar for s in steps if s.bar is not None] == bars
    times = [s.time for s in steps]
    assert times == sorted(set(times))
    for s in steps:
        assert s.bar is not None or s.closed
        assert s.bar is None or s.bar.ts == s.time - M
        assert all(close_time(e) == s.time for e in s.closed)
        roles_here = [e.role for e in s.closed]
        assert roles_here == sorted(roles_here, key=order.index)
    assert_matches_resample(c, roles, steps)
