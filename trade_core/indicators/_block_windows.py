"""Drift-free sliding-window aggregates, streaming and vectorised, that agree bit for bit.

A running sum maintained by add-the-newest / subtract-the-oldest accumulates rounding error
over a long series (and never returns to an exact 0 after a run of zeros). Here every window
is instead split at fixed block boundaries (blocks of ``n`` values aligned to the first value
pushed, index 0): the window ``x[i-n+1..i]`` is the *suffix* of the previous block plus the
*prefix* of the current one,

    window(i) = S[pos + 1] + P[pos],   pos = i mod n,

where ``P[pos] = x[b] + ... + x[b+pos]`` (sequential, left to right, ``b`` = start of the
current block) and ``S[j] = x[b'+n-1] + ... + x[b'+j]`` (sequential, right to left, over the
previous block ``b'``; ``S[n] = 0``). Each output is a fresh sum of at most ``n`` values, so
there is no drift, and the stream does exactly the operations ``numpy.cumsum`` does per block
row, so :func:`window_sum` (vectorised) equals :class:`RollingSum` (streaming) exactly. The
streaming cost is O(1) amortised: O(1) per value plus O(n) once per block of n values.

The same decomposition gives sliding max/min (exact) and the two sums of a least-squares line.
Before ``n`` values have been pushed, a streaming window covers all values so far (the batch
functions return NaN there).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "RollingLinReg",
    "RollingMax",
    "RollingMin",
    "RollingSum",
    "linreg_value",
    "window_linreg",
    "window_max",
    "window_min",
    "window_sum",
]


def _blocks(x: np.ndarray, n: int, fill: float = 0.0) -> np.ndarray:
    """``x`` padded with ``fill`` to a multiple of ``n`` and reshaped to rows of ``n``."""
    rows = -(-len(x) // n)
    padded = np.full(rows * n, fill, dtype=np.float64)
    padded[: len(x)] = x
    return padded.reshape(rows, n)


def _next_suffix(suffix: np.ndarray, empty: float) -> np.ndarray:
    """Row m, column pos -> the previous block's suffix from pos + 1 (``empty`` if none)."""
    out = np.full_like(suffix, empty)
    out[1:, :-1] = suffix[:-1, 1:]
    return out


def _finish(flat: np.ndarray, size: int, n: int) -> np.ndarray:
    out = flat.ravel()[:size].copy()
    out[: n - 1] = math.nan
    return out


def window_sum(x: np.ndarray, n: int) -> np.ndarray:
    """``x[i-n+1] + ... + x[i]`` for ``i >= n-1`` (NaN before), equal to :class:`RollingSum`."""
    blocks = _blocks(x, n)
    prefix = np.cumsum(blocks, axis=1)
    suffix = np.cumsum(blocks[:, ::-1], axis=1)[:, ::-1]
    return _finish(_next_suffix(suffix, 0.0) + prefix, len(x), n)


def window_max(x: np.ndarray, n: int) -> np.ndarray:
    """``max(x[i-n+1..i])`` for ``i >= n-1`` (NaN before), equal to :class:`RollingMax`."""
    blocks = _blocks(x, n)
    prefix = np.maximum.accumulate(blocks, axis=1)
    suffix = np.maximum.accumulate(blocks[:, ::-1], axis=1)[:, ::-1]
    return _finish(np.maximum(_next_suffix(suffix, -math.inf), prefix), len(x), n)


def window_min(x: np.ndarray, n: int) -> np.ndarray:
    """``min(x[i-n+1..i])`` for ``i >= n-1`` (NaN before), equal to :class:`RollingMin`."""
    return -window_max(-np.asarray(x, dtype=np.float64), n)


def window_linreg(y: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(Sy, Sxy)`` over each window with ``x = 0..n-1`` from oldest to newest (NaN before).

    Per block, ``w = pos * y`` carries the in-block position; for the window starting at
    ``s = i-n+1``: ``Sxy = (SW - (pos+1) * SY) + (PW + (n-1-pos) * PY)`` (suffix part of the
    previous block re-based from its start to ``s``, prefix part of the current block
    shifted by ``n-1-pos``), ``Sy = SY + PY``.
    """
    yb = _blocks(y, n)
    wb = yb * np.arange(n, dtype=np.float64)
    py, pw = np.cumsum(yb, axis=1), np.cumsum(wb, axis=1)
    sy = _next_suffix(np.cumsum(yb[:, ::-1], axis=1)[:, ::-1], 0.0)
    sw = _next_suffix(np.cumsum(wb[:, ::-1], axis=1)[:, ::-1], 0.0)
    pos = np.arange(n, dtype=np.float64)
    sxy = (sw - (pos + 1.0) * sy) + (pw + (n - 1.0 - pos) * py)
    return _finish(sy + py, len(y), n), _finish(sxy, len(y), n)


def linreg_value(sy: float | np.ndarray, sxy: float | np.ndarray, n: int) -> float | np.ndarray:
    """Least-squares line through ``(0, y_0) .. (n-1, y_{n-1})``, evaluated at ``x = n-1``.

    ``slope = (n*Sxy - Sx*Sy) / (n*Sxx - Sx^2)``, ``intercept = (Sy - slope*Sx) / n`` with
    ``Sx = n(n-1)/2``, ``Sxx = (n-1)n(2n-1)/6`` (exact integers); needs ``n >= 2``.
    """
    sx = n * (n - 1) // 2
    den = float(n * ((n - 1) * n * (2 * n - 1) // 6) - sx * sx)
    slope = (n * sxy - sx * sy) / den
    return (sy - slope * sx) / n + slope * (n - 1)


class RollingSum:
    """Streaming sum of the last ``n`` values pushed; bit-equal to :func:`window_sum`."""

    __slots__ = ("_cur", "_last", "_n", "_pos", "_pre", "_suf")

    def __init__(self, n: int) -> None:
        self._n, self._last, self._pos, self._pre = n, n - 1, -1, 0.0
        self._cur = [0.0] * n
        self._suf = [0.0] * (n + 1)  # previous block's suffix sums; _suf[n] = 0

    def push(self, x: float) -> float:
        """Add ``x``; the sum of the last ``n`` values (of all values, before ``n``)."""
        pos = self._pos + 1
        if pos == self._n:
            pos = 0
        self._pos = pos
        pre = x if pos == 0 else self._pre + x
        self._pre = pre
        self._cur[pos] = x
        total = self._suf[pos + 1] + pre
        if pos == self._last:  # block complete: its suffix sums serve the next block
            cur, suf = self._cur, self._suf
            s = cur[pos]
            suf[pos] = s
            for j in range(pos - 1, -1, -1):
                s = s + cur[j]
                suf[j] = s
        return total


class RollingMax:
    """Streaming max of the last ``n`` values; equal to :func:`window_max`."""

    __slots__ = ("_cur", "_last", "_n", "_pos", "_pre", "_suf")

    def __init__(self, n: int) -> None:
        self._n, self._last, self._pos, self._pre = n, n - 1, -1, -math.inf
        self._cur = [0.0] * n
        self._suf = [-math.inf] * (n + 1)

    def push(self, x: float) -> float:
        """Add ``x``; the max of the last ``n`` values (of all values, before ``n``)."""
        pos = self._pos + 1
        if pos == self._n:
            pos = 0
        self._pos = pos
        pre = self._pre
        pre = x if pos == 0 or x > pre else pre
        self._pre = pre
        self._cur[pos] = x
        s = self._suf[pos + 1]
        total = s if s > pre else pre
        if pos == self._last:
            cur, suf = self._cur, self._suf
            s = cur[pos]
            suf[pos] = s
            for j in range(pos - 1, -1, -1):
                if cur[j] > s:
                    s = cur[j]
                suf[j] = s
        return total


class RollingMin:
    """Streaming min of the last ``n`` values; equal to :func:`window_min`."""

    __slots__ = ("_max",)

    def __init__(self, n: int) -> None:
        self._max = RollingMax(n)

    def push(self, x: float) -> float:
        """Add ``x``; the min of the last ``n`` values (of all values, before ``n``)."""
        return -self._max.push(-x)


class RollingLinReg:
    """Streaming ``(Sy, Sxy)`` of the last ``n`` values (``x = 0..n-1``, oldest first);
    bit-equal to :func:`window_linreg` once ``n`` values have been pushed."""

    __slots__ = ("_last", "_n", "_pos", "_pw", "_py", "_sw", "_sy", "_wcur", "_ycur")

    def __init__(self, n: int) -> None:
        self._n, self._last, self._pos, self._py, self._pw = n, n - 1, -1, 0.0, 0.0
        self._ycur, self._wcur = [0.0] * n, [0.0] * n
        self._sy, self._sw = [0.0] * (n + 1), [0.0] * (n + 1)

    def push(self, y: float) -> tuple[float, float]:
        """Add ``y``; ``(Sy, Sxy)`` of the window ending with it."""
        pos = self._pos + 1
        if pos == self._n:
            pos = 0
        self._pos = pos
        w = pos * y
        if pos == 0:
            py, pw = y, w
        else:
            py, pw = self._py + y, self._pw + w
        self._py, self._pw = py, pw
        self._ycur[pos], self._wcur[pos] = y, w
        sy, sw = self._sy[pos + 1], self._sw[pos + 1]
        sxy = (sw - (pos + 1.0) * sy) + (pw + (self._n - 1.0 - pos) * py)
        if pos == self._last:
            _suffixes(self._ycur, self._sy)
            _suffixes(self._wcur, self._sw)
        return sy + py, sxy


def _suffixes(cur: list[float], suf: list[float]) -> None:
    """``suf[j] = cur[n-1] + ... + cur[j]``, accumulated right to left (as reversed cumsum)."""
    last = len(cur) - 1
    s = cur[last]
    suf[last] = s
    for j in range(last - 1, -1, -1):
        s = s + cur[j]
        suf[j] = s
