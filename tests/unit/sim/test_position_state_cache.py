"""``SimVenue.position`` reuses its frozen state until something it shows changes."""

from __future__ import annotations

import math

from tests.unit.sim._venue_support import B, buy, close_ts, feed, make_venue
from trade_core.engine.bars import Bar, Step


def test_the_cached_state_follows_every_change_of_the_position():
    venue = make_venue(funding=([close_ts(3)], [0.01]))
    flat = venue.position("BTCUSDT")
    assert venue.position("BTCUSDT") is flat  # nothing changed: the same object
    feed(venue, 0, B(20_000, 20_000, 20_000, 20_000, then=(buy("e", 1.0, stop_loss=19_000.0),)))
    feed(venue, 1, B(20_000, 20_100, 19_900, 20_050))  # fills 1.0 at 20,000
    opened = venue.position("BTCUSDT")
    assert (opened.side, opened.qty, opened.avg_entry, opened.stop_loss) == (
        "long", 1.0, 20_000.0, 19_000.0,
    )  # fmt: skip
    assert venue.position("BTCUSDT") is opened
    venue.set_trading_stop("BTCUSDT", close_ts(1), stop_loss=19_500.0, take_profit=21_000.0)
    moved = venue.position("BTCUSDT")
    assert (moved.stop_loss, moved.take_profit) == (19_500.0, 21_000.0)
    feed(venue, 2, B(20_050, 20_100, 20_000, 20_060))
    assert venue.position("BTCUSDT") is moved  # a quiet bar changes nothing
    # funding of 1 % on 20,060 = 200.6 USDT: the balance covers it, margin and liq unchanged
    feed(venue, 3, B(20_060, 20_100, 20_000, 20_060))
    assert venue.position("BTCUSDT") is moved
    venue.on_market(
        Step(close_ts(4), Bar(close_ts(3), 20_060, 20_100, 19_400, 19_450, 1, math.nan), ())
    )
    closed = venue.position("BTCUSDT")
    assert closed.is_flat and closed.stop_loss is None and math.isnan(closed.liq_price)


def test_a_funding_drain_of_the_position_margin_shows_in_the_state():
    # 10x long 1.0 at 20,000 (IM 2,000) with only 2,000.0 + fee of balance: funding of 5 %
    # (1,000 USDT) comes out of the position margin and moves the liquidation price
    venue = make_venue(starting_balance=2_100.0, funding=([close_ts(2)], [0.05]))
    feed(venue, 0, B(20_000, 20_000, 20_000, 20_000, then=(buy("e", 1.0),)))
    feed(venue, 1, B(20_000, 20_000, 20_000, 20_000))
    before = venue.position("BTCUSDT")
    feed(venue, 2, B(20_000, 20_000, 20_000, 20_000))
    after = venue.position("BTCUSDT")
    assert after.side == "long"
    assert after.margin < before.margin and after.liq_price > before.liq_price
