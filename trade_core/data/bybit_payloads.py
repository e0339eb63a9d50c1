"""Typed parsing of Bybit V5 REST answers: every row checked, every bad field named.

Bybit sends numbers as decimal strings; a missing or non-numeric field raises
:class:`ExchangeError` naming the endpoint, the row and the field, so a changed or broken
answer can never slip a NaN or a zero price into the store.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trade_core.errors import ExchangeError

INSTRUMENTS_PATH = "/v5/market/instruments-info"
RISK_LIMIT_PATH = "/v5/market/risk-limit"


@dataclass(frozen=True, slots=True)
class KlineRow:
    """One Bybit kline: open time (epoch ms), prices (USDT), volume (base), turnover (USDT)."""

    ts: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    turnover: float


@dataclass(frozen=True, slots=True)
class FundingRow:
    """One funding settlement: instant (epoch ms) and rate (fraction, 0.0001 = 0.01 %)."""

    symbol: str
    ts: int
    rate: float


KLINE_FIELDS: tuple[str, ...] = ("startTime", "open", "high", "low", "close", "volume", "turnover")


def _malformed(where: str, name: str, value: object, expected: str) -> ExchangeError:
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    return ExchangeError(f"malformed Bybit answer: {where} field {name!r} = {shown} {expected}")


def field_at(row: Mapping[str, Any], path: str, where: str) -> Any:
    """The value at dotted ``path`` (``lotSizeFilter.qtyStep``) of an object row."""
    value: Any = row
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise ExchangeError(f"malformed Bybit answer: {where} has no field {path!r}")
        value = value[part]
    return value


def parse_number(value: object, name: str, where: str, *, minimum: float | None = None) -> float:
    """A finite float from Bybit's decimal string (or number); ``minimum`` is inclusive."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _malformed(where, name, value, "is not a number")
    try:
        number = float(value)
    except ValueError:
        raise _malformed(where, name, value, "is not a number") from None
    if not math.isfinite(number):
        raise _malformed(where, name, value, "is not finite")
    if minimum is not None and number < minimum:
        raise _malformed(where, name, value, f"is below {minimum:g}")
    return number


def parse_int(value: object, name: str, where: str) -> int:
    """An integer from Bybit's decimal string (timestamps in ms, minutes, ids)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _malformed(where, name, value, "is not an integer")
    try:
        return int(str(value).strip())
    except ValueError:
        raise _malformed(where, name, value, "is not an integer") from None


def parse_kline_row(row: object, where: str) -> KlineRow:
    """``[startTime, open, high, low, close, volume, turnover]`` strings -> :class:`KlineRow`."""
    if not isinstance(row, Sequence) or isinstance(row, str) or len(row) < len(KLINE_FIELDS):
        raise ExchangeError(
            f"malformed Bybit answer: {where} is not a list of {len(KLINE_FIELDS)} fields "
            f"({', '.join(KLINE_FIELDS)})"
        )
    ts = parse_int(row[0], "startTime", where)
    o, h, lo, c = (parse_number(row[i], KLINE_FIELDS[i], where, minimum=0.0) for i in range(1, 5))
    volume = parse_number(row[5], "volume", where, minimum=0.0)
    turnover = parse_number(row[6], "turnover", where, minimum=0.0)
    return KlineRow(ts, o, h, lo, c, volume, turnover)


def parse_funding_row(row: object, symbol: str, where: str) -> FundingRow:
    """``{symbol, fundingRate, fundingRateTimestamp}`` -> :class:`FundingRow` (same symbol)."""
    if not isinstance(row, Mapping):
        raise ExchangeError(f"malformed Bybit answer: {where} is not an object")
    got = field_at(row, "symbol", where)
    if got != symbol:
        raise _malformed(where, "symbol", got, f"is not the requested {symbol}")
    rate = parse_number(field_at(row, "fundingRate", where), "fundingRate", where)
    ts = parse_int(field_at(row, "fundingRateTimestamp", where), "fundingRateTimestamp", where)
    return FundingRow(symbol, ts, rate)


def result_list(payload: object, path: str) -> tuple[list[Any], str]:
    """``(result.list, result.nextPageCursor)`` of a V5 answer, checked for shape."""
    if not isinstance(payload, Mapping) or not isinstance(payload.get("result"), Mapping):
        raise ExchangeError(f"malformed Bybit answer: {path} has no 'result' object")
    result = payload["result"]
    rows = result.get("list")
    if not isinstance(rows, list):
        raise ExchangeError(f"malformed Bybit answer: {path} has no 'result.list' array")
    cursor = result.get("nextPageCursor") or ""
    if not isinstance(cursor, str):
        raise ExchangeError(f"malformed Bybit answer: {path} 'nextPageCursor' is not a string")
    return rows, cursor
