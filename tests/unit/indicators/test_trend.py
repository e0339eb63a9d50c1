"""adx, aroon, psar: TA-Lib parity, the shared warm-up, hand-computed values, causality."""

import numpy as np
import pandas as pd
import pytest
import talib

import trade_core.indicators.trend as trend
from tests.support.features import assert_causal_and_batch_equal, assert_close_to_reference
from tests.unit.indicators._range_data import causal_slices, frames, hlc, ohlc, year_1m
from trade_core import indicators


def bars(rows: list[tuple[float, float, float]]) -> pd.DataFrame:
    """A frame from ``(high, low, close)`` rows (open = close)."""
    return ohlc([(c, h, lo, c) for h, lo, c in rows])


@pytest.mark.parametrize("length", [2, 5, 14, 30])
def test_adx_and_di_match_talib(length):
    for label, frame in frames():
        got = indicators.compute("adx", frame, length=length)
        h, lo, c = hlc(frame)
        refs = {"adx": talib.ADX(h, lo, c, length), "plus_di": talib.PLUS_DI(h, lo, c, length),
                "minus_di": talib.MINUS_DI(h, lo, c, length)}  # fmt: skip
        for name, ref in refs.items():  # NaN exactly where TA-Lib has NaN: DI from bar n+1
            assert_close_to_reference(got[name].to_numpy(), ref, label=f"{label} {name}")


def test_adx_hand_computed():
    df = bars([(10, 8, 9), (11, 9, 10), (12, 10, 11), (11, 8, 9), (11, 11, 11)])
    out = indicators.compute("adx", df, length=2)
    # bar 1: +DM 1, TR 2 (sums). bar 2: +DM_S = 1 - 1/2 + 1 = 1.5, TR_S = 2 - 1 + 2 = 3,
    #   +DI 50, -DI 0, DX 100. bar 3: -DM 2, TR 3: +DM_S 0.75, -DM_S 2, TR_S 4.5,
    #   +DI 50/3, -DI 400/9, DX = 100 * 1.25/2.75 = 500/11; ADX = (100 + 500/11)/2 = 800/11.
    # bar 4 (flat, gap 2): +DM_S 0.375, -DM_S 1, TR_S 4.25, DX 500/11, ADX 650/11.
    assert np.isnan(out.iloc[:2].to_numpy()).all()
    assert np.isnan(out["adx"].iloc[2])
    assert out[["plus_di", "minus_di"]].iloc[2].tolist() == [50.0, 0.0]  # bar 2, as TA-Lib
    assert np.isnan(out.iloc[:2].to_numpy()).all()
    assert out.iloc[3].tolist() == pytest.approx([800 / 11, 50 / 3, 400 / 9], rel=1e-14)
    assert out.iloc[4].tolist() == pytest.approx([650 / 11, 37.5 / 4.25, 100 / 4.25], rel=1e-14)


def test_adx_on_flat_prices_is_zero():
    out = indicators.compute("adx", bars([(5.0, 5.0, 5.0)] * 40), length=5)
    assert np.isnan(out["adx"].iloc[:9].to_numpy()).all()
    assert np.isnan(out[["plus_di", "minus_di"]].iloc[:5].to_numpy()).all()
    assert (out["adx"].iloc[9:].to_numpy() == 0.0).all()  # TR_S = 0: DI 0 and no DX
    assert (out[["plus_di", "minus_di"]].iloc[5:].to_numpy() == 0.0).all()


@pytest.mark.parametrize("length", [2, 14, 25, 300])
def test_aroon_matches_talib(length):
    for label, frame in frames():
        got = indicators.compute("aroon", frame, length=length)
        h, lo, _ = hlc(frame)
        down, up = talib.AROON(h, lo, length)
        osc = talib.AROONOSC(h, lo, length)
        for name, ref in (("up", up), ("down", down), ("osc", osc)):
            assert_close_to_reference(got[name].to_numpy(), ref, label=f"{label} {name}")


def test_aroon_vector_and_loop_paths_agree(monkeypatch):
    _, frame = frames()[0]
    vector = indicators.compute("aroon", frame, length=20)
    monkeypatch.setattr(trend, "AROON_VECTOR_MAX", 0)
    pd.testing.assert_frame_equal(indicators.compute("aroon", frame, length=20), vector)


def test_aroon_ties_take_the_latest_extreme():
    df = bars([(1, 0.5, 1), (3, 0.5, 1), (2, 0.5, 1), (3, 0.5, 1), (1, 0.5, 1)])
    out = indicators.compute("aroon", df, length=3)  # window of 4 bars
    # bar 3: highs 1,3,2,3 -> latest high is now -> up 100; flat lows -> down 100, osc 0
    # bar 4: highs 3,2,3,1 -> latest high 1 bar ago -> up 100/3 * 2; lows tie at bar 4
    assert out.iloc[3].tolist() == pytest.approx([100.0, 100.0, 0.0], rel=1e-15)
    assert out.iloc[4].tolist() == pytest.approx([200 / 3, 100.0, -100 / 3], rel=1e-15)


@pytest.mark.parametrize(
    ("acceleration", "maximum"), [(0.02, 0.2), (0.01, 0.1), (0.05, 0.03), (0.1, 0.5), (0.0, 0.2)]
)
def test_psar_matches_talib(acceleration, maximum):
    for label, frame in frames():
        got = indicators.compute("psar", frame, acceleration=acceleration, maximum=maximum)
        h, lo, _ = hlc(frame)
        # TA-Lib's binary fuses sar + af*(ep - sar) into one FMA: differences of 1 ulp
        ref = talib.SAR(h, lo, acceleration, maximum)
        assert_close_to_reference(got["value"].to_numpy(), ref, label=label)


def test_psar_start_rules_hand_computed():
    # bar 1 has the larger down move (low 9 -> 8, high 10 -> 9.8): start short, SAR = high 0
    short = bars([(10, 9, 9.5), (9.8, 8, 8.5), (9.9, 8.5, 9), (10.2, 9.5, 10)])
    sar = indicators.compute("psar", short)["value"].to_numpy()
    # 10; 10 + 0.02*(8 - 10) = 9.96; high 10.2 >= 9.9208 reverses: SAR = EP = 8
    assert np.isnan(sar[0]) and sar[1:].tolist() == pytest.approx([10.0, 9.96, 8.0], rel=1e-15)
    # up move only: start long with SAR = low 0 = 9, EP = 11; next 9 + 0.02*(11 - 9) = 9.04
    long = bars([(10, 9, 9.5), (11, 10, 10.5), (11, 10.5, 10.8)])
    assert indicators.compute("psar", long)["value"].tolist()[1:] == pytest.approx([9.0, 9.04])


@pytest.mark.parametrize(
    ("name", "params"),
    [("adx", {"length": 14}), ("adx", {"length": 2}), ("aroon", {"length": 14}),
     ("aroon", {"length": 300}), ("psar", {}), ("psar", {"acceleration": 0.05, "maximum": 0.3})],
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
    adx = indicators.compute("adx", year)
    assert_close_to_reference(adx["adx"].to_numpy(), talib.ADX(h, lo, c, 14), label="adx year")
    assert_close_to_reference(adx["plus_di"].to_numpy()[27:], talib.PLUS_DI(h, lo, c, 14)[27:])
    psar = indicators.compute("psar", year)["value"].to_numpy()
    assert_close_to_reference(psar, talib.SAR(h, lo, 0.02, 0.2), label="psar year")
