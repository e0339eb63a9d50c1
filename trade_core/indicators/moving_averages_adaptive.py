"""Kaufman's adaptive moving average (KAMA), as TA-Lib 0.8.1 computes it."""

from __future__ import annotations

from itertools import islice

import numpy as np

from trade_core.features.base import Feature
from trade_core.features.sources import padded, pick, source_array, source_param
from trade_core.indicators import REGISTRY
from trade_core.indicators.moving_averages import length_param

SLOW = 2.0 / (30.0 + 1.0)
"""Smoothing constant of the slowest EMA (30 bars), TA-Lib's fixed choice."""
SPAN = 2.0 / (2.0 + 1.0) - SLOW
"""Fastest (2-bar EMA) minus slowest smoothing constant."""


def _smoothing(change: float, noise: float) -> float:
    """Kaufman's squared smoothing constant from the net change and the summed noise."""
    er = 1.0 if noise <= abs(change) else abs(change / noise)
    sc = er * SPAN + SLOW
    return sc * sc


@REGISTRY.register(
    "kama",
    params=(length_param(10, doc="bars of the efficiency ratio"), source_param()),
    warmup=lambda p: p["length"] + 1 if p["length"] > 1 else 1,
    reference="TA-Lib KAMA (fast 2, slow 30); P. Kaufman, Smarter Trading (1995)",
)
class KAMA(Feature):
    """Kaufman adaptive moving average (price units) of x = ``source``, n = ``length``,
    with TA-Lib's fixed fast/slow EMA lengths 2 and 30.

    - change ``= x_t - x_{t-n}`` (signed), noise ``= sum(|x_i - x_{i-1}|)`` over the last n
      changes. TA-Lib keeps noise as a running total (drop the oldest change, add the
      newest) and resets it to exactly 0 when the last n changes are all exactly zero (a
      flat window), so no rounding residue is left to divide by.
    - efficiency ratio ``ER = |change / noise|``, but **ER = 1 when noise <= |change|**:
      a flat window (noise 0), a straight move (pins ER to exactly 1), or a running total
      that rounding left at or below 0. There is no tolerance band: a window moving by one
      ulp is not flat. (TA-Lib 0.8.1's rules, pinned by tests on crafted extreme series.)
    - ``sc = (ER * (2/3 - 2/31) + 2/31)^2``; ``KAMA = ((x - KAMA_prev) * sc) + KAMA_prev``.
    - Seed: at bar index n, ``KAMA_prev = x_{n-1}``; the first value is at bar index n
      (warm-up n + 1). n = 1 is no smoothing: the value is the source (TA-Lib's copy).

    TA-Lib 0.8.1 fuses the multiply-adds (one rounding); this does not: last-bit
    differences.
    """

    def _reset_state(self) -> None:
        n = self.params["length"]
        self._n = n
        self._ring = [0.0] * (n + 1)
        self._noise = 0.0
        self._zero_run = 0  # consecutive exactly-zero changes, up to n
        self._kama = 0.0
        self._trail = 0.0
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
        size = n + 1
        ring = self._ring
        ring[t % size] = x
        if t == 0:
            return
        prev = ring[(t - 1) % size]
        first = ring[(t + 1) % size]  # x[t-n]
        if t <= n:  # accumulate the first n changes
            d = prev
            d -= x
            self._noise += abs(d)
            self._zero_run = self._zero_run + 1 if d == 0.0 else 0
            if t < n:
                return
            self._kama = prev
        else:
            self._noise -= abs(self._trail - first)
            self._noise += abs(x - prev)
            self._zero_run = self._zero_run + 1 if x - prev == 0.0 else 0
            if self._zero_run >= n:  # a flat window: the sum is exactly 0
                self._zero_run = n
                self._noise = 0.0
        self._trail = first
        sc = _smoothing(x - first, self._noise)
        self._kama = (x - self._kama) * sc + self._kama
        self.out[0] = self._kama

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        x = source_array(arrays, params["source"])
        n = params["length"]
        if n == 1:
            return {"value": x.astype(np.float64, copy=True)}
        vals = x.tolist()
        if len(vals) <= n:
            return {"value": padded([], len(vals))}
        noise = 0.0
        for j in range(n):
            d = vals[j]
            d -= vals[j + 1]
            noise += abs(d)
        diff = x[1:] - x[:-1]
        step = np.abs(diff)  # |x[t] - x[t-1]| at t - 1
        flat = _flat_windows(diff == 0.0, n)[n:].tolist()  # at t = n+1 ..
        # noise_t = (noise_{t-1} - |x[t-n-1] - x[t-n]|) + |x[t] - x[t-1]|, a running total,
        # reset to 0 on a flat window
        noises = [noise]
        app = noises.append
        steps = step.tolist()
        for drop, add, is_flat in zip(steps, islice(steps, n, None), flat, strict=False):
            noise = noise - drop + add
            if is_flat:
                noise = 0.0
            app(noise)
        noise_arr = np.asarray(noises)
        change = x[n:] - x[: len(x) - n]
        with np.errstate(divide="ignore", invalid="ignore"):
            er = np.abs(change / noise_arr)
        er[noise_arr <= np.abs(change)] = 1.0
        sc = er * SPAN + SLOW
        sc = sc * sc
        kama = vals[n - 1]
        out: list[float] = []
        app = out.append
        for v, c in zip(islice(vals, n, None), sc.tolist(), strict=True):
            kama = (v - kama) * c + kama
            app(kama)
        return {"value": padded(out, len(vals))}


def _flat_windows(zero: np.ndarray, n: int) -> np.ndarray:
    """For each change i (0-based), True when changes i-n+1 .. i are all exactly zero."""
    counts = np.concatenate(([0], np.cumsum(zero, dtype=np.int64)))
    out = np.zeros(len(zero), dtype=bool)
    if len(zero) >= n:
        out[n - 1 :] = counts[n:] - counts[: len(counts) - n] == n
    return out
