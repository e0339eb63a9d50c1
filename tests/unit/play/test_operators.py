"""Every comparison operator with hand-computed truth tables, edges included."""

import math

import pytest

from tests.support.plays import Driver, rule_play
from trade_core.play.conditions.compile import FALSE, MISSING, NOT_READY, TRUE

NAN = math.nan


@pytest.mark.parametrize(
    ("op", "a", "b", "expected"),
    [
        ("gt", 2, 1, TRUE), ("gt", 1, 1, FALSE), ("gt", 0, 1, FALSE),
        ("gte", 2, 1, TRUE), ("gte", 1, 1, TRUE), ("gte", 0, 1, FALSE),
        ("lt", 0, 1, TRUE), ("lt", 1, 1, FALSE), ("lt", 2, 1, FALSE),
        ("lte", 0, 1, TRUE), ("lte", 1, 1, TRUE), ("lte", 2, 1, FALSE),
        ("eq", 1, 1, TRUE), ("eq", 1, 1.0000001, FALSE),
        ("neq", 1, 2, TRUE), ("neq", 1, 1, FALSE),
        ("gt", NAN, 1, MISSING), ("eq", 1, NAN, MISSING), ("lt", NAN, NAN, MISSING),
    ],
)  # fmt: skip
def test_order_and_equality(op, a, b, expected):
    d = Driver(rule_play(["close", op, "open"])).step(close=a, open=b)
    assert d.code() == expected


def test_a_series_against_a_constant_either_side():
    assert Driver(rule_play(["close", "gt", 100])).step(close=101).code() == TRUE
    assert Driver(rule_play([100, "gt", "close"])).step(close=101).code() == FALSE


@pytest.mark.parametrize(
    ("x", "op", "expected"),
    [
        (40, "between", TRUE), (70, "between", TRUE), (55, "between", TRUE),
        (39.99, "between", FALSE), (70.01, "between", FALSE),
        (40, "outside", FALSE), (70, "outside", FALSE), (39.99, "outside", TRUE),
        (80, "outside", TRUE), (NAN, "between", MISSING),
    ],
)  # fmt: skip
def test_between_is_inclusive_and_outside_is_its_complement(x, op, expected):
    assert Driver(rule_play(["close", op, [40, 70]])).step(close=x).code() == expected


def test_between_series_bounds():
    d = Driver(rule_play(["close", "between", ["low", "high"]]))
    assert d.step(close=5, low=4, high=6).code() == TRUE
    assert d.step(close=7, low=4, high=6).code() == FALSE


@pytest.mark.parametrize(
    ("a", "b", "tol", "expected"),
    [
        (100.2, 100, {"pct": 0.2}, TRUE),   # |0.2| <= 0.2% of 100 = 0.2
        (100.21, 100, {"pct": 0.2}, FALSE),
        (99.8, 100, {"pct": 0.2}, TRUE),
        (105, 100, {"abs": 5}, TRUE), (105.01, 100, {"abs": 5}, FALSE),
    ],
)  # fmt: skip
def test_near_with_pct_and_abs_tolerance(a, b, tol, expected):
    assert (
        Driver(rule_play(["close", "near", "open", tol])).step(close=a, open=b).code() == expected
    )


def test_in_takes_a_list():
    p = rule_play(["close", "in", [1, 2, 3]])
    assert Driver(p).step(close=2).code() == TRUE
    assert Driver(p).step(close=4).code() == FALSE


@pytest.mark.parametrize(
    ("prev", "now", "above", "below"),
    [
        ((1, 2), (3, 2), TRUE, FALSE),   # from below to above
        ((2, 2), (3, 2), TRUE, FALSE),   # equal before, above now: a cross (lhs[1] <= rhs[1])
        ((1, 2), (2, 2), FALSE, FALSE),  # touches, does not cross
        ((3, 2), (4, 2), FALSE, FALSE),  # was already above
        ((3, 2), (1, 2), FALSE, TRUE),   # from above to below
        ((2, 2), (1, 2), FALSE, TRUE),   # equal before, below now
        ((3, 2), (2, 2), FALSE, FALSE),  # touches from above
    ],
)  # fmt: skip
def test_cross_above_and_below(prev, now, above, below):
    for op, expected in (("cross_above", above), ("cross_below", below)):
        d = Driver(rule_play(["close", op, "open"]))
        d.step(close=prev[0], open=prev[1]).step(close=now[0], open=now[1])
        assert d.code() == expected, (op, prev, now)


def test_cross_needs_one_past_value_and_accepts_a_level():
    d = Driver(rule_play(["close", "cross_above", 50]))
    assert d.step(close=60).code() == NOT_READY  # no previous bar yet
    assert d.step(close=40).code() == FALSE
    assert d.step(close=50.5).code() == TRUE
    d2 = Driver(rule_play(["close", "cross_below", "open"])).step(close=NAN, open=1)
    assert d2.step(close=0, open=1).code() == MISSING


def test_not_ready_until_the_value_exists():
    d = Driver(rule_play(["fast", "gt", "slow"]))
    assert d.step(fast=None, slow=None).code() == NOT_READY
    assert d.step(fast=2.0, slow=None).code() == NOT_READY
    assert d.step(fast=2.0, slow=1.0).code() == TRUE
    assert d.fires() is True


def test_past_values_on_the_own_timeframe():
    d = Driver(rule_play(["close", "gt", "close[2]"]))
    d.step(close=1)
    assert d.step(close=2).code() == NOT_READY
    assert d.step(close=3).code() == TRUE  # 3 > 1
    assert d.step(close=2).code() == FALSE  # 2 > 2 is false


def test_higher_role_values_hold_between_its_closes():
    d = Driver(rule_play(["close", "gt", "close@high"]))
    assert d.step(close=5).code() == NOT_READY  # no 1h bar closed yet
    d.step(high_bar={"close": 4}, close=5)
    assert d.code() == TRUE
    assert d.step(close=3).code() == FALSE  # still the same 1h close (4)
    assert d.step(close=4.5).code() == TRUE
    d.step(high_bar={"close": 6}, close=5)
    assert d.code() == FALSE
