"""Helpers shared by the structure detectors: reading the swing dependency, Wilder's ATR, the
last swing leg, and the four-state zone life cycle used by ``zone`` and ``derived_zone``.

Private module (not registered): the detectors document every rule they take from here.
"""

from __future__ import annotations

import math
from typing import Any

from trade_core.features.base import Feature, FeatureRef, Param

# Zone states, as small ints internally and strings in outputs.
ACTIVE, TOUCHED, MITIGATED, INVALIDATED = 0, 1, 2, 3
STATES: tuple[str, ...] = ("active", "touched", "mitigated", "invalidated")
LIVE_STATES: tuple[str, ...] = STATES[:2]
SIDES: tuple[str, ...] = ("demand", "supply")

SWINGS_DOC = (
    "id of the swing feature (same timeframe) whose confirmed pivots this detector reads; "
    "default: the feature with id 'swings'"
)


def swings_param() -> Param:
    """The ``swings`` parameter naming a ``swing`` feature of the Play.

    It defaults to the id ``"swings"`` rather than being required: ``FeatureSpec.resolve``
    (hence ``warmup_bars({})`` and ``describe()``) refuses a spec whose required parameter is
    missing, and a warm-up must be computable from defaults. A Play without a swing feature
    of that id still fails to load (the reference check names the missing feature).
    """
    return Param("swings", FeatureRef(("swing",)), "swings", doc=SWINGS_DOC)


def atr_length_param() -> Param:
    return Param("atr_length", int, 14, minimum=1, maximum=1000, doc="Wilder ATR length, bars")


def bind_swing(feature: Feature) -> Feature:
    """The ``swings`` dependency of ``feature`` (checked to be a swing detector).

    Also raises the instance's ``warmup_bars`` to the swing's, so ``feature.ready`` implies
    that the swing is ready too (the spec's own warm-up cannot see the swing's parameters).
    """
    dep = feature.deps["swings"]
    if getattr(getattr(dep, "spec", None), "name", None) != "swing":
        raise ValueError(f"{feature.spec.name}: swings must be a swing feature, got {dep!r}")
    feature.warmup_bars = max(feature.warmup_bars, dep.warmup_bars)
    return dep


def check_fed(dep: Feature, bars: int, name: str) -> None:
    """Refuse to read a swing that has not been updated with the current bar first."""
    if dep.bars != bars:
        raise RuntimeError(
            f"{name}: the swings feature has seen {dep.bars} bars but this detector {bars}; "
            "update the swing (the dependency) first, with the same bars"
        )


class WilderATR:
    """Average true range as TA-Lib 0.8 ``ATR(n)``, one bar at a time.

    ``TR_i = max(high_i - low_i, |high_i - close_{i-1}|, |low_i - close_{i-1}|)`` for i >= 1
    (bar 0 has no true range). The first ATR, at bar index n (after n + 1 bars), is the mean
    of ``TR_1..TR_n``; then ``ATR_i = (ATR_{i-1} * (n - 1) + TR_i) / n``. ``value`` is NaN
    before that. Units: price.
    """

    __slots__ = ("_count", "_n", "_prev_close", "_sum", "value")

    def __init__(self, n: int) -> None:
        self._n = n
        self._prev_close = math.nan
        self._sum = 0.0
        self._count = 0
        self.value = math.nan

    def update(self, high: float, low: float, close: float) -> float:
        prev = self._prev_close
        self._prev_close = close
        if prev != prev:  # first bar: no true range
            return self.value
        tr = max(high - low, abs(high - prev), abs(low - prev))
        n = self._n
        if self._count < n:
            self._count += 1
            self._sum += tr
            if self._count == n:
                self.value = self._sum / n
            return self.value
        self.value = (self.value * (n - 1) + tr) / n
        return self.value


def swing_leg(sw: list[Any], idx: dict[str, int]) -> tuple[str, float, float] | None:
    """``(direction, leg_high, leg_low)`` of the last swing leg, or None without a valid one.

    The leg joins the last confirmed pivot high and the last confirmed pivot low. It is "up"
    when the low's pivot bar is earlier than the high's, "down" when the high's is earlier;
    when both pivots are on the same bar, the kind registered last (``last_pivot``) is the
    leg's end ("high" -> up). None when either pivot is missing or the pair is not a leg:
    ``last_high <= last_low`` (possible with non-alternating pivots far apart in time).
    """
    hi, lo = sw[idx["last_high"]], sw[idx["last_low"]]
    if not hi > lo:  # also False when either is NaN
        return None
    t_hi, t_lo = sw[idx["last_high_ts"]], sw[idx["last_low_ts"]]
    if t_lo < t_hi:
        up = True
    elif t_hi < t_lo:
        up = False
    else:
        up = sw[idx["last_pivot"]] == "high"
    return ("up" if up else "down"), hi, lo


class Box:
    """One zone ``[bottom, top]`` on the demand (below price) or supply (above) side.

    Life cycle, judged on each bar *after* the bar that created the zone, while the zone is
    live (active or touched); demand first, supply mirrored:

    1. ``close < bottom`` -> invalidated (final);
    2. else ``low < bottom`` (traded through to the far side, closed back inside/above)
       -> mitigated (final);
    3. else ``low <= top`` (price entered the zone) -> touched;
    4. else unchanged.

    Supply: ``close > top`` -> invalidated; else ``high > top`` -> mitigated; else
    ``high >= bottom`` -> touched.
    """

    __slots__ = ("bottom", "demand", "seq", "state", "top")

    def __init__(self, demand: bool, top: float, bottom: float, seq: int) -> None:
        self.demand = demand
        self.top = top
        self.bottom = bottom
        self.state = ACTIVE
        self.seq = seq  # creation order, for ties and eviction

    def step(self, high: float, low: float, close: float) -> bool:
        """Apply one bar; True when this bar moved the zone from active to touched."""
        before = self.state
        if self.demand:
            if close < self.bottom:
                self.state = INVALIDATED
            elif low < self.bottom:
                self.state = MITIGATED
            elif low <= self.top:
                self.state = TOUCHED
        elif close > self.top:
            self.state = INVALIDATED
        elif high > self.top:
            self.state = MITIGATED
        elif high >= self.bottom:
            self.state = TOUCHED
        return before == ACTIVE and self.state == TOUCHED

    @property
    def live(self) -> bool:
        return self.state <= TOUCHED
