"""Order sizing: hand-worked examples per mode, the caps, the rejections, then invariants.

BTC below is BTCUSDT-like (tick 0.1, step 0.001, min qty 0.001, min notional 5 USDT, max
leverage 100, max qty 1190 limit / 500 market); FIL is FILUSDT-like (tick 0.001, step 0.1,
min qty 0.1, min notional 5, max leverage 50, max qty 200000 limit / 40000 market).
"""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trade_core.data.instrument_spec import Instrument, RiskTier
from trade_core.engine.sizing import SizingDecision, effective_leverage, size_order
from trade_core.play.model import Sizing

TIER = (
    RiskTier(risk_limit_value=2e6, maintenance_margin=0.005, initial_margin=0.01, max_leverage=100),
)


def instrument(symbol: str, **kw: float) -> Instrument:
    return Instrument(symbol=symbol, risk_tiers=TIER, as_of=0, **kw)


BTC = instrument(
    "BTCUSDT",
    tick_size=0.1,
    qty_step=0.001,
    min_qty=0.001,
    max_qty=1190.0,
    max_mkt_qty=500.0,
    min_notional=5.0,
    max_leverage=100.0,
)
FIL = instrument(
    "FILUSDT",
    tick_size=0.001,
    qty_step=0.1,
    min_qty=0.1,
    max_qty=200_000.0,
    max_mkt_qty=40_000.0,
    min_notional=5.0,
    max_leverage=50.0,
)
PEPE = instrument(
    "1000PEPEUSDT",
    tick_size=1e-7,
    qty_step=100.0,
    min_qty=100.0,
    max_qty=5e8,
    max_mkt_qty=5e7,
    min_notional=5.0,
    max_leverage=25.0,
)


def size(
    sizing: Sizing,
    *,
    ins: Instrument = BTC,
    equity: float = 10_000.0,
    entry: float = 60_000.0,
    stop: float | None = None,
    leverage: float = 10.0,
    system: float = 10.0,
    market: bool = True,
) -> SizingDecision:
    return size_order(
        sizing,
        equity=equity,
        entry_price=entry,
        stop_price=stop,
        leverage=leverage,
        system_max_leverage=system,
        instrument=ins,
        market=market,
    )


def D(x: float) -> Decimal:
    return Decimal(repr(x))


def assert_order(
    d: SizingDecision, qty: float, notional: float, capped_by: str | None = None
) -> None:
    assert d.qty == qty, d.reason
    assert repr(d.qty) == repr(qty)  # prints as the exact step multiple
    assert d.notional == pytest.approx(notional, rel=1e-12)
    assert d.capped_by == capped_by
    assert d.accepted
    assert d.reason.startswith(f"order qty {qty:g}")


def assert_no_order(d: SizingDecision, *needles: str, capped_by: str | None = None) -> None:
    assert d.qty is None
    assert not d.accepted
    assert d.notional == 0.0
    assert d.capped_by == capped_by
    assert d.reason.startswith("no order: "), d.reason
    for needle in needles:
        assert needle in d.reason, d.reason


# ------------------------------------------------------------------------ one per mode, BTC


def test_risk_pct_long_btc():
    # 1 % of 10000 USDT = 100 USDT at risk; stop distance 60000 - 59400 = 600 USDT/BTC
    # 100 / 600 = 0.1666... BTC -> down to 0.166 BTC; notional 0.166 * 60000 = 9960 USDT
    # (<= 10x * 10000); loss at the stop 0.166 * 600 = 99.6 USDT <= 100
    d = size(Sizing(risk_pct=1.0), stop=59_400.0)
    assert_order(d, 0.166, 9960.0)
    assert "100 USDT at risk / stop distance 600 = 0.1666666667" in d.reason
    assert "rounded down to step 0.001: 0.166" in d.reason


def test_risk_pct_short_btc_stop_above_entry():
    # distance |60000 - 60750| = 750; 100 / 750 = 0.13333 -> 0.133 BTC; 0.133 * 60000 = 7980
    assert_order(size(Sizing(risk_pct=1.0), stop=60_750.0), 0.133, 7980.0)


def test_notional_btc():
    # 1000 USDT / 60000 = 0.016666 BTC -> 0.016 BTC; 0.016 * 60000 = 960 USDT
    assert_order(size(Sizing(notional=1000.0)), 0.016, 960.0)


def test_equity_pct_btc():
    # 50 % of 10000 = 5000 USDT / 60000 = 0.083333 BTC -> 0.083 BTC; 0.083 * 60000 = 4980
    assert_order(size(Sizing(equity_pct=50.0)), 0.083, 4980.0)


def test_qty_btc_is_rounded_down_to_the_step():
    # 0.0125 BTC -> 0.012 BTC (never 0.013); 0.012 * 60000 = 720 USDT
    d = size(Sizing(qty=0.0125))
    assert_order(d, 0.012, 720.0)
    assert "qty 0.0125 as given" in d.reason


# ------------------------------------------------------------------------ FIL (step 0.1)


def test_risk_pct_fil():
    # 2 % of 2500 = 50 USDT; distance 4.567 - 4.321 = 0.246; 50 / 0.246 = 203.25 FIL
    # -> 203.2 FIL; notional 203.2 * 4.567 = 928.0144 USDT; loss at stop 203.2 * 0.246 = 49.99
    d = size(Sizing(risk_pct=2.0), ins=FIL, equity=2500.0, entry=4.567, stop=4.321)
    assert_order(d, 203.2, 928.0144)


def test_notional_fil_float_noise_does_not_cost_a_step():
    # 33 / 1.1 is 29.999999999999996 in float; exactly 30 FIL in decimals -> 30.0 FIL
    # (a naive floor(q / 0.1) * 0.1 gives 29.900000000000002); notional 30 * 1.1 = 33 USDT
    assert 33 / 1.1 < 30
    assert_order(size(Sizing(notional=33.0), ins=FIL, entry=1.1), 30.0, 33.0)


def test_equity_pct_fil():
    # 10 % of 1234.5 = 123.45 USDT / 3.3 = 37.409 FIL -> 37.4 FIL; 37.4 * 3.3 = 123.42 USDT
    assert_order(size(Sizing(equity_pct=10.0), ins=FIL, equity=1234.5, entry=3.3), 37.4, 123.42)


def test_qty_fil():
    # 12.34 FIL -> 12.3 FIL; 12.3 * 4.2 = 51.66 USDT
    assert_order(size(Sizing(qty=12.34), ins=FIL, entry=4.2), 12.3, 51.66)


# ---------------------------------------------------------------------------------- caps


def test_play_leverage_caps_the_notional():
    # want 50000 USDT; leverage min(3, 10, 100) = 3 -> at most 3 * 10000 = 30000 USDT
    # 30000 / 60000 = 0.5 BTC
    d = size(Sizing(notional=50_000.0), leverage=3.0)
    assert_order(d, 0.5, 30_000.0, capped_by="leverage")
    assert "capped by leverage 3x (min of play 3, system 10, instrument 100)" in d.reason


def test_system_leverage_cap_wins_over_the_play():
    # equity_pct 1000 of 1000 USDT = 10000 USDT; min(play 20, system 5, instrument 100) = 5
    # -> 5000 USDT / 60000 = 0.08333 BTC -> 0.083 BTC; 0.083 * 60000 = 4980 USDT
    d = size(Sizing(equity_pct=1000.0), equity=1000.0, leverage=20.0, system=5.0)
    assert_order(d, 0.083, 4980.0, capped_by="leverage")
    assert "capped by leverage 5x" in d.reason


def test_instrument_max_leverage_wins():
    # 10000 FIL * 5 = 50000 USDT on 100 USDT equity; min(100, 100, FIL 50) = 50
    # -> 50 * 100 = 5000 USDT / 5 = 1000 FIL
    d = size(Sizing(qty=10_000.0), ins=FIL, equity=100.0, entry=5.0, leverage=100.0, system=100.0)
    assert_order(d, 1000.0, 5000.0, capped_by="leverage")
    assert effective_leverage(100.0, 100.0, FIL) == 50.0


def test_max_market_qty_caps_market_orders_only():
    # 50000 FIL * 5 = 250000 USDT <= 10 * 100000: no leverage cap
    market = size(Sizing(qty=50_000.0), ins=FIL, equity=100_000.0, entry=5.0, market=True)
    assert_order(market, 40_000.0, 200_000.0, capped_by="max_qty")
    assert "capped by max market-order qty 40000" in market.reason
    limit = size(Sizing(qty=50_000.0), ins=FIL, equity=100_000.0, entry=5.0, market=False)
    assert_order(limit, 50_000.0, 250_000.0)


def test_max_qty_caps_limit_orders():
    # 250000 FIL * 0.5 = 125000 USDT <= 10 * 100000; limit max 200000 FIL
    d = size(Sizing(qty=250_000.0), ins=FIL, equity=100_000.0, entry=0.5, market=False)
    assert_order(d, 200_000.0, 100_000.0, capped_by="max_qty")


def test_both_caps_name_the_binding_one():
    # 1000 BTC * 60000 = 60M USDT; 10x * 3.6M = 36M -> 600 BTC; market max 500 BTC
    d = size(Sizing(qty=1000.0), equity=3_600_000.0)
    assert_order(d, 500.0, 30_000_000.0, capped_by="max_qty")
    assert "capped by leverage 10x" in d.reason
    assert "capped by max market-order qty 500" in d.reason


# ---------------------------------------------------------------------------- rejections


def test_below_min_qty_after_rounding():
    # 0.01 % of 1000 = 0.1 USDT / 300 = 0.000333 BTC -> 0 BTC < 0.001: no order, not 0.001
    d = size(Sizing(risk_pct=0.01), equity=1000.0, stop=59_700.0)
    assert_no_order(d, "below min qty 0.001 after rounding (0.0003333333333 -> 0)")


def test_qty_below_min_qty():
    assert_no_order(size(Sizing(qty=0.0009)), "below min qty 0.001 after rounding (0.0009 -> 0)")


def test_min_notional_is_inclusive_and_exact():
    # 0.001 BTC * 5000 = 5 USDT: exactly the minimum, accepted
    assert_order(size(Sizing(qty=0.001), entry=5000.0), 0.001, 5.0)
    # 0.001 * 4999.9 = 4.9999 USDT < 5: rejected
    d = size(Sizing(qty=0.001), entry=4999.9)
    assert_no_order(d, "below min notional 5 USDT after rounding (0.001 x 4999.9 = 4.9999 USDT)")


def test_rounding_down_below_min_notional_is_not_resized_up():
    # 5 USDT / 0.7 = 7.142857 FIL -> 7.1 FIL; 7.1 * 0.7 = 4.97 USDT < 5 -> no order (not 7.2)
    d = size(Sizing(notional=5.0), ins=FIL, entry=0.7)
    assert_no_order(d, "below min notional 5 USDT", "(7.1 x 0.7 = 4.97 USDT)")
    # 4.5 USDT / 3 = 1.5 FIL, a fine qty, but 4.5 USDT < 5
    assert_no_order(size(Sizing(notional=4.5), ins=FIL, entry=3.0), "(1.5 x 3 = 4.5 USDT)")


def test_leverage_cap_then_below_minimum_keeps_capped_by():
    # 100 USDT wanted on 5 USDT equity at 1x -> 5 USDT / 60000 = 0.0000833 BTC -> 0
    d = size(Sizing(notional=100.0), equity=5.0, leverage=1.0)
    assert_no_order(d, "below min qty 0.001", "capped by leverage 1x", capped_by="leverage")


@pytest.mark.parametrize("equity", [0.0, -250.0, math.nan, math.inf])
def test_no_equity_no_order(equity):
    assert_no_order(
        size(Sizing(notional=1000.0), equity=equity), f"equity {equity:g} USDT is not positive"
    )


@pytest.mark.parametrize("entry", [0.0, -1.0, math.nan])
def test_bad_entry_price_no_order(entry):
    assert_no_order(size(Sizing(notional=1000.0), entry=entry), "entry price")


def test_risk_pct_needs_a_stop():
    assert_no_order(size(Sizing(risk_pct=1.0), stop=None), "risk_pct sizing needs a stop price")


def test_risk_pct_with_the_stop_at_the_entry():
    d = size(Sizing(risk_pct=1.0), stop=60_000.0)
    assert_no_order(d, "stop 60000 vs entry 60000 gives no stop distance")


@pytest.mark.parametrize(("leverage", "system"), [(0.0, 10.0), (3.0, -1.0), (math.nan, 10.0)])
def test_invalid_leverage_is_a_programming_error(leverage, system):
    with pytest.raises(ValueError, match="leverage"):
        size(Sizing(notional=1000.0), leverage=leverage, system=system)


def test_deterministic():
    args = {"ins": FIL, "equity": 2500.0, "entry": 4.567, "stop": 4.321}
    assert size(Sizing(risk_pct=2.0), **args) == size(Sizing(risk_pct=2.0), **args)


# ---------------------------------------------------------------------------- invariants

SIZINGS = st.one_of(
    st.floats(1e-4, 100.0).map(lambda v: Sizing(risk_pct=v)),
    st.floats(1e-2, 1e7).map(lambda v: Sizing(notional=v)),
    st.floats(1e-3, 1000.0).map(lambda v: Sizing(equity_pct=v)),
    st.floats(1e-6, 1e9).map(lambda v: Sizing(qty=v)),
)


def requested(sizing: Sizing, equity: float, entry: float, stop: float) -> float:
    """The un-rounded, uncapped request (base coin), computed independently."""
    if sizing.risk_pct is not None:
        return equity * sizing.risk_pct / 100 / abs(entry - stop)
    if sizing.notional is not None:
        return sizing.notional / entry
    if sizing.equity_pct is not None:
        return equity * sizing.equity_pct / 100 / entry
    assert sizing.qty is not None
    return sizing.qty


@settings(max_examples=500, deadline=None)
@given(
    sizing=SIZINGS,
    ins=st.sampled_from([BTC, FIL, PEPE]),
    equity=st.floats(1.0, 1e7),
    entry=st.floats(1e-5, 2e5),
    stop_frac=st.floats(1e-4, 0.9),
    side=st.sampled_from([-1, 1]),
    leverage=st.floats(1.0, 100.0),
    system=st.floats(1.0, 100.0),
    market=st.booleans(),
)
def test_invariants(sizing, ins, equity, entry, stop_frac, side, leverage, system, market):
    stop = entry * (1 - side * stop_frac)
    d = size(
        sizing,
        ins=ins,
        equity=equity,
        entry=entry,
        stop=stop,
        leverage=leverage,
        system=system,
        market=market,
    )
    assert d == size(
        sizing,
        ins=ins,
        equity=equity,
        entry=entry,
        stop=stop,
        leverage=leverage,
        system=system,
        market=market,
    )
    if d.qty is None:
        assert d.notional == 0.0
        assert d.reason.startswith("no order: below min")
        return
    qty, tol = d.qty, 1 + 1e-9
    lev = min(leverage, system, ins.max_leverage)
    assert D(qty) % D(ins.qty_step) == 0  # an exact multiple of the step
    assert qty * entry <= lev * equity * tol  # leverage cap
    want = requested(sizing, equity, entry, stop)
    assert qty <= want * tol  # never more than asked
    if sizing.risk_pct is not None:  # the loss at the stop stays within the budget
        assert qty * abs(entry - stop) <= equity * sizing.risk_pct / 100 * tol
    assert qty >= ins.min_qty
    assert D(qty) * D(entry) >= D(ins.min_notional)  # never below the minimums
    max_qty = ins.max_mkt_qty if market else ins.max_qty
    assert qty <= max_qty
    assert d.notional == qty * entry
    if d.capped_by is None:  # rounded down by less than one step
        assert qty + ins.qty_step > want / tol


@settings(max_examples=200, deadline=None)
@given(st.floats(1e-2, 1e6), st.floats(1e-3, 1e5), st.sampled_from([BTC, FIL, PEPE]))
def test_rejects_exactly_when_the_rounded_qty_is_below_a_minimum(notional, entry, ins):
    d = size(Sizing(notional=notional), ins=ins, equity=1e9, entry=entry, leverage=1.0)
    steps = int(D(notional) / D(entry) / D(ins.qty_step))  # floor of the exact quotient
    qty = min(Decimal(steps) * D(ins.qty_step), D(ins.max_mkt_qty))  # market order cap
    too_small = qty < D(ins.min_qty) or qty * D(entry) < D(ins.min_notional)
    if too_small:
        assert d.qty is None
    else:
        assert d.qty is not None
        assert D(d.qty) <= qty + D(ins.qty_step)


def test_the_leverage_cap_reserves_the_opening_fee():
    # 5x on 1,000 USDT at 20,000: without the fee the cap is 5,000 USDT = 0.25 BTC, whose
    # margin (1,000) leaves nothing for the 2.75 USDT taker fee. Reserving it: 5,000 /
    # (1 + 5 * 0.00055) = 4,986.29 USDT -> 0.2493 BTC -> 0.249 on the 0.001 step; margin
    # 996.00 + fee 2.74 = 998.74 <= 1,000.
    d = size_order(
        Sizing(qty=1.0), equity=1_000.0, entry_price=20_000.0, stop_price=None, leverage=5.0,
        system_max_leverage=10.0, instrument=BTC, market=True, fee_rate=0.00055,
    )  # fmt: skip
    assert_order(d, 0.249, 0.249 * 20_000.0, capped_by="leverage")
    assert 0.249 * 20_000.0 / 5.0 + 0.249 * 20_000.0 * 0.00055 <= 1_000.0
    assert "opening fee reserved" in d.reason
    no_fee = size(Sizing(qty=1.0), equity=1_000.0, entry=20_000.0, leverage=5.0)
    assert no_fee.qty == 0.25
