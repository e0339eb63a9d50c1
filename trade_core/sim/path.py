"""The assumed price path through one 1m bar, used to order intrabar events.

A 1m bar says where price went, not in which order. The simulator assumes the path
``open -> first extreme -> other extreme -> close`` (three straight legs) and walks it in
"path time" ``t`` in ``[0, 3]``: leg ``i`` runs from ``t = i`` to ``t = i + 1``, so ``t = 0`` is
the open, ``t = 3`` the close. Which extreme comes first is the venue's choice
(:func:`low_first`): with a position open, its **adverse** extreme first (a long sees the low
before the high), which is the conservative reading BYBIT_RULES asks for; when flat, the
extreme nearer to the open first (ties: the low).

:meth:`BarPath.reach` answers "when, from time ``t0`` on, does price first reach ``level``
rising (or falling)?", touching or strictly through. A level already beyond at ``t0`` is
reached at ``t0`` (the gap case: the fill-price rules then use the price at ``t0``).

Units: prices in USDT; path time is dimensionless (1 per leg; the venue stamps events at
``bar.ts + t * 20_000`` ms).
"""

from __future__ import annotations

from trade_core.engine.bars import Bar

LEGS = 3
"""Number of straight legs of the path (open -> extreme -> extreme -> close)."""
MS_PER_LEG = 20_000
"""Milliseconds of a 1m bar given to each leg when stamping an event's time."""


def low_first(bar: Bar, position_sign: int) -> bool:
    """Whether the path visits the low before the high: long -> yes, short -> no; flat ->
    the extreme nearer to the open (ties: the low)."""
    if position_sign > 0:
        return True
    if position_sign < 0:
        return False
    return bar.open - bar.low <= bar.high - bar.open


def beyond(price: float, level: float, rising: bool, strict: bool) -> bool:
    """Whether ``price`` has reached ``level`` in the direction: rising ``price >= level``
    (``>`` if ``strict``), falling ``price <= level`` (``<`` if ``strict``)."""
    if rising:
        return price > level if strict else price >= level
    return price < level if strict else price <= level


class BarPath:
    """Piecewise-linear path ``open -> x1 -> x2 -> close`` through one bar (module doc)."""

    __slots__ = ("points",)

    def __init__(self, bar: Bar, *, lows_first: bool) -> None:
        first, second = (bar.low, bar.high) if lows_first else (bar.high, bar.low)
        self.points: tuple[float, float, float, float] = (bar.open, first, second, bar.close)

    def reach(
        self, level: float, *, rising: bool, strict: bool, t0: float, p0: float
    ) -> float | None:
        """First path time ``>= t0`` at which price reaches ``level`` (None if never).

        ``p0`` is the price at ``t0`` (exact: the open, or the level of the event that
        happened at ``t0``). Reached at ``t0`` itself if ``p0`` is already beyond the level.
        """
        if beyond(p0, level, rising, strict):
            return t0
        pts = self.points
        for leg in range(min(int(t0), LEGS - 1), LEGS):
            start, end = pts[leg], pts[leg + 1]
            if beyond(end, level, rising, strict):
                t = leg + (level - start) / (end - start) if end != start else float(leg)
                return min(max(t, t0), leg + 1.0)
        return None

    def extremes_from(self, t0: float, p0: float) -> tuple[float, float]:
        """``(high, low)`` of the rest of the path from time ``t0`` (price ``p0`` there)."""
        rest = self.points[min(int(t0), LEGS - 1) + 1 :]
        return max(p0, *rest), min(p0, *rest)


def stamp(bar: Bar, t: float) -> int:
    """Epoch ms of path time ``t`` in ``bar``: ``bar.ts + round(t * 20_000)``."""
    return bar.ts + round(t * MS_PER_LEG)
