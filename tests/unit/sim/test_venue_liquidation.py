"""SimVenue liquidation with BYBIT_RULES' worked numbers: 1 BTC at 20,000, 50x, MMR 0.5 %.

IM = 1 * 20,000 / 50 = 400 USDT; bankruptcy price long 20,000 * (1 - 1/50) = 19,600, short
20,400. Liquidation price, entry basis: long 20,000 * (1 - 0.02 + 0.005) = 19,700, short
20,300; mark basis (default): long 19,600 / 0.995 = 19,698.49..., short 20,400 / 1.005.
The 1m bar's adverse extreme is the mark proxy (low for a long, high for a short).
Entry fee 1 * 20,000 * 0.00055 = 11; a liquidation loses exactly the margin, 400, no fee.
"""

from __future__ import annotations

import pytest

from tests.unit.sim._venue_support import (
    B,
    F,
    assert_fills,
    bar_ts,
    buy,
    kinds,
    make_venue,
    run,
    sell,
)
from trade_core.engine.orders import OrderCancelled, PositionLiquidated

FLAT = B(20_000, 20_000, 20_000, 20_000)
LIQ_BALANCE = 10_000 - 11 - 400  # 9,589


def _venue(basis: str = "entry"):
    return make_venue(leverage=50.0, mm_basis=basis)


def _liquidations(events):
    return [e for e in events if isinstance(e, PositionLiquidated)]


def test_long_liquidated_when_the_low_touches_19700_entry_basis():
    rows = [
        B(20_000, 20_000, 20_000, 20_000, then=(buy("e1", 1.0),)),
        FLAT,                                   # bar 1: entry at 20,000
        B(19_900, 19_950, 19_650, 19_800),      # bar 2: low 19,650 passes 19,700
    ]  # fmt: skip
    venue, events = run(rows, _venue())
    (liq,) = _liquidations(events)
    assert (liq.side, liq.qty, liq.bankruptcy_price) == ("Sell", 1.0, pytest.approx(19_600.0))
    assert liq.mark_price == pytest.approx(19_700.0)  # the proxy price that reached it
    assert liq.margin_lost == pytest.approx(400.0)
    # on the path open 19,900 -> low 19,650 the level 19,700 is 0.8 of leg 0: 16 s in
    assert liq.ts == bar_ts(2) + 16_000
    assert_fills(events, [F("e1", "Buy", 1.0, 20_000, 11.0), F("e1-liq", "Sell", 1.0, 19_600, 0.0)])
    assert kinds(events)[-2:] == ["PositionLiquidated:BTCUSDT", "OrderFilled:e1-liq"]
    assert venue.position("BTCUSDT").is_flat
    wallet = venue.wallet(19_800)
    assert wallet.balance == pytest.approx(LIQ_BALANCE, abs=1e-6)
    assert wallet.realised_pnl == pytest.approx(-400.0)
    assert abs(venue.ledger_drift()) < 1e-6


def test_liquidation_price_reported_and_touch_is_inclusive():
    venue, _ = run([B(20_000, 20_000, 20_000, 20_000, then=(buy("e1", 1.0),)), FLAT], _venue())
    pos = venue.position("BTCUSDT")
    assert pos.liq_price == pytest.approx(19_700.0)
    assert pos.margin == pytest.approx(400.0)
    rows = [B(20_000, 20_000, 20_000, 20_000, then=(buy("e1", 1.0),)), FLAT]
    _, events = run([*rows, B(19_900, 19_950, 19_701, 19_800)], _venue())
    assert _liquidations(events) == []  # 19,701 stays above
    _, events = run([*rows, B(19_900, 19_950, 19_700, 19_800)], _venue())
    assert len(_liquidations(events)) == 1  # touching 19,700 liquidates


def test_mark_basis_liquidates_at_19698_49():
    rows = [B(20_000, 20_000, 20_000, 20_000, then=(buy("e1", 1.0),)), FLAT]
    venue, _ = run(rows, _venue("mark"))
    lp = 19_600 / 0.995  # 1*(LP - 20,000) + 400 = LP * 0.005
    assert venue.position("BTCUSDT").liq_price == pytest.approx(lp, rel=1e-12)
    _, events = run([*rows, B(19_900, 19_950, 19_699, 19_800)], _venue("mark"))
    assert _liquidations(events) == []
    _, events = run([*rows, B(19_900, 19_950, 19_698, 19_800)], _venue("mark"))
    (liq,) = _liquidations(events)
    assert liq.mark_price == pytest.approx(lp) and liq.bankruptcy_price == pytest.approx(19_600)


def test_short_liquidated_at_its_high_and_closed_at_20400():
    rows = [
        B(20_000, 20_000, 20_000, 20_000, then=(sell("e1", 1.0),)),
        FLAT,
        B(20_100, 20_350, 20_050, 20_200),      # high 20,350 passes 20,300
    ]  # fmt: skip
    venue, events = run(rows, _venue())
    (liq,) = _liquidations(events)
    assert (liq.side, liq.bankruptcy_price, liq.margin_lost) == ("Buy", 20_400, 400)
    assert venue.wallet(20_200).balance == pytest.approx(LIQ_BALANCE, abs=1e-6)


def test_a_stop_above_the_liquidation_price_fills_first():
    rows = [
        B(20_000, 20_000, 20_000, 20_000, then=(buy("e1", 1.0, stop_loss=19_800.0),)),
        FLAT,
        B(19_900, 19_950, 19_650, 19_800),      # falls through 19,800 (SL), then 19,700
    ]  # fmt: skip
    venue, events = run(rows, _venue())
    assert _liquidations(events) == []
    assert_fills(
        events, [F("e1", "Buy", 1.0, 20_000, 11.0), F("e1-sl", "Sell", 1.0, 19_800, 10.89)]
    )
    assert venue.wallet(19_800).balance == pytest.approx(10_000 - 11 - 200 - 10.89)


def test_a_stop_beyond_the_liquidation_price_is_too_late():
    rows = [
        B(20_000, 20_000, 20_000, 20_000, then=(buy("e1", 1.0, stop_loss=19_650.0),)),
        FLAT,
        B(19_900, 19_950, 19_600, 19_800),      # 19,700 (liquidation) comes before 19,650
    ]  # fmt: skip
    _, events = run(rows, _venue())
    assert len(_liquidations(events)) == 1
    assert [f.link_id for f in events if hasattr(f, "price")] == ["e1", "e1-liq"]


def test_a_gap_through_the_liquidation_price_liquidates_at_the_open():
    rows = [
        B(20_000, 20_000, 20_000, 20_000, then=(buy("e1", 1.0, stop_loss=19_800.0),)),
        FLAT,
        B(19_500, 19_550, 19_400, 19_450),      # opens below the SL and the liquidation price
    ]  # fmt: skip
    venue, events = run(rows, _venue())
    (liq,) = _liquidations(events)
    assert liq.mark_price == 19_500 and liq.ts == bar_ts(2)
    # the loss is capped at the margin although the open is below the bankruptcy price
    assert venue.wallet(19_450).balance == pytest.approx(LIQ_BALANCE, abs=1e-6)


def test_liquidation_cancels_every_open_order_first():
    rows = [
        B(20_000, 20_000, 20_000, 20_000, then=(buy("e1", 1.0),)),
        B(20_000, 20_000, 20_000, 20_000, then=(
            buy("add", 0.1, order_type="Limit", price=19_000.0),
            sell("tp", 1.0, order_type="Limit", price=21_000.0, reduce_only=True),
            sell("stop", 1.0, trigger_price=19_500.0, trigger_direction=2, reduce_only=True),
        )),
        B(19_900, 19_950, 19_650, 19_800),
    ]  # fmt: skip
    venue, events = run(rows, _venue())
    tail = kinds(events)[-5:]
    assert tail == [
        "OrderCancelled:add", "OrderCancelled:tp", "OrderCancelled:stop",
        "PositionLiquidated:BTCUSDT", "OrderFilled:e1-liq",
    ]  # fmt: skip
    assert all(e.reason == "liquidation" for e in events if isinstance(e, OrderCancelled))
    assert venue.open_order_ids() == []
