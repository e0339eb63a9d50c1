"""Building blocks shared by the momentum indicators (private: not a registry module).

Two kinds of helpers, written so the streaming and the batch path perform the *same* IEEE
operations in the same order (so they agree bit for bit, and with TA-Lib 0.8):

- streaming state machines (:class:`RunningSMA`, :class:`SeededEMA`, :class:`RollingMax`,
  :class:`RollingMin`), each O(1) amortised per value;
- batch kernels over whole arrays (``running_sums``, ``sma_array``, ``ema_values``,
  ``wilder_averages``, ``rolling_max``/``rolling_min``, ``fast_k``): vectorised numpy where
  the arithmetic allows it, a tight loop over ``.tolist()`` values where a recursion forces
  one;
- scalar rules shared by both (``fma``, ``is_flat``, ``fast_k_one``).

TA-Lib conventions mirrored here: a simple moving average keeps a running total (add the
newest value, emit ``total / n``, then subtract the oldest); an EMA is seeded at its n-th
input with the mean of the first n inputs (summed from 0.0 in input order) and then follows
``ema = fma(x - ema, k, ema)``, i.e. ``(x - ema) * k + ema`` rounded once (TA-Lib 0.8 uses
C's fused multiply-add; :func:`fma` emulates it exactly in pure Python); Wilder's averages
are ``avg = (avg * (n - 1) + x) / n`` (RSI scales by a precomputed ``1/n`` instead of
dividing, as TA-Lib 0.8 does).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from trade_core.features.base import Param
from trade_core.features.sources import padded

NAN = math.nan
TA_EPSILON = 1e-14
"""TA-Lib 0.8's epsilon: the absolute zero band ``-1e-14 < v < 1e-14`` (``TA_IS_ZERO``) and
the relative flatness test ``|v| <= 1e-14 * scale`` (``TA_IS_ZERO_SCALED``)."""
PERIOD_MAX = 100_000
"""TA-Lib's largest accepted period."""
_SPLIT = 134_217_729.0  # 2**27 + 1, Veltkamp's splitting constant for doubles


def period_param(
    name: str, default: int, minimum: int = 1, doc: str = "bars in the window"
) -> Param:
    """An integer period parameter with TA-Lib's bounds (``minimum`` .. 100,000)."""
    return Param(name, int, default, minimum=minimum, maximum=PERIOD_MAX, doc=doc)


# ---------------------------------------------------------------- batch kernels


def running_sums(x: np.ndarray, n: int) -> np.ndarray:
    """TA-Lib's running window total for the windows ending at bars ``n-1 .. len-1``.

    The first ``n - 1`` values are summed from 0.0; then per bar: add the newest value, record
    the total, subtract the oldest value of the window. Length ``max(len - n + 1, 0)``.
    """
    vals = x.tolist()
    if len(vals) < n:
        return np.empty(0)
    total = 0.0
    for v in vals[: n - 1]:
        total += v
    out: list[float] = []
    app = out.append
    for new, old in zip(vals[n - 1 :], vals, strict=False):
        total += new
        app(total)
        total -= old
    return np.asarray(out)


def sma_array(x: np.ndarray, n: int) -> np.ndarray:
    """TA-Lib SMA of ``x`` (NaN for the first ``n - 1`` values)."""
    return padded(running_sums(x, n) / n, len(x))


def _split(a: float) -> tuple[float, float]:
    """Veltkamp split: ``a == hi + lo`` exactly, each half fitting in 26 bits."""
    t = a * _SPLIT
    hi = t - (t - a)
    return hi, a - hi


def fma(a: float, b: float, c: float) -> float:
    """``a * b + c`` rounded once, as C's ``fma`` (which TA-Lib 0.8's EMAs use).

    Pure-float emulation (Python 3.11 has no ``math.fma``): Dekker's exact product
    ``a*b = p + perr`` (Veltkamp split), Knuth's TwoSum ``p + c = s + t``, then
    ``r = s + u`` with ``u = fl(t + perr)``. Rounding twice can only go wrong when ``s + u`` is
    an exact tie while ``u`` is inexact; that case is detected (``e2 = (s + u) - r`` is half a
    spacing of r) and settled from the sign of the exact remainder ``w = t + perr - u``.
    ``e2`` comes from Fast2Sum, exact when ``|s| >= |u|``; otherwise ``s`` is a cancellation
    result, ``t == 0`` (Sterbenz), so ``u`` is exact, ``w == 0`` and nothing is adjusted.
    Valid while ``|a*b|`` stays far above the underflow threshold (~1e-290): any price math.
    """
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    perr = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    s = p + c
    bb = s - p
    t = (p - (s - bb)) + (c - bb)
    u = t + perr
    r = s + u
    e2 = u - (r - s)
    if e2 != 0.0 and (r + 2.0 * e2) - r == 2.0 * e2:  # s + u is halfway between two doubles
        bb = u - t
        w = (t - (u - bb)) + (perr - bb)  # t + perr == u + w exactly
        if w != 0.0 and (w > 0.0) == (e2 > 0.0):
            r += 2.0 * e2
    return r


def ema_values(vals: list[float], n: int) -> list[float]:
    """TA-Lib 0.8 EMA of ``vals`` from its ``n``-th value on: seed = mean of the first n
    (summed from 0.0), then ``ema = fma(x - ema, k, ema)`` with ``k = 2 / (n + 1)``.

    The loop inlines :func:`fma` (with ``k`` split once) for speed; same operations.
    """
    if len(vals) < n:
        return []
    ema = 0.0
    for v in vals[:n]:
        ema += v
    ema = ema / n
    out = [ema]
    app = out.append
    k = 2.0 / (n + 1)
    kh, kl = _split(k)
    for v in vals[n:]:
        a = v - ema
        p = a * k
        t = a * _SPLIT
        ah = t - (t - a)
        al = a - ah
        perr = ((ah * kh - p) + ah * kl + al * kh) + al * kl
        s = p + ema
        bb = s - p
        t = (p - (s - bb)) + (ema - bb)
        u = t + perr
        ema = s + u
        e2 = u - (ema - s)
        if e2 != 0.0 and (ema + 2.0 * e2) - ema == 2.0 * e2:
            bb = u - t
            w = (t - (u - bb)) + (perr - bb)
            if w != 0.0 and (w > 0.0) == (e2 > 0.0):
                ema += 2.0 * e2
        app(ema)
    return out


def _wilder(vals: list[float], n: int, inverse: bool) -> list[float]:
    avg = 0.0
    for v in vals[:n]:
        avg += v
    m = n - 1
    out: list[float] = []
    app = out.append
    if inverse:  # TA-Lib 0.8 RSI: scale by a hoisted 1/n
        inv = 1.0 / n
        avg *= inv
        app(avg)
        for v in vals[n:]:
            avg = (avg * m + v) * inv
            app(avg)
    else:  # TA-Lib 0.8 CMO: divide by n
        avg /= n
        app(avg)
        for v in vals[n:]:
            avg = (avg * m + v) / n
            app(avg)
    return out


def wilder_averages(x: np.ndarray, n: int, inverse: bool) -> tuple[np.ndarray, np.ndarray]:
    """Wilder's average gain and average loss of ``x``'s bar-to-bar changes (TA-Lib RSI/CMO).

    Defined from bar ``n`` (the first n changes seed both with their simple mean); NaN before.
    ``inverse``: scale by ``1/n`` (TA-Lib 0.8 RSI) instead of dividing by n (CMO).
    """
    total = len(x)
    if total <= n:
        return np.full(total, NAN), np.full(total, NAN)
    d = x[1:] - x[:-1]
    up = np.where(d > 0.0, d, 0.0)
    gain = _wilder(up.tolist(), n, inverse)
    loss = _wilder((up - d).tolist(), n, inverse)
    return padded(gain, total), padded(loss, total)


def is_flat(hi: float, lo: float) -> bool:
    """TA-Lib 0.8's flat-window test ``TA_IS_ZERO_SCALED``: ``|hi - lo| <= 1e-14 (|hi|+|lo|)``."""
    return abs(hi - lo) <= TA_EPSILON * (abs(hi) + abs(lo))


def flat_mask(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """:func:`is_flat` for arrays (False where either is NaN)."""
    return np.abs(hi - lo) <= TA_EPSILON * (np.abs(hi) + np.abs(lo))


def fast_k(x: np.ndarray, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """TA-Lib 0.8 fast %K: ``((x - lo) / (hi - lo)) * 100``; 0 on a flat window."""
    with np.errstate(divide="ignore", invalid="ignore"):
        k = ((x - lo) / (hi - lo)) * 100.0
    k[flat_mask(hi, lo)] = 0.0
    return k


def fast_k_one(x: float, hi: float, lo: float) -> float:
    """:func:`fast_k` for one bar."""
    if abs(hi - lo) <= TA_EPSILON * (abs(hi) + abs(lo)):
        return 0.0
    return ((x - lo) / (hi - lo)) * 100.0


def _rolling_extreme(x: np.ndarray, n: int, acc: np.ufunc, fill: float) -> np.ndarray:
    """van Herk / Gil-Werman: block prefix and suffix extremes, O(len) and exact."""
    total = len(x)
    out = np.full(total, NAN)
    if total < n:
        return out
    size = -(-total // n) * n
    buf = np.full(size, fill)
    buf[:total] = x
    blocks = buf.reshape(-1, n)
    prefix = acc.accumulate(blocks, axis=1).ravel()
    suffix = acc.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()
    out[n - 1 :] = acc(suffix[: total - n + 1], prefix[n - 1 : total])
    return out


def rolling_max(x: np.ndarray, n: int) -> np.ndarray:
    """``max(x[t-n+1 .. t])`` for each bar t (NaN for the first ``n - 1``)."""
    return _rolling_extreme(x, n, np.maximum, -np.inf)


def rolling_min(x: np.ndarray, n: int) -> np.ndarray:
    """``min(x[t-n+1 .. t])`` for each bar t (NaN for the first ``n - 1``)."""
    return _rolling_extreme(x, n, np.minimum, np.inf)


# ---------------------------------------------------------------- streaming state


class RunningSMA:
    """TA-Lib SMA, one value at a time: ``push`` returns the mean of the last n (NaN before)."""

    __slots__ = ("count", "n", "ring", "total")

    def __init__(self, n: int) -> None:
        self.n = n
        self.ring = [0.0] * n
        self.total = 0.0
        self.count = 0

    def push(self, x: float) -> float:
        n = self.n
        i = self.count % n
        self.count += 1
        if self.count < n:
            self.total += x
            self.ring[i] = x
            return NAN
        self.total += x
        out = self.total / n
        self.total -= self.ring[(i + 1) % n] if n > 1 else x
        self.ring[i] = x
        return out


class SeededEMA:
    """TA-Lib 0.8 EMA, one value at a time: NaN for n-1 inputs, the seed mean at the n-th,
    then ``fma(x - ema, k, ema)`` with ``k = 2 / (n + 1)`` (see :func:`ema_values`)."""

    __slots__ = ("count", "k", "n", "value")

    def __init__(self, n: int) -> None:
        self.n = n
        self.k = 2.0 / (n + 1)
        self.count = 0
        self.value = 0.0

    def push(self, x: float) -> float:
        self.count += 1
        if self.count > self.n:
            self.value = fma(x - self.value, self.k, self.value)
            return self.value
        self.value += x
        if self.count < self.n:
            return NAN
        self.value = self.value / self.n
        return self.value


class RollingMax:
    """Maximum of the last n pushed values (monotonic deque, O(1) amortised)."""

    __slots__ = ("count", "n", "q")

    def __init__(self, n: int) -> None:
        self.n = n
        self.q: deque[tuple[int, float]] = deque()
        self.count = 0

    def push(self, x: float) -> float:
        q = self.q
        i = self.count
        self.count += 1
        while q and q[-1][1] <= x:
            q.pop()
        q.append((i, x))
        if q[0][0] <= i - self.n:
            q.popleft()
        return q[0][1]


class RollingMin:
    """Minimum of the last n pushed values (monotonic deque, O(1) amortised)."""

    __slots__ = ("count", "n", "q")

    def __init__(self, n: int) -> None:
        self.n = n
        self.q: deque[tuple[int, float]] = deque()
        self.count = 0

    def push(self, x: float) -> float:
        q = self.q
        i = self.count
        self.count += 1
        while q and q[-1][1] >= x:
            q.pop()
        q.append((i, x))
        if q[0][0] <= i - self.n:
            q.popleft()
        return q[0][1]
