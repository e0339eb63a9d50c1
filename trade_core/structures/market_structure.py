"""Break of structure (BOS) and change of character (CHoCH) by closes beyond swing levels."""

from __future__ import annotations

import math

from trade_core.features.base import BOOL, ENUM, Feature, Output
from trade_core.structures import REGISTRY
from trade_core.structures._common import bind_swing, check_fed, swings_param
from trade_core.structures.swing import IDX

_NH, _NL, _LH, _LL = IDX["new_high"], IDX["new_low"], IDX["last_high"], IDX["last_low"]
_BIAS, _BOS_UP, _BOS_DN, _CH, _CH_UP, _CH_DN, _BROKEN, _HLVL, _LLVL = range(9)


@REGISTRY.register(
    "market_structure",
    params=(swings_param(),),
    outputs=(
        Output("bias", ENUM, ("bullish", "bearish", "neutral"), doc="direction of the last break"),
        Output("bos_up", BOOL, doc="close broke above the swing high level, with the bias"),
        Output("bos_down", BOOL, doc="close broke below the swing low level, with the bias"),
        Output("choch", BOOL, doc="choch_up or choch_down on this bar"),
        Output("choch_up", BOOL, doc="bullish break while the bias was bearish"),
        Output("choch_down", BOOL, doc="bearish break while the bias was bullish"),
        Output("broken_level", doc="the swing level broken by the latest break, price"),
        Output("high_level", doc="last confirmed swing high not yet broken (NaN if none)"),
        Output("low_level", doc="last confirmed swing low not yet broken (NaN if none)"),
    ),
    warmup=lambda p: 1,
    reference="Smart-money-concepts market structure (BOS / CHoCH) as popularised by ICT; "
    "breaks judged by bar close against causally confirmed swing pivots",
)
class MarketStructure(Feature):
    """Market-structure bias from closes beyond the last confirmed swing levels.

    Reads the ``swings`` detector after it has processed the current bar. Each bar ``i``,
    in this order:

    1. **Breaks**, judged against the levels as they stood at the end of bar ``i-1``:

       - ``high_level`` (the last confirmed pivot high, while unbroken) is broken up when
         ``close[i] > high_level``; ``low_level`` is broken down when ``close[i] < low_level``
         (strict: a close equal to the level is no break; wicks never break).
       - A level breaks at most once: after its break it becomes NaN until the swing
         confirms a new pivot of that kind.
       - An up break is a **BOS** (``bos_up``) when ``bias`` is ``bullish`` or ``neutral``
         (the first break from neutral sets the bias and is a BOS, not a change of
         character); it is a **CHoCH** (``choch_up`` and ``choch``) when ``bias`` is
         ``bearish``. Either way ``bias`` becomes ``bullish`` and ``broken_level`` takes the
         broken level's price. Down breaks mirror this (``bos_down`` / ``choch_down``,
         ``bias`` -> ``bearish``).
       - If both levels break on one bar (only possible when the unbroken high level is below
         the unbroken low level), the up break is applied first, then the down break, which
         sees the updated bias; ``broken_level`` ends on the low level.

    2. **New levels**: if the swing reports ``new_high`` on bar ``i``, ``high_level`` becomes
       its ``last_high`` (a fresh, unbroken level, replacing the previous one whether broken
       or not); ``new_low`` sets ``low_level`` likewise. A pivot high confirmed on bar ``i``
       cannot be broken on bar ``i`` (its right-hand bars, ``i`` included, have
       ``close <= high <= pivot``), so checking breaks first loses nothing.

    Events are True only on the bar of the break. ``broken_level`` is NaN before the first
    break and keeps its value until the next one. ``bias`` is "" until ``ready``, then
    ``neutral`` until the first break.

    **Warm-up** 1 bar of its own; an instance adopts the swing's warm-up
    (``left + right + 1``). No level exists before the first pivot, so no break either.
    """

    def _reset_state(self) -> None:
        self._sw = bind_swing(self)

    def update(self, ts: int, open_: float, high: float, low: float, close: float, volume: float):
        self.bars += 1
        check_fed(self._sw, self.bars, "market_structure")
        sw, out = self._sw.out, self.out
        out[1:6] = (False,) * 5
        if not out[_BIAS] and self.bars >= self.warmup_bars:
            out[_BIAS] = "neutral"
        if close > out[_HLVL]:  # False while NaN
            out[_CH_UP] = out[_BIAS] == "bearish"
            out[_BOS_UP] = not out[_CH_UP]
            out[_BIAS], out[_BROKEN], out[_HLVL] = "bullish", out[_HLVL], math.nan
        if close < out[_LLVL]:
            out[_CH_DN] = out[_BIAS] == "bullish"
            out[_BOS_DN] = not out[_CH_DN]
            out[_BIAS], out[_BROKEN], out[_LLVL] = "bearish", out[_LLVL], math.nan
        out[_CH] = out[_CH_UP] or out[_CH_DN]
        if sw[_NH]:
            out[_HLVL] = sw[_LH]
        if sw[_NL]:
            out[_LLVL] = sw[_LL]
