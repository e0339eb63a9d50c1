"""One zone derived from the last swing leg's Fibonacci levels or from the last pivot +- ATR."""

from __future__ import annotations

import math

from trade_core.features.base import BOOL, ENUM, Feature, Output, Param
from trade_core.structures import REGISTRY
from trade_core.structures._common import (
    SIDES,
    STATES,
    Box,
    WilderATR,
    atr_length_param,
    bind_swing,
    check_fed,
    swing_leg,
    swings_param,
)
from trade_core.structures.fibonacci import retracement
from trade_core.structures.swing import IDX

_NH, _NL, _LH, _LL, _LP = (
    IDX["new_high"],
    IDX["new_low"],
    IDX["last_high"],
    IDX["last_low"],
    IDX["last_pivot"],
)


@REGISTRY.register(
    "derived_zone",
    params=(
        swings_param(),
        Param(
            "method",  # not "mode": Registry.compute takes a keyword of that name
            str,
            "fib",
            choices=("fib", "swing_atr"),
            doc="fib: between two retracements of the last leg; swing_atr: last pivot +- ATR",
        ),
        Param("fib_a", float, 0.5, minimum=0.0, maximum=3.0, doc="first retracement ratio (fib)"),
        Param(
            "fib_b", float, 0.618, minimum=0.0, maximum=3.0, doc="second retracement ratio (fib)"
        ),
        Param(
            "atr_mult",
            float,
            0.5,
            minimum=0.0,
            maximum=100.0,
            doc="half-width in ATR multiples (swing_atr)",
        ),
        atr_length_param(),
    ),
    outputs=(
        Output("upper", doc="upper edge of the current derived zone, price"),
        Output("lower", doc="lower edge of the current derived zone, price"),
        Output("side", ENUM, SIDES, doc="demand (support below) or supply (resistance above)"),
        Output("state", ENUM, STATES, doc="life-cycle state of the current zone"),
        Output("created", BOOL, doc="a new zone replaced the current one on this bar"),
        Output("touch", BOOL, doc="the current zone went from active to touched on this bar"),
    ),
    warmup=lambda p: p["atr_length"] + 1 if p["method"] == "swing_atr" else 1,
    reference="Fibonacci retracement zone (e.g. the 0.5-0.618 'golden pocket') or an ATR band "
    "around the last swing pivot; life cycle as the zone detector",
)
class DerivedZone(Feature):
    """The current zone derived from the last confirmed swing structure.

    Reads the ``swings`` detector after it has processed the current bar ``i``. A new zone
    is derived on every bar where the swing reports ``new_high`` or ``new_low`` (and the
    inputs below exist); it replaces the current zone and starts ``active``.

    **method: fib.** With the last leg of the swing (as in ``fibonacci``: ``H = last_high``,
    ``L = last_low``, ``up`` when the low's pivot is earlier, ``down`` when the high's is;
    same bar: ``last_pivot`` is the end), the retracement prices
    ``a = retracement(fib_a)``, ``b = retracement(fib_b)`` (up: ``H - r (H - L)``, down:
    ``L + r (H - L)``) give ``upper = max(a, b)``, ``lower = min(a, b)``. An up leg gives a
    ``demand`` zone (a pullback to buy), a down leg a ``supply`` zone. Needs both pivots
    and ``H > L`` (otherwise no new zone; the current one stays).

    **method: swing_atr.** With ``P`` the pivot registered last (``last_pivot``: ``last_high``
    or ``last_low``) and ``ATR_i`` Wilder's ATR(n = ``atr_length``) as TA-Lib computes it
    (``TR_j = max(high_j - low_j, |high_j - close_{j-1}|, |low_j - close_{j-1}|)`` from bar
    1; ``ATR_n = mean(TR_1..TR_n)``, then ``ATR_j = (ATR_{j-1} * (n - 1) + TR_j) / n``):
    ``upper = P + atr_mult * ATR_i``, ``lower = P - atr_mult * ATR_i``; a pivot low gives a
    ``demand`` zone, a pivot high a ``supply`` zone. No zone while the ATR is undefined
    (before bar index ``atr_length``).

    **Life cycle** (as ``zone``, with ``bottom = lower`` and ``top = upper``), judged on each
    bar after the creation bar while the zone is active or touched. Demand: ``close < lower``
    -> ``invalidated``; else ``low < lower`` -> ``mitigated``; else ``low <= upper`` ->
    ``touched``. Supply: ``close > upper`` -> invalidated; else ``high > upper`` ->
    mitigated; else ``high >= lower`` -> touched. Mitigated and invalidated are final; the
    zone (edges and state) is still reported until the next one is derived.

    **Outputs**: ``upper``, ``lower`` (price), ``side``, ``state`` of the current zone;
    ``created`` (True on the bar a zone is derived) and ``touch`` (True on the bar the zone
    that was current before this bar went active -> touched; if a new zone replaces it on
    that same bar, ``created`` is True as well). NaN / "" before the first zone.

    **Warm-up** ``atr_length + 1`` with ``method: swing_atr``, else 1; an instance adopts
    the swing's warm-up (``left + right + 1``) if larger.
    """

    def _reset_state(self) -> None:
        self._sw = bind_swing(self)
        self._fib = self.params["method"] == "fib"
        self._atr = WilderATR(self.params["atr_length"])
        self._box: Box | None = None

    def update(self, ts: int, open_: float, high: float, low: float, close: float, volume: float):
        self.bars += 1
        check_fed(self._sw, self.bars, "derived_zone")
        atr = self._atr.update(high, low, close)
        out, box = self.out, self._box
        out[4] = out[5] = False
        if box is not None and box.live:
            out[5] = box.step(high, low, close)
            out[3] = STATES[box.state]
        sw = self._sw.out
        if sw[_NH] or sw[_NL]:
            box = self._fib_box(sw) if self._fib else self._atr_box(sw, atr)
            if box is not None:
                self._box = box
                out[0:5] = box.top, box.bottom, SIDES[0 if box.demand else 1], STATES[0], True

    def _fib_box(self, sw: list) -> Box | None:
        leg = swing_leg(sw, IDX)
        if leg is None:
            return None
        d, h, lo = leg
        a = retracement(d, h, lo, self.params["fib_a"])
        b = retracement(d, h, lo, self.params["fib_b"])
        return Box(d == "up", max(a, b), min(a, b), self.bars)

    def _atr_box(self, sw: list, atr: float) -> Box | None:
        if math.isnan(atr):
            return None
        is_high = sw[_LP] == "high"
        p = sw[_LH] if is_high else sw[_LL]
        half = self.params["atr_mult"] * atr
        return Box(not is_high, p + half, p - half, self.bars)
