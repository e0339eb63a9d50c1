"""Weighted moving averages: linear (WMA), triangular (TRIMA), Hull (HMA), Arnaud Legoux
(ALMA) and volume-weighted (VWMA).

WMA, TRIMA, HMA and VWMA exist in TA-Lib 0.8.1 and follow it (WMA/TRIMA/HMA operation for
operation, so they agree bit for bit); ALMA follows its published formula.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from trade_core.errors import BadInputError
from trade_core.features.base import Feature, Param
from trade_core.features.sources import padded, pick, source_array, source_param
from trade_core.indicators import REGISTRY
from trade_core.indicators._ma_kernels import (
    NAN,
    RunningWMA,
    WindowSum,
    window_sums,
    wma_values,
)
from trade_core.indicators.moving_averages import length_param


@REGISTRY.register(
    "wma",
    params=(length_param(20), source_param()),
    warmup=lambda p: p["length"],
    reference="TA-Lib WMA (linearly weighted moving average, weights 1..n)",
)
class WMA(Feature):
    """Linearly weighted moving average (price units) of ``source`` over n = ``length`` bars:
    ``sum(w_i * x_i) / (n(n+1)/2)`` with weight n on the newest bar down to 1 on the oldest.
    First value at bar index n - 1 (warm-up n); n = 1 is the source itself.

    Arithmetic as TA-Lib 0.8.1: running window total ``sub`` and weighted total ``sum``
    (``sub = (sub + x) - x[t-n]``, ``sum += x * n``, output ``sum / divider``, then
    ``sum -= sub``), both rebuilt from the window every ``8n`` outputs (oldest first, weights
    1..n), so the error never accumulates.
    """

    def _reset_state(self) -> None:
        self._wma = RunningWMA(self.params["length"])
        self._src = self.params["source"]

    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        x = close if self._src == "close" else pick(self._src, open_, high, low, close)
        self.bars += 1
        self.out[0] = self._wma.push(x)

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        x = source_array(arrays, params["source"])
        return {"value": padded(wma_values(x.tolist(), params["length"]), len(x))}


def _trima_first(window: list[float]) -> tuple[float, float, float]:
    """TA-Lib's initial (numerator, numeratorSub, numeratorAdd) over the first window."""
    n = len(window)
    mid = (n - 1) // 2
    num = sub = add = 0.0
    for j in range(mid, -1, -1):  # middle down to oldest
        sub += window[j]
        num += sub
    for j in range(mid + 1, n):  # after the middle up to newest
        add += window[j]
        num += add
    return num, sub, add


def _trima_factor(n: int) -> float:
    h = n >> 1
    return 1.0 / ((h + 1) * (h + 1)) if n % 2 else 1.0 / (h * (h + 1))


def _trima_step(
    state: tuple[float, float, float], old: float, mid: float, new: float, odd: bool
) -> tuple[float, float, float]:
    """Slide TA-Lib's TRIMA numerators by one bar (``old`` = x[t-n], ``mid`` = x[t-h])."""
    num, sub, add = state
    num -= sub
    sub -= old
    sub += mid
    if odd:
        num += add
        add -= mid
    else:
        add -= mid
        num += add
    add += new
    num += new
    return num, sub, add


@REGISTRY.register(
    "trima",
    params=(length_param(20), source_param()),
    warmup=lambda p: p["length"],
    reference="TA-Lib TRIMA (triangular moving average = SMA of an SMA)",
)
class TRIMA(Feature):
    """Triangular moving average (price units) over n = ``length`` bars: weights rising
    1, 2, ... to the middle and falling back to 1, e.g. n = 5: ``(x0 + 2x1 + 3x2 + 2x3 + x4)/9``,
    n = 4: ``(x0 + 2x1 + 2x2 + x3)/6``; equivalently an SMA of an SMA: n odd
    ``SMA(SMA(x, (n+1)/2), (n+1)/2)``, n even ``SMA(SMA(x, n/2), n/2 + 1)``. Divider
    ``(h+1)^2`` for odd n, ``h(h+1)`` for even n, ``h = floor(n/2)``. First value at bar
    index n - 1 (warm-up n); n = 1 is the source itself.

    Arithmetic as TA-Lib: three running numerators (total, older half, newer half) slid by
    four adjustments per bar, output ``numerator * (1/divider)``.
    """

    def _reset_state(self) -> None:
        n = self.params["length"]
        self._n = n
        self._h = n >> 1
        self._odd = n % 2 == 1
        self._factor = _trima_factor(n)
        self._ring = [0.0] * n
        self._state = (0.0, 0.0, 0.0)
        self._old = 0.0
        self._src = self.params["source"]

    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        x = close if self._src == "close" else pick(self._src, open_, high, low, close)
        t = self.bars
        self.bars = t + 1
        n = self._n
        if n == 1:
            self.out[0] = x
            return
        ring = self._ring
        ring[t % n] = x
        if t < n - 1:
            return
        if t == n - 1:
            self._state = _trima_first(ring)
        else:
            self._state = _trima_step(self._state, self._old, ring[(t - self._h) % n], x, self._odd)
        self._old = ring[(t + 1) % n]  # x[t-n+1]: leaves the window next bar
        self.out[0] = self._state[0] * self._factor

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        x = source_array(arrays, params["source"])
        n = params["length"]
        if n == 1:
            return {"value": x.astype(np.float64, copy=True)}
        vals = x.tolist()
        if len(vals) < n:
            return {"value": padded([], len(vals))}
        h, odd, factor = n >> 1, n % 2 == 1, _trima_factor(n)
        num, sub, add = _trima_first(vals[:n])
        out = [num * factor]
        app = out.append
        for old, mid, new in zip(
            vals, vals[n - h :], vals[n:], strict=False
        ):  # x[t-n], x[t-h], x[t]
            num -= sub
            sub -= old
            sub += mid
            if odd:
                num += add
                add -= mid
            else:
                add -= mid
                num += add
            add += new
            num += new
            app(num * factor)
        return {"value": padded(out, len(vals))}


@REGISTRY.register(
    "hma",
    params=(length_param(20), source_param()),
    warmup=lambda p: p["length"] + math.isqrt(p["length"]) - 1,
    reference="TA-Lib HMA; Alan Hull, 'Hull Moving Average' (2005), alanhull.com",
)
class HMA(Feature):
    """Hull moving average (price units), with the author's integer truncation:
    ``HMA = WMA(2 * WMA(x, floor(n/2)) - WMA(x, n), floor(sqrt(n)))``, n = ``length``; the
    difference is computed as ``2.0 * half - full``. All three WMAs are ``wma``'s (TA-Lib's
    running sums, rebuilt every 8 periods); the half-length WMA starts at bar index n - 1
    like the full one (TA-Lib's anchoring, which fixes its rebuild schedule). First value at
    bar index ``n + floor(sqrt(n)) - 2`` (warm-up ``n + floor(sqrt(n)) - 1``). n = 2 and 3
    give ``2x - WMA(x, n)`` (both inner lengths are 1); n = 1 is the source itself.
    """

    def _reset_state(self) -> None:
        n = self.params["length"]
        self._n = n
        self._half_start = n - n // 2  # bar index where the half-length WMA starts
        self._full = RunningWMA(n)
        self._half = RunningWMA(max(n // 2, 1))
        self._outer = RunningWMA(math.isqrt(n))
        self._src = self.params["source"]

    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        x = close if self._src == "close" else pick(self._src, open_, high, low, close)
        t = self.bars
        self.bars = t + 1
        if self._n == 1:
            self.out[0] = x
            return
        full = self._full.push(x)
        if t >= self._half_start:
            half = self._half.push(x)
            if t >= self._n - 1:
                self.out[0] = self._outer.push(2.0 * half - full)

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        x = source_array(arrays, params["source"])
        n = params["length"]
        if n == 1:
            return {"value": x.astype(np.float64, copy=True)}
        vals = x.tolist()
        full = np.asarray(wma_values(vals, n))
        half = np.asarray(wma_values(vals, n // 2, first=n - 1))
        diff = (2.0 * half - full).tolist()
        return {"value": padded(wma_values(diff, math.isqrt(n)), len(vals))}


def alma_weights(n: int, offset: float, sigma: float) -> list[float]:
    """ALMA weights, oldest bar first: ``exp(-(i - m)^2 / (2 s^2))``, ``m = offset*(n-1)``,
    ``s = n / sigma`` (not normalised)."""
    m = offset * (n - 1)
    s = n / sigma
    two_s2 = 2.0 * s * s
    return [math.exp(-((i - m) * (i - m)) / two_s2) for i in range(n)]


@REGISTRY.register(
    "alma",
    params=(
        length_param(9),
        Param(
            "offset",
            float,
            0.85,
            minimum=0.0,
            maximum=1.0,
            doc="centre of the weights, 0 = oldest bar, 1 = newest",
        ),
        Param("sigma", float, 6.0, minimum=0.01, maximum=50.0, doc="sharpness: s = n / sigma"),
        source_param(),
    ),
    warmup=lambda p: p["length"],
    reference="Arnaud Legoux & Dimitrios Kouzis-Loukas, ALMA (2009); TradingView ta.alma "
    "(floor=false)",
)
class ALMA(Feature):
    """Arnaud Legoux moving average (price units): a Gaussian-weighted mean of the last
    n = ``length`` values. With i = 0 the oldest bar of the window and i = n - 1 the newest,
    ``m = offset * (n - 1)`` (no flooring), ``s = n / sigma``,
    ``w_i = exp(-(i - m)^2 / (2 s^2))`` and ``ALMA = sum(w_i * x_i) / sum(w_i)``; both sums
    run oldest first from 0.0. Defaults n = 9, offset 0.85, sigma 6. First value at bar index
    n - 1 (warm-up n). A flat window gives the flat price. The bar nearest m is within half
    a bar of it, so the largest weight is at least ``exp(-sigma^2 / 8)``: sigma <= 50 keeps
    the normaliser above 1e-136 (never 0). O(n) per bar.
    """

    def _reset_state(self) -> None:
        n = self.params["length"]
        self._w = alma_weights(n, self.params["offset"], self.params["sigma"])
        self._norm = _sequential_sum(self._w)
        self._window: deque[float] = deque(maxlen=n)
        self._src = self.params["source"]

    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        x = close if self._src == "close" else pick(self._src, open_, high, low, close)
        self.bars += 1
        window = self._window
        window.append(x)
        if len(window) < window.maxlen:
            return
        acc = 0.0
        for w, v in zip(self._w, window, strict=True):
            acc += w * v
        self.out[0] = acc / self._norm

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        x = source_array(arrays, params["source"])
        n = params["length"]
        total = len(x)
        if total < n:
            return {"value": padded([], total)}
        weights = alma_weights(n, params["offset"], params["sigma"])
        m = total - n + 1
        acc = np.zeros(m)
        for i, w in enumerate(weights):  # same order as the stream: oldest first, from 0.0
            acc += w * x[i : i + m]
        return {"value": padded(acc / _sequential_sum(weights), total)}


def _sequential_sum(values: list[float]) -> float:
    total = 0.0
    for v in values:
        total += v
    return total


@REGISTRY.register(
    "vwma",
    params=(length_param(20), source_param()),
    warmup=lambda p: p["length"],
    reference="TA-Lib VWMA: sum(price * volume) / sum(volume) over the window",
)
class VWMA(Feature):
    """Volume-weighted moving average (price units) over n = ``length`` bars:
    ``VWMA = (sum(x_i * v_i) / n) / (sum(v_i) / n)`` (TA-Lib's form of
    ``sum(x*v) / sum(v)``), x = ``source``, v = bar volume. First value at bar index n - 1
    (warm-up n).

    - **All-zero volume window: NaN** (0/0: no trade, no volume-weighted price). Output
      resumes as soon as a traded bar is in the window.
    - Negative volume is refused (``BadInputError``).
    - n = 1 is no smoothing: the value is the source, also on a zero-volume bar (TA-Lib's
      period-1 convention).

    Each window's sums are added up afresh from two partial sums (``WindowSum``), so rounding
    never accumulates (relative error ~1e-15). TA-Lib 0.8.1 keeps running totals instead:
    their residue turns an all-zero window into garbage (e.g. -6944 for a price of 6556 on
    BTCUSD 1h) and elsewhere leaves errors of ~1e-10 relative on real data (up to ~1e-7
    after volume spikes), the only differences from it.
    """

    def _reset_state(self) -> None:
        n = self.params["length"]
        self._n = float(n)
        self._pv = WindowSum(n)
        self._v = WindowSum(n)
        self._src = self.params["source"]

    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        x = close if self._src == "close" else pick(self._src, open_, high, low, close)
        if volume < 0.0:
            raise BadInputError(f"vwma: negative volume {volume!r} at ts {ts}")
        self.bars += 1
        if self._n == 1.0:
            self.out[0] = x
            return
        pv = self._pv.push(x * volume)
        v = self._v.push(volume)
        if self.bars >= self._n:
            n = self._n
            self.out[0] = (pv / n) / (v / n) if v > 0.0 else NAN

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        x = source_array(arrays, params["source"])
        vol = arrays["volume"]
        n = params["length"]
        if (vol < 0.0).any():
            i = int(np.flatnonzero(vol < 0.0)[0])
            raise BadInputError(f"vwma: negative volume {vol[i]!r} at row {i}")
        if n == 1:
            return {"value": x.astype(np.float64, copy=True)}
        pv = window_sums(x * vol, n)
        v = window_sums(vol, n)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(v > 0.0, (pv / n) / (v / n), NAN)
        value[: n - 1] = NAN
        return {"value": value}
