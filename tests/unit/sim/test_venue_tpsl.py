"""SimVenue position TP/SL: a scenario table of 1m bars (each commented with what it does),
set on the entry order or by ``set_trading_stop``, with the gap rule, the conservative
same-bar rule, the venue's derived link ids and the cancellations when the position closes.

Default account: 10,000 USDT, 10x, VIP0 fees (taker 0.055 %), no slippage. The entry is a
market Buy (or Sell) of 0.1 BTC decided at the close of bar 0 and filled at bar 1's open,
20,000 (fee 0.1 * 20,000 * 0.00055 = 1.1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import pytest

from tests.unit.sim._venue_support import (
    NO_KW,
    B,
    F,
    TradingStop,
    assert_fills,
    buy,
    kinds,
    make_venue,
    run,
    sell,
)
from trade_core.engine.orders import OrderFilled, OrderRejected
from trade_core.sim.models import FixedSlippage
from trade_core.sim.order_book import OrderBook, derived_link_id

FLAT = B(20_000, 20_000, 20_000, 20_000)


def long_entry(**protect: float) -> B:
    return B(20_000, 20_000, 20_000, 20_000, then=(buy("e1", 0.1, **protect),))


def short_entry(**protect: float) -> B:
    return B(20_000, 20_000, 20_000, 20_000, then=(sell("e1", 0.1, **protect),))


class Scenario(NamedTuple):
    why: str
    rows: list[B]
    fills: list[F]
    balance: float  # hand-worked, USDT
    flat: bool = True
    venue_kw: Mapping[str, Any] = NO_KW


ENTRY_L = F("e1", "Buy", 0.1, 20_000, 1.1)
ENTRY_S = F("e1", "Sell", 0.1, 20_000, 1.1)
SLTP = {"stop_loss": 19_500.0, "take_profit": 21_000.0}

SCENARIOS = [
    Scenario(
        "long SL reached inside the bar: reduce-only market fill at the trigger",
        [long_entry(**SLTP),
         FLAT,                                  # bar 1: entry at the open, nothing else
         B(19_900, 19_950, 19_400, 19_600)],    # bar 2: low 19,400 <= SL 19,500
        [ENTRY_L, F("e1-sl", "Sell", 0.1, 19_500, 1.0725)],  # 0.1*19,500*0.00055
        10_000 - 1.1 - 50 - 1.0725,             # gross 0.1 * (19,500 - 20,000) = -50
    ),
    Scenario(
        "bar 2 gaps down through the stop: fill at the open, never better than the stop",
        [long_entry(**SLTP), FLAT,
         B(19_300, 19_400, 19_200, 19_350)],    # opened below 19,500
        [ENTRY_L, F("e1-sl", "Sell", 0.1, 19_300, 1.0615)],
        10_000 - 1.1 - 70 - 1.0615,
    ),
    Scenario(
        "long TP reached inside the bar: fill at the trigger",
        [long_entry(**SLTP), FLAT,
         B(20_500, 21_100, 20_400, 21_050)],    # high 21,100 >= TP 21,000
        [ENTRY_L, F("e1-tp", "Sell", 0.1, 21_000, 1.155)],
        10_000 - 1.1 + 100 - 1.155,
    ),
    Scenario(
        "bar 2 gaps up through the TP: fill at the open (the better price)",
        [long_entry(**SLTP), FLAT,
         B(21_200, 21_300, 21_100, 21_250)],
        [ENTRY_L, F("e1-tp", "Sell", 0.1, 21_200, 1.166)],
        10_000 - 1.1 + 120 - 1.166,
    ),
    Scenario(
        "one bar reaches both from inside: conservative, the stop loss first",
        [long_entry(**SLTP), FLAT,
         B(20_000, 21_500, 19_000, 20_000)],
        [ENTRY_L, F("e1-sl", "Sell", 0.1, 19_500, 1.0725)],
        10_000 - 1.1 - 50 - 1.0725,
    ),
    Scenario(
        "one bar reaches both but opened beyond the TP: the TP at the open",
        [long_entry(**SLTP), FLAT,
         B(21_200, 21_300, 19_000, 19_100)],
        [ENTRY_L, F("e1-tp", "Sell", 0.1, 21_200, 1.166)],
        10_000 - 1.1 + 120 - 1.166,
    ),
    Scenario(
        "the stop is checked in the entry bar itself, after the open fill",
        [long_entry(**SLTP),
         B(20_000, 20_050, 19_400, 19_450)],    # bar 1: entry at open, then low 19,400
        [ENTRY_L, F("e1-sl", "Sell", 0.1, 19_500, 1.0725)],
        10_000 - 1.1 - 50 - 1.0725,
    ),
    Scenario(
        "set_trading_stop moves the stop up; it works from the next bar",
        [long_entry(stop_loss=19_000.0),
         B(20_000, 20_100, 19_900, 20_000, then=(TradingStop(19_800.0, None),)),
         B(20_000, 20_050, 19_700, 19_750)],    # low 19,700 <= new SL 19,800
        [ENTRY_L, F("e1-sl", "Sell", 0.1, 19_800, 0.1 * 19_800 * 0.00055)],
        10_000 - 1.1 - 20 - 1.089,
    ),
    Scenario(
        "set_trading_stop with take_profit=None clears the TP",
        [long_entry(**SLTP),
         B(20_000, 20_000, 20_000, 20_000, then=(TradingStop(19_500.0, None),)),
         B(20_500, 21_500, 20_400, 21_400)],    # would have hit TP 21,000
        [ENTRY_L],
        10_000 - 1.1,
        flat=False,
    ),
    Scenario(
        "short SL above: bar 2's high reaches it, a Buy closes at the trigger",
        [short_entry(stop_loss=20_500.0, take_profit=19_000.0), FLAT,
         B(20_100, 20_600, 19_900, 20_550)],
        [ENTRY_S, F("e1-sl", "Buy", 0.1, 20_500, 1.1275)],
        10_000 - 1.1 - 50 - 1.1275,
    ),
    Scenario(
        "short TP below, bar gaps down through it: fill at the open",
        [short_entry(stop_loss=20_500.0, take_profit=19_000.0), FLAT,
         B(18_800, 18_900, 18_700, 18_850)],
        [ENTRY_S, F("e1-tp", "Buy", 0.1, 18_800, 0.1 * 18_800 * 0.00055)],
        10_000 - 1.1 + 120 - 1.034,
    ),
    Scenario(
        "10 bps slippage: entry 20,020, stop fill 19,500 * 0.999 = 19,480.5",
        [long_entry(**SLTP), FLAT, B(19_900, 19_950, 19_400, 19_600)],
        [F("e1", "Buy", 0.1, 20_020, 1.1011), F("e1-sl", "Sell", 0.1, 19_480.5, 1.0714275)],
        10_000 - 1.1011 - 53.95 - 1.0714275,    # gross 0.1 * (19,480.5 - 20,020) = -53.95
        venue_kw={"slippage_model": FixedSlippage(10.0)},
    ),
]  # fmt: skip


@pytest.mark.parametrize("sc", SCENARIOS, ids=[s.why for s in SCENARIOS])
def test_tpsl_scenarios(sc: Scenario):
    venue, events = run(sc.rows, make_venue(**sc.venue_kw))
    assert_fills(events, sc.fills)
    closes = [f for f in events if isinstance(f, OrderFilled) and f.link_id != "e1"]
    assert all(f.reduce_only and f.leaves_qty == 0.0 for f in closes)
    pos = venue.position("BTCUSDT")
    assert pos.is_flat is sc.flat
    if sc.flat:  # both levels go with the position
        assert pos.stop_loss is None and pos.take_profit is None
    assert venue.wallet(20_000).balance == pytest.approx(sc.balance, abs=1e-6)
    assert abs(venue.ledger_drift()) < 1e-6


def test_entry_attaches_levels_and_reports_them():
    venue, _ = run([long_entry(**SLTP), FLAT])
    pos = venue.position("BTCUSDT")
    assert (pos.stop_loss, pos.take_profit) == (19_500.0, 21_000.0)


def test_closing_by_stop_cancels_resting_reduce_only_orders():
    rows = [
        long_entry(stop_loss=19_500.0),
        B(20_000, 20_000, 20_000, 20_000,
          then=(sell("x", 0.1, order_type="Limit", price=22_000.0, reduce_only=True),)),
        B(19_900, 19_950, 19_400, 19_600),  # SL closes; the TP limit has nothing to reduce
    ]  # fmt: skip
    venue, events = run(rows)
    assert kinds(events)[-2:] == ["OrderFilled:e1-sl", "OrderCancelled:x"]
    assert events[-1].reason == "reduce-only: position closed"
    assert venue.open_order_ids() == []


def test_a_new_position_starts_without_the_old_levels():
    rows = [
        long_entry(**SLTP), FLAT,
        B(19_900, 19_950, 19_400, 19_600, then=(buy("e2", 0.1),)),  # stopped out, re-enter
        B(19_600, 19_700, 19_300, 19_650),  # no SL any more: 19,300 closes nothing
    ]  # fmt: skip
    venue, events = run(rows)
    pos = venue.position("BTCUSDT")
    assert pos.side == "long" and pos.stop_loss is None and pos.take_profit is None
    assert [f.link_id for f in events if isinstance(f, OrderFilled)] == ["e1", "e1-sl", "e2"]


@pytest.mark.parametrize(
    ("rows", "why"),
    [
        ([FLAT, B(20_000, 20_000, 20_000, 20_000, then=(TradingStop(19_000.0, None),))],
         "cannot set TP/SL on a zero position"),
        ([long_entry(), B(20_000, 20_000, 20_000, 20_000, then=(TradingStop(20_100.0, None),))],
         "wrong side"),
        ([long_entry(), B(20_000, 20_000, 20_000, 20_000, then=(TradingStop(19_000.05, None),))],
         "tick"),
    ],
)  # fmt: skip
def test_set_trading_stop_refusals(rows, why):
    _, events = run(rows)
    rejected = [e for e in events if isinstance(e, OrderRejected)]
    assert len(rejected) == 1 and rejected[0].code == 10001 and why in rejected[0].reason


def test_derived_link_ids_fit_36_chars_and_never_repeat():
    book = OrderBook()
    base = "3f1c7280-s44we8-z-entry_long_breakou"  # 36 chars already
    first = derived_link_id(base, "sl", book)
    assert first == base[:33] + "-sl" and len(first) == 36
    second = derived_link_id(base, "sl", book)
    assert second == base[:32] + "-sl2" and second != first
