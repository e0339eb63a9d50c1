import numpy as np
import pytest
import talib

from tests.support.features import (
    assert_causal_and_batch_equal,
    assert_close_to_reference,
    real_frames,
)
from trade_core import indicators


@pytest.mark.parametrize(("name", "ref"), [("sma", talib.SMA), ("ema", talib.EMA)])
@pytest.mark.parametrize("length", [1, 2, 9, 50, 200])
def test_matches_talib_on_real_data(name, ref, length):
    for label, frame in real_frames():
        got = indicators.compute(name, frame, length=length)["value"].to_numpy()
        assert_close_to_reference(got, ref(frame["close"].to_numpy(), length), label=label)


@pytest.mark.parametrize("name", ["sma", "ema"])
def test_causal_and_stream_equals_compute(name):
    _, frame = next(real_frames())
    assert_causal_and_batch_equal(indicators.REGISTRY, name, frame.iloc[:3000], length=30)


def test_hand_computed_window():
    import pandas as pd

    df = pd.DataFrame({"open": 1.0, "high": 1.0, "low": 1.0, "close": [1.0, 2, 3, 4, 5],
                       "volume": 0.0})  # fmt: skip
    assert indicators.compute("sma", df, length=3)["value"].tolist()[2:] == [2.0, 3.0, 4.0]
    ema = indicators.compute("ema", df, length=3)["value"].to_numpy()
    # seed = mean(1,2,3) = 2; then 2 + 0.5*(4-2) = 3; 3 + 0.5*(5-3) = 4
    assert np.isnan(ema[:2]).all()
    assert ema[2:].tolist() == [2.0, 3.0, 4.0]
    hl2 = indicators.compute("sma", df.assign(high=3.0), length=1, source="hl2")["value"]
    assert hl2.tolist() == [2.0] * 5


def test_match_the_textbook_formulas():
    from tests.unit.indicators._ma_support import ema_ref, sma_ref

    _, frame = next(real_frames())
    close = frame["close"].to_numpy(float)[:6000]
    sma = indicators.compute("sma", frame.iloc[:6000], length=30)["value"].to_numpy()
    assert_close_to_reference(sma[29:], sma_ref(close, 30), rtol=1e-12)
    ema = indicators.compute("ema", frame.iloc[:6000], length=30)["value"].to_numpy()
    # far from the seed the EMA is its impulse-response sum k * sum (1-k)^j x[t-j]
    assert_close_to_reference(ema[-100:], ema_ref(close, 30, 100), rtol=1e-12)


def test_batch_is_used_and_equals_the_stream():
    _, frame = next(real_frames())
    part = frame.iloc[:5000]
    for name in ("sma", "ema"):
        for length in (1, 2, 30):
            b = indicators.REGISTRY.compute(name, part, mode="batch", length=length)
            s = indicators.REGISTRY.compute(name, part, mode="stream", length=length)
            assert np.array_equal(b["value"], s["value"], equal_nan=True)
