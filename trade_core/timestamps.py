"""Kernel time: ``int`` milliseconds since the epoch, UTC — the unit Bybit uses.

Conversions to and from text live here so that nothing else formats or parses times.
"""

from __future__ import annotations

from datetime import UTC, datetime

from trade_core.errors import BadInputError

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS


def parse_time(text: str | int) -> int:
    """Parse a user-given time into epoch ms (UTC).

    Accepts an integer of epoch milliseconds, or an ISO-8601 date/datetime
    (``2024-01-31``, ``2024-01-31T12:00``, ``2024-01-31 12:00:00+00:00``). A datetime
    without an offset is taken as UTC, never as local time.
    """
    if isinstance(text, int):
        return text
    s = text.strip()
    if s.lstrip("-").isdigit():
        return int(s)
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        raise BadInputError(
            f"cannot read time {text!r}: expected epoch milliseconds or an ISO date such as "
            "2024-01-31 or 2024-01-31T12:00"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def fmt_ts(ts_ms: int | None) -> str:
    """Format epoch ms as ``YYYY-MM-DD HH:MM`` UTC (seconds shown only when non-zero)."""
    if ts_ms is None:
        return "-"
    dt = datetime.fromtimestamp(ts_ms / 1000, tz=UTC)
    if dt.second or dt.microsecond:
        return dt.strftime("%Y-%m-%d %H:%M:%S")
    return dt.strftime("%Y-%m-%d %H:%M")


def now_ms() -> int:
    """Wall-clock now in epoch ms (only for I/O edges such as sync end defaults)."""
    return int(datetime.now(tz=UTC).timestamp() * 1000)
