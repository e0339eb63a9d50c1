"""Moving averages.

Each class states its definition and reference; where TA-Lib has the indicator the arithmetic
follows TA-Lib 0.8 operation for operation, so results agree to the last bits.
"""

from __future__ import annotations

import math

from trade_core.features.base import Feature, Param
from trade_core.features.sources import pick, source_param
from trade_core.indicators import REGISTRY

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
    """Simple moving average: ``mean(x[t-n+1..t])``; first value at bar n."""

    def _reset_state(self) -> None:
        n = self.params["length"]
        self._ring = [0.0] * n
        self._total = 0.0
        self._src = self.params["source"]

    def update(self, ts: int, open_: float, high: float, low: float, close: float, volume: float):
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


@REGISTRY.register(
    "ema",
    params=(length_param(20), source_param()),
    warmup=lambda p: p["length"],
    reference="TA-Lib EMA: k = 2/(n+1), seeded with the SMA of the first n values",
)
class EMA(Feature):
    """Exponential moving average: ``ema = ema_prev + k * (x - ema_prev)``, ``k = 2/(n+1)``,
    seeded at bar n with the mean of the first n values (TA-Lib's default)."""

    def _reset_state(self) -> None:
        self._k = 2.0 / (self.params["length"] + 1)
        self._sum = 0.0
        self._ema = math.nan
        self._src = self.params["source"]

    def update(self, ts: int, open_: float, high: float, low: float, close: float, volume: float):
        x = close if self._src == "close" else pick(self._src, open_, high, low, close)
        n = self.params["length"]
        self.bars += 1
        if self.bars < n:
            self._sum += x
            return
        if self.bars == n:
            self._ema = (self._sum + x) / n
        else:
            self._ema = ((x - self._ema) * self._k) + self._ema
        self.out[0] = self._ema
