"""One year of synthetic 1m bars (525,600), generated once per test session."""

from __future__ import annotations

import functools

import pandas as pd

from tests.support.features import real_frames
from trade_core.data.synth import generate


@functools.cache
def synth_year() -> pd.DataFrame:
    """``generate("X", days=365, seed=1)`` as a frame (ts, OHLCV, turnover)."""
    return generate("X", days=365, seed=1).candles.to_frame()


@functools.cache
def btc_edge_slice() -> pd.DataFrame:
    """3,000 real 1h BTC bars holding flat bars (high == low) and zero-volume bars, including
    a run of 15 consecutive flat zero-volume bars (rows 1710..1724 of the slice)."""
    frames = dict(real_frames())
    frame = frames.get("BTCUSD_1h_2017-07_2019-10.csv.gz")
    if frame is None:  # only the bundled month is available
        frame = next(iter(frames.values()))
    return frame.iloc[8000:11000].reset_index(drop=True)
