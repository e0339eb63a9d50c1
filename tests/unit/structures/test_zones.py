"""zone and derived_zone: creation, width, the active/touched/mitigated/invalidated cycle."""

import math

import numpy as np
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.features import assert_close_to_reference, real_frames
from tests.unit.structures.bars import frame, random_walk
from tests.unit.structures.test_swing import same
from tests.unit.structures.test_trend import SWINGS, ZIGZAG
from trade_core import structures
from trade_core.structures._common import STATES, Box, WilderATR

NAN = math.nan

# Scenario table for one zone: (high, low, close) of a bar after creation -> (state, touched)
DEMAND = [  # zone [100, 110]
    ((120, 111, 115), "active", False),  # low above the top
    ((120, 110, 115), "touched", True),  # low == top: entered
    ((120, 105, 115), "touched", False),  # again inside: stays touched, no new event
    ((120, 99, 100), "mitigated", False),  # wick below the bottom, close back at the bottom
]
DEMAND_INVALID = [((112, 95, 99.9), "invalidated", False)]  # close below bottom, from active
SUPPLY = [  # zone [90, 100]
    ((89, 80, 85), "active", False),
    ((90, 80, 85), "touched", True),  # high == bottom: entered
    ((101, 80, 100), "mitigated", False),  # high above top, close back at the top
]


@pytest.mark.parametrize(
    ("demand", "top", "bottom", "table"),
    [
        (True, 110, 100, DEMAND),
        (True, 110, 100, DEMAND_INVALID),
        (False, 100, 90, SUPPLY),
        (False, 100, 90, [((105, 95, 100.5), "invalidated", False)]),
        (False, 100, 90, [((95, 80, 94), "touched", True), ((99, 80, 98), "touched", False)]),
    ],
)
def test_life_cycle_scenarios(demand, top, bottom, table):
    box = Box(demand, top, bottom, 1)
    for (h, lo, c), state, touched in table:
        assert box.step(h, lo, c) == touched
        assert STATES[box.state] == state


# Zone scenario, swings left = right = 1, width_pct = 10 (bars: high, low, close)
ZBARS = [
    (120, 110, 115),  # 0
    (112, 100, 105),  # 1  pivot low 100
    (125, 104, 122),  # 2  -> demand D1 [100, 110] created (active)
    (130, 118, 128),  # 3  D1: low 118 > 110 -> active
    (129, 108, 112),  # 4  D1: low 108 <= 110 -> touched; pivot high 130 -> supply S1 [117, 130]
    (116, 99, 101),  # 5  D1: low 99 < 100, close 101 >= 100 -> mitigated; S1: high 116 < 117
    (118, 102, 117),  # 6  S1: high 118 >= 117 -> touched; pivot low 99 -> D2 [99, 108.9]
    (131, 115, 129),  # 7  S1: high 131 > 130, close 129 <= 130 -> mitigated
    (128, 120, 121),  # 8  pivot high 131 -> S2 [117.9, 131]
    (135, 119, 134),  # 9  S2: close 134 > 131 -> invalidated
    (136, 96, 98),  # 10 D2: close 98 < 99 -> invalidated straight from active
]
ZDF = frame(*zip(*ZBARS, strict=True))


def test_zone_hand_computed_sequence():
    out = structures.compute("zone", ZDF, swings=SWINGS, width_mode="pct", width_pct=10.0)
    assert (
        out["side"].tolist()
        == [""] * 2 + ["demand"] * 2 + ["supply"] * 2 + ["demand"] * 2 + ["supply"] * 3
    )
    # the most recently created zone: D1 (2-3), S1 (4-5), D2 (6-7), S2 (8-10)
    assert out["state"].tolist() == ["", ""] + ["active"] * 7 + ["invalidated"] * 2
    assert same(out["top"].tolist(), [NAN] * 2 + [110.0] * 2 + [130.0] * 2 + [pytest.approx(108.9)]
                * 2 + [131.0] * 3)  # fmt: skip
    assert same(out["bottom"].tolist()[:6], [NAN] * 2 + [100.0] * 2 + [117.0] * 2)
    assert out["bottom"].iloc[9] == pytest.approx(117.9)
    # nearest live demand: D1 until mitigated on bar 5, D2 from 6 until invalidated on 10
    assert out["demand_state"].tolist() == (
        ["", ""] + ["active"] * 2 + ["touched"] + [""] + ["active"] * 4 + [""]
    )
    assert same(out["demand_bottom"].tolist(), [NAN] * 2 + [100.0] * 3 + [NAN] + [99.0] * 4 +
                [NAN])  # fmt: skip
    # nearest live supply: S1 from 4, touched on 6, mitigated on 7; S2 on 8, invalidated on 9
    assert out["supply_state"].tolist() == (
        [""] * 4 + ["active"] * 2 + ["touched"] + [""] + ["active"] + [""] * 2
    )
    assert same(out["supply_top"].tolist(), [NAN] * 4 + [130.0] * 3 + [NAN] + [131.0] + [NAN] * 2)
    assert np.flatnonzero(out["demand_touch"]).tolist() == [4]
    assert np.flatnonzero(out["supply_touch"]).tolist() == [6]


def test_max_zones_drops_the_oldest_and_nearest_is_the_highest_top():
    bars = [
        (104, 102, 103),  # 0
        (103, 100, 101),  # 1  pivot low 100 -> Z1 [100, 102] on bar 2
        (108, 101, 107),  # 2
        (109, 106, 108),  # 3  (pivot high 109 -> a supply zone on bar 4)
        (108, 105, 106),  # 4  pivot low 105 -> Z2 [105, 107.1] on bar 5
        (112, 107, 111),  # 5
        (113, 110, 112),  # 6
        (112, 109, 110),  # 7  pivot low 109 -> Z3 [109, 111.18] on bar 8: Z1 is dropped
        (115, 111, 114),  # 8
        (114, 104, 104.5),  # 9  close < 105 and < 109: Z2 and Z3 invalidated; Z1 is gone
    ]
    df = frame(*zip(*bars, strict=True))
    out = structures.compute(
        "zone", df, swings=SWINGS, width_mode="pct", width_pct=2.0, max_zones=2
    )
    assert out["demand_bottom"].tolist()[2:9] == [100.0] * 3 + [105.0] * 3 + [109.0]
    assert out["demand_top"].iloc[8] == pytest.approx(111.18)
    assert math.isnan(out["demand_top"].iloc[9])
    wide = structures.compute("zone", df, swings=SWINGS, width_mode="pct", width_pct=2.0)
    assert wide["demand_bottom"].iloc[9] == 100.0  # with room for 5, Z1 is still live


def test_zone_atr_width_uses_the_atr_of_the_confirming_bar():
    out = structures.compute("zone", ZDF, swings=SWINGS, atr_length=1, atr_mult=0.5)
    # ATR(1) = the bar's true range. Bar 2: TR = max(125-104, |125-105|, |104-105|) = 21
    assert (out["bottom"].iloc[2], out["top"].iloc[2]) == (100.0, 110.5)
    # Bar 4: TR = max(129-108, |129-128|, |108-128|) = 21 -> supply [130 - 10.5, 130]
    assert (out["bottom"].iloc[4], out["top"].iloc[4]) == (119.5, 130.0)
    # With ATR(14) no zone can exist before bar 14 (ATR undefined): pivots earlier are skipped
    late = structures.compute("zone", ZDF, swings=SWINGS)
    assert late["top"].isna().all()
    assert structures.spec("zone").warmup_bars({}) == 15
    assert structures.spec("zone").warmup_bars({"width_mode": "pct"}) == 1


def test_wilder_atr_matches_talib_on_real_data():
    for label, df in real_frames():
        df = df.iloc[:20_000]
        h, lo, c = (df[k].to_numpy() for k in ("high", "low", "close"))
        for n in (1, 14, 30):
            atr = WilderATR(n)
            got = np.array([atr.update(*bar) for bar in zip(h, lo, c, strict=True)])
            assert_close_to_reference(got, talib.ATR(h, lo, c, n), label=f"{label} ATR({n})")


def test_derived_zone_swing_atr_hand_computed():
    out = structures.compute(
        "derived_zone", ZDF, swings=SWINGS, method="swing_atr", atr_length=1, atr_mult=0.5
    )
    # bar 2: pivot low 100, TR 21 -> demand [89.5, 110.5]; bar 3 low 118: active
    # bar 4: low 108 <= 110.5 -> touched (touch event) ... then pivot high 130, TR 21 ->
    #        supply [119.5, 140.5] replaces it (created), active
    # bar 6: pivot low 99, TR = max(16, |118-101|, |102-101|) = 17 -> demand [90.5, 107.5]
    # bar 8: pivot high 131, TR = max(8, |128-129|, |120-129|) = 9 -> supply [126.5, 135.5]
    # bar 9: high 135 >= 126.5 -> touched; bar 10: high 136 > 135.5, close 98 -> mitigated
    assert same(out["upper"].tolist(), [NAN] * 2 + [110.5] * 2 + [140.5] * 2 + [107.5] * 2 +
                [135.5] * 3)  # fmt: skip
    assert same(out["lower"].tolist(), [NAN] * 2 + [89.5] * 2 + [119.5] * 2 + [90.5] * 2 +
                [126.5] * 3)  # fmt: skip
    assert (
        out["side"].tolist()[2:]
        == ["demand"] * 2 + ["supply"] * 2 + ["demand"] * 2 + ["supply"] * 3
    )
    assert out["state"].tolist() == ["", ""] + ["active"] * 7 + ["touched", "mitigated"]
    assert np.flatnonzero(out["created"]).tolist() == [2, 4, 6, 8]
    assert np.flatnonzero(out["touch"]).tolist() == [4, 9]


def test_derived_zone_fib_hand_computed():
    out = structures.compute("derived_zone", ZIGZAG, swings=SWINGS)  # 0.5 .. 0.618
    # bar 4: down leg H=10, L=5: 0.5 -> 7.5, 0.618 -> 8.09: supply [7.5, 8.09]
    # bar 5: close 11.5 > 8.09 -> invalidated
    # bar 6: up leg H=12, L=5: 0.5 -> 8.5, 0.618 -> 7.674: demand [7.674, 8.5]
    # bar 7: close 7.5 < 7.674 -> invalidated
    # bar 8: down leg H=12, L=7: supply [9.5, 10.09]; bar 9: close 10.5 > 10.09 -> invalidated
    assert out["side"].tolist()[4:9] == ["supply", "supply", "demand", "demand", "supply"]
    assert out[["lower", "upper"]].iloc[4].tolist() == pytest.approx([7.5, 8.09])
    assert out[["lower", "upper"]].iloc[6].tolist() == pytest.approx([7.674, 8.5])
    assert out[["lower", "upper"]].iloc[8].tolist() == pytest.approx([9.5, 10.09])
    assert out["state"].tolist()[4:10] == ["active", "invalidated"] * 2 + ["active"] * 1 + [
        "invalidated"
    ]
    assert np.flatnonzero(out["created"]).tolist() == [4, 6, 8, 10, 12, 14]
    assert structures.spec("derived_zone").warmup_bars({"method": "swing_atr"}) == 15


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), left=st.integers(1, 4), right=st.integers(0, 4),
       max_zones=st.integers(1, 4), pct=st.sampled_from([0.0, 0.5, 2.0]))  # fmt: skip
def test_zone_invariants(seed, left, right, max_zones, pct):
    df = random_walk(seed, 300, tick=0.5)
    sw_params = {"left": left, "right": right}
    sw = structures.create("swing", **sw_params)
    z = structures.create("zone", {"swings": sw}, swings="s", width_mode="pct", width_pct=pct,
                          max_zones=max_zones)  # fmt: skip
    prev_states: dict[int, int] = {}
    last_recent = None
    for r in df.itertuples():
        bar = (r.ts, r.open, r.high, r.low, r.close, r.volume)
        sw.update(*bar)
        z.update(*bar)
        demand, supply = z._zones
        assert len(demand) <= max_zones and len(supply) <= max_zones
        for box in (*demand, *supply):
            assert box.top >= box.bottom and box.live
            assert box.state >= prev_states.get(box.seq, 0)  # states only move forward
            prev_states[box.seq] = box.state
        if demand:
            assert z.value("demand_top") == max(b.top for b in demand)
        else:
            assert math.isnan(z.value("demand_top")) and z.value("demand_state") == ""
        if supply:
            assert z.value("supply_bottom") == min(b.bottom for b in supply)
        recent = (z._recent.seq, z.value("state")) if z._recent else None
        if recent and recent[1] == "invalidated" and last_recent != recent:  # on this bar
            c = r.close
            assert c < z.value("bottom") if z.value("side") == "demand" else c > z.value("top")
        last_recent = recent
