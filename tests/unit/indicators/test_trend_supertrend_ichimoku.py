"""supertrend (TradingView) and ichimoku (causal): independent references and invariants."""

import math

import numpy as np
import pandas as pd
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.features import assert_causal_and_batch_equal, assert_close_to_reference
from tests.unit.indicators._range_data import causal_slices, frames, hlc, ohlc, year_1m
from trade_core import indicators

NA = math.nan


def pine_supertrend(h, lo, c, length: int, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """A literal transcription of TradingView's pine_supertrend (Pine na semantics: nz() -> 0,
    comparisons with na are false), ta.atr = ta.rma(ta.tr(true)). Returns our sign (+1 up)."""
    size = len(c)
    tr = [h[0] - lo[0]] + [max(h[i] - lo[i], abs(h[i] - c[i - 1]), abs(lo[i] - c[i - 1]))
                           for i in range(1, size)]  # fmt: skip
    atr = [NA] * size
    for i in range(length - 1, size):
        prev = atr[i - 1] if i > 0 else NA
        atr[i] = np.mean(tr[i - length + 1 : i + 1]) if math.isnan(prev) else (
            (1 / length) * tr[i] + (1 - 1 / length) * prev)  # fmt: skip
    upper_s, lower_s, st_s, dir_s = [NA] * size, [NA] * size, [NA] * size, [NA] * size
    for i in range(size):
        if math.isnan(atr[i]):
            continue
        src = (h[i] + lo[i]) / 2
        upper, lower = src + factor * atr[i], src - factor * atr[i]
        prev_lower = 0.0 if i == 0 or math.isnan(lower_s[i - 1]) else lower_s[i - 1]
        prev_upper = 0.0 if i == 0 or math.isnan(upper_s[i - 1]) else upper_s[i - 1]
        close1 = c[i - 1] if i > 0 else NA
        lower = lower if lower > prev_lower or close1 < prev_lower else prev_lower
        upper = upper if upper < prev_upper or close1 > prev_upper else prev_upper
        if i == 0 or math.isnan(atr[i - 1]):
            direction = 1
        elif st_s[i - 1] == prev_upper:
            direction = -1 if c[i] > upper else 1
        else:
            direction = 1 if c[i] < lower else -1
        upper_s[i], lower_s[i] = upper, lower
        st_s[i], dir_s[i] = (lower if direction == -1 else upper), direction
    return np.asarray(st_s), -np.asarray(dir_s, dtype=float)


@pytest.mark.parametrize(("length", "mult"), [(2, 1.0), (10, 3.0), (22, 5.0), (7, 0.5)])
def test_supertrend_matches_pine_reference(length, mult):
    for label, frame in frames():
        frame = frame.iloc[:30000]
        got = indicators.compute("supertrend", frame, length=length, mult=mult)
        value, direction = pine_supertrend(*(list(a) for a in hlc(frame)), length, mult)
        assert_close_to_reference(got["value"].to_numpy(), value, label=label)
        assert np.array_equal(got["direction"].to_numpy(), direction, equal_nan=True), label


def test_supertrend_hand_computed():
    df = ohlc([(10, 11, 9, 10), (11, 12, 10, 11), (12, 14, 12, 13.5), (13, 13, 11, 11.5),
               (11, 11, 9, 9.5)])  # fmt: skip
    out = indicators.compute("supertrend", df, length=2, mult=1.0)
    # ATR: (2 + 2)/2 = 2 at bar 1; then 0.5*3 + 0.5*2 = 2.5; 2.5; 2.5.
    # bar 1: hl2 11 -> bands 13 / 9, first bar is down: value 13.
    # bar 2: basic 15.5 / 10.5; upper keeps 13 (15.5 > 13, prev close 11 <= 13); close 13.5 > 13
    #   -> up, value = lower 10.5. bar 3: basic 14.5 / 9.5; lower keeps 10.5; close 11.5 >= 10.5
    #   -> still up. bar 4: basic 12.5 / 7.5; close 9.5 < lower 10.5 -> down, value = upper 12.5
    assert out["value"].tolist()[1:] == [13.0, 10.5, 10.5, 12.5]
    assert out["direction"].tolist()[1:] == [-1.0, 1.0, 1.0, -1.0]
    assert np.isnan(out.iloc[0].to_numpy()).all()


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(st.integers(-30, 30), min_size=5, max_size=120),
    spans=st.lists(st.integers(1, 20), min_size=120, max_size=120),
    length=st.integers(1, 8),
    mult=st.floats(0.5, 5.0),
)
def test_supertrend_invariants(steps, spans, length, mult):
    close = 100 + np.cumsum(steps) / 10.0
    spread = np.asarray(spans[: len(close)]) / 20.0
    df = ohlc(list(zip(close, close + spread, close - spread, close, strict=True)))
    out = indicators.compute("supertrend", df, length=length, mult=mult)
    value, direction = out["value"].to_numpy(), out["direction"].to_numpy()
    assert np.isnan(direction[: length - 1]).all()
    assert set(direction[length - 1 :]) <= {1.0, -1.0}
    for i in range(length, len(close)):
        if direction[i] == direction[i - 1] == 1.0:  # up trend: a rising stop below the close
            assert value[i] >= value[i - 1] and close[i] >= value[i]
        if direction[i] == direction[i - 1] == -1.0:  # down trend: a falling stop above it
            assert value[i] <= value[i - 1] and close[i] <= value[i]


def midpoint(frame: pd.DataFrame, n: int) -> np.ndarray:
    """pandas reference: (rolling max high + rolling min low) / 2."""
    return ((frame["high"].rolling(n).max() + frame["low"].rolling(n).min()) / 2).to_numpy()


ICHIMOKU_PARAMS = [
    {},
    {"tenkan": 7, "kijun": 22, "senkou_b": 44, "displacement": 22},
    {"displacement": 0},
    {"displacement": 25},
]


@pytest.mark.parametrize("params", ICHIMOKU_PARAMS)
def test_ichimoku_matches_midprice_references(params):
    p = {"tenkan": 9, "kijun": 26, "senkou_b": 52, "displacement": 26, **params}
    first = max(p["tenkan"], p["kijun"], p["senkou_b"]) + p["displacement"] - 1
    assert indicators.spec("ichimoku").warmup_bars(params) == first + 1
    for label, frame in frames():
        got = indicators.compute("ichimoku", frame, **params)
        h, lo, _ = hlc(frame)
        tenkan, kijun = talib.MIDPRICE(h, lo, p["tenkan"]), talib.MIDPRICE(h, lo, p["kijun"])
        span_a, span_b = (tenkan + kijun) / 2, talib.MIDPRICE(h, lo, p["senkou_b"])
        d = p["displacement"]
        shifted = [np.concatenate([np.full(d, np.nan), s[: len(s) - d]]) for s in (span_a, span_b)]
        refs = dict(zip(got.columns, (tenkan, kijun, span_a, span_b, *shifted), strict=True))
        for name, ref in refs.items():  # each output from its own full window, as MIDPRICE
            assert_close_to_reference(got[name].to_numpy(), ref, label=f"{label} {name}")
        pandas_b = midpoint(frame, p["senkou_b"])
        assert np.array_equal(got["span_b"].to_numpy()[first:], pandas_b[first:])


def test_ichimoku_ahead_spans_are_past_values_and_never_look_ahead():
    _, frame = frames()[0]
    frame = frame.iloc[:2000]
    full = indicators.compute("ichimoku", frame)
    for t in (51, 77, 103, 500, 1999):
        if t >= 77:
            assert full["span_a_ahead"].iloc[t] == full["span_a"].iloc[t - 26]
            assert full["span_b_ahead"].iloc[t] == full["span_b"].iloc[t - 26]
        prefix = indicators.compute("ichimoku", frame.iloc[: t + 1])  # the future removed
        pd.testing.assert_series_equal(prefix.iloc[t], full.iloc[t])
    assert np.isnan(full.iloc[:8].to_numpy()).all() and not full.iloc[77:].isna().any().any()
    assert not np.isnan(full["tenkan"].iloc[8]) and np.isnan(full["kijun"].iloc[24])


def test_ichimoku_flat_bars():
    out = indicators.compute("ichimoku", ohlc([(4.2, 4.2, 4.2, 4.2)] * 100))
    assert (out.iloc[77:].to_numpy() == 4.2).all()


@pytest.mark.parametrize(
    ("name", "params"),
    [("supertrend", {}), ("supertrend", {"length": 1, "mult": 2.0}), ("ichimoku", {}),
     ("ichimoku", {"tenkan": 3, "kijun": 5, "senkou_b": 8, "displacement": 0})],
)  # fmt: skip
def test_causal_and_stream_equals_compute(name, params):
    for frame in causal_slices():
        assert_causal_and_batch_equal(indicators.REGISTRY, name, frame, **params)
        batch = indicators.REGISTRY.compute(name, frame, mode="batch", **params)
        stream = indicators.REGISTRY.compute(name, frame, mode="stream", **params)
        pd.testing.assert_frame_equal(batch, stream, check_exact=True)  # bit for bit


def test_long_run_has_no_drift():
    """The RMA recursion over a year of 1m bars stays on the literal Pine reference."""
    year = year_1m()
    got = indicators.compute("supertrend", year)
    value, direction = pine_supertrend(*(a.tolist() for a in hlc(year)), 10, 3.0)
    assert_close_to_reference(got["value"].to_numpy(), value, label="supertrend year")
    assert np.array_equal(got["direction"].to_numpy(), direction, equal_nan=True)
    ichimoku = indicators.compute("ichimoku", year)
    assert np.array_equal(ichimoku["kijun"].to_numpy()[77:], midpoint(year, 26)[77:])
