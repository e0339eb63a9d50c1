"""all/any/not with three-valued logic and short-circuit, setups, and the six window operators."""

import pytest

from tests.support.plays import Driver, rule_play
from trade_core.play.conditions.compile import FALSE, MISSING, NOT_READY, TRUE

UP = ["close", "gt", "open"]  # TRUE when close > open
NR = ["fast", "gt", 0]  # NOT_READY while fast is None
NAN = float("nan")


def step(d, up, fast=None):
    """One exec bar: ``up`` True/False sets close vs open; fast None = not ready."""
    return d.step(close=2.0 if up else 1.0, open=1.5, fast=fast)


@pytest.mark.parametrize(
    ("kind", "children", "expected"),
    [
        ("all", [True, True], TRUE), ("all", [True, False], FALSE),
        ("all", ["nr", False], FALSE), ("all", ["nr", True], NOT_READY),
        ("any", [False, True], TRUE), ("any", [False, False], FALSE),
        ("any", ["nr", True], TRUE), ("any", ["nr", False], NOT_READY),
    ],
)  # fmt: skip
def test_blocks_are_three_valued(kind, children, expected):
    conds = []
    for c in children:
        conds.append(NR if c == "nr" else (UP if c else ["close", "lt", "open"]))
    d = Driver(rule_play({kind: conds}))
    step(d, True)
    assert d.code() == expected


def test_not_flips_only_true_and_false():
    d = Driver(rule_play({"not": UP}))
    assert step(d, True).code() == FALSE
    assert step(d, False).code() == TRUE
    nr = Driver(rule_play({"not": NR}))
    assert step(nr, True).code() == NOT_READY
    mv = Driver(rule_play({"not": UP}))
    assert mv.step(close=NAN, open=1).code() == MISSING


def test_a_failed_any_is_false_in_the_trace_never_ok():
    d = Driver(rule_play({"any": [["close", "lt", "open"], ["close", "gt", 100]]}))
    step(d, True)
    trace = d.play.evaluate("entry.long", d.snap, explain=True)
    assert trace.result == "FALSE"
    assert [c.result for c in trace.children] == ["FALSE", "FALSE"]
    assert trace.children[0].values == {"close": 2.0, "open": 1.5}


def test_short_circuit_skips_the_rest_and_the_trace_says_so():
    d = Driver(rule_play({"all": [["close", "lt", "open"], UP, NR]}))
    step(d, True)
    trace = d.play.evaluate("entry.long", d.snap, explain=True)
    assert [c.result for c in trace.children] == ["FALSE", "SKIPPED", "SKIPPED"]


def test_setups_nest_and_are_shifted_by_windows():
    setups = {"up": UP, "up2": {"all": [{"setup": "up"}, ["close", "gt", 0]]}}
    p = rule_play({"holds_for": {"bars": 3, "cond": {"setup": "up2"}}}, setups=setups)
    d = Driver(p)
    step(d, True)
    step(d, True)
    assert d.code() == NOT_READY  # only 2 bars of history
    assert step(d, True).code() == TRUE
    assert step(d, False).code() == FALSE  # the setup is evaluated on each shifted bar


@pytest.mark.parametrize(
    ("rule", "history", "expected"),
    [
        # history oldest -> newest; True = close > open on that bar
        ({"holds_for": {"bars": 3, "cond": UP}}, [False, True, True, True], TRUE),
        ({"holds_for": {"bars": 3, "cond": UP}}, [True, False, True, True], FALSE),
        ({"holds_for": {"bars": 3, "cond": UP}}, [True, True], NOT_READY),
        ({"occurred_within": {"bars": 3, "cond": UP}}, [True, False, False, False], FALSE),
        ({"occurred_within": {"bars": 3, "cond": UP}}, [False, True, False, False], TRUE),
        ({"occurred_within": {"bars": 3, "cond": UP}}, [False, False], NOT_READY),
        ({"occurred_within": {"bars": 3, "cond": UP}}, [False, True], TRUE),  # decided early
        ({"count_at_least": {"bars": 4, "times": 2, "cond": UP}}, [True, False, False, True], TRUE),
        ({"count_at_least": {"bars": 4, "times": 2, "cond": UP}}, [False, False, True, False], FALSE),
        ({"count_at_least": {"bars": 4, "times": 2, "cond": UP}}, [False, True], NOT_READY),
        ({"count_at_least": {"bars": 4, "times": 3, "cond": UP}}, [False, False, True], FALSE),
        # bars_since: 0 = true now
        ({"bars_since": {"cond": UP, "op": "eq", "n": 0}}, [False, True], TRUE),
        ({"bars_since": {"cond": UP, "op": "eq", "n": 2}}, [True, False, False], TRUE),
        ({"bars_since": {"cond": UP, "op": "lte", "n": 1}}, [True, False, False], FALSE),
        ({"bars_since": {"cond": UP, "op": "gt", "n": 2}}, [False, False, False, False], TRUE),
        ({"bars_since": {"cond": UP, "op": "gt", "n": 2}}, [False, True, False, False], FALSE),
        ({"bars_since": {"cond": UP, "op": "gt", "n": 2}}, [True, False, False, False], TRUE),
        ({"bars_since": {"cond": UP, "op": "gt", "n": 2}}, [False, False, True, False], FALSE),
        ({"bars_since": {"cond": UP, "op": "lt", "n": 3}}, [False, False], NOT_READY),
    ],
)  # fmt: skip
def test_window_truth_tables(rule, history, expected):
    d = Driver(rule_play(rule))
    for up in history:
        step(d, up)
    assert d.code() == expected


@pytest.mark.parametrize(
    ("kind", "closes", "expected"),
    [
        ("rising", [1, 2, 3, 4], TRUE), ("rising", [1, 2, 2, 4], FALSE), ("rising", [2, 3, 4], NOT_READY),
        ("rising", [9, 1, 2, 3, 4], TRUE),  # only the last 3 steps (4 values) count
        ("rising", [5, 1, 2, 3], FALSE),  # 3 steps need 4 values: 5 -> 1 is down
        ("falling", [4, 3, 2, 1], TRUE), ("falling", [4, 3, 3, 1], FALSE),
        ("rising", [1, 2, float("nan"), 4], MISSING),
    ],
)  # fmt: skip
def test_rising_and_falling(kind, closes, expected):
    d = Driver(rule_play({kind: {"bars": 3, "of": "close"}}))
    for c in closes:
        d.step(close=c)
    assert d.code() == expected


def test_windows_read_higher_roles_along_the_exec_clock():
    # holds_for 2 exec bars of close > close@high: the 1h value is as of each exec bar
    d = Driver(rule_play({"holds_for": {"bars": 2, "cond": ["close", "gt", "close@high"]}}))
    d.step(high_bar={"close": 10}, close=11)
    d.step(close=12)
    assert d.code() == TRUE
    d.step(high_bar={"close": 11.5}, close=11.6)
    assert d.code() == TRUE  # 12 > 10 then, 11.6 > 11.5 now
    d.step(close=11.0)
    assert d.code() == FALSE


def test_history_is_bounded():
    p = rule_play({"holds_for": {"bars": 5, "cond": ["close", "gt", "close[2]"]}})
    d = Driver(p)
    for i in range(1000):
        d.step(close=float(i))
    assert max(len(r) for r in d.snap.rings) == 5
    assert d.code() == TRUE
