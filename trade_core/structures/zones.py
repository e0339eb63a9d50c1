"""Supply and demand zones anchored on confirmed swing pivots, with a four-state life cycle."""

from __future__ import annotations

import math

from trade_core.features.base import BOOL, ENUM, Feature, Output, Param
from trade_core.structures import REGISTRY
from trade_core.structures._common import (
    LIVE_STATES,
    SIDES,
    STATES,
    Box,
    WilderATR,
    atr_length_param,
    bind_swing,
    check_fed,
    swings_param,
)
from trade_core.structures.swing import IDX

_NH, _NL, _LH, _LL = IDX["new_high"], IDX["new_low"], IDX["last_high"], IDX["last_low"]

ZONE_OUTPUTS = (
    Output("state", ENUM, STATES, doc="state of the most recently created zone"),
    Output("side", ENUM, SIDES, doc="side of the most recently created zone"),
    Output("top", doc="top of the most recently created zone, price"),
    Output("bottom", doc="bottom of the most recently created zone, price"),
    Output("demand_top", doc="top of the nearest live demand zone, price"),
    Output("demand_bottom", doc="bottom of the nearest live demand zone, price"),
    Output("demand_state", ENUM, LIVE_STATES, doc="state of the nearest live demand zone"),
    Output("supply_top", doc="top of the nearest live supply zone, price"),
    Output("supply_bottom", doc="bottom of the nearest live supply zone, price"),
    Output("supply_state", ENUM, LIVE_STATES, doc="state of the nearest live supply zone"),
    Output("demand_touch", BOOL, doc="a demand zone went from active to touched on this bar"),
    Output("supply_touch", BOOL, doc="a supply zone went from active to touched on this bar"),
)


@REGISTRY.register(
    "zone",
    params=(
        swings_param(),
        Param(
            "width_mode",
            str,
            "atr",
            choices=("atr", "pct"),
            doc="zone width: atr_mult x ATR at confirmation, or width_pct of the pivot price",
        ),
        Param("atr_mult", float, 0.5, minimum=0.0, maximum=100.0, doc="ATR multiples (atr mode)"),
        atr_length_param(),
        Param(
            "width_pct",
            float,
            0.25,
            minimum=0.0,
            maximum=100.0,
            doc="percent of the pivot price (pct mode)",
        ),
        Param("max_zones", int, 5, minimum=1, maximum=100, doc="live zones kept per side"),
    ),
    outputs=ZONE_OUTPUTS,
    warmup=lambda p: p["atr_length"] + 1 if p["width_mode"] == "atr" else 1,
    reference="Supply/demand zones of price-action trading (e.g. Sam Seiden's supply and "
    "demand), anchored at causally confirmed swing pivots; Wilder ATR as TA-Lib ATR",
)
class Zone(Feature):
    """Demand zones at confirmed pivot lows and supply zones at confirmed pivot highs.

    Reads the ``swings`` detector after it has processed the current bar ``i``.

    **Width** ``w`` (price), fixed when the zone is created on bar ``i``:
    ``width_mode: atr`` -> ``w = atr_mult * ATR_i``, Wilder's ATR(n = ``atr_length``) as
    TA-Lib computes it: ``TR_j = max(high_j - low_j, |high_j - close_{j-1}|,
    |low_j - close_{j-1}|)`` from bar 1; ``ATR_n = mean(TR_1..TR_n)``, then
    ``ATR_j = (ATR_{j-1} * (n - 1) + TR_j) / n`` (undefined before bar index n: pivots
    confirmed earlier create no zone); ``width_mode: pct`` -> ``w = width_pct / 100 * P``.

    **Creation.** On a bar where the swing reports ``new_low`` (price ``P = last_low``) a
    demand zone ``[bottom, top] = [P, P + w]`` is created; ``new_high`` (``P = last_high``)
    creates a supply zone ``[P - w, P]``. If both happen on one bar the demand zone is
    created first (the supply zone is then the most recent). A new zone starts ``active``;
    zones may overlap (no merging). Each side keeps at most ``max_zones`` *live* zones:
    creating one more drops that side's oldest.

    **Life cycle**, judged on every bar *after* the creation bar while the zone is live
    (active or touched), in this order (demand; supply mirrored):

    1. ``close < bottom`` -> ``invalidated`` (final; supply: ``close > top``);
    2. else ``low < bottom`` -> ``mitigated``: traded through to the far side but closed
       back at or above it (final; supply: ``high > top``);
    3. else ``low <= top`` -> ``touched``: price entered the zone (supply: ``high >= bottom``);
    4. else no change.

    States only move forward; one bar may skip states (active -> invalidated). Mitigated and
    invalidated zones stop being live and are dropped from the per-side lists.

    **Outputs.** ``state``, ``side``, ``top``, ``bottom``: the most recently created zone,
    whatever its state (a mitigated or invalidated zone is reported until a newer one
    appears). ``demand_*``: the nearest live demand zone = the one with the highest ``top``
    (ties: the newer); ``supply_*``: the live supply zone with the lowest ``bottom`` (ties:
    the newer); NaN / "" when the side has no live zone. ``demand_touch`` / ``supply_touch``:
    True on a bar where at least one zone of that side went from active to touched. All
    outputs are NaN / "" until the first zone.

    **Warm-up** ``atr_length + 1`` (atr mode) or 1 (pct mode); an instance adopts the
    swing's warm-up (``left + right + 1``) if larger.
    """

    def _reset_state(self) -> None:
        self._sw = bind_swing(self)
        self._atr_mode = self.params["width_mode"] == "atr"
        self._atr = WilderATR(self.params["atr_length"])
        self._max = self.params["max_zones"]
        self._zones: tuple[list[Box], list[Box]] = ([], [])  # demand, supply
        self._recent: Box | None = None
        self._seq = 0

    def update(self, ts: int, open_: float, high: float, low: float, close: float, volume: float):
        self.bars += 1
        check_fed(self._sw, self.bars, "zone")
        atr = self._atr.update(high, low, close)
        out = self.out
        touched_d, changed_d = self._advance(self._zones[0], high, low, close)
        touched_s, changed_s = self._advance(self._zones[1], high, low, close)
        out[10], out[11] = touched_d, touched_s
        sw = self._sw.out
        created = False
        if sw[_NL]:
            created |= self._create(True, sw[_LL], atr)
        if sw[_NH]:
            created |= self._create(False, sw[_LH], atr)
        if created or changed_d or changed_s:
            self._publish()

    @staticmethod
    def _advance(zones: list[Box], high: float, low: float, close: float) -> tuple[bool, bool]:
        """Step every live zone of one side; ``(any went active -> touched, any changed)``."""
        touched = changed = False
        for z in zones:
            if (low > z.top) if z.demand else (high < z.bottom):
                continue  # price did not reach the zone: no rule can fire (fast path)
            before = z.state
            touched |= z.step(high, low, close)
            changed |= z.state != before
        if changed:
            zones[:] = [z for z in zones if z.live]
        return touched, changed

    def _create(self, demand: bool, price: float, atr: float) -> bool:
        """Add a zone at pivot ``price``; False when the ATR is not defined yet."""
        if self._atr_mode:
            if math.isnan(atr):
                return False
            w = self.params["atr_mult"] * atr
        else:
            w = self.params["width_pct"] / 100.0 * price
        top, bottom = (price + w, price) if demand else (price, price - w)
        self._seq += 1
        box = Box(demand, top, bottom, self._seq)
        side = self._zones[0 if demand else 1]
        side.append(box)
        if len(side) > self._max:
            del side[0]
        self._recent = box
        return True

    def _publish(self) -> None:
        out, r = self.out, self._recent
        if r is not None:
            out[0:4] = STATES[r.state], SIDES[0 if r.demand else 1], r.top, r.bottom
        demand, supply = self._zones
        d = max(demand, key=lambda z: (z.top, z.seq)) if demand else None
        s = min(supply, key=lambda z: (z.bottom, -z.seq)) if supply else None
        out[4:7] = (d.top, d.bottom, STATES[d.state]) if d else (math.nan, math.nan, "")
        out[7:10] = (s.top, s.bottom, STATES[s.state]) if s else (math.nan, math.nan, "")
