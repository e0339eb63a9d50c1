"""The assumed intrabar path (which extreme first, when a level is reached) and the pluggable
fee / slippage / funding model objects of the simulated exchange."""

from __future__ import annotations

import math
from typing import NamedTuple

import pytest

from trade_core.engine.bars import Bar
from trade_core.errors import BadInputError
from trade_core.sim.models import FixedRateFees, FixedSlippage, FundingRates, as_funding_model
from trade_core.sim.path import BarPath, low_first, stamp

BAR = Bar(0, 100.0, 110.0, 95.0, 105.0, 1.0, math.nan)  # open 100, high 110, low 95, close 105


class Reach(NamedTuple):
    level: float
    rising: bool
    strict: bool
    t0: float
    p0: float
    expected: float | None
    why: str


# low first: open 100 -(leg 0)-> low 95 -(leg 1)-> high 110 -(leg 2)-> close 105
REACHES = [
    Reach(97.0, False, False, 0.0, 100.0, 0.6, "falls to 97: 3/5 of leg 0"),
    Reach(95.0, False, False, 0.0, 100.0, 1.0, "touching the low counts when not strict"),
    Reach(95.0, False, True, 0.0, 100.0, None, "strictly through 95 never happens"),
    Reach(104.0, True, False, 0.0, 100.0, 1.6, "rises to 104 on leg 1: 9/15"),
    Reach(108.0, False, False, 2.0, 110.0, 2.4, "falls to 108 after the high, on leg 2"),
    Reach(101.0, True, False, 0.0, 100.0, 1 + 6 / 15, "rising from the open: first down, so leg 1"),
    Reach(99.0, True, False, 0.0, 100.0, 0.0, "already beyond at t0 (a gap): reached at t0"),
    Reach(120.0, True, False, 0.0, 100.0, None, "above the high: never"),
    Reach(97.0, False, False, 1.5, 102.5, None, "after the low has passed, 97 is not revisited"),
]


@pytest.mark.parametrize("r", REACHES, ids=[r.why for r in REACHES])
def test_reach_times_on_the_low_first_path(r: Reach):
    path = BarPath(BAR, lows_first=True)
    got = path.reach(r.level, rising=r.rising, strict=r.strict, t0=r.t0, p0=r.p0)
    if r.expected is None:
        assert got is None
    else:
        assert got == pytest.approx(r.expected)


def test_which_extreme_first():
    assert low_first(BAR, +1) is True  # a long sees its adverse extreme (the low) first
    assert low_first(BAR, -1) is False  # a short sees the high first
    assert low_first(BAR, 0) is True  # flat: the nearer extreme, 95 (5 away) vs 110 (10)
    assert low_first(BAR._replace(low=80.0), 0) is False


def test_extremes_of_the_rest_and_stamps():
    path = BarPath(BAR, lows_first=True)
    assert path.extremes_from(0.0, 100.0) == (110.0, 95.0)
    assert path.extremes_from(1.5, 102.5) == (110.0, 102.5)
    assert path.extremes_from(3.0, 105.0) == (105.0, 105.0)
    assert stamp(BAR._replace(ts=60_000), 1.5) == 90_000  # 20 s per leg


def test_fee_model_rates_and_fees():
    fees = FixedRateFees()
    assert (fees.rate("taker"), fees.rate("maker")) == (0.00055, 0.0002)
    assert fees.fee(0.1, 20_000, "taker") == pytest.approx(1.1)
    assert FixedRateFees(maker=-0.0001).fee(1, 100, "maker") == pytest.approx(-0.01)  # rebate
    with pytest.raises(BadInputError, match="liquidity"):
        fees.rate("other")  # type: ignore[arg-type]


def test_slippage_and_funding_model_inputs():
    assert FixedSlippage(3.0).slippage_bps("buy", 1.0, BAR) == 3.0
    with pytest.raises(BadInputError, match=">= 0"):
        FixedSlippage(-1.0)
    rates = FundingRates([1, 2], [0.1, 0.2])
    assert as_funding_model(rates) is rates
    assert as_funding_model(None) is None
    assert len(as_funding_model(([1], [0.1]))) == 1
    with pytest.raises(BadInputError, match="FundingModel"):
        as_funding_model([1, 2])
