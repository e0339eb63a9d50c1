"""Isolated-margin math against independent oracles.

Oracles: Bybit's own worked examples (help centre "Liquidation Price (USDT Contract)" and
"P&L calculations (USDT Contract)"), arithmetic written out in comments; a bisection solver
of the liquidation *condition* (margin balance == maintenance margin) that never uses the
closed forms; and invariants (hypothesis) such as PnL additivity over lots and zero-sum
funding.
"""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from trade_core.data.instrument_spec import Instrument, RiskTier
from trade_core.errors import BadInputError
from trade_core.sim.margin import (
    average_entry,
    bankruptcy_price,
    funding_fee,
    initial_margin,
    is_liquidated,
    liquidation_price,
    liquidation_price_for,
    maintenance_margin,
    maintenance_margin_for,
    position_value,
    realised_pnl,
    unrealised_pnl,
)

BTC_T1 = RiskTier(
    risk_limit_value=2_000_000, maintenance_margin=0.005, initial_margin=0.01, max_leverage=100
)
# AVAXUSDT-shaped tiers (bundled snapshot): MM is continuous at each limit, e.g. at 200k:
# tier 1 0.01 * 200_000 - 0 = 2000 = tier 2 0.015 * 200_000 - 1000.
AVAX_TIERS = (
    RiskTier(
        risk_limit_value=200_000, maintenance_margin=0.01, initial_margin=0.02, max_leverage=50
    ),
    RiskTier(
        risk_limit_value=400_000,
        maintenance_margin=0.015,
        initial_margin=0.025,
        max_leverage=40,
        mm_deduction=1000,
    ),
    RiskTier(
        risk_limit_value=600_000,
        maintenance_margin=0.02,
        initial_margin=0.03,
        max_leverage=33.33,
        mm_deduction=3000,
    ),
    RiskTier(
        risk_limit_value=1_000_000,
        maintenance_margin=0.03,
        initial_margin=0.04,
        max_leverage=25,
        mm_deduction=9000,
    ),
)


def _instrument(tiers: tuple[RiskTier, ...]) -> Instrument:
    return Instrument(
        symbol="AVAXUSDT",
        tick_size=0.001,
        qty_step=0.1,
        min_qty=0.1,
        min_notional=5,
        max_leverage=50,
        risk_tiers=tiers,
        as_of=1_746_057_600_000,
    )


AVAX = _instrument(AVAX_TIERS)


# ----------------------------------------------------------------------------- oracle
def _bisect_increasing(f, lo: float, hi: float) -> float:
    """Root of an increasing function on [lo, hi] by plain bisection (no closed form)."""
    assert f(lo) <= 0.0 <= f(hi), (lo, hi, f(lo), f(hi))
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if f(mid) <= 0.0:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-13 * max(1.0, abs(lo)):
            break
    return 0.5 * (lo + hi)


def _oracle_liq(side, entry, qty, lev, mm_of_price, extra=0.0) -> float:
    """Solve margin balance(P) == MM(P) numerically; ``mm_of_price(P)`` is the MM model."""
    s = 1.0 if side == "long" else -1.0

    def g(p: float) -> float:  # s * (balance - MM): increasing in p for both sides
        balance = qty * entry / lev + extra + s * qty * (p - entry)
        return s * (balance - mm_of_price(p))

    span = 10.0 * entry + 10.0 * abs(qty * entry / lev + extra) / qty
    return _bisect_increasing(g, entry - span, entry + span)


def _close(a: float, b: float, scale: float) -> bool:
    return math.isclose(a, b, rel_tol=0.0, abs_tol=1e-9 * scale)


# ---------------------------------------------------------------------- hand examples
def test_initial_and_maintenance_margin_hand_examples():
    # 1 BTC at 20,000 USDT, 50x: IM = 1 * 20,000 / 50 = 400 USDT
    assert initial_margin(1, 20_000, 50) == pytest.approx(400.0)
    # MM = 1 * 20,000 * 0.5 % - 0 = 100 USDT
    assert maintenance_margin(1, 20_000, BTC_T1) == pytest.approx(100.0)
    # 10,000 AVAX at 30 = 300,000 USDT -> tier 2 (200k..400k): 300,000 * 1.5 % - 1,000 = 3,500
    assert position_value(10_000, 30) == pytest.approx(300_000.0)
    assert maintenance_margin_for(10_000, 30, AVAX) == pytest.approx(3_500.0)
    # 5,000 AVAX at 30 = 150,000 -> tier 1: 150,000 * 1 % = 1,500
    assert maintenance_margin_for(5_000, 30, AVAX) == pytest.approx(1_500.0)
    # deduction larger than the rate part: 1 * 30 * 1.5 % - 1,000 < 0 -> floored at 0
    assert maintenance_margin(1, 30, AVAX_TIERS[1]) == 0.0


def test_bankruptcy_price_hand_examples():
    # long: 20,000 * (1 - 1/50) = 20,000 * 0.98 = 19,600
    assert bankruptcy_price("long", 20_000, 50) == pytest.approx(19_600.0)
    # short: 20,000 * (1 + 1/50) = 20,400
    assert bankruptcy_price("short", 20_000, 50) == pytest.approx(20_400.0)
    # short 1 BTC with 3,000 USDT extra margin: 20,400 + 3,000 / 1 = 23,400
    assert bankruptcy_price("short", 20_000, 50, qty=1, extra_margin=3_000) == pytest.approx(23_400)
    # long 0.5 BTC, 200 USDT funding drained from margin (E = -200): 19,600 + 200 / 0.5 = 20,000
    assert bankruptcy_price("long", 20_000, 50, qty=0.5, extra_margin=-200) == pytest.approx(20_000)
    with pytest.raises(BadInputError, match="qty is required"):
        bankruptcy_price("long", 20_000, 50, extra_margin=10)


def test_liquidation_entry_basis_reproduces_bybit_examples():
    # Bybit Example 1 (BYBIT_RULES): long 1 BTC at 20,000, 50x, MMR 0.5 %, no extra margin.
    #   IM = 400, MM = 100, LP = 20,000 - (400 - 100) / 1 = 19,700
    #   classic: 20,000 * (1 - 0.02 + 0.005) = 20,000 * 0.985 = 19,700
    assert liquidation_price("long", 20_000, 1, 50, BTC_T1, mm_basis="entry") == pytest.approx(
        19_700.0, abs=1e-9
    )
    # short mirror: 20,000 + (400 - 100) = 20,300 = 20,000 * (1 + 0.02 - 0.005)
    assert liquidation_price("short", 20_000, 1, 50, BTC_T1, mm_basis="entry") == pytest.approx(
        20_300.0, abs=1e-9
    )
    # Bybit Example 2: short 1 BTC at 20,000, 50x, later adds 3,000 USDT:
    #   20,000 + (400 - 100) + 3,000 / 1 = 23,300
    lp = liquidation_price("short", 20_000, 1, 50, BTC_T1, extra_margin=3_000, mm_basis="entry")
    assert lp == pytest.approx(23_300.0, abs=1e-9)
    # Bybit Example 3: Example 1's long pays 200 USDT funding out of position margin:
    #   19,700 + 200 / 1 = 19,900
    lp = liquidation_price("long", 20_000, 1, 50, BTC_T1, extra_margin=-200, mm_basis="entry")
    assert lp == pytest.approx(19_900.0, abs=1e-9)


def test_liquidation_mark_basis_hand_examples():
    # long: solve 1*(LP - 20,000) + 400 = 1 * LP * 0.005
    #   LP * 0.995 = 19,600  ->  LP = 19,600 / 0.995 = 19,698.492462311557...
    long_lp = liquidation_price("long", 20_000, 1, 50, BTC_T1)
    assert long_lp == pytest.approx(19_600 / 0.995, abs=1e-9)
    assert long_lp == pytest.approx(19_698.4924623, abs=1e-6)
    # check: MM at LP = 98.49246..., balance = 400 - 301.50754 = 98.49246 -> equal
    assert 400 + (long_lp - 20_000) == pytest.approx(long_lp * 0.005, abs=1e-9)
    # short: 1*(20,000 - LP) + 400 = LP * 0.005 -> LP * 1.005 = 20,400 -> 20,298.50746...
    short_lp = liquidation_price("short", 20_000, 1, 50, BTC_T1)
    assert short_lp == pytest.approx(20_400 / 1.005, abs=1e-9)
    assert short_lp == pytest.approx(20_298.5074627, abs=1e-6)


def test_liquidation_with_mm_deduction_both_bases():
    # 10,000 AVAX long at 30 (300,000 USDT, tier 2), 25x: IM = 300,000 / 25 = 12,000
    tier2 = AVAX_TIERS[1]
    # entry basis: MM_e = 300,000 * 0.015 - 1,000 = 3,500; LP = 30 - (12,000 - 3,500)/10,000
    #   = 30 - 0.85 = 29.15
    assert liquidation_price("long", 30, 10_000, 25, tier2, mm_basis="entry") == pytest.approx(
        29.15, abs=1e-12
    )
    # mark basis: LP = (300,000 - 12,000 - 1,000) / (10,000 * 0.985) = 287,000 / 9,850
    #   = 29.137055837563...; value at LP 291,370.6 is still tier 2, so the instrument agrees
    lp = liquidation_price("long", 30, 10_000, 25, tier2)
    assert lp == pytest.approx(287_000 / 9_850, abs=1e-12)
    assert liquidation_price_for("long", 30, 10_000, 25, AVAX) == pytest.approx(lp, abs=1e-12)


def test_mark_basis_retiers_at_the_liquidation_price():
    # 7,000 AVAX long at 30 = 210,000 USDT (tier 2 at entry), 10x: IM = 21,000
    # entry basis, tier 2: MM_e = 210,000 * 0.015 - 1,000 = 2,150
    #   LP = 30 - (21,000 - 2,150) / 7,000 = 30 - 2.692857... = 27.307142857...
    got = liquidation_price_for("long", 30, 7_000, 10, AVAX, mm_basis="entry")
    assert got == pytest.approx(30 - 18_850 / 7_000, abs=1e-12)
    # mark basis: with tier 2 the root is 188,000 / 6,895 = 27.2661 -> value 190,863 (tier 1:
    # inconsistent); with tier 1: (210,000 - 21,000) / (7,000 * 0.99) = 189,000 / 6,930
    #   = 300/11 = 27.2727... -> value 190,909 (tier 1: consistent) -> 27.2727...
    got = liquidation_price_for("long", 30, 7_000, 10, AVAX)
    assert got == pytest.approx(300 / 11, abs=1e-12)


def test_deduction_beyond_rate_part_floors_at_bankruptcy():
    # MMR 0.5 %, deduction 200: MM(P) = max(P*0.005 - 200, 0) = 0 near 20,000 (100 - 200 < 0)
    tier = RiskTier(
        risk_limit_value=1e9,
        maintenance_margin=0.005,
        initial_margin=0.01,
        max_leverage=100,
        mm_deduction=200,
    )
    # linear root (20,000 - 400 - 200) / 0.995 = 19,497.49 would need MM < 0 -> root of
    # balance = 0 instead: the bankruptcy price 19,600
    assert liquidation_price("long", 20_000, 1, 50, tier) == pytest.approx(19_600.0)
    assert liquidation_price("long", 20_000, 1, 50, tier, mm_basis="entry") == pytest.approx(19_600)
    assert liquidation_price("short", 20_000, 1, 50, tier) == pytest.approx(20_400.0)


def test_maintenance_above_margin_means_immediate_liquidation():
    # long 1 BTC at 20,000, 50x (IM 400) after 350 USDT funding drained: margin 50 < MM 100.
    # entry basis: LP = 20,000 - (50 - 100) = 20,050 > entry -> liquidated at the entry price
    lp = liquidation_price("long", 20_000, 1, 50, BTC_T1, extra_margin=-350, mm_basis="entry")
    assert lp == pytest.approx(20_050.0)
    assert is_liquidated("long", 20_000, lp)
    # mark basis: (20,000 - 50) / 0.995 = 20,050.25... > entry: same verdict
    lp = liquidation_price("long", 20_000, 1, 50, BTC_T1, extra_margin=-350)
    assert lp == pytest.approx(19_950 / 0.995)
    assert is_liquidated("long", 20_000, lp)
    # short mirror: LP = 20,000 - 50 = 19,950 (entry basis) < entry -> liquidated now
    lp = liquidation_price("short", 20_000, 1, 50, BTC_T1, extra_margin=-350, mm_basis="entry")
    assert lp == pytest.approx(19_950.0)
    assert is_liquidated("short", 20_000, lp)


def test_is_liquidated_is_inclusive_per_side():
    assert is_liquidated("long", 19_700, 19_700)
    assert not is_liquidated("long", 19_700.1, 19_700)
    assert is_liquidated("short", 20_300, 20_300)
    assert not is_liquidated("short", 20_299.9, 20_300)


def test_pnl_hand_examples_from_bybit():
    # average entry: 0.5 BTC at 5,000 + 0.3 at 6,000 -> (2,500 + 1,800) / 0.8 = 5,375
    assert average_entry(0.5, 5_000, 0.3, 6_000) == pytest.approx(5_375.0)
    assert average_entry(0.0, 0.0, 0.3, 6_000) == 6_000.0  # opening from flat
    # long 0.2 at 7,000, price 7,500: 0.2 * (7,500 - 7,000) = +100
    assert unrealised_pnl("long", 0.2, 7_000, 7_500) == pytest.approx(100.0)
    # short 0.4 at 6,000, price 5,000: 0.4 * (6,000 - 5,000) = +400
    assert unrealised_pnl("short", 0.4, 6_000, 5_000) == pytest.approx(400.0)
    # short closed the wrong way: 0.4 * (6,000 - 6,500) = -200
    assert realised_pnl("short", 0.4, 6_000, 6_500) == pytest.approx(-200.0)
    # partial close: 0.1 of a 0.8 long at 5,375 sold at 5,500 -> 0.1 * 125 = 12.5
    assert realised_pnl("long", 0.1, 5_375, 5_500) == pytest.approx(12.5)


@pytest.mark.parametrize(
    ("side", "rate", "expected", "why"),
    [
        # 0.5 BTC at mark 30,000 = 15,000 USDT notional; |fee| = 15,000 * 0.0001 = 1.5
        ("long", 0.0001, 1.5, "rate > 0: longs pay"),
        ("short", 0.0001, -1.5, "rate > 0: shorts receive"),
        ("long", -0.0001, -1.5, "rate < 0: longs receive"),
        ("short", -0.0001, 1.5, "rate < 0: shorts pay"),
        ("long", 0.0, 0.0, "zero rate: nothing moves"),
        ("short", 0.0, 0.0, "zero rate: nothing moves (and not -0.0)"),
    ],
)
def test_funding_fee_sign_cases(side, rate, expected, why):
    got = funding_fee(side, 0.5, 30_000, rate)
    assert got == pytest.approx(expected, abs=1e-12), why
    if expected == 0.0:
        assert math.copysign(1.0, got) == 1.0, "a zero fee is +0.0, never -0.0"


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: initial_margin(1, 20_000, 0), "leverage"),
        (lambda: initial_margin(-1, 20_000, 10), "qty"),
        (lambda: maintenance_margin(1, float("nan"), BTC_T1), "price"),
        (lambda: liquidation_price("flat", 20_000, 1, 50, BTC_T1), "position side"),
        (lambda: liquidation_price("long", 20_000, 1, 50, BTC_T1, mm_basis="index"), "mm_basis"),
        (lambda: liquidation_price_for("long", 20_000, 1, 50, AVAX, mm_basis="x"), "mm_basis"),
        (lambda: funding_fee(1, 1, 1, 0.0001), "position side"),
        (lambda: average_entry(1, 100, 0, 100), "add_qty"),
        (lambda: unrealised_pnl("long", 1, 100, 0), "price"),
    ],
)
def test_bad_inputs_are_named(call, match):
    with pytest.raises(BadInputError, match=match):
        call()


# ------------------------------------------------------------------ property tests
prices = st.floats(1.0, 100_000.0)
qtys = st.floats(0.001, 1_000.0)
leverages = st.floats(1.0, 100.0)


@st.composite
def positions(draw):
    """A position with one tier; deduction and extra margin scaled to hit every branch."""
    side = draw(st.sampled_from(["long", "short"]))
    entry, qty, lev = draw(prices), draw(qtys), draw(leverages)
    rate = draw(st.floats(0.0, 0.05))
    deduction = draw(st.floats(0.0, 1.5)) * qty * entry * rate
    extra = draw(st.floats(-0.9, 3.0)) * qty * entry / lev
    tier = RiskTier(
        risk_limit_value=1e12,
        maintenance_margin=rate,
        initial_margin=1.0,
        max_leverage=1.0,
        mm_deduction=deduction,
    )
    return side, entry, qty, lev, tier, extra


@settings(max_examples=300, deadline=None)
@given(positions())
def test_mark_basis_matches_bisection_of_the_condition(pos):
    side, entry, qty, lev, tier, extra = pos
    r, d = tier.maintenance_margin, tier.mm_deduction
    expected = _oracle_liq(side, entry, qty, lev, lambda p: max(qty * p * r - d, 0.0), extra)
    got = liquidation_price(side, entry, qty, lev, tier, extra_margin=extra)
    assert _close(got, expected, entry), (got, expected)


@settings(max_examples=300, deadline=None)
@given(positions())
def test_entry_basis_matches_bisection_of_the_condition(pos):
    side, entry, qty, lev, tier, extra = pos
    mm_entry = max(qty * entry * tier.maintenance_margin - tier.mm_deduction, 0.0)
    expected = _oracle_liq(side, entry, qty, lev, lambda p: mm_entry, extra)
    got = liquidation_price(side, entry, qty, lev, tier, extra_margin=extra, mm_basis="entry")
    assert _close(got, expected, entry), (got, expected)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["long", "short"]), prices, leverages, st.floats(0.0, 0.05))
def test_entry_basis_classic_form(side, entry, lev, rate):
    tier = RiskTier(
        risk_limit_value=1e12, maintenance_margin=rate, initial_margin=1, max_leverage=1
    )
    s = 1 if side == "long" else -1
    classic = entry * (1 - s / lev + s * rate)  # long 1 - 1/L + MMR, short 1 + 1/L - MMR
    got = liquidation_price(side, entry, 1.0, lev, tier, mm_basis="entry")
    assert _close(got, classic, entry)


@settings(max_examples=300, deadline=None)
@given(positions(), st.sampled_from(["entry", "mark"]))
def test_liquidation_never_worse_than_bankruptcy(pos, basis):
    side, entry, qty, lev, tier, extra = pos
    lp = liquidation_price(side, entry, qty, lev, tier, extra_margin=extra, mm_basis=basis)
    bp = bankruptcy_price(side, entry, lev, qty=qty, extra_margin=extra)
    s = 1 if side == "long" else -1
    assert s * (lp - bp) >= -1e-9 * entry
    margin = qty * entry / lev + extra
    if margin > maintenance_margin(qty, entry, tier) * 1.000001:
        # margin covers MM at entry: liquidation lies strictly between bankruptcy and entry
        assert s * (entry - lp) > 0
        assert not is_liquidated(side, entry, lp)


@settings(max_examples=200, deadline=None)
@given(positions(), st.floats(1.0, 10_000.0))
def test_more_margin_moves_liquidation_away(pos, added):
    side, entry, qty, lev, tier, extra = pos
    s = 1 if side == "long" else -1
    before = liquidation_price(side, entry, qty, lev, tier, extra_margin=extra)
    after = liquidation_price(side, entry, qty, lev, tier, extra_margin=extra + added)
    assert s * (before - after) >= 0


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["long", "short"]),
    st.floats(1.0, 200.0),
    st.floats(1_000.0, 1_200_000.0),
    st.floats(1.0, 25.0),
    st.floats(-0.5, 2.0),
)
def test_instrument_tiers_match_bisection_with_piecewise_mm(side, entry, value, lev, extra_frac):
    qty = value / entry
    extra = extra_frac * value / lev
    oracle = _oracle_liq(side, entry, qty, lev, lambda p: _tiered_mm(qty, p), extra)
    got = liquidation_price_for(side, entry, qty, lev, AVAX, extra_margin=extra)
    assert _close(got, oracle, entry), (got, oracle)
    # entry basis: the tier at the entry value, MM fixed there
    mm_entry = _tiered_mm(qty, entry)
    oracle = _oracle_liq(side, entry, qty, lev, lambda p: mm_entry, extra)
    got = liquidation_price_for(side, entry, qty, lev, AVAX, extra_margin=extra, mm_basis="entry")
    assert _close(got, oracle, entry), (got, oracle)


def _tiered_mm(qty: float, price: float) -> float:
    """MM from the tier table by a linear scan, written without ``Instrument.tier_for``."""
    value = qty * price
    if value <= 0.0:
        return 0.0
    chosen = next((t for t in AVAX_TIERS if value <= t.risk_limit_value), AVAX_TIERS[-1])
    return max(value * chosen.maintenance_margin - chosen.mm_deduction, 0.0)


def test_avax_tiers_are_continuous_so_the_oracle_has_one_root():
    for lower, upper in itertools.pairwise(AVAX_TIERS):
        v = lower.risk_limit_value
        lo = v * lower.maintenance_margin - lower.mm_deduction
        hi = v * upper.maintenance_margin - upper.mm_deduction
        assert lo == pytest.approx(hi), v


def test_discontinuous_tiers_give_the_most_conservative_price():
    # tier 2 without a deduction: MM jumps at 200k; result = the highest per-tier long LP
    jumpy = _instrument(
        (
            AVAX_TIERS[0],
            RiskTier(
                risk_limit_value=400_000,
                maintenance_margin=0.015,
                initial_margin=0.025,
                max_leverage=40,
            ),
        )
    )
    per_tier = [liquidation_price("long", 30, 7_000, 10, t) for t in jumpy.risk_tiers]
    assert liquidation_price_for("long", 30, 7_000, 10, jumpy) == max(per_tier)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["long", "short"]),
    st.lists(st.tuples(qtys, prices), min_size=1, max_size=6),
    prices,
)
def test_average_entry_pnl_equals_sum_of_lot_pnls(side, lots, price):
    qty, avg = 0.0, 0.0
    for add_qty, add_price in lots:
        avg = average_entry(qty, avg, add_qty, add_price)
        qty += add_qty
    by_lot = sum(
        (price - p) * q * (1 if side == "long" else -1) for q, p in lots
    )  # second implementation: each lot on its own
    notional = sum(q * p for q, p in lots) + qty * price
    assert math.isclose(unrealised_pnl(side, qty, avg, price), by_lot, abs_tol=1e-9 * notional)
    assert min(p for _, p in lots) * (1 - 1e-12) <= avg <= max(p for _, p in lots) * (1 + 1e-12)


@settings(max_examples=200, deadline=None)
@given(qtys, prices, qtys, prices)
def test_average_entry_incremental_form_and_order_independence(q1, p1, q2, p2):
    got = average_entry(q1, p1, q2, p2)
    incremental = p1 + (p2 - p1) * q2 / (q1 + q2)  # move the average toward the new price
    scale = 1e-12 * max(p1, p2)  # cancellation in the incremental form is relative to prices
    assert math.isclose(got, incremental, rel_tol=0.0, abs_tol=scale)
    assert math.isclose(got, average_entry(q2, p2, q1, p1), rel_tol=0.0, abs_tol=scale)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["long", "short"]), qtys, st.floats(0.01, 0.99), prices, prices)
def test_partial_close_plus_remainder_equals_whole(side, qty, frac, entry, price):
    closed = qty * frac
    whole = unrealised_pnl(side, qty, entry, price)
    parts = realised_pnl(side, closed, entry, price) + unrealised_pnl(
        side, qty - closed, entry, price
    )
    assert math.isclose(whole, parts, abs_tol=1e-9 * qty * (entry + price))


@settings(max_examples=200, deadline=None)
@given(qtys, prices, st.floats(-0.01, 0.01))
def test_funding_is_zero_sum_and_antisymmetric_in_rate(qty, mark, rate):
    long_pays = funding_fee("long", qty, mark, rate)
    short_pays = funding_fee("short", qty, mark, rate)
    assert long_pays + short_pays == 0.0
    assert funding_fee("long", qty, mark, -rate) == -long_pays
    assert long_pays * rate >= 0.0  # longs pay when rate > 0, receive when rate < 0
    assume(abs(rate) >= 1e-12)  # below that the fee underflows toward subnormal/zero
    assert (long_pays > 0) == (rate > 0)
