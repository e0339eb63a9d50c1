"""Moving averages: the simple and the exponential one.

Each class states its definition and reference; where TA-Lib has the indicator the arithmetic
follows TA-Lib 0.8 operation for operation. The ``batch`` classmethods run the same operations
in a tight loop over the whole series, so they equal the streaming ``update`` bit for bit.
Further moving averages live in ``moving_averages_ema``, ``moving_averages_weighted`` and
``moving_averages_adaptive``.
"""

from __future__ import annotations

import math
from itertools import islice

import numpy as np

from trade_core.features.base import Feature, Param
from trade_core.features.sources import padded, pick, source_array, source_param
from trade_core.indicators import REGISTRY
from trade_core.indicators._ma_kernels import (
    ema_values,
)

LENGTH_MAX = 100_000


def length_param(default: int, minimum: int = 1, doc: str = "bars in the window") -> Param:
    return Param("length", int, default, minimum=minimum, maximum=LENGTH_MAX, doc=doc)


@REGISTRY.register(
    "sma",
    params=(length_param(20), source_param()),
    warmup=lambda p: p["length"],
    reference="TA-Lib SMA: arithmetic mean of the last n values (running sum, as TA-Lib)",
)
class SMA(Feature):
    """Simple moving average (price units): ``mean(x[t-n+1..t])`` of ``source`` over the last
    n = ``length`` bars; first value at bar index n - 1 (warm-up n).

    Arithmetic as TA-Lib: a running total of the window (add the newest value, emit
    ``total / n``, then subtract the oldest). A flat window gives the flat price.
    """

    def _reset_state(self) -> None:
        n = self.params["length"]
        self._ring = [0.0] * n
        self._total = 0.0
        self._src = self.params["source"]

    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        x = close if self._src == "close" else pick(self._src, open_, high, low, close)
        n = self.params["length"]
        i = self.bars % n
        self.bars += 1
        if self.bars < n:
            self._total += x
            self._ring[i] = x
            return
        # TA-Lib order: add the newest, emit, then drop the oldest.
        self._total += x
        self.out[0] = self._total / n
        self._total -= self._ring[(i + 1) % n] if n > 1 else x
        self._ring[i] = x

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        """The streaming arithmetic in one tight loop over the series."""
        vals = source_array(arrays, params["source"]).tolist()
        n = params["length"]
        if len(vals) < n:
            return {"value": padded([], len(vals))}
        total = 0.0
        for v in vals[: n - 1]:
            total += v
        out: list[float] = []
        app = out.append
        for new, old in zip(islice(vals, n - 1, None), vals, strict=False):
            total += new
            app(total / n)
            total -= old
        return {"value": padded(out, len(vals))}


@REGISTRY.register(
    "ema",
    params=(length_param(20), source_param()),
    warmup=lambda p: p["length"],
    reference="TA-Lib EMA: k = 2/(n+1), seeded with the SMA of the first n values",
)
class EMA(Feature):
    """Exponential moving average (price units) of ``source``:
    ``ema = ema_prev + k * (x - ema_prev)``, computed as ``((x - ema_prev) * k) + ema_prev``
    with ``k = 2/(n+1)``, n = ``length``; seeded at bar index n - 1 with the mean of the
    first n values (summed from 0.0 in order, TA-Lib's default), so warm-up is n bars.
    n = 1 is no smoothing: the value is the source (TA-Lib's copy). TA-Lib 0.8.1 fuses the
    multiply-add (one rounding), this does not: last-bit differences.
    """

    def _reset_state(self) -> None:
        self._n = self.params["length"]
        self._k = 2.0 / (self._n + 1)
        self._sum = 0.0
        self._ema = math.nan
        self._src = self.params["source"]
        self._close = self._src == "close"

    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        x = close if self._close else pick(self._src, open_, high, low, close)
        n = self._n
        bars = self.bars = self.bars + 1
        if bars > n > 1:  # the steady state, first (same arithmetic as below)
            self._ema = ema = ((x - self._ema) * self._k) + self._ema
            self.out[0] = ema
            return
        if n == 1:  # no smoothing: TA-Lib copies the input (k = 1 would not, bit for bit)
            self.out[0] = x
            return
        if self.bars < n:
            self._sum += x
            return
        if self.bars == n:
            self._ema = (self._sum + x) / n
        else:
            self._ema = ((x - self._ema) * self._k) + self._ema
        self.out[0] = self._ema

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        """The streaming arithmetic in one tight loop over the series."""
        x = source_array(arrays, params["source"])
        if params["length"] == 1:
            return {"value": x.astype(np.float64, copy=True)}
        return {"value": padded(ema_values(x.tolist(), params["length"]), len(x))}
