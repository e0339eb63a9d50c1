"""SimVenue volume cap (``max_participation``): hand-worked fills over several bars.

BTCUSDT test instrument (qty step 0.001), fees taker 0.055 % / maker 0.02 %, no slippage.
Orders are decided at the close of bar 0 (flat at 20,000) and may first trade on bar 1; each
row gives the bar's volume (base coin). With a cap of 10 % a bar of volume 4.0 lets the
account's fills take 0.4 BTC on it, in the order they happen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.unit.sim._venue_support import bar_ts, buy, close_ts, fills, make_venue, sell
from trade_core.engine.bars import Bar, Step
from trade_core.engine.orders import OrderCancelled, OrderIntent, PositionClosed, VenueEvent
from trade_core.errors import BadInputError
from trade_core.sim.venue import SimVenue

TAKER, MAKER = 0.00055, 0.0002


@dataclass(frozen=True)
class V:
    """One 1m bar with its volume, and the orders placed at its close."""

    o: float
    h: float
    lo: float
    c: float
    volume: float
    then: tuple[OrderIntent, ...] = field(default=())


def flat(volume: float = 100.0, *then: OrderIntent) -> V:
    return V(20_000, 20_000, 20_000, 20_000, volume, then)


def run(rows: list[V], cap: float | None = 0.1, **kw: Any) -> tuple[SimVenue, list[VenueEvent]]:
    venue = make_venue(max_participation=cap, **kw)
    events: list[VenueEvent] = []
    for i, row in enumerate(rows):
        bar = Bar(bar_ts(i), row.o, row.h, row.lo, row.c, row.volume, math.nan)
        venue.on_market(Step(close_ts(i), bar, ()))
        for intent in row.then:
            venue.submit(intent)
        events.extend(venue.drain())
    return venue, events


def got(events: list[VenueEvent]) -> list[tuple[str, int, float, float, float, str, float]]:
    """Fills as (link, bar index, qty, price, fee, liquidity, leaves)."""
    return [
        (f.link_id, (f.ts - bar_ts(0)) // 60_000, f.qty, f.price, f.fee, f.liquidity, f.leaves_qty)
        for f in fills(events)
    ]


def cancels(events: list[VenueEvent]) -> list[tuple[str, str]]:
    return [(e.link_id, e.reason) for e in events if isinstance(e, OrderCancelled)]


def approx_rows(rows: list[tuple]) -> list[tuple]:
    return [tuple(pytest.approx(x, abs=1e-9) if isinstance(x, float) else x for x in r)
            for r in rows]  # fmt: skip


def test_a_market_order_fills_in_parts_at_each_next_open():
    # 10 % of 4.0 = 0.4 at bar 1's open, of 3.0 = 0.3 at bar 2's, the last 0.3 at bar 3's
    rows = [flat(100.0, buy("m", 1.0)),
            V(20_000, 20_200, 19_900, 20_100, 4.0),
            V(20_100, 20_150, 20_000, 20_050, 3.0),
            V(20_050, 20_100, 20_000, 20_080, 10.0)]  # fmt: skip
    venue, events = run(rows)
    assert got(events) == approx_rows([
        ("m", 1, 0.4, 20_000.0, 0.4 * 20_000 * TAKER, "taker", 0.6),  # 4.4 USDT
        ("m", 2, 0.3, 20_100.0, 0.3 * 20_100 * TAKER, "taker", 0.3),  # 3.3165
        ("m", 3, 0.3, 20_050.0, 0.3 * 20_050 * TAKER, "taker", 0.0),  # 3.30825
    ])  # fmt: skip
    assert cancels(events) == []
    pos = venue.position("BTCUSDT")
    # (0.4 * 20,000 + 0.3 * 20,100 + 0.3 * 20,050) / 1.0 = (8,000 + 6,030 + 6,015) = 20,045
    assert (pos.side, pos.qty) == ("long", 1.0)
    assert pos.avg_entry == pytest.approx(20_045.0, abs=1e-9)
    assert venue.open_order_ids() == []


def test_the_room_is_rounded_down_to_the_qty_step():
    # 10 % of 1.2345 = 0.12345 -> 0.123; the remaining 0.077 at the next open
    rows = [flat(100.0, buy("m", 0.2)), flat(1.2345), flat(100.0)]
    _, events = run(rows)
    assert [(link, i, qty, leaves) for link, i, qty, _, _, _, leaves in got(events)] == \
        approx_rows([("m", 1, 0.123, 0.077), ("m", 2, 0.077, 0.0)])  # fmt: skip


def test_orders_share_the_room_of_a_bar_in_arrival_order():
    # room 0.4: a takes 0.3, b the last 0.1; b's 0.2 waits for bar 2's open
    rows = [flat(100.0, buy("a", 0.3), buy("b", 0.3)), flat(4.0), flat(100.0)]
    _, events = run(rows)
    assert [(link, i, qty) for link, i, qty, *_ in got(events)] == approx_rows(
        [("a", 1, 0.3), ("b", 1, 0.1), ("b", 2, 0.2)]
    )


def test_a_bar_without_volume_fills_nothing_and_the_order_waits():
    rows = [flat(100.0, buy("m", 0.5)), flat(0.0), flat(math.nan), flat(10.0)]
    _, events = run(rows)
    assert [(link, i, qty) for link, i, qty, *_ in got(events)] == approx_rows([("m", 3, 0.5)])
    assert cancels(events) == []


def test_ioc_keeps_what_filled_and_cancels_the_rest():
    rows = [flat(100.0, buy("i", 1.0, tif="IOC")), flat(4.0), flat(100.0)]
    venue, events = run(rows)
    assert [(link, i, qty, leaves) for link, i, qty, _, _, _, leaves in got(events)] == \
        approx_rows([("i", 1, 0.4, 0.6)])  # fmt: skip
    assert cancels(events) == [("i", "IOC remainder (volume cap)")]
    assert venue.position("BTCUSDT").qty == pytest.approx(0.4)


def test_fok_that_does_not_fit_is_cancelled_whole_and_fits_otherwise():
    rows = [flat(100.0, buy("f", 1.0, tif="FOK")), flat(4.0)]
    venue, events = run(rows)
    assert got(events) == []
    assert cancels(events) == [("f", "FOK: cannot fill whole within the volume cap")]
    assert venue.position("BTCUSDT").is_flat
    _, events = run([flat(100.0, buy("f", 1.0, tif="FOK")), flat(10.0)])  # room exactly 1.0
    assert [(link, qty, leaves) for link, _, qty, _, _, _, leaves in got(events)] == \
        approx_rows([("f", 1.0, 0.0)])  # fmt: skip


def limit_buy(link: str, qty: float, price: float, tif: str = "GTC") -> OrderIntent:
    return buy(link, qty, order_type="Limit", price=price, tif=tif)


def test_a_resting_limit_fills_in_parts_as_maker_over_the_bars_that_trade_through():
    rows = [
        flat(100.0, limit_buy("l", 1.0, 19_500.0)),
        V(20_000, 20_100, 19_400, 19_800, 3.0),  # room 0.3
        V(19_800, 19_900, 19_450, 19_600, 5.0),  # room 0.5
        V(19_600, 19_700, 19_300, 19_400, 10.0),  # room 1.0, 0.2 left to fill
    ]
    _, events = run(rows)
    assert got(events) == approx_rows([
        ("l", 1, 0.3, 19_500.0, 0.3 * 19_500 * MAKER, "maker", 0.7),  # 1.17 USDT
        ("l", 2, 0.5, 19_500.0, 0.5 * 19_500 * MAKER, "maker", 0.2),  # 1.95
        ("l", 3, 0.2, 19_500.0, 0.2 * 19_500 * MAKER, "maker", 0.0),  # 0.78
    ])  # fmt: skip
    assert cancels(events) == []


def test_limit_ioc_and_fok_under_the_cap():
    bar1 = V(20_000, 20_100, 19_400, 19_800, 4.0)  # trades through 19,500; room 0.4
    _, events = run([flat(100.0, limit_buy("i", 1.0, 19_500.0, "IOC")), bar1])
    assert got(events) == approx_rows(
        [("i", 1, 0.4, 19_500.0, 0.4 * 19_500 * TAKER, "taker", 0.6)]  # IOC fills are taker
    )
    assert cancels(events) == [("i", "IOC remainder (volume cap)")]
    _, events = run([flat(100.0, limit_buy("f", 1.0, 19_500.0, "FOK")), bar1])
    assert got(events) == []
    assert cancels(events) == [("f", "FOK: cannot fill whole within the volume cap")]


def test_reduce_only_orders_are_neither_capped_nor_counted():
    # long 1.0 opened on a busy bar; on a bar of volume 0.5 (room 0.05) a reduce-only sell of
    # 0.5 fills whole and leaves the room to the plain sell of 0.05 behind it
    rows = [flat(100.0, buy("e", 1.0)), flat(100.0, sell("r", 0.5, reduce_only=True),
            sell("p", 0.05)), flat(0.5)]  # fmt: skip
    venue, events = run(rows)
    assert [(link, i, qty) for link, i, qty, *_ in got(events)] == approx_rows(
        [("e", 1, 1.0), ("r", 2, 0.5), ("p", 2, 0.05)]
    )
    assert venue.position("BTCUSDT").qty == pytest.approx(0.45)


def test_the_venue_stop_loss_closes_the_whole_position_on_a_thin_bar():
    rows = [
        flat(100.0, buy("e", 1.0, stop_loss=19_800.0)),
        flat(100.0),  # fills 1.0 at 20,000
        V(20_000, 20_000, 19_700, 19_750, 0.01),  # room 0.001, the stop takes 1.0
    ]
    venue, events = run(rows)
    assert [(link, i, qty, price) for link, i, qty, price, *_ in got(events)] == approx_rows(
        [("e", 1, 1.0, 20_000.0), ("e-sl", 2, 1.0, 19_800.0)]
    )
    (closed,) = [e for e in events if isinstance(e, PositionClosed)]
    assert closed.exit_type == "StopLoss" and closed.qty == pytest.approx(1.0)
    assert venue.position("BTCUSDT").is_flat


def test_no_cap_by_default_fills_whole_whatever_the_volume():
    _, events = run([flat(100.0, buy("m", 1.0)), flat(0.01)], cap=None)
    assert [(link, qty, leaves) for link, _, qty, _, _, _, leaves in got(events)] == \
        approx_rows([("m", 1.0, 0.0)])  # fmt: skip


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.5, math.nan, "0.1"])
def test_max_participation_must_be_a_fraction(bad):
    with pytest.raises(BadInputError, match="max_participation"):
        make_venue(max_participation=bad)


def test_a_triggered_conditional_market_order_carries_its_rest_to_the_next_open():
    # rises to 20,100 in bar 1 (room 0.4): 0.4 at the trigger; the 0.6 left at bar 2's open
    rows = [flat(100.0, buy("c", 1.0, trigger_price=20_100.0, trigger_direction=1)),
            V(20_000, 20_200, 19_900, 20_150, 4.0),
            V(20_150, 20_250, 20_100, 20_200, 10.0)]  # fmt: skip
    _, events = run(rows)
    assert [(link, i, qty, price, leaves) for link, i, qty, price, _, _, leaves in got(events)] \
        == approx_rows([("c", 1, 0.4, 20_100.0, 0.6), ("c", 2, 0.6, 20_150.0, 0.0)])  # fmt: skip
    assert cancels(events) == []
