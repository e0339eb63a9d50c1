"""rolling_window: Donchian-style extremes over bars or minutes, against pandas and TA-Lib."""

import numpy as np
import pandas as pd
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.features import assert_close_to_reference, real_frames
from tests.unit.structures.bars import frame, random_walk
from trade_core import structures


def test_hand_computed_window():
    df = frame([5, 7, 6, 9, 8], [4, 3, 5, 6, 8], [4.5, 6, 5.5, 8, 8])
    out = structures.compute("rolling_window", df, bars=3)
    # bar 2: highs 5,7,6 -> 7; lows 4,3,5 -> 3; range 4; mid 5; position (5.5-3)/4 = 0.625
    # bar 3: highs 7,6,9 -> 9; lows 3,5,6 -> 3; range 6; mid 6; (8-3)/6
    # bar 4: highs 6,9,8 -> 9; lows 5,6,8 -> 5; range 4; mid 7; (8-5)/4 = 0.75
    assert out["max"].tolist()[2:] == [7, 9, 9]
    assert out["min"].tolist()[2:] == [3, 3, 5]
    assert out["range"].tolist()[2:] == [4, 6, 4]
    assert out["mid"].tolist()[2:] == [5, 6, 7]
    assert out["position"].tolist()[2:] == pytest.approx([0.625, 5 / 6, 0.75])
    assert out.iloc[:2].isna().all().all()
    closes = structures.compute("rolling_window", df, bars=2, source="close")
    assert closes["max"].tolist()[1:] == [6, 6, 8, 8]
    assert closes["min"].tolist()[1:] == [4.5, 5.5, 5.5, 8]
    assert np.isnan(closes["position"].iloc[4])  # max == min: position undefined


def test_matches_talib_max_min_on_real_data():
    for label, df in real_frames():
        df = df.iloc[:30_000]
        for n in (2, 20, 233):  # TA-Lib MAX needs n >= 2
            out = structures.compute("rolling_window", df, bars=n)
            h, lo = df["high"].to_numpy(), df["low"].to_numpy()
            assert_close_to_reference(out["max"].to_numpy(), talib.MAX(h, n), label=label)
            assert_close_to_reference(out["min"].to_numpy(), talib.MIN(lo, n), label=label)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), bars=st.integers(1, 40), source=st.sampled_from(
    ["high_low", "close"]))  # fmt: skip
def test_bar_window_equals_pandas_rolling(seed, bars, source):
    df = random_walk(seed, 300, tick=0.5)  # ticks: many equal values in the deques
    out = structures.compute("rolling_window", df, bars=bars, source=source)
    hi, lo = (df.close, df.close) if source == "close" else (df.high, df.low)
    want_max, want_min = hi.rolling(bars).max(), lo.rolling(bars).min()
    assert out["max"].equals(want_max.rename("max"))
    assert out["min"].equals(want_min.rename("min"))
    assert np.allclose(out["mid"], (want_max + want_min) / 2, equal_nan=True)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), minutes=st.integers(1, 90), keep=st.floats(0.3, 1.0),
       step=st.sampled_from([1, 5, 15]))  # fmt: skip
def test_time_window_equals_pandas_time_rolling_with_gaps(seed, minutes, keep, step):
    df = random_walk(seed, 400)
    df["ts"] = df["ts"].iloc[0] + np.arange(len(df)) * step * 60_000
    rng = np.random.default_rng(seed)
    df = df[rng.random(len(df)) < keep].reset_index(drop=True)  # data gaps
    if df.empty:
        return
    out = structures.compute("rolling_window", df, minutes=minutes)
    t = pd.to_datetime(df["ts"], unit="ms")
    # pandas' time window (t - m minutes, t] = bars with ts_j > ts_i - m minutes
    want_max = df["high"].set_axis(t).rolling(f"{minutes}min").max().to_numpy().copy()
    want_min = df["low"].set_axis(t).rolling(f"{minutes}min").min().to_numpy().copy()
    complete = df["ts"].iloc[0] <= df["ts"] - minutes * 60_000
    want_max[~complete.to_numpy()] = np.nan
    want_min[~complete.to_numpy()] = np.nan
    assert np.array_equal(out["max"].to_numpy(), want_max, equal_nan=True)
    assert np.array_equal(out["min"].to_numpy(), want_min, equal_nan=True)


def test_time_window_on_1m_bars_is_the_bar_window_and_warmup():
    df = random_walk(1, 500)
    by_time = structures.compute("rolling_window", df, minutes=30)
    by_bars = structures.compute("rolling_window", df, bars=30)
    # time mode becomes defined once a bar 30 minutes old was seen: index 30 (bar mode: 29)
    assert by_time.iloc[:30].isna().all().all()
    assert by_time.iloc[30:].equals(by_bars.iloc[30:])
    spec = structures.spec("rolling_window")
    assert spec.warmup_bars({}) == 20
    assert spec.warmup_bars({"minutes": 30}) == 31
