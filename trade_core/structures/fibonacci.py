"""Fibonacci retracement and extension levels of the last confirmed swing leg."""

from __future__ import annotations

from trade_core.features.base import BOOL, ENUM, Feature, Output
from trade_core.structures import REGISTRY
from trade_core.structures._common import bind_swing, check_fed, swing_leg, swings_param
from trade_core.structures.swing import IDX

RETRACEMENTS: tuple[tuple[str, float], ...] = (
    ("level_236", 0.236),
    ("level_382", 0.382),
    ("level_500", 0.5),
    ("level_618", 0.618),
    ("level_786", 0.786),
)
EXTENSIONS: tuple[tuple[str, float], ...] = (("ext_1272", 1.272), ("ext_1618", 1.618))
_NH, _NL = IDX["new_high"], IDX["new_low"]


def retracement(direction: str, leg_high: float, leg_low: float, r: float) -> float:
    """Price retracing fraction ``r`` of the leg back from its end (0 = end, 1 = start)."""
    if direction == "up":
        return leg_high - r * (leg_high - leg_low)
    return leg_low + r * (leg_high - leg_low)


def extension(direction: str, leg_high: float, leg_low: float, e: float) -> float:
    """Price ``e`` leg lengths from the leg's start, in the leg's direction (1 = end)."""
    if direction == "up":
        return leg_low + e * (leg_high - leg_low)
    return leg_high - e * (leg_high - leg_low)


@REGISTRY.register(
    "fibonacci",
    params=(swings_param(),),
    outputs=(
        Output("leg_direction", ENUM, ("up", "down"), doc="up: low then high; down: high then low"),
        Output("leg_high", doc="the leg's high (last confirmed pivot high), price"),
        Output("leg_low", doc="the leg's low (last confirmed pivot low), price"),
        *(Output(name, doc=f"{r:g} retracement of the leg, price") for name, r in RETRACEMENTS),
        *(Output(name, doc=f"{e:g} extension of the leg, price") for name, e in EXTENSIONS),
        Output("new_leg", BOOL, doc="the leg changed on this bar"),
    ),
    warmup=lambda p: 1,
    reference="Fibonacci retracement / extension ratios (0.236, 0.382, 0.5, 0.618, 0.786; "
    "1.272, 1.618) as in common charting tools, on causally confirmed swing pivots",
)
class Fibonacci(Feature):
    """Retracement and extension levels of the last swing leg.

    Reads the ``swings`` detector after it has processed the current bar.

    **Leg.** The leg joins the swing's ``last_high`` (H) and ``last_low`` (L), the most
    recent confirmed pivot of each kind. Direction: ``up`` when the low's pivot bar is
    earlier than the high's (``last_low_ts < last_high_ts``: price went L -> H), ``down``
    when the high's is earlier (H -> L); when both pivots are on the same bar, the kind the
    swing registered last (``last_pivot``) is the end (high -> up). The leg (and every
    level) changes only on bars where the swing reports ``new_high`` or ``new_low``;
    ``new_leg`` is True on such a bar when the pair is a valid leg. A pair with ``H <= L`` is no
    leg (it happens, rarely, with ``alternate: false`` pivots far apart: a stale high below
    a later low): on such a bar every output goes back to NaN / "" until the next valid leg.

    **Levels** with ``R = H - L`` (price units):

    - retracement ``r`` (``level_236`` ... ``level_786``), measured back from the leg's end:
      up leg ``H - r * R``; down leg ``L + r * R``. ``level_500`` is the midpoint.
    - extension ``e`` (``ext_1272``, ``ext_1618``), measured from the leg's start in the
      leg's direction: up leg ``L + e * R`` (above H); down leg ``H - e * R`` (below L).

    So for an up leg ``ext_1618 > ext_1272 > H >= level_236 >= ... >= level_786 >= L`` and
    the mirror for a down leg. All outputs are NaN / "" until both a pivot high and a pivot
    low have been confirmed (and whenever the pair is no leg, see above).

    **Warm-up** 1 bar of its own; an instance adopts the swing's warm-up.
    """

    def _reset_state(self) -> None:
        self._sw = bind_swing(self)

    def update(self, ts: int, open_: float, high: float, low: float, close: float, volume: float):
        self.bars += 1
        check_fed(self._sw, self.bars, "fibonacci")
        sw, out = self._sw.out, self.out
        out[-1] = False
        if not (sw[_NH] or sw[_NL]):
            return
        leg = swing_leg(sw, IDX)
        if leg is None:
            out[:] = [o.empty for o in self.spec.outputs]
            return
        d, h, lo = leg
        out[0:3] = d, h, lo
        j = 3
        for _, r in RETRACEMENTS:
            out[j] = retracement(d, h, lo, r)
            j += 1
        for _, e in EXTENSIONS:
            out[j] = extension(d, h, lo, e)
            j += 1
        out[-1] = True
