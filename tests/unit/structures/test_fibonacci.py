"""fibonacci: levels of the last confirmed swing leg, direction convention, ordering."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.structures.bars import random_walk
from tests.unit.structures.test_trend import SWINGS, ZIGZAG
from trade_core import structures

LEVELS = ["level_236", "level_382", "level_500", "level_618", "level_786"]
EXTS = ["ext_1272", "ext_1618"]


def test_hand_computed_levels():
    out = structures.compute("fibonacci", ZIGZAG, swings=SWINGS)
    # bars 0-3: at most one pivot -> NaN; bar 4: pivot high 10@1, pivot low 5@3.
    assert out["leg_high"].iloc[:4].isna().all() and out["leg_direction"].iloc[3] == ""
    # bar 4: high (bar 1) before low (bar 3) -> down leg, H=10, L=5, R=5:
    #   retracement r = L + r*R: 6.18, 6.91, 7.5, 8.09, 8.93; extension H - e*R: 3.64, 1.91
    row = out.iloc[4]
    assert (row.leg_direction, row.leg_high, row.leg_low, row.new_leg) == ("down", 10, 5, True)
    assert [row[k] for k in LEVELS + EXTS] == pytest.approx(
        [6.18, 6.91, 7.5, 8.09, 8.93, 3.64, 1.91]
    )
    assert not out["new_leg"].iloc[5] and out["level_500"].iloc[5] == 7.5  # held until next
    # bar 6: pivot high 12@5 -> low (bar 3) before high (bar 5): up leg, H=12, L=5, R=7:
    #   H - r*R: 10.348, 9.326, 8.5, 7.674, 6.498; L + e*R: 13.904, 16.326
    row = out.iloc[6]
    assert (row.leg_direction, row.leg_high, row.leg_low) == ("up", 12, 5)
    assert [row[k] for k in LEVELS + EXTS] == pytest.approx(
        [10.348, 9.326, 8.5, 7.674, 6.498, 13.904, 16.326]
    )
    assert np.flatnonzero(out["new_leg"]).tolist() == [4, 6, 8, 10, 12, 14]
    assert out["leg_direction"].tolist()[4:] == ["down"] * 2 + ["up", "up", "down", "down"] + [
        "up",
        "up",
        "down",
        "down",
        "up",
    ]


def test_a_stale_high_below_a_later_low_is_no_leg():
    sw = structures.create("swing", left=1, right=1)
    fib = structures.create("fibonacci", {"swings": sw}, swings="swings")
    # Feed the swing by hand-crafted outputs: fibonacci only reads sw.out after sw.update.
    bars = [(10, 9), (12, 10), (11, 10.5)]  # pivot high 12 confirmed on bar 2
    for i, (h, lo) in enumerate(bars):
        sw.update(i, lo, h, lo, lo, 1.0)
        fib.update(i, lo, h, lo, lo, 1.0)
    sw.out[sw.spec.output_names.index("last_low")] = 13.0  # a low above the high
    sw.out[sw.spec.output_names.index("new_low")] = True
    sw.bars += 1
    fib.update(3, 11, 11, 11, 11, 1.0)
    assert math.isnan(fib.value("leg_high")) and fib.value("leg_direction") == ""
    assert not fib.value("new_leg")


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), left=st.integers(1, 5), right=st.integers(0, 5),
       alternate=st.booleans())  # fmt: skip
def test_levels_are_ordered_and_follow_the_swing(seed, left, right, alternate):
    df = random_walk(seed, 500)
    sw_params = {"left": left, "right": right, "alternate": alternate}
    out = structures.compute("fibonacci", df, swings=sw_params)
    sw = structures.compute("swing", df, **sw_params)
    ok = out["leg_high"].notna().to_numpy()
    h, lo = out["leg_high"][ok], out["leg_low"][ok]
    assert (h > lo).all()
    assert np.allclose(out["level_500"][ok], (h + lo) / 2, rtol=1e-12)
    up = (out["leg_direction"][ok] == "up").to_numpy()
    chain = [out[k][ok].to_numpy() for k in ["ext_1618", "ext_1272", "leg_high", *LEVELS]]
    chain.append(lo.to_numpy())
    for a, b in itertools.pairwise(chain):
        assert (a[up] >= b[up]).all()  # up leg: ext_1618 > ext_1272 > H >= 0.236 ... >= L
    down_chain = [lo.to_numpy(), *[out[k][ok].to_numpy() for k in LEVELS]]
    for a, b in itertools.pairwise(down_chain):
        assert (a[~up] <= b[~up]).all()  # down leg: L <= 0.236 <= ... <= 0.786
    assert (out["ext_1618"][ok][~up] < lo[~up]).all()
    # the leg is the swing's last high/low, direction from the pivot bars' times
    new = out["new_leg"].to_numpy()
    assert (out["leg_high"][new] == sw["last_high"][new]).all()
    assert (out["leg_low"][new] == sw["last_low"][new]).all()
    t_h, t_l = sw["last_high_ts"][new].to_numpy(), sw["last_low_ts"][new].to_numpy()
    d = out["leg_direction"][new].to_numpy()
    last_high = (sw["last_pivot"][new] == "high").to_numpy()
    assert ((d == "up") == ((t_l < t_h) | ((t_l == t_h) & last_high))).all()
    assert d.size == 0 or (d != "").all()
    # levels change only on new-leg bars
    changed = out["level_618"].ne(out["level_618"].shift()) & out["level_618"].notna()
    assert not (changed & ~out["new_leg"]).iloc[1:].any()
