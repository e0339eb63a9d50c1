"""Properties every moving average (and the regression pair) shares: causality, stream ==
batch bit for bit, flat input, short input, sources, period 1, no drift over a year.

Speed is measured by ``benchmarks/bench_indicators.py``, not asserted here."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.features import assert_causal_and_batch_equal
from tests.unit.indicators._ma_support import (
    MA_NAMES,
    alma_ref,
    ema_ref,
    frame_of,
    hma_ref,
    real_data,
    regression_ref,
    sma_ref,
    stream_tail,
    trima_ref,
    values,
    vwma_ref,
    wma_ref,
)
from tests.unit.indicators._synth_year import synth_year
from trade_core import indicators

SMALL = {"length": 2}
LARGE = {"length": 50}


def _bars(frame: pd.DataFrame, start: int, stop: int) -> pd.DataFrame:
    return frame.iloc[start:stop].reset_index(drop=True)


@pytest.mark.parametrize("params", [{}, SMALL, LARGE], ids=["default", "small", "large"])
@pytest.mark.parametrize("name", MA_NAMES)
def test_causal_and_stream_equals_compute(name, params):
    for label, frame in real_data():
        # BTCUSD rows 9000..12000 hold a 15-bar run of zero volume and flat bars.
        part = _bars(frame, 9000, 12000) if label.startswith("BTC") else _bars(frame, 0, 3000)
        assert_causal_and_batch_equal(indicators.REGISTRY, name, part, **params)


@pytest.mark.parametrize("name", MA_NAMES)
def test_stream_and_batch_are_bit_identical_on_real_data(name):
    extra = {"t3": {"vfactor": 0.3}, "alma": {"offset": 0.5, "sigma": 3.0}}.get(name, {})
    for label, frame in real_data():
        part = _bars(frame, 0, 20_000)
        for params in ({}, {"length": 3, **extra}, {"length": 30}):
            s = indicators.REGISTRY.compute(name, part, mode="stream", **params)["value"]
            b = indicators.REGISTRY.compute(name, part, mode="batch", **params)["value"]
            assert np.array_equal(s.to_numpy(), b.to_numpy(), equal_nan=True), (label, params)


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(MA_NAMES),
    length=st.integers(min_value=2, max_value=12),
    steps=st.lists(st.floats(-3.0, 3.0), min_size=0, max_size=120),
    volumes=st.lists(st.sampled_from([0.0, 0.0, 0.5, 1.0, 7.25]), min_size=120, max_size=120),
)
def test_stream_equals_batch_on_random_series(name, length, steps, volumes):
    close = 50.0 + np.cumsum(np.asarray(steps, dtype=float))
    frame = frame_of(close, volumes[: len(close)])
    frame["high"] = frame["close"] + 0.5
    frame["low"] = frame["close"] - 0.25
    for src in ("close", "hlc3"):
        s = indicators.REGISTRY.compute(name, frame, mode="stream", length=length, source=src)
        b = indicators.REGISTRY.compute(name, frame, mode="batch", length=length, source=src)
        assert np.array_equal(s["value"].to_numpy(), b["value"].to_numpy(), equal_nan=True)


@pytest.mark.parametrize("level", [6556.25, 0.1, 3.3e-5])
@pytest.mark.parametrize("name", MA_NAMES)
def test_flat_series_gives_the_flat_price(name, level):
    got = values(name, frame_of(np.full(400, level)), length=9)
    w = indicators.spec(name).warmup_bars({"length": 9})
    assert np.isnan(got[: w - 1]).all()
    defined = got[w - 1 :]
    if name == "slope":
        assert np.all(np.abs(defined) <= 1e-13 * level)
    else:
        assert np.all(np.abs(defined - level) <= 1e-13 * level)


@pytest.mark.parametrize("name", MA_NAMES)
def test_short_and_empty_input(name):
    w = indicators.spec(name).warmup_bars({"length": 10})
    for rows in (0, 1, w - 1):
        frame = frame_of(np.linspace(1.0, 2.0, rows))
        for mode in ("stream", "batch"):
            out = indicators.REGISTRY.compute(name, frame, mode=mode, length=10)["value"]
            assert len(out) == rows and out.isna().all()
    frame = frame_of(np.linspace(1.0, 2.0, w))
    assert np.isfinite(values(name, frame, length=10)[-1])


@pytest.mark.parametrize("name", MA_NAMES)
def test_source_selects_the_price(name):
    _, frame = real_data()[0]
    part = _bars(frame, 0, 2000)
    for src, blend in (("hl2", (part.high + part.low) / 2.0), ("open", part.open),
                       ("ohlc4", (part.open + part.high + part.low + part.close) / 4.0)):  # fmt: skip
        via_source = values(name, part, length=7, source=src)
        as_close = values(name, part.assign(close=blend), length=7)
        assert np.array_equal(via_source, as_close, equal_nan=True), src


# --------------------------------------------------------------------- drift and speed


def _fresh_tail(name: str, frame: pd.DataFrame, keep: int, history: int, **params):
    """The last ``keep`` values recomputed from only the last ``history`` bars."""
    return values(name, frame.iloc[-history:].reset_index(drop=True), **params)[-keep:]


def _direct_tail(name: str, frame: pd.DataFrame, keep: int, n: int) -> np.ndarray | None:
    """The last ``keep`` values from the textbook formula, window by window (None where
    the indicator is a recursion without a closed form: DEMA, TEMA, T3, ZLEMA, KAMA)."""
    x = frame["close"].to_numpy(float)
    tail = x[-(keep + 3 * n) :]
    direct = {
        "sma": lambda: sma_ref(tail, n),
        "wma": lambda: wma_ref(tail, n),
        "trima": lambda: trima_ref(tail, n),
        "hma": lambda: hma_ref(tail, n),
        "alma": lambda: alma_ref(tail, n),
        "vwma": lambda: vwma_ref(tail, frame["volume"].to_numpy(float)[-len(tail) :], n),
        "linreg": lambda: regression_ref(tail, n)[1],
        "slope": lambda: regression_ref(tail, n)[0],
        "ema": lambda: ema_ref(x, n, keep),
    }.get(name)
    return None if direct is None else direct()[-keep:]


@pytest.mark.slow
@pytest.mark.parametrize("name", MA_NAMES)
def test_no_float_drift_over_a_year_of_1m_bars(name):
    """After a year of updates (525,600 bars) the carried running sums and recursions hold no
    accumulated rounding: the last values equal the textbook formula evaluated window by
    window (correctly rounded sums), or, for the recursions, the same indicator computed
    from only the last 30,000 bars (by then the older bars weigh below 1e-30; KAMA's slowest
    constant is (2/31)^2)."""
    frame = synth_year()
    streamed = stream_tail(name, frame, 50, length=20)
    ref = _direct_tail(name, frame, 50, 20)
    if ref is None:
        ref = _fresh_tail(name, frame, 50, 30_000, length=20)
    scale = np.abs(ref) if name != "slope" else frame["close"].diff().abs().median()
    assert np.max(np.abs(streamed - ref) / scale) <= 1e-11


@pytest.mark.parametrize("name", [n for n in MA_NAMES if n not in ("linreg", "slope")])
def test_length_one_is_the_source_even_on_wild_input(name):
    # TA-Lib 0.8 copies the input at period 1; a k = 1 recursion ((x - e) * 1) + e would not
    # (1e-17 after 1.0 gives 0.0), so every moving average special-cases it.
    x = np.array([1.0, 1e-17, 3.0, 1e20, 0.1, 7.0, 0.0, 5.0])
    frame = frame_of(x, [0.0, 1.0, 0.0, 2.0, 1.0, 1.0, 0.0, 3.0])
    for mode in ("stream", "batch"):
        got = indicators.REGISTRY.compute(name, frame, mode=mode, length=1)["value"]
        assert got.tolist() == x.tolist(), mode
