"""trend: HH/LH/EH and HL/LL/EL classification of confirmed pivots and the bias rule."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.structures.bars import frame, random_walk
from trade_core import structures
from trade_core.errors import BadInputError

# A zigzag of bar midpoints; high = mid + 0.5, low = mid - 0.5. With swings left = right = 1
# the pivots are exactly the turning points, each confirmed one bar later:
#   i:    0    1    2    3    4    5     6    7    8    9     10   11   12   13    14
MID = [8, 9.5, 7.5, 5.5, 8, 11.5, 9.5, 7.5, 9, 10.5, 8, 4.5, 7, 10.5, 9]
# pivot highs: 10@1 (bar 2), 12@5 (bar 6), 11@9 (bar 10), 11@13 (bar 14)
# pivot lows:   5@3 (bar 4),  7@7 (bar 8),  4@11 (bar 12)
ZIGZAG = frame([m + 0.5 for m in MID], [m - 0.5 for m in MID])
SWINGS = {"left": 1, "right": 1}


def test_hand_computed_sequence():
    out = structures.compute("trend", ZIGZAG, swings=SWINGS)
    # bar 6: 12 vs 10 -> HH (no low kind yet: bias "")
    # bar 8: 7 vs 5 -> HL -> HH + HL = up (first bias: not a change)
    # bar 10: 11 vs 12 -> LH -> LH + HL = range (changed)
    # bar 12: 4 vs 7 -> LL -> LH + LL = down (changed)
    # bar 14: 11 vs 11 -> EH -> range (changed)
    assert out["last_high_kind"].tolist() == [""] * 6 + ["HH"] * 4 + ["LH"] * 4 + ["EH"]
    assert out["last_low_kind"].tolist() == [""] * 8 + ["HL"] * 4 + ["LL"] * 3
    assert out["bias"].tolist() == [""] * 8 + ["up"] * 2 + ["range"] * 2 + ["down"] * 2 + ["range"]
    d = out["direction"].to_numpy()
    assert np.isnan(d[:8]).all() and d[8:].tolist() == [1, 1, 0, 0, -1, -1, 0]
    assert np.flatnonzero(out["changed"]).tolist() == [10, 12, 14]


def test_equal_tolerance_in_percent():
    out = structures.compute("trend", ZIGZAG, swings=SWINGS, equal_pct=10.0)
    # tol = 10% of the older pivot. bar 6: 12-10 = 2 > 1 -> HH; bar 8: 7-5 = 2 > 0.5 -> HL;
    # bar 10: |11-12| = 1 <= 1.2 -> EH -> range; bar 12: 7-4 = 3 > 0.7 -> LL -> EH+LL range
    assert out["last_high_kind"].tolist()[10] == "EH"
    assert out["bias"].tolist()[8:] == ["up"] * 2 + ["range"] * 5
    assert np.flatnonzero(out["changed"]).tolist() == [10]


def test_reads_the_swing_feature_it_names():
    sw = structures.create("swing", left=1, right=1)
    tr = structures.create("trend", {"swings": sw}, swings="swings")
    assert tr.warmup_bars == 3  # adopts the swing's warm-up (1 + 1 + 1)
    rows = []
    for i, r in enumerate(ZIGZAG.itertuples()):
        sw.update(r.ts, r.open, r.high, r.low, r.close, r.volume)
        tr.update(r.ts, r.open, r.high, r.low, r.close, r.volume)
        rows.append(tr.value("bias"))
        assert tr.ready == (i >= 2)
    assert rows == structures.compute("trend", ZIGZAG, swings=SWINGS)["bias"].tolist()


def test_dependency_errors_are_clear():
    with pytest.raises(BadInputError, match=r"no feature instance given for \['swings'\]"):
        structures.create("trend", swings="swings")
    with pytest.raises(BadInputError, match="swings must be a swing feature"):
        structures.create("trend", {"swings": structures.create("rolling_window")}, swings="x")
    sw = structures.create("swing")
    tr = structures.create("trend", {"swings": sw}, swings="swings")
    with pytest.raises(RuntimeError, match="update the swing"):
        tr.update(0, 1.0, 1.0, 1.0, 1.0, 1.0)  # the swing was not fed first


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    left=st.integers(1, 5),
    right=st.integers(0, 5),
    alternate=st.booleans(),
)
def test_kinds_and_bias_follow_the_swing_outputs(seed, left, right, alternate):
    df = random_walk(seed, 400, tick=0.5)
    sw_params = {"left": left, "right": right, "alternate": alternate}
    sw = structures.compute("swing", df, **sw_params)
    out = structures.compute("trend", df, swings=sw_params)
    hk, lk = "", ""
    for i in range(len(df)):
        s = sw.iloc[i]
        if s.new_high and not math.isnan(s.prev_high):
            diff = s.last_high - s.prev_high
            hk = "HH" if diff > 0 else "LH" if diff < 0 else "EH"
        if s.new_low and not math.isnan(s.prev_low):
            diff = s.last_low - s.prev_low
            lk = "HL" if diff > 0 else "LL" if diff < 0 else "EL"
        bias = "" if not (hk and lk) else {"HHHL": "up", "LHLL": "down"}.get(hk + lk, "range")
        assert (out.last_high_kind.iloc[i], out.last_low_kind.iloc[i]) == (hk, lk)
        assert out.bias.iloc[i] == bias
        prev = out.bias.iloc[i - 1] if i else ""
        assert out.changed.iloc[i] == (bool(prev) and prev != bias)


def test_swings_defaults_to_the_feature_with_id_swings_in_a_play():
    from tests.support.plays import play_text
    from trade_core.errors import BadInputError as LoadError
    from trade_core.play import load_play_text

    assert structures.spec("trend").resolve({})["swings"] == "swings"
    feats = {"swings": {"structure": "swing", "left": 2, "right": 2},
             "tr": {"structure": "trend"}}  # fmt: skip
    play = load_play_text(play_text(features=feats, entries={"long": ["tr.bias", "eq", "up"]}))
    assert play is not None
    feats = {"pivots": {"structure": "swing"}, "tr": {"structure": "trend"}}
    with pytest.raises(LoadError, match="swings must name a swing feature"):
        load_play_text(play_text(features=feats, entries={"long": ["tr.bias", "eq", "up"]}))
