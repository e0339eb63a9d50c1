"""Hand-built bar sequences for the structure tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

T0 = 1_700_000_000_000  # epoch ms of bar 0
STEP = 60_000


def frame(
    high: Sequence[float],
    low: Sequence[float],
    close: Sequence[float] | None = None,
    *,
    step: int = STEP,
) -> pd.DataFrame:
    """Bars with the given highs and lows; close (default: the bar's midpoint) = open;
    ``ts = T0 + i * step``."""
    high = np.asarray(high, dtype=float)
    low = np.asarray(low, dtype=float)
    assert (low <= high).all()
    close = (high + low) / 2 if close is None else np.asarray(close, dtype=float)
    assert ((low <= close) & (close <= high)).all()
    n = len(high)
    return pd.DataFrame({"ts": T0 + np.arange(n, dtype=np.int64) * step, "open": close,
                         "high": high, "low": low, "close": close, "volume": 1.0})  # fmt: skip


def random_walk(seed: int, n: int, *, tick: float = 0.0) -> pd.DataFrame:
    """A random-walk OHLC frame; with ``tick`` prices are rounded to it (many ties)."""
    rng = np.random.default_rng(seed)
    close = 100 + np.cumsum(rng.normal(0, 1, n))
    open_ = np.r_[100.0, close[:-1]]
    high = np.maximum(open_, close) + rng.exponential(0.5, n)
    low = np.minimum(open_, close) - rng.exponential(0.5, n)
    if tick:
        open_, close, high, low = (np.round(a / tick) * tick for a in (open_, close, high, low))
    return pd.DataFrame({"ts": T0 + np.arange(n, dtype=np.int64) * STEP, "open": open_,
                         "high": high, "low": low, "close": close, "volume": 1.0})  # fmt: skip


def col(df: pd.DataFrame, name: str) -> list:
    """A column as a plain list (NaN stays NaN)."""
    return df[name].tolist()
