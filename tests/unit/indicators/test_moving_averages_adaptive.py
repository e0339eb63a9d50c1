"""KAMA: TA-Lib 0.8 parity on real and crafted data, hand-computed values, flat windows."""

import numpy as np
import pytest
import talib

from tests.support.features import assert_close_to_reference
from tests.unit.indicators._ma_support import frame_of, real_data, values
from trade_core import indicators


@pytest.mark.parametrize("length", [1, 2, 3, 10, 30, 200])
def test_kama_matches_talib_on_real_data(length):
    for label, frame in real_data():
        ref = talib.KAMA(frame["close"].to_numpy(float), length)
        assert_close_to_reference(values("kama", frame, length=length), ref, label=label)


def test_kama_source_against_talib():
    _, frame = real_data()[0]
    hlc3 = ((frame["high"] + frame["low"] + frame["close"]) / 3.0).to_numpy()
    assert_close_to_reference(values("kama", frame, length=10, source="hlc3"), talib.KAMA(hlc3, 10))


@pytest.mark.parametrize("wiggle", [0.0, 2.2e-16, 4e-15, 5e-12, 1e-9])
def test_kama_zero_noise_band_matches_talib(wiggle):
    # A jump then a window whose only movement is `wiggle`: the noise sum is 0 or tiny, the
    # net change 0. TA-Lib treats |noise| < 1e-14 as zero (ER = 1, fast); above it ER = 0
    # (slowest constant). The two outcomes differ by orders of magnitude, so agreeing
    # pins the band.
    tail = [1.0 + (wiggle if i % 2 else 0.0) for i in range(30)]
    x = np.array([0.0] * 6 + tail)
    got = values("kama", frame_of(x), length=4)
    assert_close_to_reference(got, talib.KAMA(x, 4), rtol=1e-12)


def test_kama_hand_computed():
    # n=2 on x = 1, 2, 3, 2:
    #   noise over the first 2 changes = |1-2| + |2-3| = 2; bar 2: change = 3-1 = 2 >= noise
    #   -> ER = 1, sc = (1*(2/3 - 2/31) + 2/31)^2 = 4/9; seed KAMA = x[1] = 2
    #   KAMA[2] = 2 + (3-2) * 4/9 = 22/9
    #   bar 3: noise = 2 - |1-2| + |3-2| = 2, change = 2-2 = 0 -> ER = 0, sc = (2/31)^2
    #   KAMA[3] = 22/9 + (2 - 22/9) * 4/961
    got = values("kama", frame_of([1.0, 2, 3, 2]), length=2)
    assert np.isnan(got[:2]).all()
    assert got[2] == pytest.approx(22 / 9, rel=1e-15)
    assert got[3] == pytest.approx(22 / 9 + (2 - 22 / 9) * 4 / 961, rel=1e-15)
    assert indicators.spec("kama").warmup_bars({"length": 10}) == 11
    assert indicators.spec("kama").warmup_bars({"length": 1}) == 1


def test_kama_on_a_flat_run_moves_at_the_fast_rate():
    # After a step, a flat window has noise 0 -> ER = 1 -> sc = 4/9 per bar: the gap to the
    # flat price shrinks by the factor 5/9 each bar once the window is flat.
    x = np.array([10.0] * 5 + [20.0] * 40)
    got = values("kama", frame_of(x), length=3)
    gap = 20.0 - got[8:]
    assert np.all(gap[1:] <= gap[:-1] * (5 / 9) + 1e-12)
    assert got[-1] == pytest.approx(20.0, abs=1e-9)


def test_kama_matches_talib_where_rounding_decides():
    # Huge and tiny prints make the running noise total absorb terms and land on 0, below 0
    # or under |change|; TA-Lib then takes ER = 1 (and resets the total on a flat window).
    rng = np.random.default_rng(7)
    levels = np.array([0.0, 1.0, 2.0, 3.0, 1e16, 1e16 + 2, 5e15, 1e-300])
    for _ in range(1500):
        n = int(rng.integers(2, 5))
        x = rng.choice(levels, size=int(rng.integers(n + 2, 12)))
        got = values("kama", frame_of(x), length=n)
        ref = talib.KAMA(x, n)
        assert np.array_equal(np.isnan(got), np.isnan(ref)), x.tolist()
        ok = ~np.isnan(ref)
        assert np.allclose(got[ok], ref[ok], rtol=1e-12, atol=0), (n, x.tolist())
