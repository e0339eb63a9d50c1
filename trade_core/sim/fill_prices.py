"""Fill-price rules of the simulated exchange inside one 1m bar (simulation only): pure functions.

Units: prices in USDT; slippage in **basis points** (1 bp = 1/10000 = 0.01 %), >= 0.
Order sides are ``"buy"`` / ``"sell"``, position sides ``"long"`` / ``"short"``
(:mod:`trade_core.sim.sides`). A bar is given by its ``open``, ``high``, ``low`` (last-price
1m candle); ``low <= open <= high`` is checked where the bar is used.

Source: ``docs/BYBIT_RULES.md``, "Triggers inside a bar" and "Orders" (``triggerDirection``
1 = rises to, 2 = falls to). These are modelling choices for a backtest, not exchange rules:
a 1m bar says where price went, not in which order, so each ambiguity is settled in the
direction that is worse for the trader.
"""

from __future__ import annotations

from typing import Literal

from trade_core.errors import BadInputError
from trade_core.sim.sides import (
    order_sign,
    position_sign,
    require_non_negative,
    require_positive,
)

RISES_TO = 1
"""Bybit ``triggerDirection`` 1: triggered when the price rises to the trigger."""
FALLS_TO = 2
"""Bybit ``triggerDirection`` 2: triggered when the price falls to the trigger."""

SameBarRule = Literal["conservative"]
SAME_BAR_RULES: tuple[str, ...] = ("conservative",)
BarEvent = Literal["stop_loss", "take_profit"]

BPS = 10_000.0
"""Basis points per unit: ``bps / BPS`` is the fraction."""


def _check_bar(bar_open: float, bar_high: float, bar_low: float) -> tuple[float, float, float]:
    """The bar's (open, high, low) as floats, or bad input if not ``0 < low <= open <= high``."""
    o = require_positive("bar_open", bar_open)
    h = require_positive("bar_high", bar_high)
    lo = require_positive("bar_low", bar_low)
    if not lo <= o <= h:
        raise BadInputError(f"bar open={o} high={h} low={lo}: expected low <= open <= high")
    return o, h, lo


def _check_direction(direction: int) -> int:
    if direction not in (RISES_TO, FALLS_TO):
        raise BadInputError(
            f"trigger direction {direction!r}: expected {RISES_TO} (rises to) "
            f"or {FALLS_TO} (falls to)"
        )
    return direction


def apply_slippage(side_of_fill: str, price: float, bps: float) -> float:
    """``price`` moved against the taker by ``bps`` basis points (USDT).

    A buy fills higher, ``price * (1 + bps/10000)``; a sell lower, ``price * (1 - bps/10000)``.
    """
    sign = order_sign(side_of_fill)
    fraction = require_non_negative("bps", bps) / BPS
    return require_positive("price", price) * (1.0 + sign * fraction)


def triggered(direction: int, trigger: float, bar_high: float, bar_low: float) -> bool:
    """Whether a bar reaches a trigger: direction 1 (rises to) ``high >= trigger``,
    direction 2 (falls to) ``low <= trigger``. Touching counts (Bybit: "reaches")."""
    direction = _check_direction(direction)
    trigger = require_positive("trigger", trigger)
    if require_positive("bar_high", bar_high) < require_positive("bar_low", bar_low):
        raise BadInputError(f"bar high={bar_high} < low={bar_low}")
    return bar_high >= trigger if direction == RISES_TO else bar_low <= trigger


def trigger_market_fill(
    order_side: str, direction: int, trigger: float, bar_open: float, slippage_bps: float
) -> float:
    """Fill price (USDT) of a conditional market order that triggered in this bar.

    The base price is the ``trigger``, or the bar's open when the bar opened at or beyond the
    trigger in the trigger's direction (direction 1: ``open >= trigger``; direction 2:
    ``open <= trigger``): the first trade of the bar already crossed it, so the market order
    executes there. Adverse slippage for ``order_side`` is then applied to the base price.
    For a take-profit (sell rising to / buy falling to) a gap gives a better price than the
    trigger; for a stop (see :func:`stop_market_fill`) it gives a worse one.
    Precondition: :func:`triggered` is true for this bar.
    """
    direction = _check_direction(direction)
    trigger = require_positive("trigger", trigger)
    opened = require_positive("bar_open", bar_open)
    gapped = opened >= trigger if direction == RISES_TO else opened <= trigger
    return apply_slippage(order_side, opened if gapped else trigger, slippage_bps)


def stop_market_fill(
    order_side: str, trigger: float, bar_open: float, slippage_bps: float
) -> float:
    """Fill price (USDT) of a stop-market order that triggered in this bar.

    A stop triggers against its own side: a **sell** stop when price falls to the trigger
    (direction 2; "beyond" = below: the bar opened below the trigger is a gap down), a
    **buy** stop when price rises to it (direction 1; opened above = gap up). The fill is
    ``apply_slippage(side, trigger)``, or ``apply_slippage(side, open)`` on a gap, so never
    better than the trigger: sell ``<= trigger``, buy ``>= trigger``.
    Precondition: :func:`triggered` is true for this bar.
    """
    direction = FALLS_TO if order_sign(order_side) < 0 else RISES_TO
    return trigger_market_fill(order_side, direction, trigger, bar_open, slippage_bps)


def limit_fill(
    order_side: str,
    limit: float,
    bar_open: float,
    bar_high: float,
    bar_low: float,
    *,
    touch: bool = False,
) -> float | None:
    """Fill price (USDT) of a resting limit order in this bar, or ``None`` if it does not fill.

    Buy: fills if ``low < limit`` (traded strictly through; ``low <= limit`` with
    ``touch=True``), at ``min(limit, open)``: the limit, or the open if the bar opened below
    it (a better price). Sell, mirrored: fills if ``high > limit`` (``>=`` with ``touch``), at
    ``max(limit, open)``. No slippage: a resting limit is a maker fill at its price or better.
    """
    sign = order_sign(order_side)
    limit = require_positive("limit", limit)
    opened, high, low = _check_bar(bar_open, bar_high, bar_low)
    if sign > 0:
        filled = low <= limit if touch else low < limit
        return min(limit, opened) if filled else None
    filled = high >= limit if touch else high > limit
    return max(limit, opened) if filled else None


def _protective_hits(
    sign: int, stop_loss: float | None, take_profit: float | None, price_lo: float, price_hi: float
) -> tuple[bool, bool]:
    """(stop loss reached, take profit reached) while price spans ``[price_lo, price_hi]``."""
    sl_hit = stop_loss is not None and (
        price_lo <= stop_loss if sign > 0 else price_hi >= stop_loss
    )
    tp_hit = take_profit is not None and (
        price_hi >= take_profit if sign > 0 else price_lo <= take_profit
    )
    return sl_hit, tp_hit


def same_bar_order(
    position_side: str,
    stop_loss: float | None,
    take_profit: float | None,
    bar_open: float,
    bar_high: float,
    bar_low: float,
    *,
    rule: str = "conservative",
) -> BarEvent | None:
    """Which of a position's stop loss / take profit a bar triggers first, or ``None``.

    Long: stop loss when ``low <= stop_loss``, take profit when ``high >= take_profit``;
    short mirrored. ``None`` for a level not set. One level reached: that one. Both reached:
    if the bar **opened** at or beyond one of them, that one came first (the open is the
    bar's first trade); otherwise the order inside the bar is unknown and ``rule`` decides:
    ``"conservative"`` (the only rule) takes the stop loss as first (BYBIT_RULES).
    For a long ``stop_loss < take_profit`` is required, for a short ``stop_loss > take_profit``.
    """
    if rule not in SAME_BAR_RULES:
        raise BadInputError(f"same-bar rule {rule!r}: expected one of {', '.join(SAME_BAR_RULES)}")
    sign = position_sign(position_side)
    opened, high, low = _check_bar(bar_open, bar_high, bar_low)
    sl = None if stop_loss is None else require_positive("stop_loss", stop_loss)
    tp = None if take_profit is None else require_positive("take_profit", take_profit)
    if sl is not None and tp is not None and not sign * (tp - sl) > 0:
        raise BadInputError(
            f"{position_side} position: stop_loss={sl} must be on the losing side of "
            f"take_profit={tp}"
        )
    sl_hit, tp_hit = _protective_hits(sign, sl, tp, low, high)
    if not (sl_hit or tp_hit):
        return None
    if sl_hit != tp_hit:
        return "stop_loss" if sl_hit else "take_profit"
    _, tp_at_open = _protective_hits(sign, sl, tp, opened, opened)
    if tp_at_open:
        return "take_profit"
    return "stop_loss"  # at the open, or unknown order under the conservative rule
