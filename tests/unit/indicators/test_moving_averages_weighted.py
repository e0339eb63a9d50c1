"""WMA, TRIMA, HMA, VWMA (TA-Lib 0.8 parity) and ALMA (published formula): real data,
independent window-by-window references, hand-computed values and invariants."""

import math

import numpy as np
import pandas as pd
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.features import assert_close_to_reference
from tests.unit.indicators._ma_support import (
    alma_ref,
    frame_of,
    hma_ref,
    real_data,
    trima_ref,
    values,
    vwma_ref,
    wma_ref,
)
from trade_core import indicators
from trade_core.errors import BadInputError

LENGTHS = [1, 2, 3, 4, 5, 9, 20, 50, 200]
TALIB = {"wma": talib.WMA, "trima": talib.TRIMA, "hma": talib.HMA}
REFS = {"wma": wma_ref, "trima": trima_ref, "hma": hma_ref}


@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize("name", ["wma", "trima", "hma"])
def test_matches_talib_on_real_data(name, length):
    for label, frame in real_data():
        ref = TALIB[name](frame["close"].to_numpy(float), length)
        assert_close_to_reference(values(name, frame, length=length), ref, label=label)


@pytest.mark.parametrize("length", [2, 5, 16, 21])
@pytest.mark.parametrize("name", ["wma", "trima", "hma"])
def test_matches_the_textbook_window_formula(name, length):
    _, frame = real_data()[-1]
    close = frame["close"].to_numpy(float)[:3000]
    got = values(name, frame.iloc[:3000], length=length)
    ref = REFS[name](close, length)
    assert_close_to_reference(got[len(got) - len(ref) :], ref, rtol=1e-12)


def test_hand_computed_wma_trima_hma():
    x = [1.0, 2, 3, 4, 5, 6]
    # WMA n=3 at bar 2: (1*1 + 2*2 + 3*3) / 6 = 14/6; bar 5: (4 + 10 + 18) / 6 = 32/6
    wma = values("wma", frame_of(x), length=3)
    assert wma[2] == pytest.approx(14 / 6, rel=1e-15) and wma[5] == pytest.approx(32 / 6)
    # TRIMA n=4, weights 1 2 2 1 / 6: bar 3: (1 + 4 + 6 + 4) / 6 = 2.5; n=5, weights
    # 1 2 3 2 1 / 9: bar 4: (1 + 4 + 9 + 8 + 5) / 9 = 3.0
    assert values("trima", frame_of(x), length=4)[3] == pytest.approx(2.5, rel=1e-15)
    assert values("trima", frame_of(x), length=5)[4] == pytest.approx(3.0, rel=1e-15)
    # HMA n=4 (half 2, outer 2): bar 3: WMA4 = (1+4+9+16)/10 = 3, WMA2 = (3+8)/3 = 11/3,
    # d = 22/3 - 3 = 13/3; bar 4: WMA4 = (2+6+12+20)/10 = 4, WMA2 = 14/3, d = 16/3;
    # HMA at bar 4 = (13/3 + 2 * 16/3) / 3 = 5.0: no lag on a ramp.
    hma = values("hma", frame_of(x), length=4)
    assert np.isnan(hma[:4]).all()
    assert hma[4:] == pytest.approx([5.0, 6.0], rel=1e-14)


def test_hma_degenerate_lengths_match_talib_form():
    # n = 2 and 3: floor(n/2) = floor(sqrt(n)) = 1, so HMA = 2x - WMA(x, n)
    _, frame = real_data()[-1]
    close = frame["close"].to_numpy(float)
    for n in (2, 3):
        expect = 2.0 * close - talib.WMA(close, n)
        assert np.array_equal(values("hma", frame, length=n), expect, equal_nan=True)
    assert indicators.spec("hma").warmup_bars({"length": 20}) == 20 + 4 - 1


# ----------------------------------------------------------------------------- ALMA


def test_alma_hand_computed():
    # n=3, offset 0.85, sigma 6: m = 0.85*2 = 1.7, s = 3/6 = 0.5, 2 s^2 = 0.5
    # w = exp(-(0-1.7)^2/0.5), exp(-(1-1.7)^2/0.5), exp(-(2-1.7)^2/0.5)
    #   = exp(-5.78), exp(-0.98), exp(-0.18)
    w = [math.exp(-5.78), math.exp(-0.98), math.exp(-0.18)]
    #   = 0.0030887, 0.3753111, 0.8352702 (sum 1.2136700)
    # ALMA = (0.0030887*1 + 0.3753111*2 + 0.8352702*4) / 1.2136700 = 4.0947917 / 1.2136700
    expect = (w[0] * 1 + w[1] * 2 + w[2] * 4) / sum(w)  # = 3.3738921
    got = values("alma", frame_of([1.0, 2.0, 4.0]), length=3)
    assert np.isnan(got[:2]).all()
    assert got[2] == pytest.approx(expect, rel=1e-14)
    assert got[2] == pytest.approx(3.3738921, abs=1e-7)
    # offset 0.5, huge s (sigma tiny): every weight ~1, ALMA ~ SMA; n=1: the price itself
    flat_w = values("alma", frame_of([1.0, 2.0, 4.0]), length=3, offset=0.5, sigma=0.01)
    assert flat_w[2] == pytest.approx(7 / 3, rel=1e-4)
    assert values("alma", frame_of([5.0, 7.0]), length=1).tolist() == [5.0, 7.0]


@pytest.mark.parametrize(("length", "offset", "sigma"), [(9, 0.85, 6.0), (2, 0.0, 1.0),
                                                          (50, 0.5, 3.0), (21, 1.0, 50.0)])  # fmt: skip
def test_alma_matches_an_independent_reference(length, offset, sigma):
    for label, frame in real_data():
        part = frame.iloc[:5000]
        got = values("alma", part, length=length, offset=offset, sigma=sigma)
        ref = alma_ref(part["close"].to_numpy(float), length, offset, sigma)
        assert np.isnan(got[: length - 1]).all()
        assert_close_to_reference(got[length - 1 :], ref, rtol=1e-12, label=label)


@settings(max_examples=80, deadline=None)
@given(
    xs=st.lists(st.floats(0.01, 1e6), min_size=12, max_size=40),
    length=st.integers(1, 12),
    offset=st.floats(0.0, 1.0),
    sigma=st.floats(0.01, 50.0),
    a=st.floats(0.5, 3.0),
    b=st.floats(-100.0, 100.0),
)
def test_alma_invariants(xs, length, offset, sigma, a, b):
    x = np.asarray(xs)
    got = values("alma", frame_of(x), length=length, offset=offset, sigma=sigma)
    win = np.lib.stride_tricks.sliding_window_view(x, length)
    tol = 1e-12 * np.abs(x).max()
    # a weighted mean with positive weights stays within its window
    assert np.all(got[length - 1 :] >= win.min(axis=1) - tol)
    assert np.all(got[length - 1 :] <= win.max(axis=1) + tol)
    # affine equivariance: ALMA(a x + b) = a ALMA(x) + b
    moved = values("alma", frame_of(a * x + b), length=length, offset=offset, sigma=sigma)
    assert np.allclose(moved[length - 1 :], a * got[length - 1 :] + b, rtol=1e-12, atol=1e-9)


# ----------------------------------------------------------------------------- VWMA


def _zero_volume_windows(volume: np.ndarray, n: int) -> np.ndarray:
    """True at bar t when the n volumes ending at t are all zero (False in warm-up)."""
    counts = pd.Series(volume == 0.0).rolling(n).sum().to_numpy()
    return counts == n


@pytest.mark.parametrize("length", LENGTHS)
def test_vwma_matches_talib_on_real_data(length):
    """TA-Lib 0.8.1 keeps running totals; on a window whose volume is all zero their residue
    gives garbage (BTCUSD has a 15-bar zero-volume run) where the definition gives 0/0: there
    we are NaN (and so is TA-Lib wherever its residue happens to be exactly 0)."""
    for label, frame in real_data():
        close, vol = frame["close"].to_numpy(float), frame["volume"].to_numpy(float)
        got = values("vwma", frame, length=length)
        ref = talib.VWMA(close, vol, length)
        empty = _zero_volume_windows(vol, length) if length > 1 else np.zeros(len(vol), bool)
        assert np.isnan(got[empty]).all()
        assert not np.isnan(got[length - 1 :][~empty[length - 1 :]]).any()
        assert set(np.flatnonzero(np.isnan(ref))) <= set(np.flatnonzero(np.isnan(got)))
        keep = ~empty
        assert_close_to_reference(got[keep], ref[keep], label=label)


def test_vwma_zero_volume_windows_on_btc_are_nan_and_recover():
    label, frame = real_data()[-1]
    if not label.startswith("BTC"):
        pytest.skip("needs the BTCUSD file with its zero-volume run")
    vol = frame["volume"].to_numpy(float)
    got = values("vwma", frame, length=5)
    empty = _zero_volume_windows(vol, 5)
    assert empty.sum() == 11  # the 15-bar run at rows 9710..9724 gives 11 empty windows
    assert np.isnan(got[empty]).all()
    assert np.isfinite(got[np.flatnonzero(empty)[-1] + 1])  # the next traded bar resumes
    ref = vwma_ref(frame["close"].to_numpy(float), vol, 5)
    assert_close_to_reference(got[4:], ref, rtol=1e-12)


def test_vwma_hand_computed_and_edge_cases():
    # n=2, closes 10 20 30 40, volumes 1 3 0 0:
    #   bar 1: (10*1 + 20*3) / (1+3) = 70/4 = 17.5; bar 2: (20*3 + 30*0) / 3 = 20.0;
    #   bar 3: both volumes 0 -> NaN (0/0)
    got = values("vwma", frame_of([10.0, 20, 30, 40], [1.0, 3, 0, 0]), length=2)
    assert np.isnan(got[0]) and got[1:3].tolist() == [17.5, 20.0] and np.isnan(got[3])
    # equal volumes: the SMA; n = 1: the price even with zero volume (TA-Lib's period 1)
    x = np.array([3.0, 5.0, 4.0, 8.0])
    assert values("vwma", frame_of(x, [2.5] * 4), length=2)[1:].tolist() == [4.0, 4.5, 6.0]
    assert values("vwma", frame_of(x, [0.0] * 4), length=1).tolist() == x.tolist()
    with pytest.raises(BadInputError, match="negative volume"):
        values("vwma", frame_of(x, [1.0, -1.0, 1.0, 1.0]), length=2)
    feature = indicators.create("vwma", length=2)
    with pytest.raises(BadInputError, match="negative volume"):
        feature.update(0, 1.0, 1.0, 1.0, 1.0, -0.5)


@settings(max_examples=80, deadline=None)
@given(
    xs=st.lists(st.floats(0.01, 1e5), min_size=10, max_size=40),
    vs=st.lists(st.sampled_from([0.0, 0.001, 1.0, 2.5, 1e6]), min_size=40, max_size=40),
    length=st.integers(2, 10),
    c=st.floats(1e-3, 1e3),
)
def test_vwma_invariants(xs, vs, length, c):
    x = np.asarray(xs)
    v = np.asarray(vs[: len(x)])
    got = values("vwma", frame_of(x, v), length=length)
    ref = vwma_ref(x, v, length)
    assert np.array_equal(np.isnan(got[length - 1 :]), np.isnan(ref))
    ok = ~np.isnan(ref)
    assert np.allclose(got[length - 1 :][ok], ref[ok], rtol=1e-12, atol=0)
    win = np.lib.stride_tricks.sliding_window_view(x, length)[ok]
    assert np.all(got[length - 1 :][ok] >= win.min(axis=1) * (1 - 1e-12))
    assert np.all(got[length - 1 :][ok] <= win.max(axis=1) * (1 + 1e-12))
    scaled = values("vwma", frame_of(x, c * v), length=length)  # volume units do not matter
    assert np.allclose(scaled, got, rtol=1e-12, equal_nan=True)
