"""bbands, kc, donchian, zscore: references, invariants, causality, drift, flat windows."""

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

RAMP = ohlc([(x, x, x, x) for x in (1.0, 2.0, 3.0, 4.0, 5.0)])
# o, h, l, c (true ranges from bar 1: 2, 0, 3, 5, 2)
HAND = ohlc([(10, 11, 9, 10), (10, 12, 10, 11), (11, 11, 11, 11), (11, 11, 8, 9),
             (14, 14, 14, 14), (14, 15, 13, 14)])  # fmt: skip
prices = st.lists(st.floats(1.0, 1000.0, allow_nan=False, allow_infinity=False),
                  min_size=2, max_size=60)  # fmt: skip


def exact_zscore(x: np.ndarray, n: int) -> np.ndarray:
    """Slow reference: each window anchored at its first value (exact), plain two-pass."""
    w = sliding_window_view(x, n)
    dev = w - w[:, :1]
    centred = dev - dev.mean(axis=1, keepdims=True)
    sd = np.sqrt((centred**2).mean(axis=1))
    flat = (w == w[:, :1]).all(axis=1)
    z = np.where(flat, 0.0, centred[:, -1] / np.where(flat, 1.0, sd))
    return np.concatenate([np.full(n - 1, np.nan), z])


@pytest.mark.parametrize(("length", "mult"), [(2, 1.0), (5, 2.0), (20, 2.0), (50, 2.5)])
def test_bbands_matches_talib(length, mult):
    for label, frame in frames():
        got = indicators.compute("bbands", frame, length=length, mult=mult)
        close = frame["close"].to_numpy(dtype=float)
        upper, middle, lower = talib.BBANDS(close, length, mult, mult, 0)
        for name, ref in (("upper", upper), ("middle", middle), ("lower", lower)):
            assert_close_to_reference(got[name].to_numpy(), ref, label=f"{label} {name}")
        span = upper - lower
        with np.errstate(divide="ignore", invalid="ignore"):
            pct = np.where(span != 0, (close - lower) / span, 0.5)
        pct[np.isnan(middle)] = np.nan
        assert_close_to_reference(got["width"].to_numpy(), span / middle, label=label)
        assert_close_to_reference(got["percent_b"].to_numpy(), pct, label=label)


def test_bbands_hand_computed_and_flat():
    out = indicators.compute("bbands", RAMP, length=3, mult=2.0).iloc[4]
    dev = 2 * (2 / 3) ** 0.5  # window 3, 4, 5: mean 4, population variance 2/3
    assert out["middle"] == pytest.approx(4.0, rel=1e-15)
    assert (out["upper"], out["lower"]) == pytest.approx((4 + dev, 4 - dev), rel=1e-14)
    assert out["width"] == pytest.approx(2 * dev / 4, rel=1e-14)
    assert out["percent_b"] == pytest.approx((5 - (4 - dev)) / (2 * dev), rel=1e-14)
    flat = indicators.compute("bbands", ohlc([(7.7, 7.7, 7.7, 7.7)] * 30), length=20)
    assert flat["percent_b"].tolist()[19:] == [0.5] * 11
    assert flat["width"].tolist()[19:] == [0.0] * 11
    assert flat["upper"].tolist()[19:] == flat["lower"].tolist()[19:]


@pytest.mark.parametrize(("length", "mult"), [(1, 1.0), (2, 2.0), (20, 2.0), (50, 1.5)])
def test_kc_equals_talib_ema_and_atr(length, mult):
    for label, frame in frames():
        got = indicators.compute("kc", frame, length=length, mult=mult)
        h, lo, c = hlc(frame)
        ema, atr = talib.EMA(c, length), talib.ATR(h, lo, c, length)
        ema[np.isnan(atr)] = np.nan  # every output starts with the ATR
        for name, ref in (
            ("upper", ema + mult * atr),
            ("middle", ema),
            ("lower", ema - mult * atr),
        ):
            assert_close_to_reference(got[name].to_numpy(), ref, label=f"{label} {name}")


def test_kc_hand_computed():
    kc = indicators.compute("kc", HAND, length=2, mult=1.0)
    # EMA(2), k = 2/3: seed (10 + 11)/2 = 10.5; (11 - 10.5)*2/3 + 10.5 = 65/6; then
    # (9 - 65/6)*2/3 + 65/6 = 173/18. ATR(2): seed (2 + 0)/2 = 1 at bar 2; (1*1 + 3)/2 = 2.
    assert np.isnan(kc.iloc[:2].to_numpy()).all()
    assert kc.iloc[2].tolist() == pytest.approx([65 / 6 + 1, 65 / 6, 65 / 6 - 1], rel=1e-14)
    assert kc.iloc[3].tolist() == pytest.approx([173 / 18 + 2, 173 / 18, 173 / 18 - 2], rel=1e-14)


@pytest.mark.parametrize("length", [1, 2, 20, 55, 500])
def test_donchian_matches_talib_max_min_and_pandas(length):
    for label, frame in frames():
        got = indicators.compute("donchian", frame, length=length)
        h, lo, _ = hlc(frame)
        upper, lower = (talib.MAX(h, length), talib.MIN(lo, length)) if length > 1 else (h, lo)
        assert_close_to_reference(got["upper"].to_numpy(), upper, label=label)
        assert_close_to_reference(got["lower"].to_numpy(), lower, label=label)
        assert_close_to_reference(got["middle"].to_numpy(), (upper + lower) / 2.0, label=label)
        rolled = frame["low"].rolling(length).min().to_numpy()
        assert np.array_equal(got["lower"].to_numpy(), rolled, equal_nan=True)


@settings(max_examples=80, deadline=None)
@given(highs=prices, spreads=st.lists(st.floats(0.0, 5.0), min_size=60, max_size=60),
       length=st.integers(1, 12))  # fmt: skip
def test_donchian_invariants(highs, spreads, length):
    h = np.asarray(highs)
    lo = h - np.asarray(spreads[: len(h)])
    df = ohlc(list(zip(h, h, lo, lo, strict=True)))
    out = indicators.compute("donchian", df, length=length).to_numpy()
    stream = indicators.REGISTRY.compute("donchian", df, mode="stream", length=length)
    assert np.array_equal(out, stream.to_numpy(), equal_nan=True)
    for i in range(length - 1, len(h)):
        upper, middle, lower = out[i]
        assert (
            upper == h[i - length + 1 : i + 1].max() and lower == lo[i - length + 1 : i + 1].min()
        )
        assert lower <= middle <= upper


@pytest.mark.parametrize("length", [2, 20, 100])
def test_zscore_matches_exact_reference(length):
    for label, frame in frames():
        got = indicators.compute("zscore", frame, length=length)["value"].to_numpy()
        ref = exact_zscore(frame["close"].to_numpy(dtype=float), length)
        assert np.array_equal(np.isnan(got), np.isnan(ref)), label
        # z units (standard deviations); worst case 9.7e-9 on BTC 1h with n = 2
        assert np.nanmax(np.abs(got - ref)) < 3e-8, label


def test_zscore_agrees_with_talib_sma_and_stddev():
    for label, frame in frames():
        close = frame["close"].to_numpy(dtype=float)
        got = indicators.compute("zscore", frame, length=20)["value"].to_numpy()
        sd = talib.STDDEV(close, 20, 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ref = (close - talib.SMA(close, 20)) / sd
        defined = sd > 0
        # x - SMA at price scale cancels digits: agreement to ~1e-8 is all the composite offers
        assert np.max(np.abs(got[defined] - ref[defined])) < 1e-6, label
        assert (got[19:][sd[19:] == 0] == 0.0).all(), label


def test_zscore_hand_computed_and_flat():
    z = indicators.compute("zscore", RAMP, length=3)["value"].to_numpy()
    # window k, k+1, k+2: mean k+1, sd sqrt(2/3), z = 1 / sqrt(2/3)
    assert np.isnan(z[:2]).all() and z[2:] == pytest.approx([1.5**0.5] * 3, rel=1e-12)
    df = ohlc([(x, x, x, x) for x in (5.0, 3.3, 3.3, 3.3, 3.3, 4.0)])
    z = indicators.compute("zscore", df, length=3)["value"].to_numpy()
    # {b, a, a} with x = a: deviation -d/3, sd d*sqrt(2)/3 -> -1/sqrt(2); {a, a, b}: +sqrt(2)
    assert z[[2, 5]] == pytest.approx([-(0.5**0.5), 2**0.5], rel=1e-12)
    assert z[3] == 0.0 and z[4] == 0.0  # flat windows: exactly 0, not NaN


@settings(max_examples=80, deadline=None)
@given(ticks=st.lists(st.integers(100, 100_000), min_size=2, max_size=60),
       length=st.integers(2, 20), scale=st.floats(0.5, 100.0), shift=st.floats(-50, 50))  # fmt: skip
def test_zscore_invariants(ticks, length, scale, shift):
    x = np.asarray(ticks) / 100.0  # prices on a 0.01 tick grid
    z = indicators.compute("zscore", ohlc([(v, v, v, v) for v in x]), length=length)["value"]
    z = z.to_numpy()[length - 1 :]
    assert (np.abs(z) <= (length - 1) ** 0.5 + 1e-9).all()  # bound of a population z-score
    y = x * scale + shift + 1000.0  # affine maps leave z unchanged
    zy = indicators.compute("zscore", ohlc([(v, v, v, v) for v in y]), length=length)["value"]
    assert np.allclose(zy.to_numpy()[length - 1 :], z, atol=1e-6)


@pytest.mark.parametrize(
    ("name", "params"),
    [("bbands", {"length": 20}), ("bbands", {"length": 3, "mult": 1.5, "source": "hlc3"}),
     ("kc", {"length": 20}), ("kc", {"length": 5, "source": "hl2"}), ("donchian", {"length": 20}),
     ("donchian", {"length": 1}), ("zscore", {"length": 14}), ("zscore", {"length": 2})],
)  # fmt: skip
def test_causal_and_stream_equals_compute(name, params):
    for frame in causal_slices():
        assert_causal_and_batch_equal(indicators.REGISTRY, name, frame, **params)
        batch = indicators.REGISTRY.compute(name, frame, mode="batch", **params)
        stream = indicators.REGISTRY.compute(name, frame, mode="stream", **params)
        pd.testing.assert_frame_equal(batch, stream, check_exact=True)  # bit for bit


def test_long_run_has_no_drift():
    year = year_1m()
    h, lo, c = hlc(year)
    bb = indicators.compute("bbands", year)
    upper, middle, _ = talib.BBANDS(c, 20, 2.0, 2.0, 0)
    assert_close_to_reference(bb["upper"].to_numpy(), upper, label="bbands year")
    assert_close_to_reference(bb["middle"].to_numpy(), middle, label="bbands year")
    kc = indicators.compute("kc", year)["upper"].to_numpy()
    ema, atr = talib.EMA(c, 20), talib.ATR(h, lo, c, 20)
    assert_close_to_reference(kc[20:], (ema + 2.0 * atr)[20:], label="kc year")
    z = indicators.compute("zscore", year, length=20)["value"].to_numpy()
    assert np.nanmax(np.abs(z - exact_zscore(c, 20))) < 1e-9
