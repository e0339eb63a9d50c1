"""Candles as plain numpy columns — the shape every reader and the engine's feeds use.

Time is ``int64`` epoch ms (bar open time, UTC); prices and volumes are ``float64``.
``turnover`` is quote-currency volume (USDT) and is NaN when a source does not provide it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pandas costs ~0.8 s to import; the engine's hot start never needs it
    import pandas as pd

OHLCV_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume", "turnover")
CANDLE_COLUMNS: tuple[str, ...] = ("ts", *OHLCV_COLUMNS)


@dataclass(frozen=True, slots=True)
class Candles:
    """One symbol/timeframe series in ascending ``ts``; all arrays have the same length."""

    symbol: str
    tf: str
    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    turnover: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.ts)
        for name in OHLCV_COLUMNS:
            if len(getattr(self, name)) != n:
                raise ValueError(f"column {name} has {len(getattr(self, name))} rows, ts has {n}")

    def __len__(self) -> int:
        return len(self.ts)

    @property
    def first_ts(self) -> int | None:
        return int(self.ts[0]) if len(self.ts) else None

    @property
    def last_ts(self) -> int | None:
        return int(self.ts[-1]) if len(self.ts) else None

    def to_frame(self) -> pd.DataFrame:
        """A DataFrame with columns ``ts`` (int64 ms) and the OHLCV/turnover columns."""
        import pandas as pd

        return pd.DataFrame({name: getattr(self, name) for name in CANDLE_COLUMNS})

    def slice(self, start: int, stop: int) -> Candles:
        """Rows ``[start, stop)`` by position (views, no copy)."""
        return Candles(
            self.symbol,
            self.tf,
            *(getattr(self, name)[start:stop] for name in CANDLE_COLUMNS),
        )

    @classmethod
    def from_frame(cls, symbol: str, tf: str, frame: pd.DataFrame) -> Candles:
        """Build from a frame with the candle columns (``turnover`` optional -> NaN)."""
        n = len(frame)
        cols = {
            "ts": frame["ts"].to_numpy(dtype=np.int64),
            **{
                name: (
                    frame[name].to_numpy(dtype=np.float64)
                    if name in frame.columns
                    else np.full(n, np.nan)
                )
                for name in OHLCV_COLUMNS
            },
        }
        return cls(symbol, tf, **cols)
