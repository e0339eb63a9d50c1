"""Intrabar fill-price rules as commented scenario tables (one parametrised test each),
plus properties: a stop never fills better than its trigger, a limit never worse than its
limit, and every fill lies where the bar (plus slippage) traded."""

from __future__ import annotations

from typing import NamedTuple

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from trade_core.errors import BadInputError
from trade_core.sim.fill_prices import (
    FALLS_TO,
    RISES_TO,
    apply_slippage,
    limit_fill,
    same_bar_order,
    stop_market_fill,
    trigger_market_fill,
    triggered,
)


class Bar(NamedTuple):
    open: float
    high: float
    low: float
    close: float


def _ids(rows):
    return [row.why for row in rows]


# --------------------------------------------------------------------- slippage
class SlipRow(NamedTuple):
    side: str
    price: float
    bps: float
    expected: float
    why: str


SLIPPAGE = [
    SlipRow("buy", 100.0, 10, 100.1, "buy fills higher: 100 * (1 + 10/10000)"),
    SlipRow("sell", 100.0, 10, 99.9, "sell fills lower: 100 * (1 - 10/10000)"),
    SlipRow("buy", 20_000.0, 5, 20_010.0, "5 bps of 20,000 = 10 USDT"),
    SlipRow("sell", 20_000.0, 0, 20_000.0, "zero slippage leaves the price"),
]


@pytest.mark.parametrize("row", SLIPPAGE, ids=_ids(SLIPPAGE))
def test_apply_slippage(row: SlipRow):
    assert apply_slippage(row.side, row.price, row.bps) == pytest.approx(row.expected, abs=1e-9)


# -------------------------------------------------------------------- triggered
class TrigRow(NamedTuple):
    bar: Bar
    direction: int
    trigger: float
    expected: bool
    why: str


TRIGGERS = [
    TrigRow(Bar(96, 100, 95, 99), RISES_TO, 100.0, True, "rises to: high touches the trigger"),
    TrigRow(Bar(96, 99.9, 95, 99), RISES_TO, 100.0, False, "rises to: high stays below"),
    TrigRow(Bar(110, 120, 105, 115), RISES_TO, 100.0, True, "rises to: whole bar above (gap up)"),
    TrigRow(Bar(104, 105, 100, 101), FALLS_TO, 100.0, True, "falls to: low touches the trigger"),
    TrigRow(Bar(104, 105, 100.1, 101), FALLS_TO, 100.0, False, "falls to: low stays above"),
    TrigRow(Bar(90, 95, 85, 92), FALLS_TO, 100.0, True, "falls to: whole bar below (gap down)"),
]


@pytest.mark.parametrize("row", TRIGGERS, ids=_ids(TRIGGERS))
def test_triggered(row: TrigRow):
    assert triggered(row.direction, row.trigger, row.bar.high, row.bar.low) is row.expected


# ------------------------------------------------------------------ stop market
class StopRow(NamedTuple):
    bar: Bar
    side: str  # side of the market order the stop sends
    trigger: float
    bps: float
    expected: float
    why: str


STOPS = [
    # long's stop loss = sell stop, triggers when price falls to it
    StopRow(Bar(100, 101, 94, 96), "sell", 95, 0, 95.0, "falls through the stop: fill at trigger"),
    StopRow(Bar(100, 101, 94, 96), "sell", 95, 10, 94.905, "trigger minus 10 bps: 95 * 0.999"),
    StopRow(Bar(90, 92, 88, 91), "sell", 95, 0, 90.0, "gap down through the stop: fill at open"),
    StopRow(Bar(90, 92, 88, 91), "sell", 95, 10, 89.91, "gap down, open minus 10 bps: 90 * 0.999"),
    StopRow(Bar(95, 96, 93, 94), "sell", 95, 0, 95.0, "opened exactly at the stop: 95 either way"),
    # short's stop loss = buy stop, triggers when price rises to it
    StopRow(Bar(100, 106, 99, 104), "buy", 105, 0, 105.0, "rises through the stop: at trigger"),
    StopRow(Bar(100, 106, 99, 104), "buy", 105, 20, 105.21, "trigger plus 20 bps: 105 * 1.002"),
    StopRow(Bar(110, 112, 108, 111), "buy", 105, 10, 110.11, "gap up: open plus 10 bps"),
]


@pytest.mark.parametrize("row", STOPS, ids=_ids(STOPS))
def test_stop_market_fill(row: StopRow):
    direction = FALLS_TO if row.side == "sell" else RISES_TO
    assert triggered(direction, row.trigger, row.bar.high, row.bar.low), "row must trigger"
    got = stop_market_fill(row.side, row.trigger, row.bar.open, row.bps)
    assert got == pytest.approx(row.expected, abs=1e-9)


class TpRow(NamedTuple):
    bar: Bar
    side: str
    direction: int
    trigger: float
    bps: float
    expected: float
    why: str


TAKE_PROFITS = [
    TpRow(Bar(100, 111, 99, 108), "sell", RISES_TO, 110, 0, 110.0, "long TP reached inside"),
    TpRow(Bar(115, 116, 112, 113), "sell", RISES_TO, 110, 0, 115.0, "gap up past long TP: open"),
    TpRow(Bar(115, 116, 112, 113), "sell", RISES_TO, 110, 10, 114.885, "gap up, 115 * 0.999"),
    TpRow(Bar(100, 101, 89, 92), "buy", FALLS_TO, 90, 10, 90.09, "short TP inside, 90 * 1.001"),
    TpRow(Bar(85, 87, 84, 86), "buy", FALLS_TO, 90, 0, 85.0, "gap down past short TP: open"),
]


@pytest.mark.parametrize("row", TAKE_PROFITS, ids=_ids(TAKE_PROFITS))
def test_trigger_market_fill_take_profit(row: TpRow):
    assert triggered(row.direction, row.trigger, row.bar.high, row.bar.low), "row must trigger"
    got = trigger_market_fill(row.side, row.direction, row.trigger, row.bar.open, row.bps)
    assert got == pytest.approx(row.expected, abs=1e-9)


# ------------------------------------------------------------------------ limit
class LimitRow(NamedTuple):
    bar: Bar
    side: str
    limit: float
    touch: bool
    expected: float | None
    why: str


LIMITS = [
    LimitRow(Bar(105, 106, 99, 104), "buy", 100, False, 100.0, "buy: low traded through: limit"),
    LimitRow(Bar(105, 106, 100, 104), "buy", 100, False, None, "touch only: no fill w/o touch"),
    LimitRow(Bar(105, 106, 100, 104), "buy", 100, True, 100.0, "touch only, touch=True: fills"),
    LimitRow(Bar(105, 106, 101, 104), "buy", 100, True, None, "buy: never reached the limit"),
    LimitRow(Bar(98, 99, 97, 98), "buy", 100, False, 98.0, "opened below buy limit: better open"),
    LimitRow(Bar(100, 101, 99, 100), "buy", 100, False, 100.0, "opened at the limit, through"),
    LimitRow(Bar(95, 101, 94, 96), "sell", 100, False, 100.0, "sell: high traded through: limit"),
    LimitRow(Bar(95, 100, 94, 96), "sell", 100, False, None, "sell touch only: no fill"),
    LimitRow(Bar(95, 100, 94, 96), "sell", 100, True, 100.0, "sell touch, touch=True: fills"),
    LimitRow(Bar(103, 104, 102, 103), "sell", 100, False, 103.0, "opened above sell: better open"),
    LimitRow(Bar(95, 99, 94, 96), "sell", 100, True, None, "sell: never reached the limit"),
]


@pytest.mark.parametrize("row", LIMITS, ids=_ids(LIMITS))
def test_limit_fill(row: LimitRow):
    got = limit_fill(row.side, row.limit, row.bar.open, row.bar.high, row.bar.low, touch=row.touch)
    if row.expected is None:
        assert got is None
    else:
        assert got == pytest.approx(row.expected, abs=1e-12)


# ---------------------------------------------------------------- same-bar SL/TP
class SameBarRow(NamedTuple):
    bar: Bar
    side: str
    stop_loss: float | None
    take_profit: float | None
    expected: str | None
    why: str


SAME_BAR = [
    # long, SL 95 / TP 110
    SameBarRow(Bar(100, 105, 97, 101), "long", 95, 110, None, "long: neither level reached"),
    SameBarRow(Bar(100, 111, 97, 109), "long", 95, 110, "take_profit", "long: only TP reached"),
    SameBarRow(Bar(100, 105, 94, 96), "long", 95, 110, "stop_loss", "long: only SL reached"),
    SameBarRow(Bar(100, 111, 94, 100), "long", 95, 110, "stop_loss", "long: both, conservative"),
    SameBarRow(Bar(96, 110, 95, 100), "long", 95, 110, "stop_loss", "long: both touched: SL"),
    SameBarRow(Bar(112, 115, 94, 95), "long", 95, 110, "take_profit", "long: opened above TP"),
    SameBarRow(Bar(93, 111, 90, 110), "long", 95, 110, "stop_loss", "long: gap down below SL"),
    SameBarRow(Bar(100, 111, 50, 60), "long", None, 110, "take_profit", "long: no SL set"),
    SameBarRow(Bar(100, 111, 50, 60), "long", None, None, None, "long: no levels set"),
    # short, SL 105 / TP 90
    SameBarRow(Bar(100, 106, 95, 104), "short", 105, 90, "stop_loss", "short: only SL reached"),
    SameBarRow(Bar(100, 104, 89, 91), "short", 105, 90, "take_profit", "short: only TP reached"),
    SameBarRow(Bar(100, 106, 89, 100), "short", 105, 90, "stop_loss", "short: both, conservative"),
    SameBarRow(Bar(88, 106, 85, 100), "short", 105, 90, "take_profit", "short: opened below TP"),
    SameBarRow(Bar(107, 108, 89, 90), "short", 105, 90, "stop_loss", "short: gap up above SL"),
    SameBarRow(Bar(100, 104, 91, 95), "short", 105, 90, None, "short: neither level reached"),
]


@pytest.mark.parametrize("row", SAME_BAR, ids=_ids(SAME_BAR))
def test_same_bar_order(row: SameBarRow):
    got = same_bar_order(
        row.side, row.stop_loss, row.take_profit, row.bar.open, row.bar.high, row.bar.low
    )
    assert got == row.expected


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: same_bar_order("long", 95, 110, 100, 111, 94, rule="optimistic"), "rule"),
        (lambda: same_bar_order("long", 110, 95, 100, 111, 94), "losing side"),
        (lambda: same_bar_order("short", 90, 105, 100, 111, 94), "losing side"),
        (lambda: same_bar_order("flat", 95, 110, 100, 111, 94), "position side"),
        (lambda: limit_fill("buy", 100, 100, 101, 102), "low <= open <= high"),
        (lambda: limit_fill("Buy", 100, 100, 101, 99), "order side"),
        (lambda: triggered(3, 100, 101, 99), "trigger direction"),
        (lambda: triggered(1, 100, 99, 101), "high"),
        (lambda: apply_slippage("buy", 100, -1), "bps"),
        (lambda: stop_market_fill("sell", 0, 100, 0), "trigger"),
    ],
)
def test_bad_inputs_are_named(call, match):
    with pytest.raises(BadInputError, match=match):
        call()


# --------------------------------------------------------------------- properties
@st.composite
def bars(draw):
    low = draw(st.floats(1.0, 10_000.0))
    high = low * (1.0 + draw(st.floats(0.0, 0.2)))
    opened = low + (high - low) * draw(st.floats(0.0, 1.0))
    return Bar(opened, high, low, low)


@settings(max_examples=300, deadline=None)
@given(bars(), st.sampled_from(["buy", "sell"]), st.floats(0.0, 1.0), st.floats(0.0, 50.0))
def test_stop_never_fills_better_than_trigger(bar, side, where, bps):
    trigger = bar.low + (bar.high - bar.low) * where  # a trigger the bar reached
    direction = FALLS_TO if side == "sell" else RISES_TO
    assume(triggered(direction, trigger, bar.high, bar.low))
    got = stop_market_fill(side, trigger, bar.open, bps)
    if side == "sell":
        assert got <= trigger
        assert got >= min(trigger, bar.open) * (1 - bps / 10_000) * (1 - 1e-12)
    else:
        assert got >= trigger
        assert got <= max(trigger, bar.open) * (1 + bps / 10_000) * (1 + 1e-12)


@settings(max_examples=300, deadline=None)
@given(bars(), st.sampled_from(["buy", "sell"]), st.floats(0.8, 1.2), st.booleans())
def test_limit_never_fills_worse_than_limit_and_inside_the_bar(bar, side, rel, touch):
    limit = bar.open * rel
    got = limit_fill(side, limit, bar.open, bar.high, bar.low, touch=touch)
    if got is None:
        # no fill means the bar never went (strictly, unless touch) through the limit
        assert (
            (bar.low >= limit if not touch else bar.low > limit)
            if side == "buy"
            else (bar.high <= limit if not touch else bar.high < limit)
        )
        return
    assert bar.low <= got <= bar.high
    assert got <= limit if side == "buy" else got >= limit


@settings(max_examples=300, deadline=None)
@given(bars(), st.sampled_from(["long", "short"]), st.floats(0.5, 0.99), st.floats(1.01, 1.5))
def test_same_bar_answer_is_a_level_the_bar_reached(bar, side, loss, gain):
    ref = bar.open
    sl, tp = (ref * loss, ref * gain) if side == "long" else (ref * gain, ref * loss)
    got = same_bar_order(side, sl, tp, bar.open, bar.high, bar.low)
    sl_dir, tp_dir = (FALLS_TO, RISES_TO) if side == "long" else (RISES_TO, FALLS_TO)
    sl_hit = triggered(sl_dir, sl, bar.high, bar.low)
    tp_hit = triggered(tp_dir, tp, bar.high, bar.low)
    assert got == ("stop_loss" if sl_hit else "take_profit" if tp_hit else None)
