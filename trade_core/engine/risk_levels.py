"""Stop-loss, take-profit and trailing-stop prices from a Play's risk block.

Pure functions over plain values (the engine reads ATR values and levels from the snapshot
through ``Play.risk_slots``). Prices are USDT. Rounding to the tick is always *toward the
entry*: the stop sits no further away than the Play asked, so the loss at the stop never
exceeds what ``risk_pct`` sizing budgeted, and the target is reached no later than asked.
A level on the wrong side of the entry, or a missing/NaN input, gives ``None`` and a reason:
the engine skips the entry and logs why, it never invents a stop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from trade_core.numbers import round_price
from trade_core.play.model import StopLoss, TakeProfit, Trailing

Side = Literal["long", "short"]


@dataclass(frozen=True, slots=True)
class Level:
    """A computed price, or ``None`` with the reason it could not be computed."""

    price: float | None
    reason: str = ""


def _defined(x: float | None) -> bool:
    return x is not None and isinstance(x, float | int) and math.isfinite(x) and x > 0


def _toward_entry(side: Side, price: float, tick: float, below_entry: bool) -> float:
    # A price below the entry rounds up (toward it), a price above rounds down.
    return round_price(price, tick, "up" if below_entry else "down")


def stop_loss_price(
    spec: StopLoss, side: Side, entry: float, tick: float, *, atr: float | None = None,
    level: float | None = None,
) -> Level:  # fmt: skip
    """The stop for a position entered at ``entry``: ``{atr, mult}`` -> entry ∓ mult·ATR,
    ``{pct}`` -> entry·(1 ∓ pct/100), ``{level}`` -> the level itself (must be on the loss
    side of the entry)."""
    sign = 1.0 if side == "long" else -1.0
    if spec.pct is not None:
        raw = entry * (1.0 - sign * spec.pct / 100.0)
    elif spec.atr is not None:
        if not _defined(atr):
            return Level(None, f"stop: ATR {spec.atr!r} has no value yet")
        raw = entry - sign * (spec.mult or 0.0) * float(atr)  # type: ignore[arg-type]
    else:
        if not _defined(level):
            return Level(None, f"stop: level {spec.level!r} has no value")
        raw = float(level)  # type: ignore[arg-type]
    if raw <= 0 or (raw >= entry if side == "long" else raw <= entry):
        return Level(None, f"stop {raw:.10g} is not on the loss side of entry {entry:.10g}")
    price = _toward_entry(side, raw, tick, below_entry=side == "long")
    if price >= entry if side == "long" else price <= entry:
        return Level(None, f"stop {raw:.10g} rounds onto the entry at tick {tick:g}")
    return Level(price)


def take_profit_price(
    spec: TakeProfit, side: Side, entry: float, tick: float, *, stop: float | None = None,
    atr: float | None = None,
) -> Level:  # fmt: skip
    """The target: ``{rr}`` -> entry ± rr·|entry − stop|, ``{pct}`` -> entry·(1 ± pct/100),
    ``{atr, mult}`` -> entry ± mult·ATR."""
    sign = 1.0 if side == "long" else -1.0
    if spec.rr is not None:
        if not _defined(stop):
            return Level(None, "target: rr needs a stop")
        raw = entry + sign * spec.rr * abs(entry - float(stop))  # type: ignore[arg-type]
    elif spec.pct is not None:
        raw = entry * (1.0 + sign * spec.pct / 100.0)
    else:
        if not _defined(atr):
            return Level(None, f"target: ATR {spec.atr!r} has no value yet")
        raw = entry + sign * (spec.mult or 0.0) * float(atr)  # type: ignore[arg-type]
    if raw <= 0:
        return Level(None, f"target {raw:.10g} is not a price")
    price = _toward_entry(side, raw, tick, below_entry=side == "short")
    if price <= entry if side == "long" else price >= entry:
        return Level(None, f"target {raw:.10g} rounds onto the entry at tick {tick:g}")
    return Level(price)


def trailing_stop(
    spec: Trailing, side: Side, *, entry: float, initial_stop: float, current_stop: float,
    extreme: float, atr: float | None, tick: float,
) -> float:  # fmt: skip
    """The stop after one more exec bar with a trailing rule.

    The trail activates once the favourable excursion ``|extreme − entry|`` reaches
    ``activate_rr`` times the initial risk ``|entry − initial_stop|``; then the candidate is
    ``extreme ∓ mult·ATR`` (``extreme`` = highest high since entry for a long, lowest low for a
    short). The stop only ever moves in the position's favour; otherwise it stays put.
    """
    if not _defined(atr):
        return current_stop
    risk = abs(entry - initial_stop)
    excursion = (extreme - entry) if side == "long" else (entry - extreme)
    if excursion < spec.activate_rr * risk:
        return current_stop
    sign = 1.0 if side == "long" else -1.0
    candidate = extreme - sign * spec.mult * float(atr)  # type: ignore[arg-type]
    if candidate <= 0:
        return current_stop
    candidate = round_price(candidate, tick, "down" if side == "long" else "up")
    better = candidate > current_stop if side == "long" else candidate < current_stop
    return candidate if better else current_stop
