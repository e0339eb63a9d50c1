"""DEMA, TEMA, T3 and ZLEMA: TA-Lib 0.8 parity on real data, hand-computed values and the
exact lag identities on a ramp."""

import numpy as np
import pytest
import talib

from tests.support.features import assert_close_to_reference
from tests.unit.indicators._ma_support import frame_of, real_data, values
from trade_core import indicators

TALIB = {"dema": talib.DEMA, "tema": talib.TEMA, "zlema": talib.ZLEMA}


@pytest.mark.parametrize("length", [1, 2, 3, 9, 20, 50, 200])
@pytest.mark.parametrize("name", ["dema", "tema", "zlema"])
def test_matches_talib_on_real_data(name, length):
    for label, frame in real_data():
        ref = TALIB[name](frame["close"].to_numpy(float), length)
        assert_close_to_reference(values(name, frame, length=length), ref, label=label)


@pytest.mark.parametrize("vfactor", [0.0, 0.7, 1.0])
@pytest.mark.parametrize("length", [1, 2, 5, 10, 30])
def test_t3_matches_talib_on_real_data(length, vfactor):
    for label, frame in real_data():
        ref = talib.T3(frame["close"].to_numpy(float), length, vfactor)
        got = values("t3", frame, length=length, vfactor=vfactor)
        assert_close_to_reference(got, ref, label=label)


def test_source_is_honoured_against_talib():
    _, frame = real_data()[0]
    hl2 = ((frame["high"] + frame["low"]) / 2.0).to_numpy()
    got = values("dema", frame, length=14, source="hl2")
    assert_close_to_reference(got, talib.DEMA(hl2, 14))


def test_hand_computed_dema_and_zlema():
    # DEMA n=2, k=2/3 on x = 1, 2, 3, 4:
    #   e1: seed (1+2)/2 = 1.5 at bar 1; 1.5 + (3-1.5)*2/3 = 2.5; 2.5 + (4-2.5)*2/3 = 3.5
    #   e2: seed (1.5+2.5)/2 = 2.0 at bar 2; 2.0 + (3.5-2.0)*2/3 = 3.0
    #   DEMA = 2*e1 - e2: bar 2: 5.0 - 2.0 = 3.0; bar 3: 7.0 - 3.0 = 4.0
    dema = values("dema", frame_of([1.0, 2, 3, 4]), length=2)
    assert np.isnan(dema[:2]).all()
    assert dema[2:] == pytest.approx([3.0, 4.0], rel=1e-15)
    # ZLEMA n=3: lag 1, k = 0.5 on x = 1, 2, 4, 8, 16: d = 2x - x[-1] = 3, 6, 12, 24 (bars 1..4)
    #   seed (3+6+12)/3 = 7 at bar 3; bar 4: 7 + (24-7)*0.5 = 15.5
    zlema = values("zlema", frame_of([1.0, 2, 4, 8, 16]), length=3)
    assert np.isnan(zlema[:3]).all()
    assert zlema[3:].tolist() == [7.0, 15.5]


def test_tema_and_t3_hand_computed_on_a_ramp():
    # On a ramp x_t = t each seeded EMA lags exactly L = (n-1)/2 bars (its SMA seed lags L
    # and the recursion keeps the lag (1-k)/k = L). DEMA = 2 e1 - e2 and TEMA cancel the lag
    # entirely; Tillson's GD = (1+a) e1 - a e2 lags L(1-a), so T3 = GD^3 lags 3 L (1-a).
    ramp = frame_of(np.arange(60, dtype=float))
    x = np.arange(60, dtype=float)
    for n in (2, 3, 5):
        lag = (n - 1) / 2
        for name in ("dema", "tema"):
            got = values(name, ramp, length=n)
            w = indicators.spec(name).warmup_bars({"length": n})
            assert np.allclose(got[w - 1 :], x[w - 1 :], rtol=0, atol=1e-12), (name, n)
        t3 = values("t3", ramp, length=n, vfactor=0.7)
        assert np.allclose(t3[6 * (n - 1) :], x[6 * (n - 1) :] - 3 * lag * 0.3, atol=1e-12)
        # ZLEMA: d = x + lag_z with lag_z = floor((n-1)/2); the EMA lags L: value x + lag_z - L
        z = values("zlema", ramp, length=n)
        w = (n - 1) // 2 + n
        assert np.allclose(z[w - 1 :], x[w - 1 :] + (n - 1) // 2 - lag, atol=1e-12), n


def test_period_one_is_the_source():
    _, frame = real_data()[-1]
    close = frame["close"].to_numpy(float)
    for name in ("dema", "tema", "zlema"):
        assert np.array_equal(values(name, frame, length=1), close), name
    assert np.array_equal(values("t3", frame, length=1, vfactor=0.7), close)


def test_t3_parameters_are_checked():
    from trade_core.errors import BadInputError

    with pytest.raises(BadInputError, match="vfactor: must be <= 1"):
        indicators.create("t3", vfactor=1.5)
    assert indicators.spec("t3").warmup_bars({"length": 5}) == 25
    assert indicators.spec("tema").warmup_bars({"length": 5}) == 13
    assert indicators.spec("dema").warmup_bars({"length": 5}) == 9
    assert indicators.spec("zlema").warmup_bars({"length": 6}) == 8
