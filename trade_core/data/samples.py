"""Real market data shipped inside the package, so the main job runs with no network.

The sample is one month of real 1m candles; its provenance is stated here and in the README.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Sample:
    file: str
    symbol: str
    tf: str
    bars: int
    source: str

    @property
    def path(self) -> Path:
        """Filesystem path of the bundled file (package data, read-only)."""
        return Path(str(resources.files("trade_core.data") / "bundled" / self.file))


BUNDLED_SAMPLES: tuple[Sample, ...] = (
    Sample(
        file="AVAXUSDT_1m_2026-06.csv.gz",
        symbol="AVAXUSDT",
        tf="1m",
        bars=43_200,
        source=(
            "AVAX/USDT perpetual, Binance USDT-M kline export, 2026-06-01 00:00 to "
            "2026-06-30 23:59 UTC, no gaps; columns ts,open,high,low,close,volume,turnover"
        ),
    ),
)
