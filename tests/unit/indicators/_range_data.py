"""Cached inputs for the trend/volatility indicator tests (real files, flat bars, a 1m year)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from tests.support.features import real_frames
from trade_core.data.synth import generate

BTC_FILE = "BTCUSD_1h_2017-07_2019-10.csv.gz"


@lru_cache(maxsize=1)
def frames() -> tuple[tuple[str, pd.DataFrame], ...]:
    """Every available real file, read once."""
    return tuple(real_frames())


def hlc(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(frame[k].to_numpy(dtype=np.float64) for k in ("high", "low", "close"))


@lru_cache(maxsize=1)
def causal_slices() -> tuple[pd.DataFrame, ...]:
    """3,000 real 1m bars, and 3,000 BTC 1h bars around its run of 15 flat zero-volume bars."""
    found = dict(frames())
    first = next(iter(found.values())).iloc[:3000].reset_index(drop=True)
    if BTC_FILE not in found:
        return (first,)
    return first, found[BTC_FILE].iloc[8500:11500].reset_index(drop=True)


@lru_cache(maxsize=1)
def year_1m() -> pd.DataFrame:
    """One year (525,600 bars) of deterministic synthetic 1m candles."""
    return generate("X", days=365, seed=1).candles.to_frame()


def ohlc(rows: list[tuple[float, float, float, float]]) -> pd.DataFrame:
    """A frame from ``(open, high, low, close)`` rows, volume 1."""
    df = pd.DataFrame(rows, columns=["open", "high", "low", "close"], dtype=np.float64)
    return df.assign(volume=1.0)
