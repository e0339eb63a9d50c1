"""Moving averages built from exponential ones: DEMA, TEMA, Tillson's T3 and the zero-lag EMA.

All four exist in TA-Lib 0.8.1 and follow its arithmetic (default compatibility, unstable
period 0). TA-Lib's binary fuses multiply-adds (one rounding); plain floats cannot, so the
results differ from TA-Lib in the last bits only (relative ~1e-16 .. 1e-14).
"""

from __future__ import annotations

from itertools import islice

import numpy as np

from trade_core.features.base import Feature, Param
from trade_core.features.sources import padded, pick, source_array, source_param
from trade_core.indicators import REGISTRY
from trade_core.indicators._ma_kernels import (
    NAN,
    SeededEMA,
    ema_values,
)
from trade_core.indicators.moving_averages import length_param


@REGISTRY.register(
    "dema",
    params=(length_param(20), source_param()),
    warmup=lambda p: 2 * p["length"] - 1,
    reference="TA-Lib DEMA; P. G. Mulloy, 'Smoothing Data with Less Lag', S&C V.12:2 (1994)",
)
class DEMA(Feature):
    """Double exponential moving average (price units), Mulloy's:
    ``DEMA = 2 * e1 - e2`` with ``e1 = EMA(x, n)`` and ``e2 = EMA(e1, n)`` (computed as
    ``2.0 * e1 - e2``). Each EMA is TA-Lib's: ``k = 2/(n+1)``, seeded with the mean of its
    first n inputs (``e2`` with the first n values of ``e1``), then
    ``e = ((v - e) * k) + e``. n = ``length``; first value at bar index ``2(n-1)`` (warm-up
    ``2n - 1``). A flat series gives the flat price. n = 1 is no smoothing: the value is the
    source (TA-Lib's copy).
    """

    def _reset_state(self) -> None:
        n = self.params["length"]
        self._e1 = SeededEMA(n)
        self._e2 = SeededEMA(n)
        self._src = self.params["source"]

    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        x = close if self._src == "close" else pick(self._src, open_, high, low, close)
        self.bars += 1
        if self.params["length"] == 1:
            self.out[0] = x
            return
        e1 = self._e1.push(x)
        if e1 == e1:
            e2 = self._e2.push(e1)
            if e2 == e2:
                self.out[0] = 2.0 * e1 - e2

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        x = source_array(arrays, params["source"])
        n = params["length"]
        if n == 1:
            return {"value": x.astype(np.float64, copy=True)}
        vals = x.tolist()
        start = 2 * (n - 1) + 1
        if len(vals) < start:
            return {"value": padded([], len(vals))}
        e1, e2 = _chain_seeds(vals[:start], n, 2)
        k = 2.0 / (n + 1)
        out = [2.0 * e1 - e2]
        app = out.append
        for v in islice(vals, start, None):  # both EMAs advance in lockstep
            e1 = ((v - e1) * k) + e1
            e2 = ((e1 - e2) * k) + e2
            app(2.0 * e1 - e2)
        return {"value": padded(out, len(vals))}


@REGISTRY.register(
    "tema",
    params=(length_param(20), source_param()),
    warmup=lambda p: 3 * p["length"] - 2,
    reference="TA-Lib TEMA; P. G. Mulloy, 'Smoothing Data with Faster Moving Averages', "
    "S&C V.12:1 (1994)",
)
class TEMA(Feature):
    """Triple exponential moving average (price units), Mulloy's:
    ``TEMA = 3*e1 - 3*e2 + e3`` with ``e1 = EMA(x, n)``, ``e2 = EMA(e1, n)``,
    ``e3 = EMA(e2, n)`` (TA-Lib EMAs as in ``dema``), evaluated as
    ``e3 + (3.0*e1 - 3.0*e2)`` (TA-Lib's grouping). First value at bar index ``3(n-1)``
    (warm-up ``3n - 2``). n = 1 is no smoothing: the value is the source (TA-Lib's copy).
    """

    def _reset_state(self) -> None:
        n = self.params["length"]
        self._emas = (SeededEMA(n), SeededEMA(n), SeededEMA(n))
        self._src = self.params["source"]

    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        x = close if self._src == "close" else pick(self._src, open_, high, low, close)
        self.bars += 1
        if self.params["length"] == 1:
            self.out[0] = x
            return
        a, b, c = self._emas
        e1 = a.push(x)
        if e1 != e1:
            return
        e2 = b.push(e1)
        if e2 != e2:
            return
        e3 = c.push(e2)
        if e3 == e3:
            self.out[0] = e3 + (3.0 * e1 - 3.0 * e2)

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        x = source_array(arrays, params["source"])
        n = params["length"]
        if n == 1:
            return {"value": x.astype(np.float64, copy=True)}
        vals = x.tolist()
        start = 3 * (n - 1) + 1
        if len(vals) < start:
            return {"value": padded([], len(vals))}
        e1, e2, e3 = _chain_seeds(vals[:start], n, 3)
        k = 2.0 / (n + 1)
        out = [e3 + (3.0 * e1 - 3.0 * e2)]
        app = out.append
        for v in islice(vals, start, None):  # the three EMAs advance in lockstep
            e1 = ((v - e1) * k) + e1
            e2 = ((e1 - e2) * k) + e2
            e3 = ((e2 - e3) * k) + e3
            app(e3 + (3.0 * e1 - 3.0 * e2))
        return {"value": padded(out, len(vals))}


def _chain_seeds(prefix: list[float], n: int, depth: int) -> list[float]:
    """The last value of each of ``depth`` cascaded TA-Lib EMAs over ``prefix`` (whose length
    ``depth*(n-1) + 1`` makes the deepest one just seeded)."""
    stage = prefix
    last = []
    for _ in range(depth):
        stage = ema_values(stage, n)
        last.append(stage[-1])
    return last


def _t3_coefficients(v: float) -> tuple[float, float, float, float]:
    """Tillson's c1..c4 for volume factor v, with TA-Lib's operations."""
    t = v * v
    c1 = 0 - t * v
    c2 = 3.0 * (t - c1)
    c3 = (0 - 6.0) * t - 3.0 * (v - c1)
    c4 = 1.0 + 3.0 * v - c1 + 3.0 * t
    return c1, c2, c3, c4


def _t3_stage(vals: list[float], n: int, k: float, omk: float) -> list[float]:
    """One T3 smoothing stage: seed = (v0 + v1 + ... + v_{n-1}) / n, then e = k*v + omk*e."""
    if len(vals) < n:
        return []
    total = vals[0]
    for v in vals[1:n]:
        total += v
    e = total / n
    out = [e]
    app = out.append
    for v in islice(vals, n, None):
        e = k * v + omk * e
        app(e)
    return out


@REGISTRY.register(
    "t3",
    params=(
        length_param(5, doc="bars of each of the six EMAs"),
        Param("vfactor", float, 0.7, minimum=0.0, maximum=1.0, doc="volume factor v, 0..1"),
        source_param(),
    ),
    warmup=lambda p: 6 * (p["length"] - 1) + 1,
    reference="TA-Lib T3; T. Tillson, 'Better Moving Averages', S&C V.16:1 (1998)",
)
class T3(Feature):
    """Tillson's T3 (price units): six cascaded EMAs ``e1 = EMA(x)``, ``e2 = EMA(e1)``, ...,
    ``e6 = EMA(e5)``, each with ``k = 2/(n+1)`` computed as ``e = k*v + (1-k)*e`` and seeded
    with the mean of its first n inputs (summed starting from the first input), n =
    ``length``. With ``a = vfactor``:
    ``T3 = c1*e6 + c2*e5 + c3*e4 + c4*e3``, ``c1 = -a^3``, ``c2 = 3a^2 + 3a^3``,
    ``c3 = -6a^2 - 3a - 3a^3``, ``c4 = 1 + 3a + a^3 + 3a^2`` (the GD(GD(GD(x))) expansion,
    ``GD = (1+a)*EMA - a*EMA(EMA)``). First value at bar index ``6(n-1)`` (warm-up
    ``6(n-1) + 1``). n = 1 is no smoothing: the value is the source (TA-Lib's copy).
    """

    def _reset_state(self) -> None:
        n = self.params["length"]
        self._n = n
        self._k = 2.0 / (n + 1.0)
        self._omk = 1.0 - self._k
        self._c = _t3_coefficients(self.params["vfactor"])
        self._e = [NAN] * 6
        self._count = [0] * 6
        self._acc = [0.0] * 6
        self._src = self.params["source"]

    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        x = close if self._src == "close" else pick(self._src, open_, high, low, close)
        self.bars += 1
        if self._n == 1:
            self.out[0] = x
            return
        e = self._e
        if self.bars <= self.warmup_bars and not self._seed_step(x):
            return
        if self.bars > self.warmup_bars:  # steady state: all six EMAs advance
            k, m = self._k, self._omk
            e[0] = v = k * x + m * e[0]
            e[1] = v = k * v + m * e[1]
            e[2] = v = k * v + m * e[2]
            e[3] = v = k * v + m * e[3]
            e[4] = v = k * v + m * e[4]
            e[5] = k * v + m * e[5]
        c1, c2, c3, c4 = self._c
        self.out[0] = c1 * e[5] + c2 * e[4] + c3 * e[3] + c4 * e[2]

    def _seed_step(self, x: float) -> bool:
        """Warm-up: feed the cascade stage by stage; True once the sixth stage is seeded."""
        n, k, m = self._n, self._k, self._omk
        e, count, acc = self._e, self._count, self._acc
        v = x
        for j in range(6):
            c = count[j]
            if c < n:
                acc[j] = v if c == 0 else acc[j] + v
                count[j] = c + 1
                if c + 1 < n:
                    return False
                v = acc[j] / n
            else:
                v = k * v + m * e[j]
            e[j] = v
        return True

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        x = source_array(arrays, params["source"])
        n = params["length"]
        if n == 1:
            return {"value": x.astype(np.float64, copy=True)}
        vals = x.tolist()
        start = 6 * (n - 1) + 1
        if len(vals) < start:
            return {"value": padded([], len(vals))}
        k = 2.0 / (n + 1.0)
        m = 1.0 - k
        stage = vals[:start]  # warm-up: stage by stage, each seeded with its mean
        e = []
        for _ in range(6):
            stage = _t3_stage(stage, n, k, m)
            e.append(stage[-1])
        e1, e2, e3, e4, e5, e6 = e
        c1, c2, c3, c4 = _t3_coefficients(params["vfactor"])
        out = [c1 * e6 + c2 * e5 + c3 * e4 + c4 * e3]
        app = out.append
        for v in islice(vals, start, None):  # steady state: the six EMAs in lockstep
            e1 = k * v + m * e1
            e2 = k * e1 + m * e2
            e3 = k * e2 + m * e3
            e4 = k * e3 + m * e4
            e5 = k * e4 + m * e5
            e6 = k * e5 + m * e6
            app(c1 * e6 + c2 * e5 + c3 * e4 + c4 * e3)
        return {"value": padded(out, len(vals))}


@REGISTRY.register(
    "zlema",
    params=(length_param(20), source_param()),
    warmup=lambda p: (p["length"] - 1) // 2 + p["length"],
    reference="TA-Lib ZLEMA; J. Ehlers & R. Way, 'Zero Lag (Well, Almost)', S&C V.28:11 (2010)",
)
class ZLEMA(Feature):
    """Zero-lag EMA (price units): the EMA of the de-lagged series
    ``d_t = 2*x_t - x_{t-lag}`` (computed as ``2.0 * x - x_lag``, one rounding) with
    ``lag = (n-1) // 2``, n = ``length``. The EMA is TA-Lib's: ``k = 2/(n+1)``, seeded with
    the mean of the first n values of d (d exists from bar index lag on), then
    ``e = ((d - e) * k) + e``. First value at bar index ``lag + n - 1`` (warm-up
    ``lag + n``). n = 1 is no smoothing: the value is the source (TA-Lib's copy).
    """

    def _reset_state(self) -> None:
        n = self.params["length"]
        self._lag = (n - 1) // 2
        self._ring = [0.0] * (self._lag + 1)
        self._ema = SeededEMA(n)
        self._src = self.params["source"]

    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        x = close if self._src == "close" else pick(self._src, open_, high, low, close)
        b = self.bars
        self.bars = b + 1
        if self.params["length"] == 1:
            self.out[0] = x
            return
        size = self._lag + 1
        ring = self._ring
        ring[b % size] = x
        if b < self._lag:
            return
        e = self._ema.push(2.0 * x - ring[(b + 1) % size])  # ring[(b+1) % size] = x[t-lag]
        if e == e:
            self.out[0] = e

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        x = source_array(arrays, params["source"])
        n = params["length"]
        if n == 1:
            return {"value": x.astype(np.float64, copy=True)}
        lag = (n - 1) // 2
        d = 2.0 * x[lag:] - x[: len(x) - lag]
        return {"value": padded(ema_values(d.tolist(), n), len(x))}
