"""One 1m bar through the simulated exchange: which order, trigger or stop happens when.

For a bar ``b`` (open time ``b.ts``):

1. **Arrival.** Orders that arrived at or before ``b.ts`` go live (an order submitted at the
   close of bar ``t`` first trades on bar ``t+1``: no look-ahead). A PostOnly limit that
   would cross at the open (buy: ``open < limit``, sell: ``open > limit``; ``<=`` / ``>=``
   with touch fills) is cancelled (``"PostOnly would take liquidity"``).
2. **Open.** Market orders fill at ``open`` plus adverse slippage, taker, in arrival order.
3. **Path.** Everything else is walked along :class:`~trade_core.sim.path.BarPath` (adverse
   extreme first when a position is open, see :func:`~trade_core.sim.path.low_first`). At
   each step the earliest event still ahead is executed, ties broken by kind - liquidation,
   then position SL/TP, then conditional triggers, then limit fills - and arrival order:

   * **liquidation** when the path reaches the liquidation price (inclusive). The 1m
     last-price path is the **mark-price proxy**: a long is liquidated when the bar's low (on
     the path after the position exists) reaches its liquidation price, a short its high.
   * **position SL/TP**: :func:`~trade_core.sim.fill_prices.same_bar_order` on the rest of
     the bar decides which one (conservative: the stop loss when both are reached, unless
     the take profit was already beyond at that point); the close fills by
     :func:`~trade_core.sim.fill_prices.stop_market_fill` (SL) or
     :func:`~trade_core.sim.fill_prices.trigger_market_fill` (TP), gap rule included.
   * **conditional trigger** (inclusive, ``trigger_direction`` 1 rises to / 2 falls to): a
     Market order then fills by ``trigger_market_fill``; a Limit order goes live at that
     instant (PostOnly cancelled if it would cross there).
   * **limit fill**: strictly through the limit (touch with ``touch_fills``) at the price of
     :func:`~trade_core.sim.fill_prices.limit_fill` on the rest of the bar (the limit, or
     the price at that moment if already beyond: the open on a gap).

   A fill made at the instant the order became executable (crossing on arrival at the open,
   or at its trigger) is **taker**, as is every IOC/FOK fill; a fill of an order that was
   resting before is **maker**.
4. **Close.** IOC and FOK orders trade only in their first executable bar (their "now"):
   whatever is left is cancelled at its end (``"IOC remainder"`` / ``"FOK not filled"``).
   Without a volume cap a fill takes the whole remaining quantity, so IOC and FOK differ only
   by name; with one they differ as on the exchange (below).

**Volume cap** (``SimVenue(max_participation=f)``, off by default). The account's fills on one
1m bar take together at most ``f * bar.volume`` base coin, rounded down to ``qtyStep`` (a bar
with no or unknown volume has no room). Fills take the room in the order they happen on the
path. An order the cap cuts:

* **Market, GTC**: fills what fits; the rest waits and fills at the **next bar's open**
  (taker, slippage of that bar), before that bar's new arrivals, again capped, until done;
* **Limit, GTC / PostOnly**: fills what fits; the rest keeps resting (later fills are maker,
  at the limit or the better open) and once the room is used up it cannot fill again on that
  bar;
* **IOC** (Market or Limit): keeps what filled, the rest is cancelled at once
  (``"IOC remainder (volume cap)"``); with no room at all it is cancelled unfilled;
* **FOK**: if the whole quantity does not fit, it is cancelled whole, nothing filled
  (``"FOK: cannot fill whole within the volume cap"``).

Not capped, and not counted: **reduce-only** orders and the venue's own **SL/TP and
liquidation** closes. They only take risk off; capping them would keep a position open past
its stop or its liquidation (Bybit's liquidation engine takes over the whole position at
once), so the backtest would understate losses - the one error a cap must not add.

Events are stamped ``b.ts + t * 20_000`` ms (path time ``t``; the open is ``b.ts``).
Every trigger (``trigger_by`` LastPrice, MarkPrice or IndexPrice alike) is evaluated on the
1m last-price bar: the simulator has no separate mark or index series.
"""

from __future__ import annotations

from typing import NamedTuple

from trade_core.engine.bars import Bar
from trade_core.sim.account import IsolatedAccount
from trade_core.sim.exchange import SimExchange
from trade_core.sim.fill_prices import (
    FALLS_TO,
    RISES_TO,
    apply_slippage,
    limit_fill,
    same_bar_order,
    stop_market_fill,
    trigger_market_fill,
)
from trade_core.sim.order_book import SimOrder
from trade_core.sim.path import BarPath, beyond, low_first, stamp
from trade_core.sim.sides import closing_side

MAX_EVENTS_PER_BAR = 100_000
"""Safety net: a bar with more events than this is a simulator bug, not a market."""

_RANK = {"liq": 0, "sl": 1, "tp": 1, "trigger": 2, "limit": 3}


class Hit(NamedTuple):
    """An event ahead on the path: when (path time), what, at which price, for which order."""

    t: float
    rank: int
    seq: int
    kind: str  # "liq", "sl", "tp", "trigger", "limit"
    price: float  # price at the event: the level, or the price at t0 if already beyond
    order: SimOrder | None


def walk_bar(ex: SimExchange, bar: Bar) -> None:
    """Run ``bar`` through the exchange (module docstring, steps 1-4)."""
    if not ex.book.size and bar_is_quiet(ex.account, bar):
        return
    arrived = ex.book.activate(bar.ts)
    at_open = arrived
    if ex.max_participation is not None:
        ex.start_bar(bar.volume)
        # Market remainders cut by the volume cap on an earlier bar fill first (older)
        at_open = [o for o in ex.book.live_orders() if o.carry] + arrived
    for order in arrived:
        _arrive(ex, order, bar)
    for order in at_open:
        still_open = ex.book.get(order.link_id) is order  # a fill may have trimmed it away
        if still_open and order.is_market and (order.carry or not order.intent.is_conditional):
            side = order.side
            bps = ex.slippage_model.slippage_bps(side, order.leaves, bar)
            ex.fill(order, apply_slippage(side, bar.open, bps), "taker", bar.ts)
    path = BarPath(bar, lows_first=low_first(bar, ex.account.pos.sign))
    _sweep(ex, bar, path)
    _close_window(ex, bar)


def bar_is_quiet(account: IsolatedAccount, bar: Bar) -> bool:
    """With no open order: whether ``bar`` can change nothing, because no position is open or
    the bar's range ``[low, high]`` reaches none of its liquidation price, stop loss and take
    profit. One comparison per level instead of the walk; the walk finds no event then (the
    path visits the low and the high, so a level it reaches lies inside the range)."""
    pos = account.pos
    sign = pos.sign
    if not sign:
        return True
    liq, sl, tp = account.liq_price, pos.stop_loss, pos.take_profit
    high, low = bar[2], bar[3]
    if sign > 0:
        return (
            not (liq > 0.0 and low <= liq)
            and (sl is None or low > sl)
            and (tp is None or high < tp)
        )
    return (
        not (liq > 0.0 and high >= liq) and (sl is None or high < sl) and (tp is None or low > tp)
    )


def _arrive(ex: SimExchange, order: SimOrder, bar: Bar) -> None:
    if order.intent.is_conditional:
        return  # armed: waits for its trigger, reserves nothing
    order.window_bar, order.live_at = bar.ts, (bar.ts, 0.0)
    if order.intent.tif == "PostOnly" and _crosses(ex, order, bar.open):
        ex.cancel(order, bar.ts, "PostOnly would take liquidity")


def _crosses(ex: SimExchange, order: SimOrder, price: float) -> bool:
    """Whether a limit order would trade against ``price`` right now."""
    limit = order.intent.price
    assert limit is not None
    return beyond(price, limit, rising=order.sign < 0, strict=not ex.touch_fills)


def _sweep(ex: SimExchange, bar: Bar, path: BarPath) -> None:
    t0, p0 = 0.0, bar.open
    for _ in range(MAX_EVENTS_PER_BAR):
        hit = _next_hit(ex, bar, path, t0, p0)
        if hit is None:
            return
        _execute(ex, bar, path, hit, t0, p0)
        t0, p0 = hit.t, hit.price
    raise RuntimeError(f"bar {bar.ts}: more than {MAX_EVENTS_PER_BAR} events")


def _hit(
    path: BarPath, level: float, rising: bool, strict: bool, t0: float, p0: float
) -> tuple[float, float] | None:
    """``(t, price)`` where the path first reaches ``level`` from ``(t0, p0)``, or None."""
    t = path.reach(level, rising=rising, strict=strict, t0=t0, p0=p0)
    if t is None:
        return None
    return t, (p0 if beyond(p0, level, rising, strict) else level)


def _next_hit(ex: SimExchange, bar: Bar, path: BarPath, t0: float, p0: float) -> Hit | None:
    hits = _position_hits(ex, path, t0, p0)
    for order in ex.book.live_orders():
        hit = _order_hit(ex, bar, path, order, t0, p0)
        if hit is not None:
            hits.append(hit)
    return min(hits, default=None, key=lambda h: (h.t, h.rank, h.seq))


def _position_hits(ex: SimExchange, path: BarPath, t0: float, p0: float) -> list[Hit]:
    pos, liq = ex.account.pos, ex.account.liq_price
    side = pos.side
    if side is None:
        return []
    hits = []
    if liq > 0.0:
        found = _hit(path, liq, pos.sign < 0, False, t0, p0)
        if found is not None:
            hits.append(Hit(found[0], _RANK["liq"], 0, "liq", found[1], None))
    high, low = path.extremes_from(t0, p0)
    which = same_bar_order(side, pos.stop_loss, pos.take_profit, p0, high, low)
    if which is not None:
        kind, level = ("sl", pos.stop_loss) if which == "stop_loss" else ("tp", pos.take_profit)
        assert level is not None
        rising = (pos.sign < 0) == (kind == "sl")
        found = _hit(path, level, rising, False, t0, p0)
        if found is not None:
            hits.append(Hit(found[0], _RANK[kind], 0, kind, found[1], None))
    return hits


def _order_hit(
    ex: SimExchange, bar: Bar, path: BarPath, order: SimOrder, t0: float, p0: float
) -> Hit | None:
    intent = order.intent
    if order.awaiting_trigger:
        assert intent.trigger_price is not None
        found = _hit(path, intent.trigger_price, intent.trigger_direction == 1, False, t0, p0)
        kind = "trigger"
    elif intent.order_type == "Limit" and (not order.immediate or order.window_bar == bar.ts):
        if ex.bar_room <= 0.0 and ex.capped(order):
            return None  # the volume cap has no room left on this bar
        assert intent.price is not None
        found = _hit(path, intent.price, order.sign < 0, not ex.touch_fills, t0, p0)
        kind = "limit"
    else:
        return None
    if found is None:
        return None
    return Hit(found[0], _RANK[kind], order.seq, kind, found[1], order)


def _execute(ex: SimExchange, bar: Bar, path: BarPath, hit: Hit, t0: float, p0: float) -> None:
    ts = stamp(bar, hit.t)
    if hit.kind == "liq":
        ex.liquidate(hit.price, ts)
    elif hit.kind in ("sl", "tp"):
        _close_by_protection(ex, bar, hit, ts)
    elif hit.kind == "trigger":
        assert hit.order is not None
        _trigger(ex, bar, hit, ts)
    else:
        assert hit.order is not None
        _fill_limit(ex, bar, path, hit.order, hit, t0, p0)


def _close_by_protection(ex: SimExchange, bar: Bar, hit: Hit, ts: int) -> None:
    pos = ex.account.pos
    side = pos.side
    assert side is not None
    order_side = closing_side(side)
    bps = ex.slippage_model.slippage_bps(order_side, pos.qty, bar)
    if hit.kind == "sl":
        assert pos.stop_loss is not None
        price = stop_market_fill(order_side, pos.stop_loss, hit.price, bps)
    else:
        assert pos.take_profit is not None
        direction = RISES_TO if pos.sign > 0 else FALLS_TO
        price = trigger_market_fill(order_side, direction, pos.take_profit, hit.price, bps)
    ex.close_position(hit.kind, price, ts)


def _trigger(ex: SimExchange, bar: Bar, hit: Hit, ts: int) -> None:
    order = hit.order
    assert order is not None
    order.triggered = True
    order.window_bar, order.live_at = bar.ts, (bar.ts, hit.t)
    intent = order.intent
    if intent.reduce_only and ex.account.pos.sign != -order.sign:
        ex.cancel(order, ts, "reduce-only: no position to reduce at trigger")
    elif order.is_market:
        assert intent.trigger_price is not None and intent.trigger_direction is not None
        bps = ex.slippage_model.slippage_bps(order.side, order.leaves, bar)
        price = trigger_market_fill(
            order.side, intent.trigger_direction, intent.trigger_price, hit.price, bps
        )
        ex.fill(order, price, "taker", ts)
    elif intent.tif == "PostOnly" and _crosses(ex, order, hit.price):
        ex.cancel(order, ts, "PostOnly would take liquidity")
    # else: a Limit order, now executable; the sweep fills it when the path crosses it


def _fill_limit(
    ex: SimExchange, bar: Bar, path: BarPath, order: SimOrder, hit: Hit, t0: float, p0: float
) -> None:
    assert order.intent.price is not None
    high, low = path.extremes_from(t0, p0)
    price = limit_fill(order.side, order.intent.price, p0, high, low, touch=ex.touch_fills)
    assert price is not None, "the path reached the limit, so the rest of the bar crosses it"
    at_arrival = order.live_at == (bar.ts, hit.t)
    taker = order.immediate or at_arrival
    ex.fill(order, price, "taker" if taker else "maker", stamp(bar, hit.t))


def _close_window(ex: SimExchange, bar: Bar) -> None:
    for order in ex.book.live_orders():
        if order.carry:
            continue  # a Market remainder under the volume cap: it goes on at the next open
        if order.immediate and order.window_bar == bar.ts and not order.awaiting_trigger:
            tif = order.intent.tif
            reason = "FOK not filled" if tif == "FOK" else "IOC remainder"
            ex.cancel(order, stamp(bar, 3.0), reason)
