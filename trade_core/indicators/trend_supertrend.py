"""SuperTrend, as TradingView defines it (``ta.supertrend`` / the classic Pine script).

TA-Lib has no SuperTrend; the definition below is TradingView's, so values can be checked
against a chart. Prices in quote currency; ``direction`` is +1 (up) or -1 (down).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from trade_core.features.base import Feature, Output, Param
from trade_core.indicators import REGISTRY
from trade_core.indicators._range_kernels import (
    NAN,
    length_param,
    nan_array,
    true_range,
    true_range_array,
)

Arrays = dict[str, np.ndarray]


@REGISTRY.register(
    "supertrend",
    params=(
        length_param(10, doc="ATR length (RMA)"),
        Param("mult", float, 3.0, minimum=0.0, maximum=1000.0, doc="band distance in ATRs"),
    ),
    outputs=(Output("value"), Output("direction", doc="+1 up (value = lower band), -1 down")),
    warmup=lambda p: p["length"],
    reference="TradingView ta.supertrend (O. Seban): RMA ATR, hl2 +- mult*ATR, ratcheting bands",
)
class SuperTrend(Feature):
    """SuperTrend (TradingView's ``ta.supertrend(factor=mult, atrPeriod=length)``).

    ATR as TradingView's ``ta.atr``: the true range of bar 1 is ``high - low`` (no previous
    close), later ``max(high - low, |high - close_prev|, |low - close_prev|)``; the ATR at bar
    n is the mean of the first n true ranges, then ``ATR = a * TR + (1 - a) * ATR_prev`` with
    ``a = 1/n`` (RMA / Wilder smoothing). First value at bar n.

    Basic bands ``hl2 +- mult * ATR`` (``hl2 = (high + low) / 2``). Final bands ratchet:
    ``lower = basic_lower if basic_lower > lower_prev or close_prev < lower_prev else
    lower_prev``; ``upper = basic_upper if basic_upper < upper_prev or close_prev > upper_prev
    else upper_prev``. On the first bar the final bands are the basic bands.

    Direction: the first bar is down. Afterwards, if the previous value was the previous upper
    band (down trend), the trend turns up when ``close > upper``; otherwise (up trend) it turns
    down when ``close < lower``. ``value`` is the lower band in an up trend and the upper band
    in a down trend; ``direction`` is +1 for up, -1 for down. (TradingView's
    ``ta.supertrend`` reports the opposite sign, -1 for up; its chart colours agree with ours.)
    With ``mult = 0`` or flat bars (ATR 0) both bands collapse onto hl2.
    """

    def _reset_state(self) -> None:
        n = self.params["length"]
        self._n, self._a = n, 1.0 / n
        self._b = 1.0 - self._a
        self._sum = 0.0
        self._atr = self._pc = self._up = self._lo = self._value = NAN

    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        self.bars += 1
        tr = high - low if self.bars == 1 else true_range(high, low, self._pc)
        n, pc = self._n, self._pc
        self._pc = close
        if self.bars < n:
            self._sum += tr
            return
        if self.bars == n:
            self._atr = (self._sum + tr) / n
        else:
            self._atr = self._a * tr + self._b * self._atr
        state = (self._up, self._lo, self._value)
        self._up, self._lo, self._value, up = _step(
            state, high, low, close, pc, self._atr, self.params["mult"], self.bars == n
        )
        self.out[0], self.out[1] = self._value, 1.0 if up else -1.0

    @classmethod
    def batch(cls, arrays: Arrays, params: dict[str, Any]) -> dict[str, np.ndarray]:
        """Vectorised TR and basic bands, the RMA and the ratchet in tight loops."""
        h, lo, c = arrays["high"], arrays["low"], arrays["close"]
        n, size = params["length"], len(h)
        value, direction = nan_array(size), nan_array(size)
        if size < n:
            return {"value": value, "direction": direction}
        tr = true_range_array(h, lo, c)
        tr[0] = h[0] - lo[0]
        atr = _rma(tr.tolist(), n)
        hl2 = (h + lo) / 2.0
        dev = params["mult"] * atr
        value[n - 1 :], direction[n - 1 :] = _ratchet(
            (hl2 + dev).tolist(), (hl2 - dev).tolist(), c.tolist(), n - 1
        )
        return {"value": value, "direction": direction}


def _rma(tr: list[float], n: int) -> np.ndarray:
    """TradingView's ``ta.rma``: mean of the first n values, then ``a*x + (1-a)*prev``."""
    a = 1.0 / n
    b = 1.0 - a
    total = 0.0
    for v in tr[:n]:
        total += v
    atr = total / n
    out = [NAN] * (n - 1) + [atr]
    push = out.append
    for v in tr[n:]:
        atr = a * v + b * atr
        push(atr)
    return np.asarray(out, dtype=np.float64)


def _ratchet(
    basic_up: list[float], basic_lo: list[float], c: list[float], start: int
) -> tuple[list[float], list[float]]:
    """:func:`_step` for every bar from ``start`` inlined: ``(values, directions)``."""
    upper, lower = basic_up[start], basic_lo[start]
    value, pc = upper, c[start]
    values, dirs = [value], [-1.0]
    for i in range(start + 1, len(c)):
        prev_up, prev_lo, prev_value = upper, lower, value
        upper, lower, close = basic_up[i], basic_lo[i], c[i]
        if not (lower > prev_lo or pc < prev_lo):
            lower = prev_lo
        if not (upper < prev_up or pc > prev_up):
            upper = prev_up
        is_up = close > upper if prev_value == prev_up else not close < lower
        value = lower if is_up else upper
        values.append(value)
        dirs.append(1.0 if is_up else -1.0)
        pc = close
    return values, dirs


def _step(
    state: tuple[float, float, float],
    high: float,
    low: float,
    close: float,
    prev_close: float,
    atr: float,
    mult: float,
    first: bool,
) -> tuple[float, float, float, bool]:
    """One SuperTrend bar: ``(upper, lower, value, is_up)`` from the previous final bands."""
    prev_up, prev_lo, prev_value = state
    hl2 = (high + low) / 2.0
    upper = hl2 + mult * atr
    lower = hl2 - mult * atr
    if first:
        return upper, lower, upper, False
    if not (lower > prev_lo or prev_close < prev_lo):
        lower = prev_lo
    if not (upper < prev_up or prev_close > prev_up):
        upper = prev_up
    is_up = close > upper if prev_value == prev_up else not close < lower
    return upper, lower, (lower if is_up else upper), is_up
