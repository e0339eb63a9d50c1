"""Momentum indicators TA-Lib lacks ("fisher", "ao"): hand-computed windows and independent
slow references; invariants of every oscillator; the exact kernels behind them."""

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.features import assert_close_to_reference, real_frames
from trade_core import indicators
from trade_core.errors import BadInputError
from trade_core.indicators._momentum_kernels import (
    RollingMax,
    RollingMin,
    RunningSMA,
    SeededEMA,
    ema_values,
    fma,
    rolling_max,
    rolling_min,
)


def _frame(close, high=None, low=None) -> pd.DataFrame:
    close = np.asarray(close, dtype=float)
    high = close if high is None else np.asarray(high, dtype=float)
    low = close if low is None else np.asarray(low, dtype=float)
    return pd.DataFrame({"open": close, "high": high, "low": low, "close": close, "volume": 1.0})


# ---------------------------------------------------------------- fisher


def test_fisher_hand_computed_window():
    # length 3 on hl2 = close (high == low): prices 1, 2, 3, 2, 4.
    # bar 2: window [1,2,3], hi 3, lo 1, p 3: v = 0.66 * (1 - 0.5) + 0.67 * 0 = 0.33
    #        fisher = 0.5 * ln(1.33 / 0.67) + 0.5 * 0 = 0.342828...      (warm-up, hidden)
    # bar 3: window [2,3,2], p = lo: v = 0.66 * (0 - 0.5) + 0.67 * 0.33 = -0.1089
    #        fisher = 0.5 * ln(0.8911 / 1.1089) + 0.5 * 0.342828 = 0.062080...
    # bar 4: window [3,2,4], p = hi: v = 0.33 + 0.67 * -0.1089 = 0.257037
    #        fisher = 0.5 * ln(1.257037 / 0.742963) + 0.5 * 0.062080 = 0.293973...
    out = indicators.compute("fisher", _frame([1, 2, 3, 2, 4]), length=3)
    f2 = 0.5 * math.log(1.33 / 0.67)
    f3 = 0.5 * math.log(0.8911 / 1.1089) + 0.5 * f2
    f4 = 0.5 * math.log(1.257037 / 0.742963) + 0.5 * f3
    assert np.isnan(out["fisher"][:3]).all() and np.isnan(out["trigger"][:3]).all()
    assert out["fisher"][3:].tolist() == pytest.approx([f3, f4], abs=1e-12)
    assert out["trigger"][3:].tolist() == pytest.approx([f2, f3], abs=1e-12)
    assert (f3, f4) == pytest.approx((0.0620805485, 0.2939734732), abs=1e-10)


def test_fisher_clamp_and_flat_window():
    # Always at the top of its window: v -> 0.33 + 0.67 v climbs past 0.99 and is clamped to
    # 0.999, so fisher -> 0.5 ln(1999) / (1 - 0.5) = ln(1999) = 7.6004...
    rising = indicators.compute("fisher", _frame(np.arange(1.0, 301.0)), length=5)["fisher"]
    assert rising.iloc[-1] == pytest.approx(math.log(1999), rel=1e-12)
    assert rising.max() <= math.log(1999) + 1e-12
    # A flat window is position 0.5: v and fisher stay exactly 0.
    flat = indicators.compute("fisher", _frame(np.full(50, 7.0)), length=5)
    assert (flat["fisher"].dropna() == 0.0).all() and (flat["trigger"].dropna() == 0.0).all()


def _slow_fisher(p: list[float], n: int) -> tuple[list[float], list[float]]:
    """Ehlers' listing, written independently: window slices, no deques, no numpy."""
    fish, trig = [math.nan] * len(p), [math.nan] * len(p)
    v = f = 0.0
    for t in range(n - 1, len(p)):
        hi, lo = max(p[t - n + 1 : t + 1]), min(p[t - n + 1 : t + 1])
        # flat = relative range <= 1e-14; real hl2 data has 1-ulp "ranges" (5.7345 next to
        # 5.734500000000001) that must not read as a full swing
        pos = 0.5 if hi - lo <= 1e-14 * (abs(hi) + abs(lo)) else (p[t] - lo) / (hi - lo)
        v = 0.33 * 2 * (pos - 0.5) + 0.67 * v
        v = 0.999 if v > 0.99 else (-0.999 if v < -0.99 else v)
        prev, f = f, 0.5 * math.log((1 + v) / (1 - v)) + 0.5 * f
        if t >= n:
            fish[t], trig[t] = f, prev
    return fish, trig


@pytest.mark.parametrize("length", [2, 9, 30])
def test_fisher_matches_slow_reference_on_real_data(length):
    for label, frame in real_frames():
        frame = frame.iloc[:20_000]
        hl2 = ((frame["high"] + frame["low"]) / 2.0).tolist()
        fish, trig = _slow_fisher(hl2, length)
        got = indicators.compute("fisher", frame, length=length)
        assert_close_to_reference(got["fisher"].to_numpy(), np.array(fish), label=label)
        assert_close_to_reference(got["trigger"].to_numpy(), np.array(trig), label=label)
        fisher, trigger = got["fisher"].to_numpy(), got["trigger"].to_numpy()
        assert np.array_equal(trigger[length + 1 :], fisher[length:-1])


# ---------------------------------------------------------------- ao


def test_ao_hand_computed_window():
    # hl2 = 1, 2, 3, 4, 5 (high = close + 1, low = close - 1). fast 2, slow 3:
    # SMA2 = -, 1.5, 2.5, 3.5, 4.5; SMA3 = -, -, 2, 3, 4; AO = -, -, 0.5, 0.5, 0.5
    close = np.arange(1.0, 6.0)
    out = indicators.compute("ao", _frame(close, close + 1, close - 1), fast=2, slow=3)
    assert np.isnan(out["value"][:2]).all()
    assert out["value"][2:].tolist() == [0.5, 0.5, 0.5]


def test_ao_equals_talib_sma_difference_and_pandas_rolling():
    for label, frame in real_frames():
        hl2 = (frame["high"] + frame["low"]) / 2.0
        got = indicators.compute("ao", frame)["value"].to_numpy()
        arr = hl2.to_numpy()
        exact = talib.SMA(arr, 5) - talib.SMA(arr, 34)  # same running totals: bit for bit
        assert np.array_equal(got, exact, equal_nan=True), label
        # pandas' compensated rolling sums: equal up to rounding, measured against the price
        independent = (hl2.rolling(5).mean() - hl2.rolling(34).mean()).to_numpy()
        assert np.array_equal(np.isnan(got), np.isnan(independent)), label
        assert np.nanmax(np.abs(got - independent) / arr) < 1e-12, label


# ---------------------------------------------------------------- invariants


@st.composite
def bars(draw):
    n = draw(st.integers(30, 120))
    steps = draw(st.lists(st.floats(-0.05, 0.05), min_size=n, max_size=n))
    close = 100.0 * np.cumprod(1.0 + np.array(steps))
    flat = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    wick_up = np.where(flat, 0.0, draw(st.floats(0.0, 2.0)))
    wick_dn = np.where(flat, 0.0, draw(st.floats(0.0, 2.0)))
    opens = np.r_[close[0], close[:-1]]
    opens = np.where(flat, close, opens)
    high = np.maximum(opens, close) + wick_up
    low = np.minimum(opens, close) - wick_dn
    return pd.DataFrame({"open": opens, "high": high, "low": low, "close": close, "volume": 1.0})


RANGES = {  # inclusive bounds of every output (1e-9 slack for running-sum residue)
    "rsi": (0.0, 100.0),
    "cmo": (-100.0, 100.0),
    "willr": (-100.0, 0.0),
    "stoch": (0.0, 100.0),
    "stochrsi": (0.0, 100.0),
    "ultosc": (0.0, 100.0),
    "fisher": (-math.log(1999), math.log(1999)),
}
PARAMS = {
    "rsi": {"length": 5},
    "cmo": {"length": 5},
    "willr": {"length": 5},
    "stoch": {"fastk": 5},
    "stochrsi": {"length": 5, "fastk": 4, "fastd": 2},
    "ultosc": {"length1": 2, "length2": 4, "length3": 8},
    "fisher": {"length": 5},
    "cci": {"length": 4},
    "macd": {"fast": 3, "slow": 7, "signal": 4},
    "ppo": {"fast": 3, "slow": 7},
    "trix": {"length": 3},
}


@settings(max_examples=60, deadline=None)
@given(frame=bars())
def test_oscillators_stay_in_their_range(frame):
    for name, (lo, hi) in RANGES.items():
        out = indicators.compute(name, frame, **PARAMS[name])
        for col in out.columns:
            values = out[col].dropna().to_numpy()
            assert (values >= lo - 1e-9).all() and (values <= hi + 1e-9).all(), (name, col)


@settings(max_examples=25, deadline=None)
@given(frame=bars())
def test_stream_equals_batch_on_random_bars(frame):
    for name, params in PARAMS.items():
        batch = indicators.REGISTRY.compute(name, frame, **params)
        stream = indicators.REGISTRY.compute(name, frame, mode="stream", **params)
        assert np.array_equal(batch.to_numpy(), stream.to_numpy(), equal_nan=True), name


def test_rsi_and_willr_extremes():
    up = indicators.compute("rsi", _frame(np.arange(1.0, 40.0)))["value"].dropna()
    assert (up == 100.0).all()
    down = indicators.compute("rsi", _frame(np.arange(40.0, 1.0, -1)))["value"].dropna()
    assert (down == 0.0).all()
    close = np.arange(1.0, 40.0)
    at_high = indicators.compute("willr", _frame(close, close, close - 5))["value"].dropna()
    assert (at_high == 0.0).all()
    falling = close[::-1]  # each close is a new lowest low
    at_low = indicators.compute("willr", _frame(falling, falling + 5, falling))["value"].dropna()
    assert (at_low == -100.0).all()


def test_periods_are_checked():
    with pytest.raises(BadInputError, match="length: must be >= 2"):
        indicators.create("rsi", length=1)
    with pytest.raises(BadInputError, match="ma: expected one of ema, sma"):
        indicators.create("ppo", ma="wma")
    with pytest.raises(BadInputError, match="fastk: must be >= 1"):
        indicators.create("stoch", fastk=0)
    assert indicators.spec("macd").warmup_bars({}) == 34
    assert indicators.spec("stochrsi").warmup_bars({}) == 21
    assert indicators.spec("trix").warmup_bars({}) == 89
    assert indicators.spec("ultosc").warmup_bars({"length1": 40}) == 41


# ---------------------------------------------------------------- kernels


def _exact_fma(a: float, b: float, c: float) -> float:
    return float(Fraction(a) * Fraction(b) + Fraction(c))


# normal-range doubles (the emulation needs |a*b| far above the underflow threshold)
finite = st.one_of(st.just(0.0), st.floats(1e-100, 1e6), st.floats(-1e6, -1e-100))


@settings(max_examples=3000, deadline=None)
@given(a=finite, b=st.floats(1e-6, 1.0), c=finite)
def test_fma_is_correctly_rounded(a, b, c):
    assert fma(a, b, c) == _exact_fma(a, b, c)


@pytest.mark.parametrize(
    ("a", "b", "c"),
    [
        (1 + 2.0**-47, 2.0**-53, 1.0),  # just above a tie: naive double rounding gives 1.0
        (-(1 + 2.0**-47), 2.0**-53, -1.0),
        (1 - 2.0**-47, 2.0**-53, 1.0),  # just below a tie
        (1.0, 2.0**-53, 1.0),  # an exact tie: ties-to-even
        (3.0, 1.0 / 3.0, -1.0),  # cancellation
        (0.1, 10.0, -1.0),
    ],
)
def test_fma_corner_cases(a, b, c):
    assert fma(a, b, c) == _exact_fma(a, b, c)


def test_ema_kernels_match_exact_fma_recurrence():
    x = (100 + np.cumsum(np.random.default_rng(5).normal(0, 1, 2000))).tolist()
    for n in (1, 2, 9, 50):
        k = 2.0 / (n + 1)
        expected = [sum(x[:n], 0.0) / n]
        for v in x[n:]:
            expected.append(_exact_fma(v - expected[-1], k, expected[-1]))
        assert ema_values(x, n) == expected
        ema = SeededEMA(n)
        assert [ema.push(v) for v in x][n - 1 :] == expected


@pytest.mark.parametrize("n", [1, 2, 3, 7, 64])
def test_rolling_extremes_and_sma_against_naive(n):
    x = np.random.default_rng(n).normal(0, 1, 500).round(1)  # many ties
    naive_max = [max(x[max(0, t - n + 1) : t + 1]) for t in range(len(x))]
    naive_min = [min(x[max(0, t - n + 1) : t + 1]) for t in range(len(x))]
    assert rolling_max(x, n)[n - 1 :].tolist() == naive_max[n - 1 :]
    assert rolling_min(x, n)[n - 1 :].tolist() == naive_min[n - 1 :]
    hi, lo, sma = RollingMax(n), RollingMin(n), RunningSMA(n)
    assert [hi.push(v) for v in x] == naive_max
    assert [lo.push(v) for v in x] == naive_min
    means = np.array([sma.push(v) for v in x])
    assert np.array_equal(means, talib.SMA(x, n), equal_nan=True)
