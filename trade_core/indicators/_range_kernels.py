"""Arithmetic shared by the trend and volatility indicators (private: not a registry module).

Every helper exists in a streaming form (one value at a time, O(1) amortised) and, where a
feature's ``batch`` needs it, a whole-array form that performs the *same* IEEE operations in
the same order, so stream and batch agree bit for bit. Where TA-Lib 0.8 has the computation
the operation order follows TA-Lib's C source:

- true range: ``max(high - low, |prev_close - high|, |prev_close - low|)``;
- Wilder average (ATR): seeded with the mean of the first n values (summed from 0.0 in input
  order), then ``avg = (avg * (n - 1) + x) / n``;
- rolling population variance (TA-Lib 0.8 ``VAR``/``STDDEV``/``BBANDS``): running sums of
  deviations from an anchor near the window, re-anchored by an exact two-pass over the window
  when cancellation threatens (see :class:`RollingVariance`).

TA-Lib 0.8's zero tests (``TA_IS_ZERO``) behave as exact comparisons with 0 on every input we
could construct (down to 1e-300), so this module compares with 0.0.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from trade_core.features.base import Param

NAN = math.nan
LENGTH_MAX = 100_000
"""TA-Lib's largest accepted period."""


def length_param(
    default: int, minimum: int = 1, name: str = "length", doc: str = "bars in the window"
) -> Param:
    """An integer window parameter, ``minimum`` .. 100,000 (TA-Lib's bounds)."""
    return Param(name, int, default, minimum=minimum, maximum=LENGTH_MAX, doc=doc)


def nan_array(n: int) -> np.ndarray:
    return np.full(n, NAN)


# --- true range and Wilder's average ------------------------------------------------------


def true_range(high: float, low: float, prev_close: float) -> float:
    """``max(high - low, |prev_close - high|, |prev_close - low|)`` (TA-Lib's order)."""
    greatest = high - low
    v = abs(prev_close - high)
    if v > greatest:
        greatest = v
    v = abs(prev_close - low)
    if v > greatest:
        greatest = v
    return greatest


def true_range_array(h: np.ndarray, lo: np.ndarray, c: np.ndarray) -> np.ndarray:
    """True range of every bar; bar 0 has no previous close and is NaN (TA-Lib TRANGE)."""
    out = nan_array(len(h))
    if len(h) > 1:
        pc = c[:-1]
        out[1:] = np.maximum(np.maximum(h[1:] - lo[1:], np.abs(pc - h[1:])), np.abs(pc - lo[1:]))
    return out


def wilder_from(values: list[float], n: int, first: int) -> list[float]:
    """Wilder's average of ``values[first:]`` as TA-Lib ATR computes it.

    The result has NaN before index ``first + n - 1``; there the seed is the mean of
    ``values[first : first + n]`` (summed from 0.0 in order), then
    ``avg = (avg * (n - 1) + x) / n``.
    """
    size = len(values)
    out = [NAN] * size
    seed_at = first + n - 1
    if size <= seed_at:
        return out
    total = 0.0
    for i in range(first, seed_at + 1):
        total += values[i]
    avg = total / n
    out[seed_at] = avg
    nm1 = float(n - 1)
    for i in range(seed_at + 1, size):
        avg = (avg * nm1 + values[i]) / n
        out[i] = avg
    return out


class WilderATR:
    """Streaming TA-Lib ATR state: feed ``(high, low, close)``; ``value`` is NaN until bar n+1."""

    __slots__ = ("bars", "n", "nm1", "prev_close", "total", "value")

    def __init__(self, n: int) -> None:
        self.n = n
        self.nm1 = float(n - 1)
        self.bars = 0
        self.prev_close = NAN
        self.total = 0.0
        self.value = NAN

    def push(self, high: float, low: float, close: float) -> float:
        self.bars += 1
        if self.bars == 1:
            self.prev_close = close
            return NAN
        tr = true_range(high, low, self.prev_close)
        self.prev_close = close
        if self.bars <= self.n:
            self.total += tr
            return NAN
        if self.bars == self.n + 1:
            self.value = (self.total + tr) / self.n
        else:
            self.value = (self.value * self.nm1 + tr) / self.n
        return self.value


def atr_array(arrays: dict[str, np.ndarray], n: int) -> np.ndarray:
    """TA-Lib ATR(n) of every bar (NaN for the first n bars)."""
    tr = true_range_array(arrays["high"], arrays["low"], arrays["close"]).tolist()
    return np.asarray(wilder_from(tr, n, 1), dtype=np.float64)


def ema_array(x: np.ndarray, n: int) -> np.ndarray:
    """TA-Lib EMA(n): seeded with the mean of the first n values, ``((x - e) * k) + e``."""
    xs = x.tolist()
    out = [NAN] * len(xs)
    if len(xs) >= n:
        k = 2.0 / (n + 1)
        total = 0.0
        for i in range(n):
            total += xs[i]
        e = total / n
        out[n - 1] = e
        for i in range(n, len(xs)):
            e = ((xs[i] - e) * k) + e
            out[i] = e
    return np.asarray(out, dtype=np.float64)


class SeededEMA:
    """Streaming TA-Lib EMA(n); ``push`` returns NaN until the n-th value."""

    __slots__ = ("count", "k", "n", "total", "value")

    def __init__(self, n: int) -> None:
        self.n = n
        self.k = 2.0 / (n + 1)
        self.count = 0
        self.total = 0.0
        self.value = NAN

    def push(self, x: float) -> float:
        self.count += 1
        if self.count < self.n:
            self.total += x
            return NAN
        if self.count == self.n:
            self.value = (self.total + x) / self.n
        else:
            self.value = ((x - self.value) * self.k) + self.value
        return self.value


# --- running window sums ------------------------------------------------------------------


def running_window_totals(x: np.ndarray, n: int) -> np.ndarray:
    """``total_i`` of TA-Lib's running sum (add ``x_i``, read, then drop ``x_{i-n+1}``).

    The additions and subtractions are laid out in the order the streaming code performs them
    and summed by ``np.add.accumulate``, which is strictly sequential, so every total is
    bit-identical to the loop. NaN before index ``n - 1``.
    """
    size = len(x)
    out = nan_array(size)
    if size < n:
        return out
    pairs = size - n + 1
    steps = np.empty(n - 1 + 2 * pairs)
    steps[: n - 1] = x[: n - 1]
    steps[n - 1 :: 2] = x[n - 1 :]
    steps[n::2] = -x[:pairs]
    acc = np.add.accumulate(steps)
    out[n - 1 :] = acc[n - 1 :: 2]
    return out


# --- rolling population variance (TA-Lib 0.8) ----------------------------------------------


class RollingVariance:
    """Population variance of the last n values, exactly as TA-Lib 0.8's ``VAR``.

    Running sums ``t1 = sum(x - s)`` and ``t2 = sum((x - s)^2)`` of deviations from an anchor
    ``s`` (first the first value, later the window mean) give
    ``var = t2/n - (t1/n)^2`` (``/n`` as ``* (1/n)``). After the newest value is added and the
    variance read, the oldest is removed; then the sums are rebuilt by an exact two-pass over
    the window (``s`` = window mean, summed in order) when any of these holds:
    ``var < 1e-6 * t2/n`` (cancellation), the removed squared deviation exceeds ``1e6 * t2``
    (an outlier left the window), or 32n values passed since the last rebuild. So sums never
    drift for more than 32n bars, the cancellation never costs more than 6 digits, and a
    constant window gives exactly 0 (errors are measured in ``stdev``'s docstring).

    After ``push``, ``shift`` and ``mean_dev`` (= ``t1/n`` of the window just read) give the
    window mean as ``shift + mean_dev``; ``dev`` is ``x - shift`` of the newest value.
    """

    __slots__ = ("bsr", "count", "dev", "inv", "mean_dev", "n", "ring", "shift", "t1", "t2")

    def __init__(self, n: int) -> None:
        self.n = n
        self.inv = 1.0 / n
        self.ring = [0.0] * n
        self.count = 0
        self.shift = 0.0
        self.t1 = 0.0
        self.t2 = 0.0
        self.bsr = 32 * n
        self.mean_dev = NAN
        self.dev = NAN

    def push(self, x: float) -> float:
        n, i = self.n, self.count
        self.count = i + 1
        ring = self.ring
        ring[i % n] = x
        if i == 0:
            self.shift = x
        d = x - self.shift
        self.t1 += d
        self.t2 += d * d
        if i < n - 1:
            return NAN
        inv = self.inv
        m1 = self.t1 * inv
        var = self.t2 * inv - m1 * m1
        d = ring[(i + 1) % n] - self.shift
        self.t1 -= d
        d2 = d * d
        self.t2 -= d2
        self.bsr -= 1
        if var < 0.000001 * (self.t2 * inv) or d2 > 1000000.0 * self.t2 or self.bsr <= 0:
            k = (i + 1) % n
            m1, var = self._reseed(ring[k:] + ring[:k])
        self.mean_dev = m1
        self.dev = x - self.shift
        return var

    def _reseed(self, window: list[float]) -> tuple[float, float]:
        inv = self.inv
        self.bsr = 32 * self.n
        total = 0.0
        for v in window:
            total += v
        shift = total * inv
        t1 = t2 = 0.0
        for v in window:
            d = v - shift
            t1 += d
            t2 += d * d
        m1 = t1 * inv
        var = t2 * inv - m1 * m1
        d = window[0] - shift
        self.shift, self.t1, self.t2 = shift, t1 - d, t2 - d * d
        return m1, var


def rolling_variance_lists(xs: list[float], n: int) -> tuple[list[float], list[float], list[float]]:
    """Batch :class:`RollingVariance`: ``(var, mean_dev, dev)`` per value (NaN before n-1).

    The same operations as ``push`` in a tight loop; ``dev`` is ``x - shift`` and
    ``mean_dev`` is ``t1/n`` of each window, both relative to that window's anchor.
    """
    size = len(xs)
    var_out, mean_out, dev_out = [NAN] * size, [NAN] * size, [NAN] * size
    if size < n:
        return var_out, mean_out, dev_out
    inv = 1.0 / n
    shift = xs[0]
    t1 = t2 = 0.0
    for j in range(n - 1):
        d = xs[j] - shift
        t1 += d
        t2 += d * d
    bsr = 32 * n
    for i in range(n - 1, size):
        x = xs[i]
        d = x - shift
        t1 += d
        t2 += d * d
        m1 = t1 * inv
        var = t2 * inv - m1 * m1
        d = xs[i - n + 1] - shift
        t1 -= d
        d2 = d * d
        t2 -= d2
        bsr -= 1
        if var < 0.000001 * (t2 * inv) or d2 > 1000000.0 * t2 or bsr <= 0:
            bsr = 32 * n
            shift, t1, t2, m1, var = _reseed_lists(xs, i - n + 1, i + 1, inv)
        var_out[i] = var
        mean_out[i] = m1
        dev_out[i] = x - shift
    return var_out, mean_out, dev_out


def _reseed_lists(
    xs: list[float], start: int, stop: int, inv: float
) -> tuple[float, float, float, float, float]:
    total = 0.0
    for j in range(start, stop):
        total += xs[j]
    shift = total * inv
    t1 = t2 = 0.0
    for j in range(start, stop):
        d = xs[j] - shift
        t1 += d
        t2 += d * d
    m1 = t1 * inv
    var = t2 * inv - m1 * m1
    d = xs[start] - shift
    return shift, t1 - d, t2 - d * d, m1, var


# --- rolling extremes ---------------------------------------------------------------------


class RollingExtreme:
    """Index and value of the max (``sign=1``) or min (``sign=-1``) of the last ``size`` values.

    A monotonic deque, O(1) amortised per value. Ties go to the *latest* index (TA-Lib's
    AROON rule: ``>=`` for highs, ``<=`` for lows).
    """

    __slots__ = ("items", "max", "size")

    def __init__(self, size: int, sign: int) -> None:
        self.size = size
        self.max = sign > 0
        self.items: deque[tuple[int, float]] = deque()

    def push(self, i: int, v: float) -> tuple[int, float]:
        items = self.items
        if self.max:
            while items and items[-1][1] <= v:
                items.pop()
        else:
            while items and items[-1][1] >= v:
                items.pop()
        items.append((i, v))
        if items[0][0] <= i - self.size:
            items.popleft()
        return items[0]


def rolling_max(a: np.ndarray, n: int) -> np.ndarray:
    """``max(a[i-n+1 .. i])`` for every i (NaN before n-1); van Herk/Gil-Werman, O(len)."""
    return _rolling_extreme(a, n, np.maximum, -np.inf)


def rolling_min(a: np.ndarray, n: int) -> np.ndarray:
    """``min(a[i-n+1 .. i])`` for every i (NaN before n-1); van Herk/Gil-Werman, O(len)."""
    return _rolling_extreme(a, n, np.minimum, np.inf)


def _rolling_extreme(a: np.ndarray, n: int, op: np.ufunc, pad_value: float) -> np.ndarray:
    size = len(a)
    out = nan_array(size)
    if size < n:
        return out
    if n == 1:
        out[:] = a
        return out
    padded = np.concatenate([a, np.full((-size) % n, pad_value)]).reshape(-1, n)
    prefix = op.accumulate(padded, axis=1).ravel()
    suffix = op.accumulate(padded[:, ::-1], axis=1)[:, ::-1].ravel()
    # window [i-n+1, i] = tail of one block (suffix) + head of the next (prefix)
    out[n - 1 :] = op(suffix[: size - n + 1], prefix[n - 1 : size])
    return out
