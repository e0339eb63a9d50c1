"""market_structure: BOS vs CHoCH by close beyond confirmed swing levels, each broken once."""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.structures.bars import frame, random_walk
from tests.unit.structures.test_swing import same
from trade_core import structures

NAN = math.nan
SWINGS = {"left": 1, "right": 1}
# (high, low, close) per bar, swings left = right = 1 (pivot confirmed one bar later):
BARS = [
    (10, 9, 9.5),  # 0
    (12, 10, 11),  # 1  pivot high 12 (confirmed on bar 2)
    (11.5, 10.5, 11),  # 2  high_level = 12
    (12.5, 11, 12),  # 3  close 12 == 12: no break (strict); the wick above does not count
    (13, 11.5, 12.8),  # 4  close 12.8 > 12: first break from neutral -> BOS up, bullish
    (13.5, 12, 13.2),  # 5  close > 12 again, but the level is consumed: nothing
    (13, 11, 11.5),  # 6  pivot high 13.5@5 confirmed -> high_level 13.5
    (12, 10.5, 11.8),  # 7
    (12.5, 11.2, 12),  # 8  pivot low 10.5@7 confirmed -> low_level 10.5
    (11, 10, 10.2),  # 9  close 10.2 < 10.5 while bullish -> CHoCH down, bearish;
    #                       then pivot high 12.5@8 confirmed -> high_level 12.5 (replaces 13.5)
    (10.5, 9, 9.2),  # 10
    (10, 9.2, 9.8),  # 11 pivot low 9@10 confirmed -> low_level 9
    (9.5, 8, 8.5),  # 12 close 8.5 < 9 while bearish -> BOS down
    (11, 8.5, 10.8),  # 13 pivot low 8@12 confirmed -> low_level 8
    (10.8, 9.5, 10),  # 14 pivot high 11@13 confirmed -> high_level 11
    (11.5, 10, 11.2),  # 15 close 11.2 > 11 while bearish -> CHoCH up, bullish
]
DF = frame(*zip(*BARS, strict=True))


def test_hand_computed_bos_and_choch_sequence():
    sw = structures.compute("swing", DF, **SWINGS)
    assert np.flatnonzero(sw["new_high"]).tolist() == [2, 6, 9, 14]
    assert np.flatnonzero(sw["new_low"]).tolist() == [8, 11, 13]
    out = structures.compute("market_structure", DF, swings=SWINGS)
    # bias: "" before the swing's warm-up (3 bars), then neutral until the first break
    assert out["bias"].tolist() == (
        ["", ""] + ["neutral"] * 2 + ["bullish"] * 5 + ["bearish"] * 6 + ["bullish"]
    )
    events = {k: np.flatnonzero(out[k]).tolist() for k in
              ("bos_up", "bos_down", "choch_up", "choch_down", "choch")}  # fmt: skip
    assert events == {"bos_up": [4], "bos_down": [12], "choch_up": [15], "choch_down": [9],
                      "choch": [9, 15]}  # fmt: skip
    assert same(
        out["broken_level"].tolist(),
        [NAN] * 4 + [12.0] * 5 + [10.5] * 3 + [9.0] * 3 + [11.0],
    )
    assert same(
        out["high_level"].tolist(),
        [NAN] * 2 + [12.0] * 2 + [NAN] * 2 + [13.5] * 3 + [12.5] * 5 + [11.0] + [NAN],
    )
    assert same(
        out["low_level"].tolist(),
        [NAN] * 8 + [10.5] + [NAN] * 2 + [9.0] + [NAN] + [8.0] * 3,
    )


def test_first_break_from_neutral_down_is_a_bos():
    # mirror the sequence (negate prices): the first break is downward, from neutral
    mirrored = frame(*(list(-np.asarray(c)) for c in (DF.low, DF.high, DF.close)))
    out = structures.compute("market_structure", mirrored, swings=SWINGS)
    assert np.flatnonzero(out["bos_down"]).tolist() == [4]
    assert np.flatnonzero(out["choch_up"]).tolist() == [9]
    assert out["bias"].iloc[-1] == "bearish"


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), left=st.integers(1, 4), right=st.integers(0, 4),
       alternate=st.booleans())  # fmt: skip
def test_events_are_consistent_with_bias_levels_and_closes(seed, left, right, alternate):
    df = random_walk(seed, 400, tick=0.5)
    sw_params = {"left": left, "right": right, "alternate": alternate}
    out = structures.compute("market_structure", df, swings=sw_params)
    sw = structures.compute("swing", df, **sw_params)
    close = df["close"].to_numpy()
    for i in range(1, len(df)):
        prev, row = out.iloc[i - 1], out.iloc[i]
        up = row.bos_up or row.choch_up
        down = row.bos_down or row.choch_down
        assert not (row.bos_up and row.choch_up) and not (row.bos_down and row.choch_down)
        assert row.choch == (row.choch_up or row.choch_down)
        # an up break happens exactly when the close exceeds the previous unbroken high level
        assert up == (close[i] > prev.high_level)
        assert down == (close[i] < prev.low_level)
        if up and not down:
            assert row.bias == "bullish" and row.broken_level == prev.high_level
            assert row.choch_up == (prev.bias == "bearish")
        if down and not up:
            assert row.bias == "bearish" and row.broken_level == prev.low_level
            assert row.choch_down == (prev.bias == "bullish")
        if not (up or down):
            assert row.bias == (prev.bias or ("neutral" if i >= left + right else ""))
            assert same([row.broken_level], [prev.broken_level])
        # new levels come from the swing on the bar it confirms them
        if sw.new_high.iloc[i]:
            assert row.high_level == sw.last_high.iloc[i]
        elif up:
            assert math.isnan(row.high_level)
        if sw.new_low.iloc[i]:
            assert row.low_level == sw.last_low.iloc[i]
