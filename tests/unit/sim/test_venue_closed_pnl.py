"""Closed-PnL records (``PositionClosed``), hand-worked: a partial close, a reversal whose fee
is split between its closing and opening parts, funding allotted pro rata, a stop-loss close
and a liquidation. Bybit: closed PnL = gross - open fee - close fee (funding booked apart)."""

import pytest

from tests.unit.sim._venue_support import B, TradingStop, buy, close_ts, make_venue, run, sell
from trade_core.engine.orders import PositionClosed


def closed(events):
    return [e for e in events if isinstance(e, PositionClosed)]


def test_partial_close_then_reversal_then_close_by_hand():
    # taker 0.055 %. bar1 opens long 1 @ 20000 (fee 11); funding at bar1's close, rate 0.0001,
    # mark 20000: the long pays 2. bar2 sells 0.4 @ 21000; bar3 sells 1.0 @ 19000 (closes
    # 0.6, opens 0.4 short); bar4 buys 0.4 @ 19500.
    rows = [
        B(20_000, 20_000, 20_000, 20_000, then=(buy("e1", 1.0),)),
        B(20_000, 20_000, 20_000, 20_000, then=(sell("x1", 0.4),)),
        B(21_000, 21_000, 21_000, 21_000, then=(sell("x2", 1.0),)),
        B(19_000, 19_000, 19_000, 19_000, then=(buy("x3", 0.4),)),
        B(19_500, 19_500, 19_500, 19_500),
    ]
    venue, events = run(rows, make_venue(funding=([close_ts(1)], [0.0001])))
    recs = closed(events)
    assert [(r.exit_link_id, r.position_side, r.exit_type) for r in recs] == [
        ("x1", "long", "Order"), ("x2", "long", "Order"), ("x3", "short", "Order"),
    ]  # fmt: skip
    expected = [
        # qty, entry, exit, gross, entry fee, exit fee, funding, closed pnl
        (0.4, 20_000, 21_000, 400.0, 4.4, 4.62, 0.8, 390.98),
        (0.6, 20_000, 19_000, -600.0, 6.6, 6.27, 1.2, -612.87),
        (0.4, 19_000, 19_500, -200.0, 4.18, 4.29, 0.0, -208.47),
    ]
    for r, (qty, entry, exit_, gross, efee, xfee, fund, cpnl) in zip(recs, expected, strict=True):
        assert r.qty == pytest.approx(qty, abs=1e-12)
        assert (r.avg_entry, r.avg_exit) == (entry, exit_)
        assert r.gross_pnl == pytest.approx(gross, abs=1e-9)
        assert r.entry_fee == pytest.approx(efee, abs=1e-9)
        assert r.exit_fee == pytest.approx(xfee, abs=1e-9)
        assert r.funding == pytest.approx(fund, abs=1e-9)
        assert r.closed_pnl == pytest.approx(cpnl, abs=1e-9)
    assert recs[0].entry_link_id == recs[1].entry_link_id == "e1"
    assert recs[2].entry_link_id == "x2"  # the reversal fill opened the short
    assert recs[2].opened_ts == recs[1].ts
    # the records of the whole history add up to what the ledger booked
    wallet = venue.wallet(19_500)
    net = sum(r.closed_pnl - r.funding for r in recs)
    assert wallet.balance - 10_000.0 == pytest.approx(net, abs=1e-9)
    assert venue.position("BTCUSDT").is_flat


def test_stop_loss_close_is_a_record_of_exit_type_stop_loss():
    rows = [
        B(20_000, 20_000, 20_000, 20_000, then=(buy("e1", 0.5, stop_loss=19_800.0),)),
        B(20_000, 20_000, 20_000, 20_000),
        B(19_900, 19_950, 19_700, 19_750),
    ]
    _, events = run(rows)
    (rec,) = closed(events)
    assert (rec.exit_type, rec.exit_link_id, rec.avg_exit) == ("StopLoss", "e1-sl", 19_800.0)
    assert rec.gross_pnl == pytest.approx(-100.0)
    assert rec.closed_pnl == pytest.approx(-100.0 - 5.5 - 0.5 * 19_800 * 0.00055)


def test_take_profit_after_a_trading_stop_is_a_take_profit_record():
    rows = [
        B(20_000, 20_000, 20_000, 20_000, then=(buy("e1", 0.5),)),
        B(20_000, 20_000, 20_000, 20_000, then=(TradingStop(19_000.0, 20_300.0),)),
        B(20_100, 20_400, 20_050, 20_350),
    ]
    _, events = run(rows)
    (rec,) = closed(events)
    assert (rec.exit_type, rec.exit_link_id, rec.avg_exit) == ("TakeProfit", "e1-tp", 20_300.0)


def test_liquidation_is_a_record_at_the_bankruptcy_price_with_the_margin_lost():
    # long 1 @ 20000 at 50x: margin 400, bankruptcy 19600 (entry basis of the gross loss)
    rows = [
        B(20_000, 20_000, 20_000, 20_000, then=(buy("e1", 1.0),)),
        B(20_000, 20_000, 20_000, 20_000),
        B(19_800, 19_800, 19_500, 19_550),
    ]
    _, events = run(rows, make_venue(leverage=50.0))
    (rec,) = closed(events)
    assert rec.exit_type == "Liquidation"
    assert rec.avg_exit == pytest.approx(19_600.0)
    assert rec.gross_pnl == pytest.approx(-400.0)
    assert rec.exit_fee == 0.0
    assert rec.closed_pnl == pytest.approx(-400.0 - 11.0)
