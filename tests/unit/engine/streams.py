"""Shared helpers for the clock/feed tests: 1m streams (real and synthetic) and oracles."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from trade_core.data.candles import CANDLE_COLUMNS, Candles
from trade_core.data.resample import resample
from trade_core.data.samples import BUNDLED_SAMPLES
from trade_core.data.timeframes import tf_ms
from trade_core.engine.bars import Bar, BarClosed, Step
from trade_core.engine.clock import MultiTimeframeClock
from trade_core.engine.feeds import candle_bars

T0 = 1704067200000  # 2024-01-01 00:00 UTC
M = 60_000
REPO = Path(__file__).resolve().parents[3]
FIL_PATH = REPO.parent / "shared" / "data" / "real" / "FILUSDT_1m_2023-04_2023-06.csv.gz"


@cache
def read_1m(path: Path, symbol: str) -> Candles:
    """A real 1m CSV (``ts,open,...,turnover``) as Candles, read once per test session."""
    return Candles.from_frame(symbol, "1m", pd.read_csv(path))


def fil() -> Candles:
    return read_1m(FIL_PATH, "FILUSDT")


def bundled() -> Candles:
    sample = BUNDLED_SAMPLES[0]
    return read_1m(sample.path, sample.symbol)


def make_1m(n: int, seed: int = 1, start: int = T0) -> Candles:
    """``n`` consecutive synthetic 1m bars from ``start`` (ms)."""
    rng = np.random.default_rng(seed)
    close = 100 + np.cumsum(rng.normal(0, 0.2, n))
    open_ = np.r_[100.0, close[:-1]]
    high = np.maximum(open_, close) + rng.uniform(0, 0.3, n)
    low = np.minimum(open_, close) - rng.uniform(0, 0.3, n)
    vol = rng.uniform(0, 10, n)
    ts = start + np.arange(n, dtype=np.int64) * M
    return Candles("X", "1m", ts, open_, high, low, close, vol, vol * close)


def keep_rows(c: Candles, keep: np.ndarray) -> Candles:
    """Only the rows where ``keep`` is True (a gapped copy)."""
    return Candles(c.symbol, c.tf, *(getattr(c, n)[keep] for n in CANDLE_COLUMNS))


def with_gaps(c: Candles, seed: int, runs: int = 40, max_len: int = 300) -> Candles:
    """Drop ``runs`` random runs of 1..max_len consecutive 1m bars."""
    rng = np.random.default_rng(seed)
    keep = np.ones(len(c), bool)
    for start in rng.integers(0, len(c), runs):
        keep[start : start + rng.integers(1, max_len + 1)] = False
    return keep_rows(c, keep)


def stream(clock: MultiTimeframeClock, c: Candles) -> list[Step]:
    """Feed every 1m bar to the clock one at a time, then flush."""
    out: list[Step] = []
    for bar in candle_bars(c):
        out.extend(clock.on_1m(bar))
    out.extend(clock.flush())
    return out


def role_events(steps: list[Step], role: str) -> list[BarClosed]:
    return [e for s in steps for e in s.closed if e.role == role]


def reference(c: Candles, tf: str) -> tuple[list[Bar], list[bool]]:
    """``resample`` bars (and complete flags) closing no later than the last 1m close."""
    if tf == "1m":
        return candle_bars(c), [True] * len(c)
    res = resample(c, tf)
    end = int(c.ts[-1]) + M
    n = int(np.sum(res.candles.ts + tf_ms(tf) <= end))
    return candle_bars(res.candles, 0, n), res.complete[:n].tolist()


def aggregate(c: Candles, tf: str) -> Bar:
    """The single ``tf`` bar built by ``resample`` from ``c`` (all rows in one bucket)."""
    if tf == "1m":
        (bar,) = candle_bars(c)
        return bar
    (bar,) = candle_bars(resample(c, tf).candles)
    return bar
