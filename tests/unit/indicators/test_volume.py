"""OBV, AD, ADOSC and MFI: bit-for-bit TA-Lib parity, causality, drift and edge cases."""

import math

import numpy as np
import pandas as pd
import pytest
import talib
from numpy.lib.stride_tricks import sliding_window_view

from tests.support.features import (
    assert_causal_and_batch_equal,
    assert_close_to_reference,
    real_frames,
)
from tests.unit.indicators._synth_year import btc_edge_slice, synth_year
from trade_core import indicators


def _hlcv(frame):
    return tuple(frame[k].to_numpy(dtype=float) for k in ("high", "low", "close", "volume"))


def _ref(name, params):
    """The TA-Lib call for ``name`` with ``params``."""

    def run(frame):
        h, lo, c, v = _hlcv(frame)
        if name == "obv":
            x = (h + lo + c) / 3.0 if params.get("source") == "hlc3" else c
            return talib.OBV(x, v)
        if name == "ad":
            return talib.AD(h, lo, c, v)
        if name == "adosc":
            return talib.ADOSC(h, lo, c, v, params.get("fast", 3), params.get("slow", 10))
        return talib.MFI(h, lo, c, v, params.get("length", 14))

    return run


CASES = [
    ("obv", {}),
    ("obv", {"source": "hlc3"}),
    ("ad", {}),
    ("adosc", {}),
    ("adosc", {"fast": 2, "slow": 30}),
    ("adosc", {"fast": 12, "slow": 5}),
    ("mfi", {}),
    ("mfi", {"length": 2}),
    ("mfi", {"length": 50}),
]


@pytest.mark.parametrize(("name", "params"), CASES)
def test_matches_talib_on_real_data(name, params):
    for label, frame in real_frames():
        got = indicators.compute(name, frame, **params)["value"].to_numpy()
        ref = _ref(name, params)(frame)
        assert_close_to_reference(got, ref, rtol=1e-9, label=label)
        # The arithmetic mirrors TA-Lib 0.8.1 operation for operation: equal to the last bit.
        assert np.array_equal(got, ref, equal_nan=True), label


@pytest.mark.parametrize(("name", "params"), CASES)
def test_causal_and_stream_equals_compute(name, params):
    _, frame = next(real_frames())
    assert_causal_and_batch_equal(indicators.REGISTRY, name, frame.iloc[:3000], **params)
    assert_causal_and_batch_equal(indicators.REGISTRY, name, btc_edge_slice(), **params)


@pytest.mark.parametrize(("name", "params"), CASES)
def test_streaming_equals_talib_on_flat_and_zero_volume_bars(name, params):
    frame = btc_edge_slice()
    feature = indicators.create(name, **params)
    got = []
    for row in frame.itertuples(index=False):
        feature.update(row.ts, row.open, row.high, row.low, row.close, row.volume)
        got.append(feature.out[0])
    assert np.array_equal(np.asarray(got), _ref(name, params)(frame), equal_nan=True)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "params"), [("obv", {}), ("ad", {}), ("adosc", {}), ("mfi", {})])
def test_no_float_drift_over_a_year_of_1m_bars(name, params):
    year = synth_year()
    got = indicators.compute(name, year, **params)["value"].to_numpy()
    assert np.array_equal(got, _ref(name, params)(year), equal_nan=True)


def test_mfi_running_sums_stay_close_to_fresh_window_sums_over_a_year():
    """MFI keeps TA-Lib's running sums; over 525,600 bars they stay within 1e-9 (in MFI
    points) of a non-incremental recomputation with exactly rounded window sums."""
    year, n = synth_year(), 14
    h, lo, c, v = _hlcv(year)
    tp = (h + lo + c) / 3.0
    d = tp[1:] - tp[:-1]
    dead = np.abs(d) <= 1e-14 * (np.abs(tp[1:]) + np.abs(tp[:-1]))
    mf = np.where(dead, 0.0, tp[1:] * v[1:])
    pos = sliding_window_view(np.where(d > 0, mf, 0.0), n)
    neg = sliding_window_view(np.where(d < 0, mf, 0.0), n)
    p = np.array([math.fsum(w) for w in pos])
    q = np.array([math.fsum(w) for w in neg])
    with np.errstate(invalid="ignore", divide="ignore"):
        fresh = np.where(p + q > 0, 100.0 * p / (p + q), 0.0)
    got = indicators.compute("mfi", year)["value"].to_numpy()[n:]
    assert np.max(np.abs(got - fresh)) <= 1e-9


def _frame(rows):
    df = pd.DataFrame(rows, columns=["open", "high", "low", "close", "volume"])
    df["ts"] = np.arange(len(df)) * 60_000
    return df


def test_hand_computed_obv_and_ad():
    df = _frame([
        [10, 12, 8, 11, 100],   # mfm = ((11-8)-(12-11))/4 = 0.5 -> ad 50; obv starts at 100
        [11, 11, 11, 11, 40],   # flat bar: mfm 0/0 -> adds nothing; close unchanged -> obv 100
        [11, 13, 9, 9, 10],     # mfm = (0-4)/4 = -1 -> ad 40; close down -> obv 90
        [9, 10, 8, 10, 20],     # mfm = (2-0)/2 = 1 -> ad 60; close up -> obv 110
    ])  # fmt: skip
    assert indicators.compute("obv", df)["value"].tolist() == [100.0, 100.0, 90.0, 110.0]
    assert indicators.compute("ad", df)["value"].tolist() == [50.0, 50.0, 40.0, 60.0]


def test_hand_computed_adosc():
    df = _frame([[1, 2, 0, 2, 4], [1, 2, 0, 0, 2], [1, 2, 0, 2, 8]])
    # AD: 4, 2, 10. fast=2 (k=2/3), slow=3 (k=1/2), both seeded with ad_1 = 4:
    # bar 2: fast = 2/3*2 + 1/3*4 = 8/3, slow = 3; bar 3: fast = 20/3 + 8/9 = 68/9,
    # slow = 5 + 3/2 = 13/2 -> ADOSC = 68/9 - 13/2 = 19/18 (first value at bar max(2,3)=3).
    got = indicators.compute("adosc", df, fast=2, slow=3)["value"].to_numpy()
    assert np.isnan(got[:2]).all()
    assert got[2] == pytest.approx(19 / 18, rel=1e-15)


def test_hand_computed_mfi():
    df = _frame([
        [1, 3, 1, 2, 5],     # tp 2
        [1, 4, 2, 3, 10],    # tp 3 up: +30
        [1, 3, 1, 2, 5],     # tp 2 down: -10
        [1, 3, 1, 2, 7],     # tp 2 unchanged: no flow
        [1, 5, 3, 4, 1],     # tp 4 up: +4
    ])  # fmt: skip
    got = indicators.compute("mfi", df, length=2)["value"].to_numpy()
    # bar 3: P=30, N=10 -> 75; bar 4: P=0, N=10 -> 0; bar 5: P=4, N=0 -> 100
    assert np.isnan(got[:2]).all()
    assert got[2:].tolist() == [75.0, 0.0, 100.0]


def test_mfi_edge_cases_follow_talib():
    flat = _frame([[5, 5, 5, 5, 3]] * 30)  # typical price never moves -> no flow -> 0
    zero_volume = _frame([[5, 6, 4, 5 + (i % 3), 0] for i in range(30)])  # no volume -> 0
    for df in (flat, zero_volume):
        got = indicators.compute("mfi", df)["value"].to_numpy()
        assert got[14:].tolist() == [0.0] * 16
        assert np.array_equal(got, _ref("mfi", {})(df), equal_nan=True)
    # A one-ulp move of the typical price is inside TA-Lib's scaled dead-zone: no flow.
    x, y = 1.5, math.nextafter(1.5, 2.0)
    ulp = _frame([[x, x, x, x, 1], [y, y, y, y, 1], [y, y, y, y, 1], [x, x, x, x, 1]])
    assert indicators.compute("mfi", ulp, length=2)["value"].tolist()[2:] == [0.0, 0.0]
    # After >= n bars without flow the sums restart from exactly 0: the next rise gives 100.
    rows = [[1, 2, 0, 1 + (i % 2), 10] for i in range(20)] + [[1, 1, 1, 1, 0]] * 14
    rows += [[2, 2, 2, 2, 1]]
    got = indicators.compute("mfi", _frame(rows))["value"].to_numpy()
    assert got[-2] == 0.0 and got[-1] == 100.0


def test_flat_bars_add_nothing_to_ad_and_adosc():
    df = _frame([[7, 7, 7, 7, 100]] * 12)
    assert indicators.compute("ad", df)["value"].tolist() == [0.0] * 12
    assert indicators.compute("adosc", df)["value"].tolist()[9:] == [0.0] * 3


def test_obv_starts_at_first_volume_and_ignores_unchanged_closes():
    df = _frame([[1, 1, 1, 1, 5], [1, 1, 1, 1, 7], [1, 2, 1, 2, 0], [1, 2, 1, 2, 9]])
    assert indicators.compute("obv", df)["value"].tolist() == [5.0, 5.0, 5.0, 5.0]
