"""Change over a window: momentum, rate of change and the Commodity Channel Index.

All three follow TA-Lib 0.8 operation for operation. Volume is not read.
"""

from __future__ import annotations

import numpy as np

from trade_core.features.base import Feature
from trade_core.features.sources import padded, pick, source_array, source_param
from trade_core.indicators import REGISTRY
from trade_core.indicators._momentum_kernels import (
    TA_EPSILON,
    period_param,
)


class _Lagged(Feature):
    """Keeps the last ``length`` source values so ``update`` can read the one n bars back."""

    def _reset_state(self) -> None:
        self._n = self.params["length"]
        self._ring = [0.0] * self._n
        self._src = self.params["source"]

    def _shift(self, open_: float, high: float, low: float, close: float) -> tuple[float, float]:
        """``(x_t, x_{t-n})``; the lagged value is meaningful once ``bars > n``."""
        x = close if self._src == "close" else pick(self._src, open_, high, low, close)
        i = self.bars % self._n
        self.bars += 1
        prev = self._ring[i]
        self._ring[i] = x
        return x, prev


@REGISTRY.register(
    "mom",
    params=(period_param("length", 10), source_param()),
    warmup=lambda p: p["length"] + 1,
    reference="TA-Lib MOM: x[t] - x[t-n]",
)
class MOM(_Lagged):
    """Momentum, price units: ``x_t - x_{t-n}`` with n = ``length``, x = ``source``.
    First value at bar index n (warm-up n + 1)."""

    def update(self, ts: int, open_: float, high: float, low: float, close: float, volume: float):
        x, prev = self._shift(open_, high, low, close)
        if self.bars > self._n:
            self.out[0] = x - prev

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        n = params["length"]
        x = source_array(arrays, params["source"])
        return {"value": padded(x[n:] - x[:-n], len(x))}


@REGISTRY.register(
    "roc",
    params=(period_param("length", 10), source_param()),
    warmup=lambda p: p["length"] + 1,
    reference="TA-Lib ROC: ((x[t] / x[t-n]) - 1) * 100",
)
class ROC(_Lagged):
    """Rate of change, percent: ``((x_t / x_{t-n}) - 1) * 100`` (TA-Lib ROC, not ROCP/ROCR);
    **0** when ``x_{t-n} == 0``. First value at bar index n (warm-up n + 1)."""

    def update(self, ts: int, open_: float, high: float, low: float, close: float, volume: float):
        x, prev = self._shift(open_, high, low, close)
        if self.bars > self._n:
            self.out[0] = (x / prev - 1.0) * 100.0 if prev != 0.0 else 0.0

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        n = params["length"]
        x = source_array(arrays, params["source"])
        prev = x[:-n]
        with np.errstate(divide="ignore", invalid="ignore"):
            value = (x[n:] / prev - 1.0) * 100.0
        value[prev == 0.0] = 0.0
        return {"value": padded(value, len(x))}


@REGISTRY.register(
    "cci",
    params=(period_param("length", 14, minimum=2),),
    warmup=lambda p: p["length"],
    reference="TA-Lib CCI; Donald Lambert, Commodities magazine (1980)",
)
class CCI(Feature):
    """Commodity Channel Index (Lambert) over n = ``length`` bars, on the typical price.

    ``tp = (high + low + close) / 3``; over the last n bars ``avg = mean(tp)`` and
    ``md = mean(|tp_i - avg|)`` (mean absolute deviation); ``CCI = (tp - avg) / (0.015 * md)``.
    **0** when the window is flat: ``|tp - avg| <= 1e-14 * |avg|`` or
    ``md <= 1e-14 * |avg|`` (TA-Lib 0.8's relative test). As in TA-Lib, the n values are summed
    in ring-buffer order (slot = bar index mod n). O(n) per bar: the mean deviation must visit
    the window. First value at bar index n - 1.
    """

    def _reset_state(self) -> None:
        self._n = self.params["length"]
        self._ring = [0.0] * self._n

    def update(self, ts: int, open_: float, high: float, low: float, close: float, volume: float):
        n = self._n
        ring = self._ring
        tp = (high + low + close) / 3
        ring[self.bars % n] = tp
        self.bars += 1
        if self.bars < n:
            return
        avg = 0.0
        for v in ring:
            avg += v
        avg /= n
        dev = 0.0
        for v in ring:
            dev += abs(v - avg)
        dev /= n
        diff = tp - avg
        scale = TA_EPSILON * abs(avg)
        if abs(diff) <= scale or abs(dev) <= scale:
            self.out[0] = 0.0
        else:
            self.out[0] = diff / (0.015 * dev)

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        n = params["length"]
        tp = (arrays["high"] + arrays["low"] + arrays["close"]) / 3
        total = len(tp)
        if total < n:
            return {"value": np.full(total, np.nan)}
        t = np.arange(n - 1, total)
        # Slot j of the ring holds, for the window ending at bar t, bar t - ((t - j) mod n):
        # summing slot by slot reproduces TA-Lib's order, one vector add per slot.
        avg = np.zeros(len(t))
        for j in range(n):
            avg += tp[t - (t - j) % n]
        avg /= n
        dev = np.zeros(len(t))
        for j in range(n):
            dev += np.abs(tp[t - (t - j) % n] - avg)
        dev /= n
        diff = tp[n - 1 :] - avg
        scale = TA_EPSILON * np.abs(avg)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = diff / (0.015 * dev)
        value[(np.abs(diff) <= scale) | (np.abs(dev) <= scale)] = 0.0
        return {"value": padded(value, total)}
