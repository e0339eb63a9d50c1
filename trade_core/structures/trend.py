"""Trend from the sequence of confirmed swing pivots: HH/LH/EH highs, HL/LL/EL lows."""

from __future__ import annotations

import math

from trade_core.features.base import BOOL, ENUM, Feature, Output, Param
from trade_core.structures import REGISTRY
from trade_core.structures._common import bind_swing, check_fed, swings_param
from trade_core.structures.swing import IDX

_NH, _NL = IDX["new_high"], IDX["new_low"]
_LH, _PH, _LL, _PL = IDX["last_high"], IDX["prev_high"], IDX["last_low"], IDX["prev_low"]
_CODE = {"up": 1.0, "down": -1.0, "range": 0.0}


@REGISTRY.register(
    "trend",
    params=(
        swings_param(),
        Param(
            "equal_pct",
            float,
            0.0,
            minimum=0.0,
            maximum=100.0,
            doc="two pivots within this percent of the older one count as equal",
        ),
    ),
    outputs=(
        Output("bias", ENUM, ("up", "down", "range"), doc="HH+HL up, LH+LL down, else range"),
        Output("last_high_kind", ENUM, ("HH", "LH", "EH"), doc="last high vs the one before"),
        Output("last_low_kind", ENUM, ("HL", "LL", "EL"), doc="last low vs the one before"),
        Output("direction", doc="bias as a number: up 1, down -1, range 0"),
        Output("changed", BOOL, doc="bias differs from the previous bar's (both defined)"),
    ),
    warmup=lambda p: 1,
    reference="Dow theory swing classification (higher highs and higher lows = uptrend), "
    "on causally confirmed pivots of the swing detector",
)
class Trend(Feature):
    """Trend bias from the last two confirmed pivot highs and the last two pivot lows.

    Reads the ``swings`` detector after it has processed the current bar.

    **Kinds.** On a bar where the swing reports ``new_high`` and a previous high exists
    (``prev_high`` not NaN), the last high is classified against it with tolerance
    ``tol = equal_pct / 100 * prev_high``:

    - ``HH`` if ``last_high - prev_high > tol``; ``LH`` if ``prev_high - last_high > tol``;
    - ``EH`` (equal high) otherwise, i.e. ``|last_high - prev_high| <= tol``.

    Lows likewise: ``HL`` (higher), ``LL`` (lower), ``EL`` (equal) comparing ``last_low`` with
    ``prev_low``. A kind keeps its value until the next pivot of that kind; it is "" until
    the second pivot of its kind. (With ``alternate`` swings a replacing pivot is classified
    again against the unchanged ``prev_high``/``prev_low``.)

    **Bias.** Once both kinds are known: ``up`` if last high is HH and last low is HL;
    ``down`` if LH and LL; ``range`` for every other combination (any equal pivot, or HH with
    LL, or LH with HL). "" before. ``direction`` is 1 / -1 / 0 for up / down / range, NaN
    before. ``changed`` is True on a bar whose bias differs from the previous bar's, both
    non-empty (the first bias is not a change).

    **Warm-up** 1 bar of its own; an instance adopts the swing's warm-up
    (``left + right + 1``) as its ``warmup_bars``. Outputs need at least two pivots of each
    kind, so they start later than that.
    """

    def _reset_state(self) -> None:
        self._sw = bind_swing(self)
        self._pct = self.params["equal_pct"] / 100.0

    def _kind(self, last: float, prev: float, names: tuple[str, str, str]) -> str:
        tol = self._pct * abs(prev)
        if last - prev > tol:
            return names[0]
        if prev - last > tol:
            return names[1]
        return names[2]

    def update(self, ts: int, open_: float, high: float, low: float, close: float, volume: float):
        self.bars += 1
        check_fed(self._sw, self.bars, "trend")
        sw, out = self._sw.out, self.out
        out[4] = False
        if sw[_NH] and not math.isnan(sw[_PH]):
            out[1] = self._kind(sw[_LH], sw[_PH], ("HH", "LH", "EH"))
        if sw[_NL] and not math.isnan(sw[_PL]):
            out[2] = self._kind(sw[_LL], sw[_PL], ("HL", "LL", "EL"))
        if not (out[1] and out[2]):
            return
        kinds = out[1] + out[2]
        bias = "up" if kinds == "HHHL" else "down" if kinds == "LHLL" else "range"
        out[4] = bool(out[0]) and bias != out[0]
        out[0], out[3] = bias, _CODE[bias]
