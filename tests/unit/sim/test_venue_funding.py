"""SimVenue funding: sign cases, the settlement boundary, the mark proxy (the close of the 1m
bar that closes at the settlement instant), margin drain moving the liquidation price
(BYBIT_RULES Example 3) and liquidation by funding.

A settlement at ``ts`` is charged on the position open at ``ts``; the tests place it at the
close of a scenario bar (``close_ts(i)``), where the engine also decides.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.unit.sim._venue_support import (
    BTC,
    B,
    bar_ts,
    buy,
    close_ts,
    kinds,
    make_venue,
    run,
    sell,
)
from trade_core.engine.bars import Bar, Step
from trade_core.engine.orders import FundingSettled, PositionLiquidated
from trade_core.errors import BadInputError
from trade_core.sim.models import FundingRates
from trade_core.sim.venue import SimVenue


def _funding(events):
    return [e for e in events if isinstance(e, FundingSettled)]


ENTRY_BAR = B(20_000, 20_000, 20_000, 20_000)


@pytest.mark.parametrize(
    ("order", "rate", "amount", "why"),
    [
        (buy, 0.0001, 0.205, "rate > 0: the long pays 0.1 * 20,500 * 0.0001"),
        (sell, 0.0001, -0.205, "rate > 0: the short receives"),
        (buy, -0.0001, -0.205, "rate < 0: the long receives"),
        (sell, -0.0001, 0.205, "rate < 0: the short pays"),
    ],
)
def test_funding_signs(order, rate, amount, why):
    rows = [
        B(20_000, 20_000, 20_000, 20_000, then=(order("e1", 0.1),)),
        ENTRY_BAR,                              # bar 1: entry at 20,000
        B(20_000, 20_600, 19_900, 20_500),      # bar 2 closes at the settlement: mark 20,500
    ]  # fmt: skip
    venue, events = run(rows, make_venue(funding=([close_ts(2)], [rate])))
    (f,) = _funding(events)
    assert f == FundingSettled("BTCUSDT", close_ts(2), rate, 20_500.0, 0.1, pytest.approx(amount))
    wallet = venue.wallet(20_500)
    assert wallet.funding_paid == pytest.approx(amount)
    assert wallet.balance == pytest.approx(10_000 - 1.1 - amount, abs=1e-9)
    assert abs(venue.ledger_drift()) < 1e-6


def test_settlement_boundary_is_open_left_closed_right():
    # entry decided at close_ts(0), filled at bar 1's open = close_ts(0): AFTER a settlement
    # stamped close_ts(0) (settled on the flat account), but the position pays at close_ts(1).
    # An exit decided at close_ts(2) fills after the settlement at close_ts(2): it pays too.
    rows = [
        B(20_000, 20_000, 20_000, 20_000, then=(buy("e1", 0.1),)),
        ENTRY_BAR,
        B(20_000, 20_000, 20_000, 20_000, then=(sell("x1", 0.1, reduce_only=True),)),
        B(20_000, 20_000, 20_000, 20_000),      # exit at the open
        B(20_000, 20_000, 20_000, 20_000),      # flat at close_ts(4): nothing
    ]  # fmt: skip
    times = [close_ts(0), close_ts(1), close_ts(2), close_ts(4)]
    _, events = run(rows, make_venue(funding=(times, [0.0001] * 4)))
    assert [f.ts for f in _funding(events)] == [close_ts(1), close_ts(2)]
    # the settlement at close_ts(2) comes before the exit fill at that same instant
    assert kinds(events).index("FundingSettled:BTCUSDT") < kinds(events).index("OrderFilled:x1")


def test_a_settlement_inside_a_gap_step_uses_the_last_close():
    venue = make_venue(funding=([close_ts(2)], [0.001]))
    run([B(20_000, 20_000, 20_000, 20_000, then=(buy("e1", 0.1),)),
         B(20_000, 20_100, 19_900, 20_050)], venue)  # fmt: skip
    venue.on_market(Step(close_ts(2), None, ()))  # bar 2 missing
    (f,) = _funding(venue.drain())
    assert f.mark_price == 20_050 and f.amount == pytest.approx(0.1 * 20_050 * 0.001)


def test_funding_outside_the_step_span_is_not_charged_twice_or_early():
    venue = make_venue(funding=([close_ts(1) + 1, close_ts(2)], [0.001, 0.001]))
    run([B(20_000, 20_000, 20_000, 20_000, then=(buy("e1", 0.1),)), ENTRY_BAR], venue)
    assert _funding(venue.drain()) == []  # close_ts(1) + 1 is not yet due
    run_bar = B(20_000, 20_000, 20_000, 20_000)
    venue.on_market(
        Step(close_ts(2), Bar(bar_ts(2), run_bar.o, run_bar.h, run_bar.lo, run_bar.c, 1, 0), ())
    )
    assert [f.ts for f in _funding(venue.drain())] == [close_ts(1) + 1, close_ts(2)]


def test_funding_drains_position_margin_and_moves_the_liquidation_price():
    # BYBIT_RULES Example 3: long 1 BTC at 20,000, 50x, MMR 0.5 % (entry basis), LP 19,700;
    # available balance 0 after the entry (411 - 11 fee - 400 IM), so 200 USDT of funding
    # (rate 1 % at mark 20,000) comes out of the position margin: LP = 19,700 + 200 = 19,900.
    venue = SimVenue(
        BTC, starting_balance=411.0, leverage=50.0, mm_basis="entry",
        funding=([close_ts(2)], [0.01]),
    )  # fmt: skip
    run([B(20_000, 20_000, 20_000, 20_000, then=(buy("e1", 1.0),)), ENTRY_BAR,
         B(20_000, 20_000, 20_000, 20_000)], venue)  # fmt: skip
    pos = venue.position("BTCUSDT")
    assert pos.margin == pytest.approx(200.0)
    assert pos.liq_price == pytest.approx(19_900.0)
    assert venue.wallet(20_000).balance == pytest.approx(200.0)
    assert venue.available_balance == pytest.approx(0.0, abs=1e-9)


def test_funding_is_taken_from_available_balance_first():
    venue = make_venue(leverage=50.0, mm_basis="entry", funding=([close_ts(2)], [0.01]))
    run([B(20_000, 20_000, 20_000, 20_000, then=(buy("e1", 1.0),)), ENTRY_BAR,
         B(20_000, 20_000, 20_000, 20_000)], venue)  # fmt: skip
    pos = venue.position("BTCUSDT")
    assert pos.margin == pytest.approx(400.0) and pos.liq_price == pytest.approx(19_700.0)
    assert venue.available_balance == pytest.approx(10_000 - 11 - 400 - 200)


def test_funding_that_leaves_the_mark_beyond_the_new_liquidation_price_liquidates():
    # as above with 2 % at mark 19,950: 399 USDT drained, margin 1, LP 19,700 + 399 = 20,099
    # >= 19,950 -> liquidated at once at the bankruptcy price 19,600 + 399 = 19,999
    venue = SimVenue(
        BTC, starting_balance=411.0, leverage=50.0, mm_basis="entry",
        funding=([close_ts(2)], [0.02]),
    )  # fmt: skip
    _, events = run([B(20_000, 20_000, 20_000, 20_000, then=(buy("e1", 1.0),)), ENTRY_BAR,
                     B(20_000, 20_000, 19_900, 19_950)], venue)  # fmt: skip
    assert kinds(events)[-3:] == [
        "FundingSettled:BTCUSDT", "PositionLiquidated:BTCUSDT", "OrderFilled:e1-liq"
    ]  # fmt: skip
    liq = next(e for e in events if isinstance(e, PositionLiquidated))
    assert liq.bankruptcy_price == pytest.approx(19_999.0)
    assert liq.margin_lost == pytest.approx(1.0)
    assert venue.wallet(19_950).balance == pytest.approx(0.0, abs=1e-9)
    assert abs(venue.ledger_drift()) < 1e-6


def test_no_position_no_funding_event():
    _, events = run([B(20_000, 20_000, 20_000, 20_000)] * 3,
                    make_venue(funding=([close_ts(1)], [0.01])))  # fmt: skip
    assert _funding(events) == []


def test_funding_rates_validate_and_select_half_open_spans():
    rates = FundingRates(np.array([10, 20, 30]), np.array([0.1, 0.2, 0.3]))
    assert rates.settlements(10, 30) == [(20, 0.2), (30, 0.3)]
    assert rates.settlements(0, 9) == []
    with pytest.raises(BadInputError, match="strictly increasing"):
        FundingRates([10, 10], [0.1, 0.1])
    with pytest.raises(BadInputError, match="2 timestamps but 1"):
        FundingRates([10, 20], [0.1])
    with pytest.raises(BadInputError, match="finite"):
        FundingRates([10], [math.nan])
