"""Exact resampling of 1m (or any finer) bars to a higher timeframe.

A higher-timeframe bar opening at ``T`` (a UTC multiple of its length) is built from every
source bar with ``T <= ts < T + tf``: first open, max high, min low, last close, summed
volume and turnover. If any source bar is missing, the bar is *incomplete*: it is reported
in ``complete == False`` and never passed off as a real bar (``Resampled.complete_only``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trade_core.data.candles import Candles
from trade_core.data.timeframes import bars_per, tf_ms
from trade_core.errors import BadInputError


@dataclass(frozen=True, slots=True)
class Resampled:
    """Every higher-timeframe bar touched by the source, with completeness flags."""

    candles: Candles
    complete: np.ndarray  # bool per bar
    source_bars: np.ndarray  # int64 count of source bars per bar

    @property
    def incomplete_count(self) -> int:
        return int((~self.complete).sum())

    def complete_only(self) -> Candles:
        """Only bars built from every source bar they need."""
        mask = self.complete
        c = self.candles
        return Candles(
            c.symbol,
            c.tf,
            c.ts[mask],
            c.open[mask],
            c.high[mask],
            c.low[mask],
            c.close[mask],
            c.volume[mask],
            c.turnover[mask],
        )


def resample(src: Candles, tf: str) -> Resampled:
    """Resample ``src`` (strictly increasing, aligned) to ``tf``; O(n), vectorised."""
    need = bars_per(tf, src.tf)
    if need == 1:
        raise BadInputError(f"{tf} is the source timeframe; nothing to resample")
    if tf_ms(tf) < tf_ms(src.tf):
        raise BadInputError(f"cannot resample {src.tf} down to {tf}")
    n = len(src)
    if n == 0:
        empty = np.empty(0)
        return Resampled(
            Candles(src.symbol, tf, np.empty(0, np.int64), *(empty,) * 6),
            np.empty(0, bool),
            np.empty(0, np.int64),
        )
    if np.any(np.diff(src.ts) <= 0):
        raise BadInputError("source candles must have strictly increasing ts")
    step = tf_ms(tf)
    bucket = src.ts - src.ts % step
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    ends = np.r_[starts[1:], n]
    counts = (ends - starts).astype(np.int64)
    turnover = src.turnover
    # A NaN turnover anywhere in the bucket makes the sum NaN: unknown stays unknown.
    out = Candles(
        src.symbol,
        tf,
        bucket[starts],
        src.open[starts],
        np.maximum.reduceat(src.high, starts),
        np.minimum.reduceat(src.low, starts),
        src.close[ends - 1],
        np.add.reduceat(src.volume, starts),
        np.add.reduceat(turnover, starts),
    )
    return Resampled(out, counts == need, counts)
