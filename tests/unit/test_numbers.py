"""Exact step arithmetic: nasty floats by hand, then hypothesis properties checked in Decimal."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, localcontext

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from trade_core.numbers import (
    SNAP_REL,
    is_multiple_of_step,
    round_down_to_step,
    round_price,
    round_to_step,
    round_up_to_step,
)


def D(x: float) -> Decimal:
    """The decimal a float prints as."""
    return Decimal(repr(x))


@contextmanager
def exact() -> Iterator[None]:
    """Enough Decimal precision that differences of tiny and large floats are exact."""
    with localcontext() as ctx:
        ctx.prec = 1000
        yield


def is_exact_multiple(x: float, step: float) -> bool:
    with exact():
        return D(x) % D(step) == 0


# ---------------------------------------------------------------- hand-picked nasty values


def test_float_division_would_lose_a_step_but_we_do_not():
    assert math.floor(0.3 / 0.1) == 2  # the binary surprise being guarded against
    assert round_down_to_step(0.3, 0.1) == 0.3
    assert round_up_to_step(0.3, 0.1) == 0.3
    assert is_multiple_of_step(0.3, 0.1)
    assert 0.3 % 0.1 != 0  # 0.09999999999999998


def test_results_print_as_exact_decimals():
    assert repr(round_down_to_step(0.123456, 0.001)) == "0.123"
    assert repr(round_up_to_step(0.123456, 0.001)) == "0.124"
    assert repr(round_down_to_step(0.7 * 3, 0.1)) == "2.1"  # 0.7*3 = 2.0999999999999996
    assert repr(round_down_to_step(1.1 * 3, 0.1)) == "3.3"  # 1.1*3 = 3.3000000000000003
    assert repr(round_down_to_step(29.999999999999996, 0.1)) == "30.0"  # 33 / 1.1 in float


def test_one_plus_two_tenths():
    x = 0.1 + 0.2  # 0.30000000000000004
    assert round_down_to_step(x, 0.1) == 0.3
    assert round_up_to_step(x, 0.1) == 0.3  # within the snap band: not a whole step up
    assert round_to_step(x, 0.1) == 0.3
    assert is_multiple_of_step(x, 0.1)
    # strict semantics on request: 0.30000000000000004 is above 0.3
    assert round_up_to_step(x, 0.1, snap=0) == 0.4
    assert not is_multiple_of_step(x, 0.1, snap=0)


def test_noise_around_zero_snaps_to_zero_not_minus_one_step():
    x = 0.3 - 0.1 * 3  # -5.551115123125783e-17
    assert round_down_to_step(x, 0.1) == 0.0
    assert math.copysign(1.0, round_down_to_step(x, 0.1)) == 1.0  # no -0.0
    assert round_down_to_step(x, 0.1, snap=0) == -0.1


def test_tiny_steps_1e_8():
    assert round_down_to_step(0.123456789, 1e-8) == 0.12345678
    assert round_up_to_step(0.123456781, 1e-8) == 0.12345679
    assert round_to_step(0.000000015, 1e-8) == 0.00000002  # exact half: away from zero
    assert round_down_to_step(1e-8, 1e-8) == 1e-8
    assert round_down_to_step(9.9e-9, 1e-8) == 0.0
    assert repr(round_down_to_step(12345.678901234, 1e-8)) == "12345.67890123"


def test_step_100():
    assert round_down_to_step(12345.6, 100) == 12300.0
    assert round_up_to_step(12345.6, 100) == 12400.0
    assert round_to_step(12345.6, 100) == 12300.0
    assert round_to_step(12350, 100) == 12400.0  # tie, away from zero
    assert round_up_to_step(12300.0, 100) == 12300.0
    assert round_down_to_step(99.0, 100) == 0.0


def test_ticks_of_5e_5():
    # 0.123456 / 0.00005 = 2469.12 ticks -> 2469 * 0.00005 = 0.12345, 2470 -> 0.1235
    assert round_price(0.123456, 5e-5, "down") == 0.12345
    assert round_price(0.123456, 5e-5, "up") == 0.1235
    assert round_price(0.123475, 5e-5, "nearest") == 0.1235  # 2469.5 ticks: tie, away from 0
    assert round_price(0.12347, 5e-5, "nearest") == 0.12345  # 2469.4 ticks
    assert is_multiple_of_step(0.12345, 5e-5)
    assert not is_multiple_of_step(0.12346, 5e-5)


def test_ties_are_the_printed_halves_away_from_zero():
    assert round(0.15, 1) == 0.1 and round(2.675, 2) == 2.67  # built-in sees binary values
    assert round_to_step(0.15, 0.1) == 0.2
    assert round_to_step(2.675, 0.01) == 2.68
    assert round_to_step(-0.15, 0.1) == -0.2
    assert round_to_step(0.25, 0.5) == 0.5
    assert round_to_step(0.24999, 0.5) == 0.0


def test_negative_values_round_towards_the_infinities():
    assert round_down_to_step(-0.15, 0.1) == -0.2
    assert round_up_to_step(-0.15, 0.1) == -0.1


def test_btc_price_ticks():
    assert round_price(64123.456, 0.1, "down") == 64123.4
    assert round_price(64123.456, 0.1, "up") == 64123.5
    assert round_price(64123.45, 0.1, "nearest") == 64123.5
    assert round_price(64123.4, 0.1, "up") == 64123.4


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: round_down_to_step(1.0, 0.0), "step"),
        (lambda: round_down_to_step(1.0, -0.1), "step"),
        (lambda: round_up_to_step(1.0, math.nan), "step"),
        (lambda: round_to_step(math.inf, 0.1), "x must be finite"),
        (lambda: is_multiple_of_step(math.nan, 0.1), "x must be finite"),
        (lambda: round_down_to_step(1.0, 0.1, snap=-1), "snap"),
        (lambda: round_price(0.0, 0.1, "down"), "price"),
        (lambda: round_price(-5.0, 0.1, "up"), "price"),
        (lambda: round_price(100.0, 0.1, "sideways"), "direction"),  # type: ignore[arg-type]
        (lambda: round_price(0.04, 0.1, "down"), "rounds down to 0"),
    ],
)
def test_bad_inputs_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---------------------------------------------------------------------------- properties

STEPS = st.sampled_from([1e-8, 5e-5, 1e-4, 0.001, 0.0025, 0.01, 0.1, 0.25, 0.5, 1.0, 5.0, 100.0])
# at most 1e7 in size: with the steps above every multiple has <= 15 significant digits
VALUES = st.one_of(
    st.floats(min_value=-1e7, max_value=1e7, allow_nan=False, allow_infinity=False),
    st.decimals(min_value=-10_000, max_value=10_000, places=6).map(float),  # typed-in decimals
    st.builds(
        lambda a, b: a + b, st.sampled_from([0.1, 0.7, 1.1, 2.3]), st.sampled_from([0.2, 0.3, 1.4])
    )
    | st.builds(lambda a, k: a * k, st.sampled_from([0.1, 0.7, 1.1, 0.07]), st.integers(1, 1000)),
)
SNAPS = st.sampled_from([0.0, SNAP_REL])


def band(x: float, step: float, snap: float) -> Decimal:
    """The snap band in the value's units (see trade_core.numbers)."""
    steps = max(Decimal(1), abs(D(x) / D(step)))
    return min(Decimal(snap) * steps, Decimal("1e-6")) * D(step)


@settings(max_examples=400, deadline=None)
@given(VALUES, STEPS, SNAPS)
def test_down_is_a_multiple_not_above_x_and_less_than_a_step_below(x, step, snap):
    r = round_down_to_step(x, step, snap=snap)
    assert is_exact_multiple(r, step)
    with exact():
        assert D(r) <= D(x) + band(x, step, snap)
        assert D(x) - D(r) < D(step)
    if snap == 0:
        assert r <= x


@settings(max_examples=400, deadline=None)
@given(VALUES, STEPS, SNAPS)
def test_up_is_a_multiple_not_below_x_and_less_than_a_step_above(x, step, snap):
    r = round_up_to_step(x, step, snap=snap)
    assert is_exact_multiple(r, step)
    with exact():
        assert D(r) >= D(x) - band(x, step, snap)
        assert D(r) - D(x) < D(step)
    if snap == 0:
        assert r >= x


@settings(max_examples=400, deadline=None)
@given(VALUES, STEPS)
def test_nearest_is_a_multiple_within_half_a_step(x, step):
    r = round_to_step(x, step)
    assert is_exact_multiple(r, step)
    with exact():
        assert abs(D(r) - D(x)) <= D(step) / 2
    assert round_down_to_step(x, step, snap=0) <= r <= round_up_to_step(x, step, snap=0)


@settings(max_examples=300, deadline=None)
@given(VALUES, STEPS, SNAPS)
def test_idempotent_and_multiples_are_fixed_points(x, step, snap):
    for f in (
        lambda v: round_down_to_step(v, step, snap=snap),
        lambda v: round_up_to_step(v, step, snap=snap),
        lambda v: round_to_step(v, step),
    ):
        r = f(x)
        assert f(r) == r
        assert is_multiple_of_step(r, step, snap=0)


@settings(max_examples=400, deadline=None)
@given(VALUES, VALUES, STEPS, SNAPS)
def test_monotone(a, b, step, snap):
    lo, hi = min(a, b), max(a, b)
    assert round_down_to_step(lo, step, snap=snap) <= round_down_to_step(hi, step, snap=snap)
    assert round_up_to_step(lo, step, snap=snap) <= round_up_to_step(hi, step, snap=snap)
    assert round_to_step(lo, step) <= round_to_step(hi, step)


@settings(max_examples=300, deadline=None)
@given(VALUES, STEPS, SNAPS)
def test_is_multiple_iff_down_equals_up(x, step, snap):
    down = round_down_to_step(x, step, snap=snap)
    up = round_up_to_step(x, step, snap=snap)
    assert is_multiple_of_step(x, step, snap=snap) == (down == up)
    assert down <= up


@settings(max_examples=300, deadline=None)
@given(st.integers(-(10**9), 10**9), STEPS)
def test_exact_multiples_survive_the_float_round_trip(k, step):
    x = float(k * D(step))  # k steps, as a float (0.1 * 3 would already be noisy)
    assume(abs(x) <= 1e7)
    for snap in (0.0, SNAP_REL):
        assert round_down_to_step(x, step, snap=snap) == x
        assert round_up_to_step(x, step, snap=snap) == x
        assert is_multiple_of_step(x, step, snap=snap)
    assert round_to_step(x, step) == x


@settings(max_examples=300, deadline=None)
@given(st.integers(-(10**6), 10**6), STEPS)
def test_arithmetic_noise_never_costs_a_step(k, step):
    exact = float(k * D(step))
    for noisy in (math.nextafter(exact, math.inf), math.nextafter(exact, -math.inf)):
        assert round_down_to_step(noisy, step) == exact
        assert round_up_to_step(noisy, step) == exact


@settings(max_examples=2000, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_float_reads_as_the_decimal_it_prints_as(x):
    """The fast reading of ``repr`` (string operations) against Decimal's own parse."""
    from trade_core.numbers import _decimal_units

    m, e = _decimal_units(x, "x")
    sign, digits, exp = D(x).as_tuple()
    mantissa = int("".join(map(str, digits)))
    assert (m, e) == ((-mantissa if sign else mantissa), exp)
    with exact():
        assert Decimal(m).scaleb(e) == D(x)
