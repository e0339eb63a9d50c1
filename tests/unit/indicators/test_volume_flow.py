"""CMF, EFI and VWAP: independent references, hand-computed windows, invariants, drift."""

import math

import numpy as np
import pandas as pd
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from tests.support.features import (
    SHARED_REAL,
    assert_causal_and_batch_equal,
    assert_close_to_reference,
    real_frames,
)
from tests.unit.indicators._synth_year import btc_edge_slice, synth_year
from trade_core import indicators

DAY = 86_400_000


def _frame(rows, ts=None):
    df = pd.DataFrame(rows, columns=["open", "high", "low", "close", "volume"]).astype(float)
    df["ts"] = np.arange(len(df)) * 60_000 if ts is None else ts
    return df


def cmf_reference(frame, n):
    """Slow, exactly rounded window sums (math.fsum) of the published CMF formula."""
    h, lo, c, v = (frame[k].to_numpy(float) for k in ("high", "low", "close", "volume"))
    mfm = np.zeros(len(c))
    rng = h - lo
    ok = rng > 0
    mfm[ok] = ((c[ok] - lo[ok]) - (h[ok] - c[ok])) / rng[ok]
    num = [math.fsum(w) for w in sliding_window_view(mfm * v, n)]
    den = [math.fsum(w) for w in sliding_window_view(v, n)]
    out = np.full(len(c), np.nan)
    out[n - 1 :] = [a / b if b != 0 else 0.0 for a, b in zip(num, den, strict=True)]
    return out


def vwap_reference(frame):
    """Row by row with pandas: cumulative sums per UTC calendar day (from the timestamp)."""
    day = pd.to_datetime(frame["ts"], unit="ms", utc=True).dt.date
    tp = (frame["high"] + frame["low"] + frame["close"]) / 3.0
    cum_pv = (tp * frame["volume"]).groupby(day).cumsum()
    cum_v = frame["volume"].groupby(day).cumsum()
    return np.where(cum_v > 0, cum_pv / cum_v.where(cum_v > 0, 1.0), tp)


@pytest.mark.parametrize("length", [1, 5, 20, 100])
def test_cmf_matches_an_exactly_summed_reference_on_real_data(length):
    for label, frame in real_frames():
        got = indicators.compute("cmf", frame, length=length)["value"].to_numpy()
        assert_close_to_reference(got, cmf_reference(frame, length), rtol=1e-9, label=label)


@pytest.mark.parametrize("length", [1, 2, 13, 50])
def test_efi_equals_talib_ema_of_the_force(length):
    for label, frame in real_frames():
        c, v = frame["close"].to_numpy(float), frame["volume"].to_numpy(float)
        ref = np.concatenate(([np.nan], talib.EMA(np.diff(c) * v[1:], length)))
        got = indicators.compute("efi", frame, length=length)["value"].to_numpy()
        assert_close_to_reference(got, ref, rtol=1e-9, label=label)
        assert np.array_equal(got, ref, equal_nan=True), label  # same fused EMA step


def test_vwap_matches_a_pandas_reference_on_real_data():
    for label, frame in real_frames():
        got = indicators.compute("vwap", frame)["value"].to_numpy()
        assert_close_to_reference(got, vwap_reference(frame), rtol=1e-12, label=label)


@pytest.mark.parametrize(
    ("name", "params"),
    [("cmf", {}), ("cmf", {"length": 7}), ("efi", {}), ("efi", {"length": 3}), ("vwap", {}),
     ("vwap", {"source": "close"})],
)  # fmt: skip
def test_causal_and_stream_equals_compute(name, params):
    _, frame = next(real_frames())
    assert_causal_and_batch_equal(indicators.REGISTRY, name, frame.iloc[:3000], **params)
    assert_causal_and_batch_equal(indicators.REGISTRY, name, btc_edge_slice(), **params)
    # bit for bit, not merely within the default tolerance
    stream = indicators.REGISTRY.compute(name, btc_edge_slice(), mode="stream", **params)
    batch = indicators.REGISTRY.compute(name, btc_edge_slice(), mode="batch", **params)
    assert np.array_equal(stream["value"], batch["value"], equal_nan=True)


def test_hand_computed_cmf():
    df = _frame([
        [10, 12, 8, 11, 100],  # mfm = ((11-8)-(12-11))/4 = 0.5, mfv = 50
        [11, 11, 11, 11, 40],  # flat bar: mfm = 0, mfv = 0
        [11, 13, 9, 9, 60],    # mfm = -1, mfv = -60
    ])  # fmt: skip
    got = indicators.compute("cmf", df, length=2)["value"].to_numpy()
    # bar 2: (50 + 0) / (100 + 40) = 5/14; bar 3: (0 - 60) / (40 + 60) = -0.6
    assert np.isnan(got[0])
    assert got[1:].tolist() == [50 / 140, -0.6]


def test_cmf_zero_volume_window_is_zero():
    df = _frame([[1, 2, 0, 2, 5]] + [[1, 2, 0, 2, 0]] * 4)
    assert indicators.compute("cmf", df, length=3)["value"].tolist()[2:] == [1.0, 0.0, 0.0]


def test_hand_computed_efi():
    df = _frame([[0, 0, 0, c, v] for c, v in [(10, 1), (12, 3), (11, 2), (14, 1), (14, 5)]])
    # force: (12-10)*3 = 6, (11-12)*2 = -2, (14-11)*1 = 3, 0*5 = 0; n = 2, k = 2/3
    # seed (bar 3) = (6 - 2)/2 = 2; bar 4: 2 + (3-2)*2/3 = 8/3; bar 5: 8/3 + (0-8/3)*2/3 = 8/9
    got = indicators.compute("efi", df, length=2)["value"].to_numpy()
    assert np.isnan(got[:2]).all()
    assert got[2:] == pytest.approx([2.0, 8 / 3, 8 / 9], rel=1e-15)


def test_hand_computed_vwap_resets_at_utc_midnight():
    ts = [DAY - 120_000, DAY - 60_000, DAY, DAY + 60_000, DAY + 120_000]
    df = _frame([
        [0, 12, 6, 9, 1],    # day 0: tp 9, vwap 9
        [0, 15, 9, 12, 2],   # tp 12: (9 + 24) / 3 = 11
        [0, 3, 3, 3, 0],     # 00:00 UTC, new day, no volume yet: vwap = tp = 3
        [0, 6, 3, 3, 1],     # tp 4: 4 / 1 = 4
        [0, 9, 6, 6, 3],     # tp 7: (4 + 21) / 4 = 6.25
    ], ts=ts)  # fmt: skip
    assert indicators.compute("vwap", df)["value"].tolist() == [9.0, 11.0, 3.0, 4.0, 6.25]


def test_vwap_on_zero_volume_bars_of_real_data():
    """A zero-volume bar inside a day leaves the day's VWAP exactly unchanged."""
    if not (SHARED_REAL / "BTCUSD_1h_2017-07_2019-10.csv.gz").is_file():
        pytest.skip(f"the BTCUSD 1h file with zero-volume bars is not present in {SHARED_REAL}")
    frame = btc_edge_slice()
    got = indicators.compute("vwap", frame)["value"].to_numpy()
    day = (frame["ts"] // DAY).to_numpy()
    idle = np.flatnonzero((frame["volume"].to_numpy() == 0) & (np.diff(day, prepend=-1) == 0))
    assert len(idle) >= 10
    assert np.array_equal(got[idle], got[idle - 1])
    assert np.isfinite(got).all()


bars = st.lists(
    st.tuples(
        st.floats(1, 1000), st.floats(0, 50), st.floats(0, 1), st.floats(0, 1),
        st.one_of(st.just(0.0), st.floats(0, 1e6)),
    ),
    min_size=1, max_size=80,
)  # fmt: skip


def _random_frame(rows):
    # (low, range, open position, close position, volume) -> a valid OHLCV bar
    data = [[lo + a * r, lo + r, lo, lo + b * r, v] for lo, r, a, b, v in rows]
    ts = np.cumsum(np.full(len(rows), 3_600_000 * 5))  # 5h steps: crosses days
    return _frame(data, ts=ts)


@settings(max_examples=60, deadline=None)
@given(bars, st.integers(1, 30))
def test_invariants(rows, n):
    df = _random_frame(rows)
    cmf = indicators.compute("cmf", df, length=n)["value"].to_numpy()
    assert np.all(np.abs(cmf[n - 1 :]) <= 1.0 + 1e-12)
    vwap = indicators.compute("vwap", df)["value"].to_numpy()
    day = df["ts"] // DAY
    lo_day = df["low"].groupby(day).cummin().to_numpy()
    hi_day = df["high"].groupby(day).cummax().to_numpy()
    assert np.all(vwap >= lo_day * (1 - 1e-12)) and np.all(vwap <= hi_day * (1 + 1e-12))
    for name in ("cmf", "efi", "vwap"):
        params = {"length": n} if name != "vwap" else {}
        stream = indicators.REGISTRY.compute(name, df, mode="stream", **params)["value"]
        batch = indicators.REGISTRY.compute(name, df, mode="batch", **params)["value"]
        assert np.array_equal(stream, batch, equal_nan=True)


@pytest.mark.slow
def test_no_float_drift_over_a_year_of_1m_bars():
    year = synth_year()
    got = indicators.compute("cmf", year)["value"].to_numpy()
    ref = cmf_reference(year, 20)
    assert np.nanmax(np.abs(got - ref)) <= 1e-13  # every window is a fresh sum: no drift
    c, v = year["close"].to_numpy(float), year["volume"].to_numpy(float)
    efi = indicators.compute("efi", year)["value"].to_numpy()
    ema = np.concatenate(([np.nan], talib.EMA(np.diff(c) * v[1:], 13)))
    assert np.array_equal(efi, ema, equal_nan=True)
    vwap = indicators.compute("vwap", year)["value"].to_numpy()
    assert_close_to_reference(vwap, vwap_reference(year), rtol=1e-12)
