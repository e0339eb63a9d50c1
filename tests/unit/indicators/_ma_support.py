"""Helpers shared by the moving-average tests (not a test module)."""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd

from tests.support.features import real_frames
from trade_core import indicators

MA_NAMES = (
    "sma", "ema", "wma", "dema", "tema", "trima", "kama", "hma", "alma", "vwma", "t3",
    "zlema", "linreg", "slope",
)  # fmt: skip


@functools.cache
def real_data() -> tuple[tuple[str, pd.DataFrame], ...]:
    """Every available real file, read once per test session."""
    return tuple(real_frames())


def frame_of(close, volume=None) -> pd.DataFrame:
    """A bar frame whose open/high/low equal ``close`` (volume 1 unless given)."""
    close = np.asarray(close, dtype=float)
    vol = np.ones(len(close)) if volume is None else np.asarray(volume, dtype=float)
    return pd.DataFrame({"open": close, "high": close, "low": close, "close": close,
                         "volume": vol})  # fmt: skip


def values(name: str, frame: pd.DataFrame, **params) -> np.ndarray:
    """The ``value`` column of ``name`` over ``frame`` (batch path when there is one)."""
    return indicators.compute(name, frame, **params)["value"].to_numpy()


def stream_tail(name: str, frame: pd.DataFrame, keep: int, **params) -> np.ndarray:
    """Feed every bar of ``frame`` through ``update``; the last ``keep`` values."""
    feature = indicators.create(name, **params)
    cols = [frame[c].to_numpy(dtype=float).tolist() for c in ("open", "high", "low", "close",
                                                                 "volume")]  # fmt: skip
    ts = frame["ts"].to_numpy().tolist() if "ts" in frame else list(range(len(frame)))
    out = []
    start = len(frame) - keep
    update = feature.update
    for i, bar in enumerate(zip(ts, *cols, strict=True)):
        update(*bar)
        if i >= start:
            out.append(feature.out[0])
    return np.asarray(out)


def rel_err(got: np.ndarray, ref: np.ndarray) -> float:
    """Largest ``|got - ref| / |ref|`` (both finite everywhere)."""
    got, ref = np.asarray(got, float), np.asarray(ref, float)
    assert np.isfinite(got).all() and np.isfinite(ref).all()
    return float(np.max(np.abs(got - ref) / np.abs(ref)))


def fsum_dot(weights, window) -> float:
    """``sum(w * x)`` correctly rounded (an independent, order-free reference)."""
    return math.fsum(float(w) * float(x) for w, x in zip(weights, window, strict=True))


# ----------------------------------------------------------- independent slow references
# Written from the textbook definitions, window by window, with correctly rounded sums
# (math.fsum): no running totals, no recursion, no shared code with the implementations.


def _windows(x, n: int) -> np.ndarray:
    """Row i = the window ending at bar i + n - 1, oldest value first."""
    return np.lib.stride_tricks.sliding_window_view(np.asarray(x, dtype=float), n)


def weighted_ref(x, weights) -> np.ndarray:
    """``sum(w * x) / sum(w)`` for every full window (weights oldest first)."""
    total = math.fsum(weights)
    return np.array([fsum_dot(weights, w) / total for w in _windows(x, len(weights))])


def sma_ref(x, n: int) -> np.ndarray:
    return weighted_ref(x, [1.0] * n)


def wma_ref(x, n: int) -> np.ndarray:
    return weighted_ref(x, [float(i) for i in range(1, n + 1)])


def trima_ref(x, n: int) -> np.ndarray:
    return weighted_ref(x, [float(min(i, n + 1 - i)) for i in range(1, n + 1)])


def alma_ref(x, n: int, offset: float = 0.85, sigma: float = 6.0) -> np.ndarray:
    m = offset * (n - 1)
    s = n / sigma
    return weighted_ref(x, list(np.exp(-((np.arange(n) - m) ** 2) / (2 * s * s))))


def hma_ref(x, n: int) -> np.ndarray:
    full = wma_ref(x, n)
    half = wma_ref(x, n // 2)[n - n // 2 :]
    return wma_ref(2.0 * half - full, math.isqrt(n))


def vwma_ref(x, v, n: int) -> np.ndarray:
    out = []
    for xs, vs in zip(_windows(x, n), _windows(v, n), strict=True):
        total = math.fsum(vs)
        out.append(fsum_dot(xs, vs) / total if total > 0 else math.nan)
    return np.array(out)


def regression_ref(x, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(slope per bar, line value at the newest bar) of the least-squares fit per window."""
    t = np.arange(n, dtype=float)
    tc = t - t.mean()
    den = math.fsum(tc * tc)
    slopes, lines = [], []
    for w in _windows(x, n):
        mean = math.fsum(w) / n
        slope = math.fsum(tc * (w - mean)) / den
        slopes.append(slope)
        lines.append(mean + slope * tc[-1])
    return np.array(slopes), np.array(lines)


def ema_ref(x, n: int, keep: int) -> np.ndarray:
    """The last ``keep`` EMA values as the impulse-response sum
    ``sum_j k (1-k)^j x[t-j]`` over enough bars that the remainder is below 1e-30."""
    k = 2.0 / (n + 1)
    depth = math.ceil(math.log(1e-30) / math.log(1.0 - k))
    weights = k * (1.0 - k) ** np.arange(depth)  # newest first
    x = np.asarray(x, dtype=float)
    return np.array([fsum_dot(weights, x[t - depth + 1 : t + 1][::-1])
                     for t in range(len(x) - keep, len(x))])  # fmt: skip
