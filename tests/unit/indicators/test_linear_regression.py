"""Rolling least squares ("linreg" value at the newest bar, "slope"): TA-Lib 0.8 parity,
an independent least-squares reference, hand-computed values and the re-anchoring rules."""

import numpy as np
import pytest
import talib

from tests.support.features import assert_close_to_reference
from tests.unit.indicators._ma_support import frame_of, real_data, regression_ref, values
from trade_core import indicators
from trade_core.errors import BadInputError

TALIB = {"linreg": talib.LINEARREG, "slope": talib.LINEARREG_SLOPE}


@pytest.mark.parametrize("length", [2, 3, 5, 14, 50, 200])
@pytest.mark.parametrize("name", ["linreg", "slope"])
def test_matches_talib_on_real_data(name, length):
    for label, frame in real_data():
        ref = TALIB[name](frame["close"].to_numpy(float), length)
        assert_close_to_reference(values(name, frame, length=length), ref, label=label)


@pytest.mark.parametrize("length", [2, 7, 30])
def test_matches_an_independent_least_squares_fit(length):
    _, frame = real_data()[0]
    part = frame.iloc[:5000]
    slope_ref, line_ref = regression_ref(part["close"].to_numpy(float), length)
    slope = values("slope", part, length=length)[length - 1 :]
    line = values("linreg", part, length=length)[length - 1 :]
    assert_close_to_reference(line, line_ref, rtol=1e-12)
    # the slope is a difference of nearly equal sums: compare at the scale of the moves
    move = part["close"].diff().abs().median()
    assert np.max(np.abs(slope - slope_ref)) <= 1e-9 * move


def test_hand_computed_ramp_and_window():
    # y = 2t + 1 is its own regression line: slope 2, value at the newest bar = y
    ramp = 2.0 * np.arange(20) + 1.0
    assert np.allclose(values("slope", frame_of(ramp), length=5)[4:], 2.0, rtol=1e-14)
    assert np.allclose(values("linreg", frame_of(ramp), length=5)[4:], ramp[4:], rtol=1e-14)
    # window 1, 3, 2 (t = 0, 1, 2): t_mean = 1, y_mean = 2,
    # slope = ((-1)(1-2) + 0 + (1)(2-2)) / ((-1)^2 + 0 + 1^2) = 1/2; value at t=2: 2 + 0.5 = 2.5
    assert values("slope", frame_of([1.0, 3.0, 2.0]), length=3)[2] == pytest.approx(0.5)
    assert values("linreg", frame_of([1.0, 3.0, 2.0]), length=3)[2] == pytest.approx(2.5)


def test_rebuild_rules_match_talib():
    # Long input: the running sums are rebuilt every 32n bars; a 1000x print, when it leaves
    # the window, triggers an immediate rebuild. Both must land where TA-Lib lands.
    rng = np.random.default_rng(11)
    x = 100.0 + np.cumsum(rng.normal(0, 1, 5000))
    x[[700, 2222, 4100]] *= 1000.0
    for n in (2, 3, 14):
        for name in ("linreg", "slope"):
            got = values(name, frame_of(x), length=n)
            assert_close_to_reference(got, TALIB[name](x, n), rtol=1e-12, label=f"{name} {n}")


def test_length_must_be_at_least_two():
    with pytest.raises(BadInputError, match="length: must be >= 2"):
        indicators.create("slope", length=1)
    assert indicators.spec("linreg").warmup_bars({}) == 14
