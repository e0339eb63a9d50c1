"""Price envelopes and the rolling z-score: Bollinger, Keltner, Donchian, z-score.

Bollinger bands follow TA-Lib 0.8 BBANDS bit for bit; Keltner and Donchian are built from
TA-Lib's parts (EMA and ATR to a few ulps, MAX/MIN exactly); the z-score uses the same
re-anchored rolling variance as ``stdev``.
Bands are in price units; ``width`` and ``percent_b`` are ratios; the z-score is in standard
deviations.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from trade_core.features.base import Feature, Output, Param
from trade_core.features.sources import pick, source_array, source_param
from trade_core.indicators import REGISTRY
from trade_core.indicators._range_kernels import (
    NAN,
    RollingExtreme,
    RollingVariance,
    SeededEMA,
    WilderATR,
    atr_array,
    ema_array,
    length_param,
    rolling_max,
    rolling_min,
    rolling_variance_lists,
    running_window_totals,
)

Arrays = dict[str, np.ndarray]
BANDS = (Output("upper"), Output("middle"), Output("lower"))


def _mult_param(default: float, doc: str) -> Param:
    return Param("mult", float, default, minimum=0.0, maximum=1000.0, doc=doc)


@REGISTRY.register(
    "bbands",
    params=(
        length_param(20, minimum=2),
        _mult_param(2.0, "band width in deviations"),
        source_param(),
    ),
    outputs=(*BANDS, Output("width"), Output("percent_b")),
    warmup=lambda p: p["length"],
    reference="TA-Lib BBANDS (SMA middle, population stdev; J. Bollinger, 1980s)",
)
class BBands(Feature):
    """Bollinger bands of the source x over the last n bars (first value at bar n).

    ``middle = SMA_n(x)`` (TA-Lib's running sum: add the newest, divide by n, drop the
    oldest); ``sd`` = population standard deviation (ddof 0) computed exactly as ``stdev``
    (TA-Lib 0.8's re-anchored running variance; 0 for a constant window);
    ``upper = middle + sd * mult``, ``lower = middle - sd * mult`` (TA-Lib BBANDS with equal
    up/down deviations, MA type SMA).

    ``width = (upper - lower) / middle`` (NaN if middle == 0, impossible for prices);
    ``percent_b = (x - lower) / (upper - lower)``, and 0.5 when ``upper == lower`` (a flat
    window or mult 0: x then sits at the middle). x is the source value (close by default).
    """

    def _reset_state(self) -> None:
        n = self.params["length"]
        self._ring = [0.0] * n
        self._total = 0.0
        self._var = RollingVariance(n)
        self._mult = self.params["mult"]
        self._src = self.params["source"]

    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        x = close if self._src == "close" else pick(self._src, open_, high, low, close)
        n, i = self.params["length"], self.bars
        self.bars += 1
        var = self._var.push(x)
        self._total += x
        if self.bars < n:
            self._ring[i] = x
            return
        mid = self._total / n
        self._total -= self._ring[(i + 1) % n]
        self._ring[i % n] = x
        dev = (math.sqrt(var) if var > 0.0 else 0.0) * self._mult
        upper, lower = mid + dev, mid - dev
        span = upper - lower
        self.out[:] = [
            upper,
            mid,
            lower,
            span / mid if mid != 0.0 else NAN,
            (x - lower) / span if span != 0.0 else 0.5,
        ]

    @classmethod
    def batch(cls, arrays: Arrays, params: dict[str, Any]) -> dict[str, np.ndarray]:
        """Running sums via a sequential accumulate, the variance loop, numpy for the rest."""
        x = source_array(arrays, params["source"])
        n = params["length"]
        mid = running_window_totals(x, n) / n
        var = np.asarray(rolling_variance_lists(x.tolist(), n)[0], dtype=np.float64)
        dev = np.sqrt(np.where(var > 0.0, var, 0.0)) * params["mult"]
        upper, lower = mid + dev, mid - dev
        span = upper - lower
        with np.errstate(divide="ignore", invalid="ignore"):
            width = np.where(mid != 0.0, span / mid, NAN)
            pct = np.where(span != 0.0, (x - lower) / span, 0.5)
        pct[np.isnan(mid)] = NAN
        return {"upper": upper, "middle": mid, "lower": lower, "width": width, "percent_b": pct}


@REGISTRY.register(
    "kc",
    params=(
        length_param(20, doc="bars of the EMA and of the ATR"),
        _mult_param(2.0, "band distance in ATRs"),
        source_param(),
    ),
    outputs=BANDS,
    warmup=lambda p: p["length"] + 1,
    reference="Keltner channel (L. Raschke's form): TA-Lib EMA(n) +- mult * TA-Lib ATR(n)",
)
class Keltner(Feature):
    """Keltner channel: ``middle = EMA_n(x)``, ``upper/lower = middle +- mult * ATR_n``.

    EMA exactly as TA-Lib EMA (``k = 2/(n+1)``, seeded at bar n with the mean of the first n
    values, then ``((x - ema) * k) + ema``); ATR is Wilder's (RMA, alpha = 1/n, seeded with
    the mean of the first n true ranges) exactly as ``atr``, so ``upper - middle`` is always
    ``mult * atr(n)``. (TradingView's built-in uses an EMA of the true range instead.) The
    ATR needs one bar more than the EMA, so every output starts at bar n + 1. Flat bars
    shrink the ATR towards 0 and the bands onto the EMA.
    """

    def _reset_state(self) -> None:
        self._ema = SeededEMA(self.params["length"])
        self._atr = WilderATR(self.params["length"])
        self._mult = self.params["mult"]
        self._src = self.params["source"]

    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        x = close if self._src == "close" else pick(self._src, open_, high, low, close)
        self.bars += 1
        mid = self._ema.push(x)
        atr = self._atr.push(high, low, close)
        if atr == atr:
            dev = self._mult * atr
            self.out[0], self.out[1], self.out[2] = mid + dev, mid, mid - dev

    @classmethod
    def batch(cls, arrays: Arrays, params: dict[str, Any]) -> dict[str, np.ndarray]:
        """EMA and ATR recursions in tight loops, numpy for the bands."""
        n = params["length"]
        mid = ema_array(source_array(arrays, params["source"]), n)
        atr = atr_array(arrays, n)
        dev = params["mult"] * atr
        mid[np.isnan(atr)] = NAN
        return {"upper": mid + dev, "middle": mid, "lower": mid - dev}


@REGISTRY.register(
    "donchian",
    params=(length_param(20),),
    outputs=BANDS,
    warmup=lambda p: p["length"],
    reference="Donchian channel (R. Donchian): TA-Lib MAX(high, n), MIN(low, n), midpoint",
)
class Donchian(Feature):
    """Donchian channel over the last n bars including the current one (first at bar n).

    ``upper = max(high)``, ``lower = min(low)``, ``middle = (upper + lower) / 2`` (the mean of
    the two bands). Flat bars give ``upper == lower == middle``. Rolling extremes use a
    monotonic deque (O(1) amortised per bar).
    """

    def _reset_state(self) -> None:
        n = self.params["length"]
        self._hi = RollingExtreme(n, 1)
        self._lo = RollingExtreme(n, -1)

    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        i = self.bars
        self.bars += 1
        upper = self._hi.push(i, high)[1]
        lower = self._lo.push(i, low)[1]
        if self.bars >= self.params["length"]:
            self.out[0], self.out[1], self.out[2] = upper, (upper + lower) / 2.0, lower

    @classmethod
    def batch(cls, arrays: Arrays, params: dict[str, Any]) -> dict[str, np.ndarray]:
        """Vectorised van Herk/Gil-Werman rolling max/min (O(bars), any n)."""
        n = params["length"]
        upper = rolling_max(arrays["high"], n)
        lower = rolling_min(arrays["low"], n)
        return {"upper": upper, "middle": (upper + lower) / 2.0, "lower": lower}


@REGISTRY.register(
    "zscore",
    params=(length_param(20, minimum=2), source_param()),
    warmup=lambda p: p["length"],
    reference="rolling z-score (x - SMA_n) / population STDEV_n, flat window -> 0",
)
class ZScore(Feature):
    """Rolling z-score of the source x, in standard deviations: ``(x - mean) / sd``.

    ``mean`` and ``sd`` are the mean and population standard deviation (ddof 0) of the last
    n values including the current one (so mathematically ``(x - SMA_n) / STDEV_n``); first
    value at bar n. A flat window (all n values equal, so x equals its mean) gives 0 — not
    NaN — so Play conditions stay defined; otherwise the variance is positive.

    Computation: the rolling variance of ``stdev`` (TA-Lib 0.8's re-anchored running sums)
    and the deviation taken against the same anchor s: ``z = ((x - s) - mean(x - s)) /
    sqrt(var)``. Subtracting an anchor close to x avoids the cancellation of ``x - SMA`` at
    price scale, so z is accurate in absolute terms even near 0: typically 1e-13, at worst
    about 1e-8 (measured vs an exact two-pass on the real files and a synthetic 1m year;
    the worst case is BTC 1h with n = 2). Flatness is tracked exactly with a run-length
    counter.
    """

    def _reset_state(self) -> None:
        self._var = RollingVariance(self.params["length"])
        self._run = 0
        self._last = NAN
        self._src = self.params["source"]

    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        x = close if self._src == "close" else pick(self._src, open_, high, low, close)
        self.bars += 1
        self._run = self._run + 1 if x == self._last else 1
        self._last = x
        var = self._var.push(x)
        if var == var:
            flat = self._run >= self.params["length"] or var <= 0.0
            v = self._var
            self.out[0] = 0.0 if flat else (v.dev - v.mean_dev) / math.sqrt(var)

    @classmethod
    def batch(cls, arrays: Arrays, params: dict[str, Any]) -> dict[str, np.ndarray]:
        """The variance loop, then vectorised z and flat-window detection."""
        n = params["length"]
        x = source_array(arrays, params["source"])
        var, mean_dev, dev = (
            np.asarray(a, dtype=np.float64) for a in rolling_variance_lists(x.tolist(), n)
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (dev - mean_dev) / np.sqrt(var)
        flat = (var <= 0.0) | _flat_windows(x, n)
        z[flat] = 0.0
        z[np.isnan(var)] = NAN
        return {"value": z}


def _flat_windows(x: np.ndarray, n: int) -> np.ndarray:
    """True where the n values ending at i are all equal (run length of equal values >= n)."""
    size = len(x)
    change = np.ones(size, dtype=bool)
    change[1:] = x[1:] != x[:-1]
    starts = np.maximum.accumulate(np.where(change, np.arange(size), 0))
    return np.arange(size) - starts + 1 >= n
