"""The drift-free block-decomposed windows shared by cmf and squeeze."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.indicators._synth_year import synth_year
from trade_core.indicators._block_windows import (
    RollingLinReg,
    RollingMax,
    RollingMin,
    RollingSum,
    linreg_value,
    window_linreg,
    window_max,
    window_min,
    window_sum,
)

values = st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=120)


@settings(max_examples=150, deadline=None)
@given(values, st.integers(1, 25))
def test_stream_equals_batch_bit_for_bit_and_matches_exact_sums(xs, n):
    x = np.asarray(xs)
    rs, rmax, rmin, rlr = RollingSum(n), RollingMax(n), RollingMin(n), RollingLinReg(n)
    streamed = np.array([(rs.push(v), rmax.push(v), rmin.push(v), *rlr.push(v)) for v in xs])
    sy, sxy = window_linreg(x, n)
    for col, batch in enumerate((window_sum(x, n), window_max(x, n), window_min(x, n), sy, sxy)):
        assert np.isnan(batch[: n - 1]).all()
        assert np.array_equal(streamed[n - 1 :, col], batch[n - 1 :])
    for i in range(n - 1, len(xs)):
        w = xs[i - n + 1 : i + 1]
        scale = math.fsum(abs(v) for v in w) + 1e-300
        assert abs(streamed[i, 0] - math.fsum(w)) <= 4 * n * 2**-53 * scale
        assert streamed[i, 1] == max(w) and streamed[i, 2] == min(w)
        wxy = [j * v for j, v in enumerate(w)]
        assert abs(streamed[i, 4] - math.fsum(wxy)) <= 8 * n * 2**-53 * (n * scale)
    # before n values, the stream covers everything pushed so far
    for i in range(min(n - 1, len(xs))):
        assert streamed[i, 1] == max(xs[: i + 1])


def test_linreg_value_by_hand():
    # y = (1, 2, 4) at x = 0, 1, 2: slope = 1.5, mean y = 7/3 at x = 1 -> value at x=2 = 23/6
    assert linreg_value(7.0, 0 * 1 + 1 * 2 + 2 * 4.0, 3) == pytest.approx(23 / 6, rel=1e-15)
    y = np.array([3.0, -1.0, 2.5, 7.0, 0.5])
    slope, intercept = np.polyfit(np.arange(5), y, 1)
    assert linreg_value(y.sum(), (np.arange(5) * y).sum(), 5) == pytest.approx(
        intercept + 4 * slope, rel=1e-12
    )


def test_all_zero_windows_sum_to_exactly_zero():
    x = np.array([1e9, -3.3, 7.1] + [0.0] * 10)
    assert window_sum(x, 5)[-6:].tolist() == [0.0] * 6


@pytest.mark.slow
def test_no_drift_over_a_year_of_values():
    volume = synth_year()["volume"].to_numpy()
    got = window_sum(volume, 20)
    naive = np.cumsum(volume)  # the running-sum alternative, for comparison only
    naive = naive[19:] - np.concatenate(([0.0], naive[:-20]))
    exact = np.array([math.fsum(volume[i - 19 : i + 1]) for i in range(19, len(volume))])
    err = np.abs(got[19:] - exact) / exact
    assert err.max() <= 20 * 2**-53
    assert np.abs(naive - exact).max() / exact.min() > err.max()  # what blocks avoid
