"""swing: pivots confirmed `right` bars after the pivot bar, ties, alternation, invariants."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.features import real_frames
from tests.unit.structures.bars import STEP, T0, col, frame, random_walk
from trade_core import structures

NAN = math.nan


def same(got: list, want: list) -> bool:
    """Element-wise equality where NaN equals NaN."""
    return len(got) == len(want) and all(
        (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))
        or a == b
        for a, b in zip(got, want, strict=True)
    )


def centred_flags(high, low, left: int, right: int) -> tuple[np.ndarray, np.ndarray]:
    """Independent reference: the pivot test marked ON THE PIVOT BAR p (a centred window —
    what a look-ahead detector reports; using it on bar p peeks `right` bars ahead)."""
    high, low = np.asarray(high, float), np.asarray(low, float)
    n = len(high)
    is_high, is_low = np.zeros(n, bool), np.zeros(n, bool)
    for p in range(left, n - right):
        after_h, after_l = high[p + 1 : p + right + 1], low[p + 1 : p + right + 1]
        is_high[p] = high[p] > high[p - left : p].max() and (after_h <= high[p]).all()
        is_low[p] = low[p] < low[p - left : p].min() and (after_l >= low[p]).all()
    return is_high, is_low


def expected_swing(df: pd.DataFrame, left: int, right: int, alternate: bool) -> dict:
    """Every swing output per bar, from the centred reference shifted by `right` and the
    documented registration/alternation rules."""
    is_high, is_low = centred_flags(df["high"], df["low"], left, right)
    ts = df["ts"].to_numpy()
    names = ("last_high", "last_high_ts", "prev_high", "last_low", "last_low_ts", "prev_low")
    state = dict.fromkeys(names, NAN) | {"last_pivot": ""}
    rows = {k: [] for k in (*names, "new_high", "new_low", "last_pivot")}

    def register(kind: str, price: float, t: float, ev: dict) -> None:
        last = state[f"last_{kind}"]
        if alternate and state["last_pivot"] == kind:
            better = price > last if kind == "high" else price < last
            if not better:
                return
        else:
            state[f"prev_{kind}"] = last
        state[f"last_{kind}"], state[f"last_{kind}_ts"] = price, t
        state["last_pivot"], ev[kind] = kind, True

    for i in range(len(df)):
        ev = {"high": False, "low": False}
        p = i - right
        if p >= 0 and (is_high[p] or is_low[p]):
            kinds = [k for k, f in (("high", is_high[p]), ("low", is_low[p])) if f]
            if len(kinds) == 2 and state["last_pivot"] == "high":
                kinds.reverse()
            for k in kinds:
                register(k, float(df[k].iloc[p]), float(ts[p]), ev)
        for k in names:
            rows[k].append(state[k])
        rows["last_pivot"].append(state["last_pivot"])
        rows["new_high"].append(ev["high"])
        rows["new_low"].append(ev["low"])
    return rows


# ---------------------------------------------------------------------------------------------
# Hand-computed sequences (left = right = 2 unless stated)
# ---------------------------------------------------------------------------------------------


def test_pivots_are_emitted_right_bars_after_the_pivot_bar():
    #   i:     0   1   2   3   4   5   6   7   8   9  10  11
    high = [10, 11, 15, 12, 11, 13, 14, 13, 12, 12, 16, 15]
    low = [9, 10, 13, 11, 8, 9, 12, 11, 10, 9, 14, 13]
    # Pivot highs (high[p] > the 2 before, >= the 2 after):
    #   p=2: 15 > 10,11 and >= 12,11 -> confirmed on bar 4 (= p + right), not on bar 2
    #   p=5: 13 < 14 after -> no;  p=6: 14 > 11,13 and >= 13,12 -> confirmed on bar 8
    #   p=7: 13 > 13? no (strict on the left)
    # Pivot lows (low[p] < the 2 before, <= the 2 after):
    #   p=4: 8 < 13,11 and <= 9,12 -> bar 6;  p=8: 10 > 9 after -> no
    #   p=9: 9 < 11,10 and <= 14,13 -> bar 11
    out = structures.compute("swing", frame(high, low), left=2, right=2)
    ts = [T0 + i * STEP for i in range(12)]
    assert np.flatnonzero(out["new_high"]).tolist() == [4, 8]
    assert np.flatnonzero(out["new_low"]).tolist() == [6, 11]
    assert same(col(out, "last_high"), [NAN] * 4 + [15.0] * 4 + [14.0] * 4)
    assert same(col(out, "last_high_ts"), [NAN] * 4 + [float(ts[2])] * 4 + [float(ts[6])] * 4)
    assert same(col(out, "prev_high"), [NAN] * 8 + [15.0] * 4)
    assert same(col(out, "last_low"), [NAN] * 6 + [8.0] * 5 + [9.0])
    assert same(col(out, "last_low_ts"), [NAN] * 6 + [float(ts[4])] * 5 + [float(ts[9])])
    assert same(col(out, "prev_low"), [NAN] * 11 + [8.0])
    assert col(out, "last_pivot") == [""] * 4 + ["high"] * 2 + ["low"] * 2 + ["high"] * 3 + ["low"]
    # On the pivot bar itself (2) nothing is known yet: a centred window would say 15 there.
    assert math.isnan(out["last_high"].iloc[2]) and not out["new_high"].iloc[2]


def test_ties_first_of_equal_highs_and_lows_is_the_pivot():
    #   i:    0   1   2   3   4   5   6   7
    high = [10, 11, 13, 13, 12, 11, 10, 10]
    low = [5, 6, 7, 7, 6, 5, 4, 4]
    # p=2: 13 > 10,11 and >= 13 (tie after is allowed),12 -> pivot high, confirmed on bar 4
    # p=3: 13 > 13? no: of equal highs within `left` bars only the first is a pivot
    # lows: p=2..5 each is above a low before it -> no pivot low
    out = structures.compute("swing", frame(high, low), left=2, right=2)
    assert np.flatnonzero(out["new_high"]).tolist() == [4]
    assert out["last_high_ts"].iloc[-1] == T0 + 2 * STEP
    assert not out["new_low"].any()
    # Mirror for lows: negate the prices.
    out = structures.compute("swing", frame([-x for x in low], [-x for x in high]), left=2, right=2)
    assert np.flatnonzero(out["new_low"]).tolist() == [4]
    assert out["last_low"].iloc[-1] == -13.0


def test_right_zero_confirms_on_the_pivot_bar_itself():
    high = [10, 11, 12, 11, 13]
    low = [9, 10, 11, 10.5, 12]
    # right=0: a pivot high is a bar above the `left` before it; p=2 (12 > 10,11), p=4 (13)
    out = structures.compute("swing", frame(high, low), left=2, right=0)
    assert np.flatnonzero(out["new_high"]).tolist() == [2, 4]
    assert out["last_high"].tolist()[2:] == [12.0, 12.0, 13.0]


ALT_HIGH = [10, 12, 11, 13, 12, 12.5, 12, 11, 10, 12, 11]
ALT_LOW = [5, 6, 7, 8, 9, 10, 11, 9, 8.5, 9.5, 10]
# left = right = 1. Raw pivots: highs 12@1 (bar 2), 13@3 (bar 4), 12.5@5 (bar 6), 12@9 (bar 10);
# lows: only 8.5@8 (bar 9) (lows rise elsewhere).


def test_without_alternation_every_pivot_is_registered():
    out = structures.compute("swing", frame(ALT_HIGH, ALT_LOW), left=1, right=1)
    assert np.flatnonzero(out["new_high"]).tolist() == [2, 4, 6, 10]
    assert same(col(out, "last_high"), [NAN] * 2 + [12.0] * 2 + [13.0] * 2 + [12.5] * 4 + [12.0])
    assert same(col(out, "prev_high"), [NAN] * 4 + [12.0] * 2 + [13.0] * 4 + [12.5])
    assert np.flatnonzero(out["new_low"]).tolist() == [9]


def test_alternation_replaces_by_a_more_extreme_pivot_and_ignores_others():
    # bar 2: 12 registered. bar 4: 13 is a second high in a row and higher -> replaces 12:
    # last_high 13 (ts of bar 3), prev_high unchanged (NaN), new_high True.
    # bar 6: 12.5 is a second high in a row but lower -> ignored (no event, no change).
    # bar 9: low 8.5 registered. bar 10: high 12 alternates -> registered, prev_high = 13.
    out = structures.compute("swing", frame(ALT_HIGH, ALT_LOW), left=1, right=1, alternate=True)
    assert np.flatnonzero(out["new_high"]).tolist() == [2, 4, 10]
    assert same(col(out, "last_high"), [NAN] * 2 + [12.0] * 2 + [13.0] * 6 + [12.0])
    assert same(col(out, "prev_high"), [NAN] * 10 + [13.0])
    assert out["last_high_ts"].iloc[5] == T0 + 3 * STEP
    # A tie is not "more extreme": with high[5] = 13 the pivot is ignored too.
    tie = ALT_HIGH.copy()
    tie[5] = 13
    out = structures.compute("swing", frame(tie, ALT_LOW), left=1, right=1, alternate=True)
    assert np.flatnonzero(out["new_high"]).tolist() == [2, 4, 10]
    assert out["last_high_ts"].iloc[8] == T0 + 3 * STEP
    plain = structures.compute("swing", frame(tie, ALT_LOW), left=1, right=1)
    assert plain["last_high_ts"].iloc[8] == T0 + 5 * STEP


def test_a_bar_that_is_both_pivots_registers_both_opposite_kind_first():
    # left = right = 1. p=2 is an outside bar: high 14 > 11 and >= 12; low 7 < 10 and <= 9.
    out = structures.compute("swing", frame([10, 11, 14, 12], [9, 10, 7, 9]), left=1, right=1)
    # No pivot before: high first, then low -> last_pivot "low"; both events on bar 3.
    assert out["new_high"].iloc[3] and out["new_low"].iloc[3]
    assert out["last_pivot"].iloc[3] == "low"
    # After a pivot high (12@1, bar 2), p=3 is both: the low goes first, then the high.
    df = frame([10, 12, 11, 14, 12], [9, 10, 10.5, 7, 9])
    for alternate in (False, True):
        out = structures.compute("swing", df, left=1, right=1, alternate=alternate)
        assert out["last_pivot"].tolist()[2:] == ["high", "high", "high"]
        assert out["new_low"].iloc[4] and out["new_high"].iloc[4]
        assert (out["prev_high"].iloc[4], out["last_high"].iloc[4]) == (12.0, 14.0)


def test_warmup_ready_and_no_pivot_yet():
    spec = structures.spec("swing")
    assert spec.warmup_bars({}) == 11
    assert spec.warmup_bars({"left": 3, "right": 2}) == 6
    sw = structures.create("swing", left=2, right=2)
    flat = [(T0 + i * STEP, 1.0, 1.0, 1.0, 1.0, 1.0) for i in range(6)]
    for bar in flat:
        sw.update(*bar)
    # ready (6 >= 5 bars) but flat bars have no pivot: NaN means "no pivot yet"
    assert sw.ready and math.isnan(sw.value("last_high")) and sw.value("last_pivot") == ""


# ---------------------------------------------------------------------------------------------
# Properties against the independent centred reference
# ---------------------------------------------------------------------------------------------


@st.composite
def bars(draw):
    n = draw(st.integers(1, 70))
    high = draw(st.lists(st.integers(0, 8), min_size=n, max_size=n))
    spread = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    return frame(
        [float(h) for h in high], [float(h - s) for h, s in zip(high, spread, strict=True)]
    )


@settings(max_examples=300, deadline=None)
@given(df=bars(), left=st.integers(1, 4), right=st.integers(0, 4), alternate=st.booleans())
def test_matches_the_centred_reference_shifted_by_right(df, left, right, alternate):
    out = structures.compute("swing", df, left=left, right=right, alternate=alternate)
    want = expected_swing(df, left, right, alternate)
    for name, values in want.items():
        assert same(col(out, name), values), name


@settings(max_examples=200, deadline=None)
@given(df=bars(), left=st.integers(1, 4), right=st.integers(0, 4))
def test_pivot_price_is_the_extreme_of_its_window_and_ts_is_right_bars_back(df, left, right):
    out = structures.compute("swing", df, left=left, right=right)
    high, low, ts = df["high"].to_numpy(), df["low"].to_numpy(), df["ts"].to_numpy()
    for i in np.flatnonzero(out["new_high"]):
        p = i - right
        assert p >= left  # never before the pivot has `left` bars and `right` bars after it
        assert out["last_high_ts"].iloc[i] == ts[p]
        assert out["last_high"].iloc[i] == high[p - left : i + 1].max() == high[p]
        assert (high[p - left : p] < high[p]).all()
    for i in np.flatnonzero(out["new_low"]):
        p = i - right
        assert out["last_low_ts"].iloc[i] == ts[p]
        assert out["last_low"].iloc[i] == low[p - left : i + 1].min() == low[p]


@settings(max_examples=200, deadline=None)
@given(df=bars(), left=st.integers(1, 4), right=st.integers(0, 4))
def test_alternation_keeps_the_registered_sequence_alternating(df, left, right):
    out = structures.compute("swing", df, left=left, right=right, alternate=True)
    seq = []  # registered pivots; a replacement overwrites the last entry
    for i in range(len(df)):
        for kind in ("high", "low") if out["last_pivot"].iloc[i] == "low" else ("low", "high"):
            if out[f"new_{kind}"].iloc[i]:
                price = out[f"last_{kind}"].iloc[i]
                if seq and seq[-1][0] == kind:
                    assert price > seq[-1][1] if kind == "high" else price < seq[-1][1]
                    seq[-1] = (kind, price)
                else:
                    seq.append((kind, price))
    assert all(a[0] != b[0] for a, b in itertools.pairwise(seq))


def test_real_data_pivots_appear_right_bars_late_never_on_the_pivot_bar():
    for label, df in real_frames():
        df = df.iloc[:20_000]
        for left, right in ((5, 5), (3, 1)):
            out = structures.compute("swing", df, left=left, right=right)
            centred_h, centred_l = centred_flags(df["high"], df["low"], left, right)
            new_h, new_l = out["new_high"].to_numpy(), out["new_low"].to_numpy()
            # The detector's events are exactly the centred flags delayed by `right` bars ...
            assert (new_h[right:] == centred_h[: len(df) - right]).all(), label
            assert (new_l[right:] == centred_l[: len(df) - right]).all(), label
            assert not new_h[:right].any()
            # ... so a centred (look-ahead) detector differs on most pivot bars.
            assert (centred_h & ~new_h).sum() > 0.5 * centred_h.sum() > 0, label
            # On a pivot bar p, last_high is still the previous pivot, never high[p].
            p = np.flatnonzero(centred_h)
            p = p[p + right < len(df)]
            lh = out["last_high"].to_numpy()
            assert (lh[p + right] == df["high"].to_numpy()[p]).all()
            assert (lh[p] != lh[p + right]).mean() > 0.9, label


def test_random_walk_with_many_ties():
    df = random_walk(3, 3000, tick=0.5)
    for alternate in (False, True):
        out = structures.compute("swing", df, left=4, right=3, alternate=alternate)
        want = expected_swing(df, 4, 3, alternate)
        for name, values in want.items():
            assert same(col(out, name), values), name


def test_bad_params_are_refused():
    from trade_core.errors import BadInputError

    with pytest.raises(BadInputError, match="left: must be >= 1"):
        structures.create("swing", left=0)
    with pytest.raises(BadInputError, match="alternate: expected true or false"):
        structures.create("swing", alternate="yes")
