"""What the simulated exchange refuses on arrival, with Bybit's retCodes.

Checked in this order; the first failure is the rejection (``OrderRejected(code, reason)``):

=========  ==========================================================================
code       condition
=========  ==========================================================================
10001      another symbol than the venue's instrument
110072     an ``orderLinkId`` already used (by any accepted order or venue close)
10001      qty not a multiple of ``qty_step``, below ``min_qty``, above ``max_mkt_qty``
           (Market; ``max_qty`` when unknown) or ``max_qty`` (Limit)
10001      limit / trigger / TP / SL price not on ``tick_size``; TP/SL on a reduce-only
           order; TP/SL on the wrong side of the reference price
110092/3   a trigger that is already reached: direction 1 (rises to) needs
           ``trigger > last``, direction 2 (falls to) ``trigger < last``
110094     order value ``qty * reference price`` below ``min_notional`` (not for
           reduce-only orders: they must be able to close a small position)
110017     reduce-only (not conditional) with no position, on the position's own side,
           or larger than the position: **rejected, never trimmed** (BYBIT_RULES)
110007     the opening part needs ``IM + taker fee`` above the available balance
=========  ==========================================================================

The *reference price* is the limit price, else the trigger price, else the last 1m close the
venue saw; a check that needs it is skipped while there is none (before the first bar).
Quantities are never resized. Conditional orders reserve no margin and are not checked for
reduce-only or balance on arrival: that happens when they trigger.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext
from functools import lru_cache
from itertools import pairwise

from trade_core.data.instrument_spec import Instrument
from trade_core.engine.orders import OrderIntent
from trade_core.numbers import is_multiple_of_step
from trade_core.sim.account import IsolatedAccount
from trade_core.sim.models import FeeModel

_on_grid = lru_cache(maxsize=4096)(is_multiple_of_step)
"""``is_multiple_of_step`` remembered: orders repeat quantities and prices, and the exact
decimal test is the costly part of an order's checks. Pure, and equal keys (``1`` and
``1.0``, ``0.0`` and ``-0.0``) print as the same decimal, so a remembered answer is exact."""

_CLEARLY_ABOVE = 1.0 + 1e-9
"""A float product ``q * p`` more than this factor above a floor is above it exactly too: the
decimals ``q`` and ``p`` print as differ from them by < 1.2e-16 relative each and the float
product by as much again, far inside 1e-9. Below that margin the exact decimal check runs."""

PARAMS = 10001
ORDER_NOT_EXISTS = 110001
INSUFFICIENT_BALANCE = 110007
REDUCE_ONLY = 110017
DUPLICATE_LINK_ID = 110072
TRIGGER_EXPECT_RISING = 110092
TRIGGER_EXPECT_FALLING = 110093
MIN_NOTIONAL = 110094


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an order is refused: Bybit ``retCode`` and a readable reason."""

    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class Context:
    """What the checks look at: the instrument, the account and the last price (or None)."""

    instrument: Instrument
    account: IsolatedAccount
    fee_model: FeeModel
    last_price: float | None
    duplicate: bool


def reference_price(intent: OrderIntent, last_price: float | None) -> float | None:
    """Limit price, else trigger price, else the last close (USDT), else None."""
    if intent.price is not None:
        return intent.price
    if intent.trigger_price is not None:
        return intent.trigger_price
    return last_price


def refusal_of(intent: OrderIntent, ctx: Context) -> Refusal | None:
    """The first refusal that applies to ``intent`` (module table), or None to accept."""
    for check in (_identity, _quantity, _prices, _trigger, _notional, _reduce_only, _balance):
        refusal = check(intent, ctx)
        if refusal is not None:
            return refusal
    return None


def _identity(intent: OrderIntent, ctx: Context) -> Refusal | None:
    if intent.symbol != ctx.instrument.symbol:
        return Refusal(PARAMS, f"symbol {intent.symbol} is not traded here")
    if ctx.duplicate:
        return Refusal(DUPLICATE_LINK_ID, f"duplicate orderLinkId {intent.link_id}")
    return None


def _quantity(intent: OrderIntent, ctx: Context) -> Refusal | None:
    ins, qty = ctx.instrument, intent.qty
    if not _on_grid(qty, ins.qty_step):
        return Refusal(PARAMS, f"qty {qty} is not a multiple of qty step {ins.qty_step}")
    if qty < ins.min_qty:
        return Refusal(PARAMS, f"qty {qty} is below min qty {ins.min_qty}")
    limit = ins.max_qty
    if intent.order_type == "Market" and ins.max_mkt_qty is not None:
        limit = ins.max_mkt_qty
    if limit is not None and qty > limit:
        return Refusal(PARAMS, f"qty {qty} is above max qty {limit}")
    return None


def _prices(intent: OrderIntent, ctx: Context) -> Refusal | None:
    tick = ctx.instrument.tick_size
    named = {
        "price": intent.price,
        "trigger price": intent.trigger_price,
        "take profit": intent.take_profit,
        "stop loss": intent.stop_loss,
    }
    for name, value in named.items():
        if value is not None and not (value > 0 and _on_grid(value, tick)):
            return Refusal(PARAMS, f"{name} {value} is not a positive multiple of tick {tick}")
    if intent.reduce_only and (intent.take_profit is not None or intent.stop_loss is not None):
        return Refusal(PARAMS, "a reduce-only order takes no take profit / stop loss")
    return _protective_sides(
        intent.sign, intent.stop_loss, intent.take_profit, reference_price(intent, ctx.last_price)
    )


def protective_sides_ok(
    sign: int, stop_loss: float | None, take_profit: float | None, ref: float | None
) -> bool:
    """For a long (``sign`` +1): ``stop_loss < ref < take_profit``; short mirrored. Levels
    that are None are not compared; without ``ref`` only SL against TP is."""
    levels = [x for x in (stop_loss, ref, take_profit) if x is not None]
    return all(sign * (b - a) > 0 for a, b in pairwise(levels))


def _protective_sides(
    sign: int, stop_loss: float | None, take_profit: float | None, ref: float | None
) -> Refusal | None:
    if protective_sides_ok(sign, stop_loss, take_profit, ref):
        return None
    side = "Buy" if sign > 0 else "Sell"
    return Refusal(
        PARAMS,
        f"{side}: stop loss {stop_loss} / take profit {take_profit} on the wrong side of "
        f"the reference price {ref}",
    )


def _trigger(intent: OrderIntent, ctx: Context) -> Refusal | None:
    trigger, last = intent.trigger_price, ctx.last_price
    if trigger is None or last is None:
        return None
    if intent.trigger_direction == 1 and not trigger > last:
        return Refusal(TRIGGER_EXPECT_RISING, f"expect Rising, but {trigger} <= last {last}")
    if intent.trigger_direction == 2 and not trigger < last:
        return Refusal(TRIGGER_EXPECT_FALLING, f"expect Falling, but {trigger} >= last {last}")
    return None


def _notional(intent: OrderIntent, ctx: Context) -> Refusal | None:
    ref = reference_price(intent, ctx.last_price)
    if intent.reduce_only or ref is None:
        return None
    floor = ctx.instrument.min_notional
    qty = intent.qty
    if qty > 0.0 and ref > 0.0 and floor >= 0.0 and qty * ref > floor * _CLEARLY_ABOVE:
        return None  # far above the floor: the exact decimal product is above it too
    with localcontext() as dctx:
        dctx.prec = 60
        value = Decimal(repr(intent.qty)) * Decimal(repr(ref))
        if value < Decimal(repr(floor)):
            return Refusal(
                MIN_NOTIONAL, f"order value {float(value)} USDT is below min notional {floor}"
            )
    return None


def _reduce_only(intent: OrderIntent, ctx: Context) -> Refusal | None:
    if not intent.reduce_only or intent.is_conditional:
        return None
    pos = ctx.account.pos
    if pos.sign != -intent.sign:
        what = "no position" if pos.is_flat else "it would grow the position"
        return Refusal(REDUCE_ONLY, f"reduce-only {intent.side}: {what}")
    if intent.qty > pos.qty:
        return Refusal(
            REDUCE_ONLY, f"reduce-only qty {intent.qty} would flip the position of {pos.qty}"
        )
    return None


def _balance(intent: OrderIntent, ctx: Context) -> Refusal | None:
    ref = reference_price(intent, ctx.last_price)
    if intent.reduce_only or intent.is_conditional or ref is None:
        return None
    fee = ctx.fee_model.fee(intent.qty, ref, "taker")
    if ctx.account.can_afford(intent.sign, intent.qty, ref, fee):
        return None
    return Refusal(
        INSUFFICIENT_BALANCE,
        f"available balance {ctx.account.available:.6f} USDT does not cover the margin and "
        f"fee of {intent.qty} at {ref}",
    )
