"""Exact step arithmetic for prices and quantities held as float64.

Bybit prices move in ``tickSize`` steps and quantities in ``qtyStep`` steps (both decimals such
as ``0.1``, ``0.001``, ``5e-05``, ``100``). Plain float division gets these wrong: ``0.3 / 0.1``
is ``2.9999999999999996``, so ``floor`` gives 2 steps where anyone reading the numbers expects 3.

Method
------
1. Each float is read as **the decimal it prints as** (what ``Decimal(repr(x))`` holds, read
   off ``repr`` directly): the shortest decimal string that round-trips to that float. ``0.1``
   is taken as 1/10, not as the binary value 0.1000000000000000055511...; ``0.3`` as 3/10.
2. Value and step become integers over a common power of ten (``0.3`` and ``0.1`` become 3 and
   1 units of 10**-1). The whole number of steps and the remainder come from Python's exact
   integer ``divmod``, and the snap band below is compared in integers too (``snap`` as its
   exact binary ratio); nothing is rounded on the way.
3. The chosen multiple is written as a decimal string (``"123e-3"``) and converted with
   ``float()``, which rounds correctly. So the result is the float nearest to an exact decimal
   multiple of the step, and when that multiple has at most 15 significant digits (every real
   price or quantity does) ``repr`` of the result prints it exactly: ``0.123``, never
   ``0.12300000000000001``.

Snap band (``snap``)
--------------------
A value that came out of float arithmetic is often a few units in the last place off the
multiple that was meant: ``0.1 + 0.2 == 0.30000000000000004``, ``1.1 * 3 ==
3.3000000000000003``, ``0.7 * 3 == 2.0999999999999996``. Read literally, rounding those *up*
(or *down* for the last) costs a whole step. So a value within a tiny band of a multiple is
taken as that multiple: the band is ``min(snap * max(1, |x / step|), 1e-6)`` steps, i.e. about
``snap`` relative to ``x`` (default ``1e-12``, some 4500 float64 ulps, far beyond arithmetic
noise and far below any real price or size difference), never more than a millionth of a step.
The consequence, by design: ``round_down_to_step`` may return a value up to that band *above*
``x`` (and ``round_up_to_step`` up to that band below it). Pass ``snap=0`` for strict
semantics, where down never exceeds ``x`` and up is never below ``x``. All functions stay
monotone (non-decreasing in ``x``) and idempotent either way.

``round_to_step`` (nearest) uses no band; ties (exactly half a step, as printed) go **away from
zero**: ``round_to_step(0.15, 0.1) == 0.2`` and ``round_to_step(2.675, 0.01) == 2.68``, where
the built-in ``round`` gives 0.1 and 2.67 because it sees the binary values below the halves.

Units are whatever the caller's are (USDT for prices, base coin for quantities); the step must
be in the same unit. Non-finite inputs and steps ``<= 0`` raise :class:`ValueError`.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Literal

Direction = Literal["down", "up", "nearest"]

SNAP_REL: float = 1e-12
"""Default snap band, relative to ``x`` (see the module docstring)."""

_BAND_DENOMINATOR = 1_000_000  # the band never exceeds 1 / _BAND_DENOMINATOR of a step


def round_down_to_step(x: float, step: float, *, snap: float = SNAP_REL) -> float:
    """The largest multiple of ``step`` not above ``x`` (towards minus infinity).

    ``round_down_to_step(0.123456, 0.001) == 0.123``; ``round_down_to_step(0.3, 0.1) == 0.3``.
    A value within the snap band below a multiple is that multiple (module docstring).
    """
    units, step_units, exp = _units(x, step, snap)
    n, rem = divmod(units, step_units)
    if rem and _within_band(step_units - rem, units, step_units, snap):
        n += 1
    return _from_units(n * step_units, exp)


def round_up_to_step(x: float, step: float, *, snap: float = SNAP_REL) -> float:
    """The smallest multiple of ``step`` not below ``x`` (towards plus infinity).

    ``round_up_to_step(0.1 + 0.2, 0.1) == 0.3`` (snap band); with ``snap=0`` it is ``0.4``.
    """
    units, step_units, exp = _units(x, step, snap)
    n, rem = divmod(units, step_units)
    if rem and not _within_band(rem, units, step_units, snap):
        n += 1
    return _from_units(n * step_units, exp)


def round_to_step(x: float, step: float) -> float:
    """The multiple of ``step`` nearest to ``x``; exact halves go away from zero.

    ``round_to_step(0.15, 0.1) == 0.2``; ``round_to_step(-0.15, 0.1) == -0.2``.
    """
    units, step_units, exp = _units(x, step)
    n, rem = divmod(abs(units), step_units)
    if 2 * rem >= step_units:
        n += 1
    return _from_units((n if units >= 0 else -n) * step_units, exp)


def is_multiple_of_step(x: float, step: float, *, snap: float = SNAP_REL) -> bool:
    """Whether ``x`` is a whole multiple of ``step`` (within the snap band; ``snap=0``: exactly).

    ``is_multiple_of_step(0.3, 0.1)`` is true although ``0.3 % 0.1 == 0.09999999999999998``.
    """
    units, step_units, _ = _units(x, step, snap)
    rem = units % step_units
    return rem == 0 or _within_band(min(rem, step_units - rem), units, step_units, snap)


def round_price(price: float, tick: float, direction: Direction) -> float:
    """``price`` (USDT, > 0) on the ``tick`` grid, rounded ``"down"``, ``"up"`` or ``"nearest"``.

    The caller picks the direction (e.g. a long's stop loss rounded up, towards the entry, to
    keep the risk within budget). Raises :class:`ValueError` for a price that is not a positive
    finite number, an unknown direction, or a price that would round to 0.
    """
    if not (math.isfinite(price) and price > 0):
        raise ValueError(f"price must be a positive finite number, got {price!r}")
    if direction == "down":
        out = round_down_to_step(price, tick)
    elif direction == "up":
        out = round_up_to_step(price, tick)
    elif direction == "nearest":
        out = round_to_step(price, tick)
    else:
        raise ValueError(f"direction must be 'down', 'up' or 'nearest', got {direction!r}")
    if out <= 0:
        raise ValueError(f"price {price!r} rounds {direction} to 0 on tick {tick!r}")
    return out


def _decimal_units(x: float, name: str) -> tuple[int, int]:
    """``x`` as ``(m, e)`` with the decimal it prints as equal to ``m * 10**e`` exactly.

    Read off ``repr(x)`` (``"123.456"``, ``"-0.5"``, ``"1.5e-05"``, ``"1e+16"``): the digits
    without the point are ``m``, the digits after the point lower the exponent. The same
    pair ``Decimal(repr(x)).as_tuple()`` gives, in a few string operations."""
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {x!r}")
    mantissa, _, exponent = repr(float(x)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    return int(whole + fraction), (int(exponent) if exponent else 0) - len(fraction)


@lru_cache(maxsize=64)
def _step_units(step: float) -> tuple[int, int]:
    """A step as ``(m, e)`` (:func:`_decimal_units`); validated once per distinct step (a
    run uses one tick and one qty step, so this is a lookup on the hot path)."""
    if not (math.isfinite(step) and step > 0):
        raise ValueError(f"step must be a positive finite number, got {step!r}")
    return _decimal_units(step, "step")


@lru_cache(maxsize=64)
def _snap_ratio(snap: float) -> tuple[int, int]:
    """``snap`` as the exact ratio ``(p, q)`` of its binary value (``Fraction(snap)``)."""
    if not (math.isfinite(snap) and snap >= 0):
        raise ValueError(f"snap must be a finite number >= 0, got {snap!r}")
    return float(snap).as_integer_ratio()


def _units(x: float, step: float, snap: float = 0.0) -> tuple[int, int, int]:
    """``(X, S, e)`` with ``x == X * 10**e``, ``step == S * 10**e`` exactly (as printed), S > 0."""
    ms, es = _step_units(step)
    _snap_ratio(snap)  # validates snap
    mx, ex = _decimal_units(x, "x")
    exp = min(ex, es)
    return mx * 10 ** (ex - exp), ms * 10 ** (es - exp), exp


def _within_band(off: int, units: int, step_units: int, snap: float) -> bool:
    """Whether ``off / step_units`` steps lie within the snap band
    ``min(snap * max(1, |units / step_units|), 1e-6)`` steps: both bounds compared exactly,
    in integers (``off`` and the step in the same units, ``snap = p / q`` exactly)."""
    if snap == 0:
        return off <= 0
    p, q = _snap_ratio(snap)
    return off * q <= p * max(step_units, abs(units)) and off * _BAND_DENOMINATOR <= step_units


def _from_units(units: int, exp: int) -> float:
    """The float nearest to ``units * 10**exp`` (never ``-0.0``): ``float`` of a decimal
    string rounds correctly, as ``float(Decimal(...))`` does."""
    if units == 0:
        return 0.0
    return float(f"{units}e{exp}")
