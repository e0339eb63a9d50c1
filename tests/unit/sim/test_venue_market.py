"""SimVenue market orders: a scenario table (open, add, reduce, close, reverse, slippage),
arrival-time rejections with Bybit's retCodes, reduce-only, the ledger and isolated margin.

Default account: 10,000 USDT, 10x, VIP0 fees (taker 0.055 %, maker 0.02 %), no slippage.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import pytest

from tests.unit.sim._venue_support import (
    BTC,
    NO_KW,
    B,
    Cancel,
    F,
    assert_fills,
    buy,
    close_ts,
    feed,
    fills,
    kinds,
    make_venue,
    run,
    sell,
)
from trade_core.engine.orders import OrderAccepted, OrderIntent, OrderRejected
from trade_core.errors import BadInputError
from trade_core.sim.models import FixedRateFees, FixedSlippage
from trade_core.sim.venue import SimVenue


class Scenario(NamedTuple):
    why: str
    rows: list[B]
    fills: list[F]
    side: str | None
    qty: float
    avg_entry: float
    balance: float  # hand-worked, USDT
    venue_kw: Mapping[str, Any] = NO_KW


FLAT = B(19_950, 19_950, 19_950, 19_950)

SCENARIOS = [
    Scenario(
        "open long, close later: closed PnL = 100 - 1.1 - 1.155 = 97.745",
        [
            B(19_950, 19_950, 19_950, 19_950, then=(buy("e1", 0.1),)),  # decide at close 19,950
            B(20_000, 20_100, 19_900, 20_050),  # fills at THIS open, 20,000: no look-ahead
            B(20_050, 20_600, 20_000, 20_500, then=(sell("x1", 0.1, reduce_only=True),)),
            B(21_000, 21_100, 20_900, 21_000),  # exit fills at the open, 21,000
        ],
        # entry fee 0.1 * 20,000 * 0.00055 = 1.1; exit fee 0.1 * 21,000 * 0.00055 = 1.155
        [F("e1", "Buy", 0.1, 20_000, 1.1), F("x1", "Sell", 0.1, 21_000, 1.155)],
        None, 0.0, math.nan,
        10_000 + 100 - 1.1 - 1.155,  # gross 0.1 * (21,000 - 20,000) = 100 -> 10,097.745
    ),
    Scenario(
        "adding averages the entry by size: (0.1*20,000 + 0.3*21,000) / 0.4 = 20,750",
        [
            B(19_950, 19_950, 19_950, 19_950, then=(buy("e1", 0.1),)),
            B(20_000, 20_000, 20_000, 20_000, then=(buy("e2", 0.3),)),
            B(21_000, 21_000, 21_000, 21_000),
        ],
        # fees 1.1 and 0.3 * 21,000 * 0.00055 = 3.465
        [F("e1", "Buy", 0.1, 20_000, 1.1), F("e2", "Buy", 0.3, 21_000, 3.465)],
        "long", 0.4, 20_750.0,
        10_000 - 1.1 - 3.465,
    ),
    Scenario(
        "partial close realises on the closed part at the average entry",
        [
            B(19_950, 19_950, 19_950, 19_950, then=(buy("e1", 0.2),)),
            B(20_000, 20_000, 20_000, 20_000, then=(sell("x1", 0.05, reduce_only=True),)),
            B(22_000, 22_000, 22_000, 22_000),
        ],
        # fees 0.2 * 20,000 * 0.00055 = 2.2 and 0.05 * 22,000 * 0.00055 = 0.605
        [F("e1", "Buy", 0.2, 20_000, 2.2), F("x1", "Sell", 0.05, 22_000, 0.605)],
        "long", 0.15, 20_000.0,
        10_000 - 2.2 + 0.05 * 2_000 - 0.605,  # gross 100 on 0.05 closed -> 10,097.195
    ),
    Scenario(
        "reversal: a Buy of 0.2 while short 0.1 closes 0.1 and opens 0.1 long",
        [
            B(19_950, 19_950, 19_950, 19_950, then=(sell("e1", 0.1),)),
            B(20_000, 20_000, 20_000, 20_000, then=(buy("r1", 0.2),)),
            B(19_000, 19_000, 19_000, 19_000),
        ],
        # fees 1.1 and 0.2 * 19,000 * 0.00055 = 2.09 (one fill, whole qty)
        [F("e1", "Sell", 0.1, 20_000, 1.1), F("r1", "Buy", 0.2, 19_000, 2.09)],
        "long", 0.1, 19_000.0,
        10_000 - 1.1 + 0.1 * (20_000 - 19_000) - 2.09,  # 10,096.81
    ),
    Scenario(
        "short closed at a loss by a reduce-only buy",
        [
            B(19_950, 19_950, 19_950, 19_950, then=(sell("e1", 0.1),)),
            B(20_000, 20_000, 20_000, 20_000, then=(buy("x1", 0.1, reduce_only=True),)),
            B(20_500, 20_500, 20_500, 20_500),
        ],
        # fees 1.1 and 0.1 * 20,500 * 0.00055 = 1.1275; gross 0.1 * (20,000 - 20,500) = -50
        [F("e1", "Sell", 0.1, 20_000, 1.1), F("x1", "Buy", 0.1, 20_500, 1.1275)],
        None, 0.0, math.nan,
        10_000 - 50 - 1.1 - 1.1275,  # 9,947.7725
    ),
    Scenario(
        "10 bps adverse slippage: buy at 20,020, sell at 19,980",
        [
            B(19_950, 19_950, 19_950, 19_950, then=(buy("e1", 0.1),)),
            B(20_000, 20_000, 20_000, 20_000, then=(sell("x1", 0.1),)),
            B(20_000, 20_000, 20_000, 20_000),
        ],
        # 20,000 * (1 +- 0.001); fees 0.1 * 20,020 * 0.00055 = 1.1011 and 1.0989
        [F("e1", "Buy", 0.1, 20_020, 1.1011), F("x1", "Sell", 0.1, 19_980, 1.0989)],
        None, 0.0, math.nan,
        10_000 - 4 - 1.1011 - 1.0989,  # gross 0.1 * (19,980 - 20,020) = -4 -> 9,993.8
        {"slippage_model": FixedSlippage(10.0)},
    ),
    Scenario(
        "fee model object: zero fees leave only the gross PnL",
        [
            B(19_950, 19_950, 19_950, 19_950, then=(buy("e1", 0.1),)),
            B(20_000, 20_000, 20_000, 20_000, then=(sell("x1", 0.1),)),
            B(20_300, 20_300, 20_300, 20_300),
        ],
        [F("e1", "Buy", 0.1, 20_000, 0.0), F("x1", "Sell", 0.1, 20_300, 0.0)],
        None, 0.0, math.nan,
        10_030.0,
        {"fee_model": FixedRateFees(taker=0.0, maker=0.0)},
    ),
]  # fmt: skip


@pytest.mark.parametrize("sc", SCENARIOS, ids=[s.why for s in SCENARIOS])
def test_market_scenarios(sc: Scenario):
    venue, events = run(sc.rows, make_venue(**sc.venue_kw))
    assert_fills(events, sc.fills)
    pos = venue.position("BTCUSDT")
    assert pos.side == sc.side
    assert pos.qty == pytest.approx(sc.qty, abs=1e-12)
    if sc.side is None:
        assert math.isnan(pos.avg_entry) and math.isnan(pos.liq_price) and pos.margin == 0.0
    else:
        assert pos.avg_entry == pytest.approx(sc.avg_entry, rel=1e-12)
    wallet = venue.wallet(20_000.0)
    assert wallet.balance == pytest.approx(sc.balance, abs=1e-6)
    # the ledger invariant, to 1e-6 USDT
    total = 10_000 + wallet.realised_pnl - wallet.fees_paid - wallet.funding_paid
    assert abs(wallet.balance - total) < 1e-6
    assert abs(venue.ledger_drift()) < 1e-6


def test_events_of_a_round_trip_come_in_order_with_arrival_times():
    _, events = run(SCENARIOS[0].rows)
    assert kinds(events) == [
        "OrderAccepted:e1", "OrderFilled:e1", "OrderAccepted:x1", "OrderFilled:x1"
    ]  # fmt: skip
    # accepted at the close of bar 0; filled at the open of bar 1, which is the same instant
    assert events[0].ts == close_ts(0) == events[1].ts


def test_isolated_margin_and_liquidation_price_follow_every_change():
    venue, _ = run(SCENARIOS[1].rows[:2])  # long 0.1 at 20,000, 10x
    pos = venue.position("BTCUSDT")
    # IM = 0.1 * 20,000 / 10 = 200, reserved from the balance
    assert pos.margin == pytest.approx(200.0)
    assert venue.available_balance == pytest.approx(10_000 - 1.1 - 200)
    # mark basis: LP = (0.1*20,000 - 200) / (0.1 * (1 - 0.005)) = 1,800 / 0.0995
    assert pos.liq_price == pytest.approx(1_800 / 0.0995, rel=1e-12)
    venue, _ = run(SCENARIOS[1].rows)  # + 0.3 at 21,000: IM = 0.4 * 20,750 / 10 = 830
    pos = venue.position("BTCUSDT")
    assert pos.margin == pytest.approx(830.0)
    assert pos.liq_price == pytest.approx((0.4 * 20_750 - 830) / (0.4 * 0.995), rel=1e-12)
    wallet = venue.wallet(21_000.0)  # equity = balance + 0.4 * (21,000 - 20,750) = + 100
    assert wallet.equity == pytest.approx(wallet.balance + 100.0)


# ------------------------------------------------------------------ arrival rejections
class Reject(NamedTuple):
    why: str
    setup: tuple  # commands at the close of bar 0 (filled on bar 1)
    order: Any  # the order under test, at the close of bar 1
    code: int
    price: float = 20_000.0


REJECTS = [
    Reject("qty off the 0.001 step", (), buy("o", 0.0015), 10001),
    Reject("above max market qty 10", (), buy("o", 11.0), 10001),
    Reject("limit above max qty 100", (), buy("o", 101.0, order_type="Limit", price=100.0), 10001),
    Reject("limit price off the 0.1 tick", (), buy("o", 0.1, order_type="Limit", price=19_999.95), 10001),
    Reject("another symbol", (), OrderIntent("o", "ETHUSDT", "Buy", 0.1), 10001),
    Reject("order value 0.002 * 2,000 = 4 < 5 USDT", (), buy("o", 0.002), 110094, 2_000.0),
    Reject("limit value at the limit: 0.001 * 4,000 = 4 < 5", (),
           buy("o", 0.001, order_type="Limit", price=4_000.0), 110094),
    Reject("reduce-only while flat", (), sell("o", 0.1, reduce_only=True), 110017),
    Reject("reduce-only on the position's own side (would grow)", (buy("e", 0.1),),
           buy("o", 0.05, reduce_only=True), 110017),
    Reject("reduce-only larger than the position (would flip): rejected, not trimmed",
           (buy("e", 0.1),), sell("o", 0.2, reduce_only=True), 110017),
    Reject("IM 6 * 20,000 / 10 = 12,000 > 10,000 available", (), buy("o", 6.0), 110007),
    Reject("duplicate orderLinkId of an order already filled", (buy("e", 0.1),), buy("e", 0.1),
           110072),
    Reject("stop loss above the reference price of a Buy", (),
           buy("o", 0.1, stop_loss=20_100.0), 10001),
    Reject("TP/SL on a reduce-only order", (buy("e", 0.1),),
           sell("o", 0.1, reduce_only=True, stop_loss=21_000.0), 10001),
]  # fmt: skip


@pytest.mark.parametrize("r", REJECTS, ids=[r.why for r in REJECTS])
def test_arrival_rejections_carry_bybit_codes_and_never_resize(r: Reject):
    p = r.price
    rows = [B(p, p, p, p, then=r.setup), B(p, p, p, p, then=(r.order,)), B(p, p, p, p)]
    venue, events = run(rows)
    rejected = [e for e in events if isinstance(e, OrderRejected)]
    assert [(e.link_id, e.code) for e in rejected] == [(r.order.link_id, r.code)], rejected
    assert not [f for f in fills(events) if f.ts >= close_ts(1)]  # nothing more trades
    assert venue.open_order_ids() == []


def test_below_min_qty_is_rejected_not_resized():
    venue = SimVenue(
        BTC.model_copy(update={"min_qty": 0.005}), starting_balance=10_000, leverage=10
    )
    feed(venue, 0, B(20_000, 20_000, 20_000, 20_000, then=(buy("o", 0.004),)))
    (event,) = venue.drain()
    assert isinstance(event, OrderRejected) and event.code == 10001 and "min qty" in event.reason


def test_reduce_only_below_min_notional_may_close_a_small_position():
    # long 0.001 BTC at 4,000 (value 4 < 5 USDT is fine for the reduce-only close)
    rows = [
        B(6_000, 6_000, 6_000, 6_000, then=(buy("e", 0.001),)),  # value 6 at the decision
        B(6_000, 6_000, 6_000, 6_000),
        B(4_000, 4_000, 4_000, 4_000, then=(sell("x", 0.001, reduce_only=True),)),
        B(4_000, 4_000, 4_000, 4_000),
    ]
    venue, events = run(rows)
    assert [type(e).__name__ for e in events].count("OrderFilled") == 2
    assert venue.position("BTCUSDT").is_flat


def test_reduce_only_market_is_trimmed_when_the_position_shrank_before_it_fills():
    # two reduce-only sells of 0.1 each against a 0.15 long, both valid on arrival
    rows = [
        B(20_000, 20_000, 20_000, 20_000, then=(buy("e", 0.15),)),
        B(20_000, 20_000, 20_000, 20_000, then=(
            sell("x1", 0.1, reduce_only=True), sell("x2", 0.1, reduce_only=True))),
        B(20_000, 20_000, 20_000, 20_000),
    ]  # fmt: skip
    venue, events = run(rows)
    assert_fills(
        events,
        [F("e", "Buy", 0.15, 20_000, 1.65), F("x1", "Sell", 0.1, 20_000, 1.1),
         F("x2", "Sell", 0.05, 20_000, 0.55)],
    )  # fmt: skip
    assert kinds(events)[-2:] == ["OrderFilled:x2", "OrderCancelled:x2"]
    assert events[-1].reason == "reduce-only: trimmed to the position"
    assert venue.position("BTCUSDT").is_flat


def test_no_look_ahead_an_order_never_fills_on_a_bar_already_seen():
    venue = make_venue()
    feed(venue, 0, B(20_000, 20_000, 20_000, 20_000, then=(buy("e", 0.1),)))
    assert [type(e) for e in venue.drain()] == [OrderAccepted]
    assert venue.position("BTCUSDT").is_flat  # nothing happens until the next bar
    # an order stamped after the next bar's open waits for the bar after it
    venue.submit(buy("late", 0.1, created_ts=close_ts(1) + 1))
    feed(venue, 1, B(20_100, 20_100, 20_100, 20_100))
    assert [(f.link_id, f.price) for f in fills(venue.drain())] == [("e", 20_100)]
    feed(venue, 2, B(20_200, 20_200, 20_200, 20_200))  # opens at close_ts(1): too early
    assert fills(venue.drain()) == []
    feed(venue, 3, B(20_300, 20_300, 20_300, 20_300))
    assert [(f.link_id, f.price) for f in fills(venue.drain())] == [("late", 20_300)]


def test_cancel_removes_before_the_next_bar_and_a_second_cancel_is_refused():
    rows = [
        B(20_000, 20_000, 20_000, 20_000,
          then=(buy("l", 0.1, order_type="Limit", price=19_000.0), Cancel("l"), Cancel("l"))),
        B(18_000, 20_000, 18_000, 18_500),  # would have filled
    ]  # fmt: skip
    venue, events = run(rows)
    assert kinds(events) == ["OrderAccepted:l", "OrderCancelled:l", "OrderRejected:l"]
    assert events[2].code == 110001
    assert venue.position("BTCUSDT").is_flat


def test_leverage_above_the_instrument_max_is_bad_input():
    with pytest.raises(BadInputError, match="exceeds"):
        make_venue(leverage=101)


def test_hand_worked_trade_with_maker_exit_and_funding():
    # open 0.1 BTC long at 20,000 as taker:  fee 0.1 * 20,000 * 0.00055 = 1.1
    # funding 0.01 % at the close of bar 2 (mark 20,500): 0.1 * 20,500 * 0.0001 = 0.205 paid
    # exit by a resting reduce-only limit at 21,000, maker: fee 0.1 * 21,000 * 0.0002 = 0.42
    # closed PnL = 100 - 1.1 - 0.42 - 0.205 = 98.275; balance = 10,000 + 98.275
    from trade_core.sim.fees import closed_pnl

    rows = [
        B(20_000, 20_000, 20_000, 20_000, then=(buy("e1", 0.1),)),
        B(20_000, 20_000, 20_000, 20_000, then=(
            sell("x1", 0.1, order_type="Limit", price=21_000.0, reduce_only=True),)),
        B(20_400, 20_600, 20_300, 20_500),  # funding at its close; x1 not reached
        B(20_500, 21_200, 20_450, 21_100),  # through 21,000: maker fill at the limit
    ]  # fmt: skip
    venue, events = run(rows, make_venue(funding=([close_ts(2)], [0.0001])))
    assert_fills(events, [F("e1", "Buy", 0.1, 20_000, 1.1), F("x1", "Sell", 0.1, 21_000, 0.42,
                                                                "maker")])  # fmt: skip
    expected = closed_pnl(100.0, 1.1, 0.42, 0.205)
    assert expected == pytest.approx(98.275)
    wallet = venue.wallet(21_100)
    assert wallet.balance == pytest.approx(10_000 + 98.275, abs=1e-9)
    assert (wallet.realised_pnl, wallet.fees_paid, wallet.funding_paid) == pytest.approx(
        (100.0, 1.52, 0.205)
    )
    assert abs(venue.ledger_drift()) < 1e-6


def test_sim_venue_implements_the_venue_port():
    import inspect

    from trade_core.engine.venue import Venue

    for name, member in inspect.getmembers(Venue, inspect.isfunction):
        if name.startswith("_"):
            continue
        ours = inspect.signature(getattr(SimVenue, name))
        assert list(ours.parameters) == list(inspect.signature(member).parameters), name
