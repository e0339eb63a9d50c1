"""Fees and closed PnL against hand-worked Bybit examples and a cash-ledger oracle."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trade_core.errors import BadInputError
from trade_core.sim.fees import VIP0_MAKER_RATE, VIP0_TAKER_RATE, closed_pnl, trade_fee
from trade_core.sim.margin import funding_fee, realised_pnl


@pytest.mark.parametrize(
    ("qty", "price", "rate", "expected", "why"),
    [
        # 0.1 BTC * 20,000 = 2,000 USDT order value; * 0.055 % = 1.10
        (0.1, 20_000, VIP0_TAKER_RATE, 1.10, "taker fee on 2,000 USDT"),
        # 2,000 * 0.02 % = 0.40
        (0.1, 20_000, VIP0_MAKER_RATE, 0.40, "maker fee on 2,000 USDT"),
        # 2,000 * -0.01 % = -0.20: the account is credited
        (0.1, 20_000, -0.0001, -0.20, "negative maker rate is a rebate"),
        (0.1, 20_000, 0.0, 0.0, "fee-free account"),
        # 1 BTC at 20,000 taker (Bybit liquidation example's position): 20,000 * 0.055 % = 11
        (1, 20_000, 0.00055, 11.0, "taker fee on 20,000 USDT"),
    ],
)
def test_trade_fee_examples(qty, price, rate, expected, why):
    assert trade_fee(qty, price, rate) == pytest.approx(expected, abs=1e-12), why


def test_closed_pnl_long_round_trip_taker_both_sides():
    # buy 0.1 BTC at 20,000, sell at 21,000, taker both sides (0.055 %)
    gross = realised_pnl("long", 0.1, 20_000, 21_000)  # 0.1 * (21,000 - 20,000) = 100
    open_fee = trade_fee(0.1, 20_000, VIP0_TAKER_RATE)  # 2,000 * 0.00055 = 1.10
    close_fee = trade_fee(0.1, 21_000, VIP0_TAKER_RATE)  # 2,100 * 0.00055 = 1.155
    assert gross == pytest.approx(100.0)
    assert open_fee == pytest.approx(1.10)
    assert close_fee == pytest.approx(1.155)
    # closed PnL = 100 - 1.10 - 1.155 = 97.745
    assert closed_pnl(gross, open_fee, close_fee) == pytest.approx(97.745, abs=1e-9)


def test_closed_pnl_bybit_short_example_with_funding():
    # Bybit "P&L calculations (USDT Contract)": short 0.4 BTC at 6,000, closed at 5,000
    gross = realised_pnl("short", 0.4, 6_000, 5_000)  # 0.4 * (6,000 - 5,000) = 400
    open_fee = trade_fee(0.4, 6_000, 0.00055)  # 2,400 * 0.00055 = 1.32
    close_fee = trade_fee(0.4, 5_000, 0.00055)  # 2,000 * 0.00055 = 1.10
    # funding paid over the trade: 2.10 USDT
    # closed PnL = 400 - 1.32 - 1.10 - 2.10 = 395.48
    assert closed_pnl(gross, open_fee, close_fee, funding=2.10) == pytest.approx(395.48, abs=1e-9)


def test_closed_pnl_with_funding_received_and_maker_rebate():
    # long 1 ETH at 2,000 (maker, rebate -0.01 %: -0.20), sold at 1,950 taker (1.0725),
    # received 0.30 funding (paid = -0.30):
    #   gross = 1 * (1,950 - 2,000) = -50
    #   closed = -50 - (-0.20) - 1.0725 - (-0.30) = -50.5725
    gross = realised_pnl("long", 1, 2_000, 1_950)
    got = closed_pnl(gross, trade_fee(1, 2_000, -0.0001), trade_fee(1, 1_950, 0.00055), -0.30)
    assert got == pytest.approx(-50.5725, abs=1e-9)


def test_bad_inputs_are_named():
    with pytest.raises(BadInputError, match="qty"):
        trade_fee(0, 100, 0.00055)
    with pytest.raises(BadInputError, match="rate"):
        trade_fee(1, 100, float("inf"))
    with pytest.raises(BadInputError, match="funding"):
        closed_pnl(1, 0, 0, float("nan"))


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["long", "short"]),
    st.floats(0.001, 100.0),
    st.floats(1.0, 100_000.0),
    st.floats(1.0, 100_000.0),
    st.sampled_from([VIP0_TAKER_RATE, VIP0_MAKER_RATE, -0.0001]),
    st.sampled_from([VIP0_TAKER_RATE, VIP0_MAKER_RATE]),
    st.lists(st.tuples(st.floats(1.0, 100_000.0), st.floats(-0.003, 0.003)), max_size=5),
)
def test_closed_pnl_equals_cash_ledger(side, qty, entry, exit_, open_rate, close_rate, fundings):
    """Second implementation: walk the wallet's cash movements of the trade, one by one."""
    s = 1 if side == "long" else -1
    wallet = 0.0
    wallet -= qty * entry * open_rate  # fee on the opening fill
    for mark, rate in fundings:  # each settlement: longs pay when rate > 0
        wallet -= s * qty * mark * rate
    wallet += s * qty * (exit_ - entry)  # PnL settled on close
    wallet -= qty * exit_ * close_rate  # fee on the closing fill
    funding_paid = sum(funding_fee(side, qty, mark, rate) for mark, rate in fundings)
    got = closed_pnl(
        realised_pnl(side, qty, entry, exit_),
        trade_fee(qty, entry, open_rate),
        trade_fee(qty, exit_, close_rate),
        funding_paid,
    )
    assert math.isclose(got, wallet, abs_tol=1e-9 * qty * (entry + exit_ + 1.0))


@settings(max_examples=200, deadline=None)
@given(st.floats(0.001, 100.0), st.floats(0.001, 100.0), st.floats(1.0, 100_000.0))
def test_fee_is_additive_over_partial_fills(q1, q2, price):
    whole = trade_fee(q1 + q2, price, VIP0_TAKER_RATE)
    parts = trade_fee(q1, price, VIP0_TAKER_RATE) + trade_fee(q2, price, VIP0_TAKER_RATE)
    assert math.isclose(whole, parts, rel_tol=1e-12)
