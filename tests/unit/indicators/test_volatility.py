"""true_range, atr, natr, stdev: TA-Lib parity, causality, drift, hand-computed values, speed."""

import numpy as np
import pandas as pd
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from tests.support.features import assert_causal_and_batch_equal, assert_close_to_reference
from tests.unit.indicators._range_data import causal_slices, frames, hlc, ohlc, year_1m
from trade_core import indicators
from trade_core.errors import BadInputError

# o, h, l, c; true ranges from bar 1: 2, 0 (flat at the previous close), 3, 5 (flat gap), 2
HAND = ohlc([(10, 11, 9, 10), (10, 12, 10, 11), (11, 11, 11, 11), (11, 11, 8, 9),
             (14, 14, 14, 14), (14, 15, 13, 14)])  # fmt: skip


def test_true_range_matches_talib():
    for label, frame in frames():
        got = indicators.compute("true_range", frame)["value"].to_numpy()
        assert_close_to_reference(got, talib.TRANGE(*hlc(frame)), label=label)


@pytest.mark.parametrize("length", [1, 2, 14, 50, 200])
def test_atr_matches_talib(length):
    for label, frame in frames():
        got = indicators.compute("atr", frame, length=length)["value"].to_numpy()
        assert_close_to_reference(got, talib.ATR(*hlc(frame), length), label=label)


@pytest.mark.parametrize("length", [2, 14, 50])
def test_natr_matches_talib(length):
    for label, frame in frames():
        got = indicators.compute("natr", frame, length=length)["value"].to_numpy()
        assert_close_to_reference(got, talib.NATR(*hlc(frame), length), label=label)


@pytest.mark.parametrize(
    ("length", "nbdev"), [(2, 1.0), (5, 1.0), (20, 1.0), (20, 2.5), (100, 1.0)]
)
def test_stdev_matches_talib(length, nbdev):
    for label, frame in frames():
        got = indicators.compute("stdev", frame, length=length, nbdev=nbdev)["value"]
        ref = talib.STDDEV(frame["close"].to_numpy(dtype=float), length, nbdev)
        assert_close_to_reference(got.to_numpy(), ref, label=label)


def test_stdev_source_matches_talib_on_that_series():
    _, frame = frames()[0]
    got = indicators.compute("stdev", frame, length=20, source="hl2")["value"].to_numpy()
    hl2 = ((frame["high"] + frame["low"]) / 2.0).to_numpy()
    assert_close_to_reference(got, talib.STDDEV(hl2, 20, 1.0))


@pytest.mark.parametrize(
    ("name", "params"),
    [("true_range", {}), ("atr", {"length": 14}), ("atr", {"length": 1}),
     ("natr", {"length": 5}), ("stdev", {"length": 14}), ("stdev", {"length": 3, "nbdev": 2.0})],
)  # fmt: skip
def test_causal_and_stream_equals_compute(name, params):
    for frame in causal_slices():
        assert_causal_and_batch_equal(indicators.REGISTRY, name, frame, **params)
        batch = indicators.REGISTRY.compute(name, frame, mode="batch", **params)
        stream = indicators.REGISTRY.compute(name, frame, mode="stream", **params)
        pd.testing.assert_frame_equal(batch, stream, check_exact=True)  # bit for bit


def test_hand_computed_true_range_and_atr():
    tr = indicators.compute("true_range", HAND)["value"].tolist()
    assert np.isnan(tr[0]) and tr[1:] == [2.0, 0.0, 3.0, 5.0, 2.0]
    atr = indicators.compute("atr", HAND, length=3)["value"].to_numpy()
    # seed (2 + 0 + 3) / 3 = 5/3; (5/3 * 2 + 5) / 3 = 25/9; (25/9 * 2 + 2) / 3 = 68/27
    assert np.isnan(atr[:3]).all()
    assert atr[3:] == pytest.approx([5 / 3, 25 / 9, 68 / 27], rel=1e-15)
    natr = indicators.compute("natr", HAND, length=3)["value"].to_numpy()
    assert natr[3:] == pytest.approx([5 / 3 / 9 * 100, 25 / 9 / 14 * 100, 68 / 27 / 14 * 100])
    assert indicators.compute("atr", HAND, length=1)["value"].tolist()[1:] == tr[1:]


def test_hand_computed_stdev():
    df = ohlc([(x, x, x, x) for x in (1.0, 2.0, 3.0, 4.0, 5.0)])
    sd = indicators.compute("stdev", df, length=3, nbdev=2.0)["value"].to_numpy()
    # every window is {k, k+1, k+2}: population variance ((-1)^2 + 0 + 1^2) / 3 = 2/3
    assert np.isnan(sd[:2]).all()
    assert sd[2:] == pytest.approx([2 * (2 / 3) ** 0.5] * 3, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    value=st.floats(1e-6, 1e6, allow_nan=False, allow_infinity=False),
    length=st.integers(2, 30),
)
def test_flat_series_has_zero_range_and_zero_deviation(value, length):
    df = ohlc([(value, value, value, value)] * (40 * length))
    assert set(indicators.compute("true_range", df)["value"].tolist()[1:]) == {0.0}
    assert set(indicators.compute("atr", df, length=length)["value"].tolist()[length:]) == {0.0}
    sd = indicators.compute("stdev", df, length=length)["value"].tolist()[length - 1 :]
    assert set(sd) == {0.0}  # exactly 0, also after the periodic re-anchoring (32n bars)


def test_gap_and_zero_volume_bars():
    found = dict(frames())
    if "BTCUSD_1h_2017-07_2019-10.csv.gz" not in found:
        pytest.skip("BTC file with flat bars not available")
    btc = found["BTCUSD_1h_2017-07_2019-10.csv.gz"]
    tr = indicators.compute("true_range", btc)["value"].to_numpy()
    flat_run = slice(9711, 9725)  # 14 flat bars at the previous close, volume 0
    assert (tr[flat_run] == 0.0).all()
    assert indicators.compute("stdev", btc, length=14)["value"].to_numpy()[9724] == 0.0


def test_long_run_has_no_drift():
    """A year of 1m bars: the Wilder recursion and the running variance stay on TA-Lib and on
    an exact two-pass recomputation (measured 3.5e-11 relative at worst)."""
    year = year_1m()
    h, lo, c = hlc(year)
    assert_close_to_reference(indicators.compute("atr", year)["value"].to_numpy(),
                              talib.ATR(h, lo, c, 14), label="atr year")  # fmt: skip
    got = indicators.compute("stdev", year, length=20)["value"].to_numpy()
    assert_close_to_reference(got, talib.STDDEV(c, 20, 1.0), label="stdev year")
    windows = sliding_window_view(c, 20)
    dev = windows - windows[:, :1]  # exact anchoring, then a plain two-pass
    exact = np.sqrt(((dev - dev.mean(axis=1, keepdims=True)) ** 2).mean(axis=1))
    assert np.max(np.abs(got[19:] - exact) / exact) < 1e-9


def test_natr_length_one_is_refused():
    with pytest.raises(BadInputError, match="length: must be >= 2"):
        indicators.create("natr", length=1)
