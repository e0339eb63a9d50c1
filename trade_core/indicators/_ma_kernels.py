"""Building blocks shared by the moving averages (private: not a registry module).

Each streaming state machine here has a batch twin that performs the *same* IEEE operations in
the same order, so the streaming ``update`` and the vectorised ``batch`` of an indicator agree
bit for bit:

- :class:`RunningWMA` / :func:`wma_values`: TA-Lib 0.8.1's WMA (running ``periodSum`` and
  ``periodSub``, rebuilt from the window every ``8 * n`` outputs);
- :class:`SeededEMA` / :func:`ema_values`: TA-Lib's EMA (seeded with the mean of the first n
  values, then ``e = ((x - e) * k) + e``);
- :class:`WindowSum` / :func:`window_sums`: the sum of the last n values without drift (each
  window is summed afresh from two partial sums, see :class:`WindowSum`).

TA-Lib 0.8.1's binary fuses ``a * b + c`` into one rounding (FMA) in some formulas (EMA
recursions, for instance); plain Python floats cannot, so those results differ from TA-Lib in
the last bit (relative differences ~1e-16 .. 1e-14), far inside the 1e-9 contract.
"""

from __future__ import annotations

import math
from itertools import islice

import numpy as np

NAN = math.nan
RESEED_BARS = 8
"""TA-Lib 0.8.1's WMA rebuilds its running sums every ``8 * period`` outputs (issue #255)."""


# ------------------------------------------------------------------------------------ WMA


class RunningWMA:
    """TA-Lib 0.8.1's weighted moving average of a stream of values (weights 1..n, newest n).

    ``periodSub`` is the window total and ``periodSum`` the weighted total; per value:
    ``sub = (sub + x) - trailing``, ``sum = sum + x * n``, output ``sum / (n(n+1)/2)``, then
    ``sum -= sub`` (every weight drops by one). Every ``8 * n`` outputs both totals are rebuilt
    from the window (oldest first, weights counting up from 1), so rounding never piles up.
    ``push`` returns NaN until the n-th value; n = 1 returns the value itself.
    """

    __slots__ = ("_count", "_div", "_n", "_reseed", "_ring", "_sub", "_sum", "_trail")

    def __init__(self, n: int) -> None:
        self._n = n
        self._div = float(n) * (n + 1) / 2.0
        self._ring = [0.0] * n
        self._count = 0
        self._sub = 0.0
        self._sum = 0.0
        self._trail = 0.0
        self._reseed = RESEED_BARS * n

    def push(self, x: float) -> float:
        n = self._n
        if n == 1:
            return x
        c = self._count
        self._count = c + 1
        ring = self._ring
        ring[c % n] = x
        if c < n - 1:  # priming: weights 1..n-1
            self._sub += x
            self._sum += x * (c + 1)
            return NAN
        sub = self._sub + x - self._trail
        s = self._sum + x * n
        self._reseed -= 1
        if self._reseed <= 0:
            self._reseed = RESEED_BARS * n
            sub, s = _wma_rebuild(ring, (c + 1) % n, n)
        self._trail = ring[(c + 1) % n]
        self._sub = sub
        self._sum = s - sub
        return s / self._div


def _wma_rebuild(ring: list[float], oldest: int, n: int) -> tuple[float, float]:
    """Window total and weighted total, oldest first with weights 1..n (TA-Lib's rescan)."""
    sub = 0.0
    s = 0.0
    w = 1
    for v in ring[oldest:] + ring[:oldest]:
        sub += v
        s += v * w
        w += 1
    return sub, s


def wma_values(vals: list[float], n: int, first: int | None = None) -> list[float]:
    """TA-Lib 0.8.1 WMA of ``vals`` for outputs ``first .. len-1`` (default ``first = n-1``).

    Starting later than ``n - 1`` moves the re-anchoring schedule along with it, as TA-Lib's
    HMA does for its half-period WMA. Same operations as :class:`RunningWMA`; the loop runs in
    chunks of ``8 * n`` outputs whose last output is the rebuilt one.
    """
    first = n - 1 if first is None else first
    total = len(vals)
    if total <= first:
        return []
    if n == 1:
        return vals[first:]
    sub = 0.0
    s = 0.0
    w = 1
    for v in vals[first - n + 1 : first]:
        sub += v
        s += v * w
        w += 1
    div = float(n) * (n + 1) / 2.0
    fn = float(n)
    period = RESEED_BARS * n
    trail = 0.0
    out: list[float] = []
    app = out.append
    start = first
    while start < total:
        stop = min(start + period, total)
        plain = stop - 1 if stop - start == period else stop  # the chunk's last is rebuilt
        for x, old in zip(vals[start:plain], vals[start - n + 1 : plain - n + 1], strict=True):
            sub = sub + x - trail
            s = s + x * fn
            trail = old
            app(s / div)
            s = s - sub
        if plain < stop:  # the running totals are replaced by a fresh scan of the window
            sub, s = _wma_rebuild(vals[stop - n : stop], 0, n)
            trail = vals[stop - n]
            app(s / div)
            s = s - sub
        start = stop
    return out


# ------------------------------------------------------------------------------------ EMA


class SeededEMA:
    """TA-Lib's EMA of a stream of values: NaN until the n-th value, which gets the mean of
    the first n (summed from 0.0 in order); then ``e = ((x - e) * k) + e``, ``k = 2/(n+1)``."""

    __slots__ = ("_count", "_k", "_n", "_sum", "value")

    def __init__(self, n: int) -> None:
        self._n = n
        self._k = 2.0 / (n + 1)
        self._count = 0
        self._sum = 0.0
        self.value = NAN

    def push(self, x: float) -> float:
        if self._count >= self._n:
            self.value = ((x - self.value) * self._k) + self.value
            return self.value
        self._count += 1
        self._sum += x
        if self._count == self._n:
            self.value = self._sum / self._n
        return self.value


def ema_values(vals: list[float], n: int) -> list[float]:
    """TA-Lib EMA of ``vals`` from its ``n``-th value on (same operations as SeededEMA)."""
    if len(vals) < n:
        return []
    total = 0.0
    for v in vals[:n]:
        total += v
    e = total / n
    k = 2.0 / (n + 1)
    out = [e]
    app = out.append
    for v in islice(vals, n, None):
        e = ((v - e) * k) + e
        app(e)
    return out


# ----------------------------------------------------------------------------- window sum


class WindowSum:
    """Sum of the last n values in O(1) amortised, without running-total drift.

    The stream is cut into blocks of n values. Within the current block a prefix sum ``P``
    grows (``P = v0``, then ``P += v``); when a block is complete, the suffix sums ``S[j] =
    v[n-1] + v[n-2] + ... + v[j]`` of that block are computed once (``S[n] = 0``). The window
    ending at position r of the current block is ``S_prev[r + 1] + P``: every output is a
    fresh sum of exactly n values, so rounding never accumulates. ``push`` returns partial
    sums until n values were seen (callers ignore them).
    """

    __slots__ = ("_block", "_n", "_pos", "_prefix", "_suffix")

    def __init__(self, n: int) -> None:
        self._n = n
        self._block = [0.0] * n
        self._suffix = [0.0] * (n + 1)
        self._pos = 0
        self._prefix = 0.0

    def push(self, v: float) -> float:
        n = self._n
        pos = self._pos
        if pos == n:  # the block is complete: its suffix sums serve the next n windows
            block = self._block
            suffix = self._suffix
            acc = block[n - 1]
            suffix[n - 1] = acc
            for j in range(n - 2, -1, -1):
                acc += block[j]
                suffix[j] = acc
            pos = 0
        self._block[pos] = v
        self._prefix = v if pos == 0 else self._prefix + v
        pos += 1
        self._pos = pos
        return self._suffix[pos] + self._prefix


def window_sums(x: np.ndarray, n: int) -> np.ndarray:
    """The sums :class:`WindowSum` returns, for every value of ``x`` (same operations)."""
    total = len(x)
    blocks = -(-total // n)
    data = np.zeros(blocks * n)
    data[:total] = x
    data = data.reshape(blocks, n)
    prefix = np.cumsum(data, axis=1)  # sequential: ((v0 + v1) + v2) ...
    suffix = np.cumsum(data[:, ::-1], axis=1)[:, ::-1]  # v[n-1] + v[n-2] + ... + v[j]
    carried = np.zeros((blocks, n))
    carried[1:, : n - 1] = suffix[:-1, 1:]
    return (carried + prefix).reshape(-1)[:total]
