"""Price sources a feature can read: a bar field or a standard blend of fields."""

from __future__ import annotations

import numpy as np

from trade_core.features.base import Param

SOURCES: tuple[str, ...] = ("close", "open", "high", "low", "hl2", "hlc3", "ohlc4")


def source_param(default: str = "close") -> Param:
    """The ``source`` parameter shared by single-series indicators."""
    return Param("source", str, default, choices=SOURCES, doc="bar price the indicator reads")


def pick(source: str, o: float, h: float, lo: float, c: float) -> float:
    """The value of ``source`` for one bar (hl2 = (h+l)/2, hlc3, ohlc4 as usual)."""
    if source == "close":
        return c
    if source == "hl2":
        return (h + lo) / 2.0
    if source == "hlc3":
        return (h + lo + c) / 3.0
    if source == "ohlc4":
        return (o + h + lo + c) / 4.0
    return {"open": o, "high": h, "low": lo}[source]


def source_array(arrays: dict[str, np.ndarray], source: str) -> np.ndarray:
    """:func:`pick` for every bar at once (numpy), with exactly the same operations, so a
    vectorised batch path and the streaming path read bit-identical inputs."""
    o, h, lo, c = arrays["open"], arrays["high"], arrays["low"], arrays["close"]
    if source == "close":
        return c
    if source == "hl2":
        return (h + lo) / 2.0
    if source == "hlc3":
        return (h + lo + c) / 3.0
    if source == "ohlc4":
        return (o + h + lo + c) / 4.0
    return {"open": o, "high": h, "low": lo}[source]


def padded(values: np.ndarray | list[float], total: int) -> np.ndarray:
    """``values`` right-aligned in a float array of length ``total``, NaN in front."""
    out = np.full(total, np.nan)
    k = len(values)
    if k:
        out[total - k :] = values
    return out
