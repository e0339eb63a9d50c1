"""The timeframes TRADE knows, in milliseconds, and their Bybit interval codes.

Bars are identified by their open time and aligned to UTC boundaries: a bar of timeframe
``tf`` opens at a multiple of ``tf_ms(tf)`` since the epoch (the epoch is a UTC midnight,
so 1d bars open at 00:00 UTC and 4h bars at 00/04/08/... UTC).
"""

from __future__ import annotations

from trade_core.errors import BadInputError
from trade_core.timestamps import DAY_MS, HOUR_MS, MINUTE_MS

TIMEFRAMES: dict[str, int] = {
    "1m": MINUTE_MS,
    "3m": 3 * MINUTE_MS,
    "5m": 5 * MINUTE_MS,
    "15m": 15 * MINUTE_MS,
    "30m": 30 * MINUTE_MS,
    "1h": HOUR_MS,
    "2h": 2 * HOUR_MS,
    "4h": 4 * HOUR_MS,
    "6h": 6 * HOUR_MS,
    "12h": 12 * HOUR_MS,
    "1d": DAY_MS,
}

# Bybit V5 kline ``interval`` parameter for each timeframe.
BYBIT_INTERVALS: dict[str, str] = {
    "1m": "1",
    "3m": "3",
    "5m": "5",
    "15m": "15",
    "30m": "30",
    "1h": "60",
    "2h": "120",
    "4h": "240",
    "6h": "360",
    "12h": "720",
    "1d": "D",
}


def tf_ms(tf: str) -> int:
    """Length of timeframe ``tf`` in ms; a clear error for an unknown one."""
    try:
        return TIMEFRAMES[tf]
    except KeyError:
        raise BadInputError(
            f"unknown timeframe {tf!r}: expected one of {', '.join(TIMEFRAMES)}"
        ) from None


def bars_per(tf: str, base: str = "1m") -> int:
    """How many ``base`` bars make one ``tf`` bar (``tf`` must be a multiple of ``base``)."""
    big, small = tf_ms(tf), tf_ms(base)
    if big % small:
        raise BadInputError(f"timeframe {tf} is not a multiple of {base}")
    return big // small


def floor_ts(ts_ms: int, tf: str) -> int:
    """Open time of the ``tf`` bar containing ``ts_ms``."""
    step = tf_ms(tf)
    return ts_ms - ts_ms % step


def ceil_ts(ts_ms: int, tf: str) -> int:
    """First ``tf`` bar open at or after ``ts_ms``."""
    step = tf_ms(tf)
    return -(-ts_ms // step) * step
