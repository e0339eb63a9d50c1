"""SimVenue limit orders (GTC, IOC, FOK, PostOnly) and conditional orders as scenario tables.

Orders are decided at the close of bar 0 (close 20,000) and may first trade on bar 1.
Fees: maker 0.02 % for a fill of an order that rested first, taker 0.055 % for a fill on
arrival (crossing at the open, or at the trigger) and for every IOC/FOK fill.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import pytest

from tests.unit.sim._venue_support import (
    NO_KW,
    B,
    F,
    assert_fills,
    buy,
    make_venue,
    run,
    sell,
)
from trade_core.engine.orders import OrderCancelled, OrderRejected


def limit_buy(link: str, price: float, tif: str = "GTC", qty: float = 0.1, **kw: Any):
    return buy(link, qty, order_type="Limit", price=price, tif=tif, **kw)


def limit_sell(link: str, price: float, tif: str = "GTC", qty: float = 0.1, **kw: Any):
    return sell(link, qty, order_type="Limit", price=price, tif=tif, **kw)


def maker(qty: float, price: float) -> float:
    return qty * price * 0.0002


def taker(qty: float, price: float) -> float:
    return qty * price * 0.00055


def decide(*cmds: Any) -> B:
    """Bar 0: flat at 20,000, the commands at its close."""
    return B(20_000, 20_000, 20_000, 20_000, then=cmds)


class Scenario(NamedTuple):
    why: str
    rows: list[B]
    fills: list[F]
    cancels: Sequence[tuple[str, str]] = ()  # (link id, reason)
    venue_kw: Mapping[str, Any] = NO_KW


LIMITS = [
    Scenario(
        "GTC buy rests, bar 2 trades through 19,500: maker fill at the limit",
        [decide(limit_buy("l", 19_500.0)),
         B(20_000, 20_100, 19_600, 19_800),     # bar 1: low 19,600, not reached
         B(19_800, 19_850, 19_400, 19_700)],    # bar 2: through 19,500
        [F("l", "Buy", 0.1, 19_500, maker(0.1, 19_500), "maker")],
    ),
    Scenario(
        "GTC buy crossed later in its first bar: it rested since the open, maker",
        [decide(limit_buy("l", 19_500.0)), B(20_000, 20_100, 19_400, 19_800)],
        [F("l", "Buy", 0.1, 19_500, maker(0.1, 19_500), "maker")],
    ),
    Scenario(
        "a low that only touches the limit does not fill (strictly through)",
        [decide(limit_buy("l", 19_500.0)), B(20_000, 20_100, 19_500, 19_800)],
        [],
    ),
    Scenario(
        "touch fills (opt-in): touching the limit fills",
        [decide(limit_buy("l", 19_500.0)), B(20_000, 20_100, 19_500, 19_800)],
        [F("l", "Buy", 0.1, 19_500, maker(0.1, 19_500), "maker")],
        venue_kw={"touch_fills": True},
    ),
    Scenario(
        "GTC buy above the market on arrival: taker at the open (the better price)",
        [decide(limit_buy("l", 20_500.0)), B(20_000, 20_100, 19_900, 20_000)],
        [F("l", "Buy", 0.1, 20_000, taker(0.1, 20_000))],
    ),
    Scenario(
        "resting GTC buy, bar 2 gaps below it: fill at the open (fill_prices.limit_fill)",
        [decide(limit_buy("l", 19_500.0)),
         B(20_000, 20_100, 19_600, 19_800),
         B(19_300, 19_400, 19_200, 19_350)],
        [F("l", "Buy", 0.1, 19_300, maker(0.1, 19_300), "maker")],
    ),
    Scenario(
        "GTC sell rests above, the high trades through 20,500",
        [decide(limit_sell("l", 20_500.0)), B(20_000, 20_600, 19_900, 20_100)],
        [F("l", "Sell", 0.1, 20_500, maker(0.1, 20_500), "maker")],
    ),
    Scenario(
        "IOC fills on its first bar ('now') when it crosses, as taker",
        [decide(limit_buy("l", 19_500.0, "IOC")), B(20_000, 20_100, 19_400, 19_800)],
        [F("l", "Buy", 0.1, 19_500, taker(0.1, 19_500))],
    ),
    Scenario(
        "IOC not crossing on its first bar: cancelled at its end, bar 2 is too late",
        [decide(limit_buy("l", 19_500.0, "IOC")),
         B(20_000, 20_100, 19_600, 19_800),
         B(19_800, 19_850, 19_000, 19_700)],
        [],
        [("l", "IOC remainder")],
    ),
    Scenario(
        "FOK fills entirely on its first bar",
        [decide(limit_sell("l", 20_500.0, "FOK")), B(20_000, 20_600, 19_900, 20_100)],
        [F("l", "Sell", 0.1, 20_500, taker(0.1, 20_500))],
    ),
    Scenario(
        "FOK not crossing: cancelled entirely",
        [decide(limit_sell("l", 20_500.0, "FOK")), B(20_000, 20_400, 19_900, 20_100)],
        [],
        [("l", "FOK not filled")],
    ),
    Scenario(
        "PostOnly that would cross at the open is cancelled on arrival",
        [decide(limit_buy("l", 20_500.0, "PostOnly")), B(20_000, 20_100, 19_900, 20_000)],
        [],
        [("l", "PostOnly would take liquidity")],
    ),
    Scenario(
        "PostOnly below the market rests and fills as maker",
        [decide(limit_buy("l", 19_500.0, "PostOnly")), B(20_000, 20_100, 19_400, 19_800)],
        [F("l", "Buy", 0.1, 19_500, maker(0.1, 19_500), "maker")],
    ),
    Scenario(
        "reduce-only limit take-profit of a long fills as maker",
        [decide(buy("e", 0.1)),
         B(20_000, 20_000, 20_000, 20_000, then=(limit_sell("tp", 21_000.0, reduce_only=True),)),
         B(20_500, 21_100, 20_400, 21_000)],
        [F("e", "Buy", 0.1, 20_000, taker(0.1, 20_000)),
         F("tp", "Sell", 0.1, 21_000, maker(0.1, 21_000), "maker")],
    ),
]  # fmt: skip

CONDITIONALS = [
    Scenario(
        "buy stop-market (rises to 20,500): taker fill at the trigger",
        [decide(buy("s", 0.1, trigger_price=20_500.0, trigger_direction=1)),
         B(20_000, 20_600, 19_900, 20_550)],
        [F("s", "Buy", 0.1, 20_500, taker(0.1, 20_500))],
    ),
    Scenario(
        "bar 1 gaps up through the buy stop: fill at the open 20,700",
        [decide(buy("s", 0.1, trigger_price=20_500.0, trigger_direction=1)),
         B(20_700, 20_800, 20_600, 20_750)],
        [F("s", "Buy", 0.1, 20_700, taker(0.1, 20_700))],
    ),
    Scenario(
        "reduce-only sell stop (falls to 19,500) as a long's stop loss",
        [decide(buy("e", 0.1)),
         B(20_000, 20_000, 20_000, 20_000,
           then=(sell("st", 0.1, trigger_price=19_500.0, trigger_direction=2, reduce_only=True),)),
         B(19_900, 19_950, 19_300, 19_600)],
        [F("e", "Buy", 0.1, 20_000, taker(0.1, 20_000)),
         F("st", "Sell", 0.1, 19_500, taker(0.1, 19_500))],
    ),
    Scenario(
        "stop-limit: triggered at 20,500 on the way up, its 20,600 limit crosses: taker",
        [decide(buy("sl", 0.1, order_type="Limit", price=20_600.0,
                    trigger_price=20_500.0, trigger_direction=1)),
         B(20_000, 20_800, 19_900, 20_300)],    # path (flat): open, low 19,900, high, close
        [F("sl", "Buy", 0.1, 20_500, taker(0.1, 20_500))],
    ),
    Scenario(
        "stop-limit below its trigger rests after the trigger and fills on the way down: maker",
        [decide(buy("sl", 0.1, order_type="Limit", price=20_400.0,
                    trigger_price=20_500.0, trigger_direction=1)),
         B(20_000, 20_800, 19_900, 20_300)],    # up through 20,500, back down to 20,300
        [F("sl", "Buy", 0.1, 20_400, maker(0.1, 20_400), "maker")],
    ),
    Scenario(
        "a conditional order reserves no margin: too big only shows when it triggers",
        [decide(buy("big", 6.0, trigger_price=20_500.0, trigger_direction=1)),
         B(20_000, 20_600, 19_900, 20_550)],
        [],
        [("big", "insufficient available balance (110007)")],
    ),
    Scenario(
        "a reduce-only conditional with no position when it triggers is cancelled",
        [decide(sell("st", 0.1, trigger_price=19_500.0, trigger_direction=2, reduce_only=True)),
         B(19_900, 19_950, 19_300, 19_600)],
        [],
        [("st", "reduce-only: no position to reduce at trigger")],
    ),
]  # fmt: skip


@pytest.mark.parametrize("sc", LIMITS + CONDITIONALS, ids=[s.why for s in LIMITS + CONDITIONALS])
def test_order_scenarios(sc: Scenario):
    venue, events = run(sc.rows, make_venue(**sc.venue_kw))
    assert_fills(events, sc.fills)
    cancels = [(e.link_id, e.reason) for e in events if isinstance(e, OrderCancelled)]
    assert cancels == list(sc.cancels)
    assert not [e for e in events if isinstance(e, OrderRejected)]
    assert abs(venue.ledger_drift()) < 1e-6


@pytest.mark.parametrize(
    ("order", "code"),
    [
        (buy("s", 0.1, trigger_price=19_900.0, trigger_direction=1), 110092),
        (sell("s", 0.1, trigger_price=20_100.0, trigger_direction=2), 110093),
        (buy("s", 0.1, trigger_price=20_000.05, trigger_direction=1), 10001),
    ],
    ids=["rises-to below the last price", "falls-to above the last price", "trigger off tick"],
)
def test_conditional_refused_when_already_reached(order, code):
    _, events = run([decide(order)])
    assert [(e.link_id, e.code) for e in events if isinstance(e, OrderRejected)] == [("s", code)]


def test_resting_orders_stay_indexed_and_leave_the_book_when_done():
    rows = [decide(limit_buy("a", 19_000.0), limit_buy("b", 18_000.0), limit_sell("c", 21_000.0))]
    venue, _ = run([*rows, B(20_000, 21_100, 19_900, 21_000)])
    assert venue.open_order_ids() == ["a", "b"]  # c filled and left the book
