"""Heikin-Ashi and the TTM Squeeze: hand-computed windows, independent references, invariants."""

import numpy as np
import pandas as pd
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from tests.support.features import assert_causal_and_batch_equal, real_frames
from tests.unit.indicators._synth_year import btc_edge_slice, synth_year
from trade_core import indicators

HA = ("open", "high", "low", "close")


def _frame(rows):
    df = pd.DataFrame(rows, columns=["open", "high", "low", "close", "volume"]).astype(float)
    df["ts"] = np.arange(len(df)) * 60_000
    return df


def heikin_ashi_reference(frame):
    """Row by row over ``itertuples``, written from the published definition."""
    rows, prev = [], None
    for bar in frame.itertuples(index=False):
        close = (bar.open + bar.high + bar.low + bar.close) / 4.0
        open_ = (bar.open + bar.close) / 2.0 if prev is None else (prev[0] + prev[3]) / 2.0
        prev = (open_, max(bar.high, open_, close), min(bar.low, open_, close), close)
        rows.append(prev)
    return pd.DataFrame(rows, columns=list(HA))


def squeeze_reference(frame, length=20, bb_mult=2.0, kc_length=20, kc_mult=1.5, tr=True):
    """pandas rolling windows, two-pass numpy stdev and TA-Lib's O(n) LINEARREG."""
    h, lo, c = (frame[k].to_numpy(float) for k in ("high", "low", "close"))
    basis = pd.Series(c).rolling(length).mean().to_numpy()
    sd = np.full(len(c), np.nan)
    sd[length - 1 :] = sliding_window_view(c, length).std(axis=1)
    prev_close = np.concatenate(([np.nan], c[:-1]))
    ranges = np.vstack([h - lo, np.abs(h - prev_close), np.abs(lo - prev_close)])
    rng = np.nanmax(ranges, axis=0) if tr else h - lo
    roll = lambda x, f: getattr(pd.Series(x).rolling(kc_length), f)().to_numpy()  # noqa: E731
    ma, width = roll(c, "mean"), roll(rng, "mean") * kc_mult
    lower_gap = (basis - bb_mult * sd) - (ma - width)
    upper_gap = (ma + width) - (basis + bb_mult * sd)
    d = c - ((roll(h, "max") + roll(lo, "min")) / 2.0 + ma) / 2.0
    momentum = talib.LINEARREG(d, kc_length)
    w = max(length, 2 * kc_length - 1)
    momentum[: w - 1] = np.nan
    on = (lower_gap > 0) & (upper_gap > 0)
    on[: w - 1] = False
    return on, momentum, np.minimum(np.abs(lower_gap), np.abs(upper_gap))


def test_hand_computed_heikin_ashi():
    df = _frame([[10, 14, 8, 12, 1], [12, 13, 9, 10, 1], [10, 20, 10, 18, 1]])
    # bar 1: close (10+14+8+12)/4 = 11, open (10+12)/2 = 11, high 14, low 8
    # bar 2: close (12+13+9+10)/4 = 11, open (11+11)/2 = 11, high 13, low 9
    # bar 3: close (10+20+10+18)/4 = 14.5, open (11+11)/2 = 11, high 20, low 10
    got = indicators.compute("heikin_ashi", df)
    assert got["close"].tolist() == [11.0, 11.0, 14.5]
    assert got["open"].tolist() == [11.0, 11.0, 11.0]
    assert got["high"].tolist() == [14.0, 13.0, 20.0]
    assert got["low"].tolist() == [8.0, 9.0, 10.0]


def test_heikin_ashi_matches_a_row_by_row_reference_on_real_data():
    for label, frame in real_frames():
        got = indicators.compute("heikin_ashi", frame)
        ref = heikin_ashi_reference(frame)
        for col in HA:
            assert np.array_equal(got[col].to_numpy(), ref[col].to_numpy()), (label, col)


def test_hand_computed_squeeze():
    df = _frame([
        [10, 11, 9, 10, 1],
        [11, 12, 10, 11, 1],
        [11, 12, 10, 11, 1],
        [14, 15, 14, 15, 1],
    ])  # fmt: skip
    got = indicators.compute("squeeze", df, length=2, kc_length=2, use_true_range=False)
    # warm-up max(2, 2*2-1) = 3.  d_t = close - ((hh + ll)/2 + sma)/2 over 2 bars:
    # d2 = 11 - ((12+9)/2 + 10.5)/2 = 0.5; d3 = 11 - ((12+10)/2 + 11)/2 = 0;
    # d4 = 15 - ((15+10)/2 + 13)/2 = 2.25.  linreg of 2 points at the newest = the newest d.
    # bar 3: closes (11, 11): BB 11 +/- 0; ranges (2, 2): KC 11 +/- 1.5*2 -> on.
    # bar 4: closes (11, 15): mean 13, stdev 2 -> BB 13 +/- 4 = [9, 17];
    #        ranges (2, 1) -> KC 13 +/- 1.5*1.5 = [10.75, 15.25] -> not inside -> off.
    assert got["on"].tolist() == [False, False, True, False]
    assert np.isnan(got["momentum"][:2]).all()
    assert got["momentum"].tolist()[2:] == [0.0, 2.25]


SQUEEZE_PARAMS = [
    {},
    {"length": 10, "kc_length": 7, "use_true_range": False},
    {"length": 50, "kc_length": 10, "bb_mult": 1.0, "kc_mult": 2.0},
]


@pytest.mark.parametrize("params", SQUEEZE_PARAMS)
def test_squeeze_matches_an_independent_reference_on_real_data(params):
    for label, frame in real_frames():
        got = indicators.compute("squeeze", frame, **params)
        p = {"length": 20, "bb_mult": 2.0, "kc_length": 20, "kc_mult": 1.5, "use_true_range": True}
        p.update(params)
        on, momentum, margin = squeeze_reference(
            frame, p["length"], p["bb_mult"], p["kc_length"], p["kc_mult"], p["use_true_range"]
        )
        price = float(frame["close"].median())
        # `on` is a strict comparison: bands equal to within rounding may go either way.
        tie = margin <= 1e-12 * price  # False in warm-up rows (NaN margin)
        assert np.array_equal(got["on"].to_numpy()[~tie], on[~tie]), label
        assert tie.sum() <= 1e-3 * len(frame)
        # momentum is a difference of prices (close minus a price average): its rounding
        # error is a few ulps of the *price*, so the tolerance is relative to the price.
        m = got["momentum"].to_numpy()
        assert np.array_equal(np.isnan(m), np.isnan(momentum)), label
        ok = ~np.isnan(momentum)
        err = np.abs(m[ok] - momentum[ok])
        assert np.all(err <= 1e-9 * np.abs(momentum[ok]) + 1e-12 * price), label


@pytest.mark.parametrize(
    ("name", "params"), [("heikin_ashi", {}), *(("squeeze", p) for p in SQUEEZE_PARAMS)]
)
def test_causal_and_stream_equals_compute(name, params):
    _, frame = next(real_frames())
    for sample in (frame.iloc[:3000], btc_edge_slice()):
        assert_causal_and_batch_equal(indicators.REGISTRY, name, sample, **params)
        stream = indicators.REGISTRY.compute(name, sample, mode="stream", **params)
        batch = indicators.REGISTRY.compute(name, sample, mode="batch", **params)
        for col in stream:  # bit for bit
            assert np.array_equal(stream[col], batch[col], equal_nan=stream[col].dtype != bool)


def test_flat_bars_keep_the_squeeze_off_and_momentum_zero():
    df = _frame([[5, 5, 5, 5, 0]] * 60)
    got = indicators.compute("squeeze", df)
    assert not got["on"].any()  # BB and KC both collapse to the price: not strictly inside
    assert got["momentum"].tolist()[38:] == [0.0] * 22


bars = st.lists(
    st.tuples(st.floats(1, 1000), st.floats(0, 50), st.floats(0, 1), st.floats(0, 1)),
    min_size=1, max_size=80,
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(bars)
def test_heikin_ashi_invariants(rows):
    df = _frame([[lo + a * r, lo + r, lo, lo + b * r, 1.0] for lo, r, a, b in rows])
    ha = indicators.compute("heikin_ashi", df)
    assert (ha["low"] <= np.minimum(ha["open"], ha["close"])).all()
    assert (ha["high"] >= np.maximum(ha["open"], ha["close"])).all()
    assert (ha["high"] >= df["high"]).all() and (ha["low"] <= df["low"]).all()
    # HA open and close are averages of prices seen so far: inside the running range
    assert (ha["open"] <= df["high"].cummax()).all() and (ha["open"] >= df["low"].cummin()).all()
    stream = indicators.REGISTRY.compute("heikin_ashi", df, mode="stream")
    assert stream.equals(ha)


@settings(max_examples=40, deadline=None)
@given(bars, st.integers(1, 12), st.integers(2, 12))
def test_squeeze_stream_equals_batch_on_random_bars(rows, length, kc_length):
    df = _frame([[lo + a * r, lo + r, lo, lo + b * r, 1.0] for lo, r, a, b in rows])
    p = {"length": length, "kc_length": kc_length}
    stream = indicators.REGISTRY.compute("squeeze", df, mode="stream", **p)
    batch = indicators.REGISTRY.compute("squeeze", df, mode="batch", **p)
    assert stream["on"].tolist() == batch["on"].tolist()
    assert np.array_equal(stream["momentum"], batch["momentum"], equal_nan=True)


@pytest.mark.slow
def test_no_float_drift_over_a_year_of_1m_bars():
    """Window sums are fresh block sums: after 525,600 bars the momentum still agrees with
    TA-Lib's non-incremental LINEARREG (and `on` with the reference) as on bar 1."""
    year = synth_year()
    got = indicators.compute("squeeze", year)
    on, momentum, margin = squeeze_reference(year)
    price = float(year["close"].median())
    tie = margin <= 1e-12 * price
    assert np.array_equal(got["on"].to_numpy()[~tie], on[~tie])
    m, ok = got["momentum"].to_numpy(), ~np.isnan(momentum)
    assert np.all(np.abs(m[ok] - momentum[ok]) <= 1e-9 * np.abs(momentum[ok]) + 1e-12 * price)
