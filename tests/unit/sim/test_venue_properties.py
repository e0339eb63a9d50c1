"""SimVenue properties over random sessions (hypothesis): random 1m bars, random commands
(market, limit with every time in force, conditional, reduce-only, TP/SL, cancels), random
fee/slippage/funding models, leverage and margin basis.

* the ledger invariant ``balance == start + realised - fees - funding`` holds after every
  step to 1e-6 USDT, the fees and funding in the events add up to the ledger's, and the
  realised PnL equals an independent replay of the fills (size-weighted average entry);
* a reduce-only fill never increases the position nor flips it;
* no fill lies outside its 1m bar's ``[low, high]`` once its slippage is removed
  (liquidations excepted: they fill at the bankruptcy price by design);
* the same inputs give the same events, exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.sim._venue_support import BTC, bar_ts, close_ts
from trade_core.engine.bars import Bar, Step
from trade_core.engine.orders import (
    FundingSettled,
    OrderFilled,
    OrderIntent,
    VenueEvent,
)
from trade_core.errors import BadInputError
from trade_core.numbers import round_to_step
from trade_core.sim.models import FixedRateFees, FixedSlippage
from trade_core.sim.venue import SimVenue

TICK = 0.1
QTYS = [0.001, 0.01, 0.05, 0.1, 0.2, 0.5]


def _px(x: float) -> float:
    return max(round_to_step(x, TICK), TICK)


@dataclass
class Session:
    """A generated session: venue settings, bars, and the commands after each bar."""

    venue_kw: dict[str, Any]
    bars: list[Bar]
    commands: list[list[tuple]]
    start: float
    slippage_bps: float


@st.composite
def _command(draw, i: int, k: int, close: float) -> tuple:
    kind = draw(st.sampled_from(["market", "market", "limit", "stop", "tpsl", "cancel"]))
    side = draw(st.sampled_from(["Buy", "Sell"]))
    sign = 1 if side == "Buy" else -1
    qty = draw(st.sampled_from(QTYS))
    ro = draw(st.booleans())
    link = f"o{i}_{k}"
    off = draw(st.floats(0.0005, 0.03))
    if kind == "market":
        prot = {}
        if not ro and draw(st.booleans()):
            prot = {"stop_loss": _px(close * (1 - sign * off)),
                    "take_profit": _px(close * (1 + sign * 2 * off))}  # fmt: skip
        return ("submit", OrderIntent(link, "BTCUSDT", side, qty, reduce_only=ro, **prot))
    if kind == "limit":
        tif = draw(st.sampled_from(["GTC", "IOC", "FOK", "PostOnly"]))
        price = _px(close * (1 + draw(st.floats(-0.02, 0.02))))
        return ("submit", OrderIntent(link, "BTCUSDT", side, qty, "Limit", price=price,
                                      tif=tif, reduce_only=ro))  # fmt: skip
    if kind == "stop":
        up = draw(st.booleans())
        trigger = _px(close * (1 + off if up else 1 - off))
        limit = {}
        if draw(st.booleans()):
            limit = {"order_type": "Limit", "price": _px(trigger * (1 + sign * off / 2))}
        return ("submit", OrderIntent(link, "BTCUSDT", side, qty, reduce_only=ro,
                                      trigger_price=trigger, trigger_direction=1 if up else 2,
                                      **limit))  # fmt: skip
    if kind == "tpsl":
        return ("tpsl", _px(close * (1 - off)), _px(close * (1 + off)), draw(st.booleans()))
    return ("cancel", draw(st.integers(0, 40)))


@st.composite
def sessions(draw) -> Session:
    n = draw(st.integers(2, 18))
    price = 20_000.0
    bars, commands = [], []
    for i in range(n):
        o = _px(price * (1 + draw(st.floats(-0.02, 0.02))))
        c = _px(o * (1 + draw(st.floats(-0.03, 0.03))))
        h = _px(max(o, c) * (1 + draw(st.sampled_from([0.0, 0.0005, 0.005, 0.03]))))
        lo = _px(min(o, c) * (1 - draw(st.sampled_from([0.0, 0.0005, 0.005, 0.03]))))
        bars.append(Bar(bar_ts(i), o, max(h, o, c), min(lo, o, c), c, 1.0, math.nan))
        commands.append([draw(_command(i, k, c)) for k in range(draw(st.integers(0, 3)))])
        price = c
    funding_at = draw(st.lists(st.integers(0, n - 1), unique=True, max_size=4))
    slip = draw(st.sampled_from([0.0, 5.0, 20.0]))
    start = draw(st.sampled_from([1_000.0, 10_000.0]))
    venue_kw = {
        "starting_balance": start,
        "leverage": draw(st.sampled_from([1.0, 5.0, 20.0, 50.0, 100.0])),
        "fee_model": FixedRateFees(
            taker=draw(st.sampled_from([0.0, 0.00055])),
            maker=draw(st.sampled_from([-0.0001, 0.0, 0.0002])),
        ),
        "slippage_model": FixedSlippage(slip),
        "funding": (
            [close_ts(j) for j in sorted(funding_at)],
            [draw(st.floats(-0.01, 0.01)) for _ in funding_at],
        ),
        "mm_basis": draw(st.sampled_from(["mark", "entry"])),
        "touch_fills": draw(st.booleans()),
    }
    return Session(venue_kw, bars, commands, start, slip)


@dataclass
class Trace:
    """What a run produced: every event, and the fills of each bar (by bar index)."""

    events: list[VenueEvent] = field(default_factory=list)
    bar_fills: list[list[OrderFilled]] = field(default_factory=list)
    drifts: list[float] = field(default_factory=list)
    intents: dict[str, OrderIntent] = field(default_factory=dict)


def play(s: Session) -> tuple[SimVenue, Trace]:
    venue = SimVenue(BTC, **s.venue_kw)
    tr = Trace()
    for i, bar in enumerate(s.bars):
        venue.on_market(Step(close_ts(i), bar, ()))
        got = venue.drain()
        tr.events.extend(got)
        tr.bar_fills.append([e for e in got if isinstance(e, OrderFilled)])
        for cmd in s.commands[i]:
            _issue(venue, cmd, close_ts(i), tr)
        tr.events.extend(venue.drain())
        tr.drifts.append(venue.ledger_drift())
    return venue, tr


def _issue(venue: SimVenue, cmd: tuple, ts: int, tr: Trace) -> None:
    if cmd[0] == "submit":
        tr.intents[cmd[1].link_id] = cmd[1]
        venue.submit(cmd[1])
    elif cmd[0] == "tpsl":
        _, sl, tp, long_view = cmd
        pos = venue.position("BTCUSDT")
        if pos.side == "short" or (pos.is_flat and not long_view):
            sl, tp = tp, sl
        venue.set_trading_stop("BTCUSDT", ts, stop_loss=sl, take_profit=tp)
    else:
        ids = list(tr.intents)
        venue.cancel(ids[cmd[1] % len(ids)] if ids else "none", ts)


def replay_fills(events: list[VenueEvent]) -> tuple[float, float, float]:
    """Independent oracle: ``(net signed qty, avg entry, realised gross)`` from the fills;
    also asserts that every reduce-only fill shrinks the position without flipping it."""
    net, avg, gross = 0.0, 0.0, 0.0
    for e in events:
        if not isinstance(e, OrderFilled):
            continue
        d = e.qty if e.side == "Buy" else -e.qty
        if e.reduce_only:
            assert net != 0.0 and (d > 0) != (net > 0), f"reduce-only {e} grew a flat/same side"
            assert e.qty <= abs(net) + 1e-12, f"reduce-only {e} would flip {net}"
        if net == 0.0 or (d > 0) == (net > 0):
            avg = (abs(net) * avg + e.qty * e.price) / (abs(net) + e.qty)
            net = round_to_step(net + d, BTC.qty_step)
            continue
        closed, before = min(e.qty, abs(net)), net
        gross += closed * (e.price - avg) * (1 if net > 0 else -1)
        net = round_to_step(net + d, BTC.qty_step)
        if net * before < 0:  # reversed: the remainder opened at this price
            avg = e.price
    return net, avg, gross


SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(sessions())
def test_ledger_invariant_and_events_add_up(s: Session):
    venue, tr = play(s)
    assert max(abs(d) for d in tr.drifts) < 1e-6
    w = venue.wallet(s.bars[-1].close)
    assert abs(w.balance - (s.start + w.realised_pnl - w.fees_paid - w.funding_paid)) < 1e-6
    fees = sum(e.fee for e in tr.events if isinstance(e, OrderFilled))
    funding = sum(e.amount for e in tr.events if isinstance(e, FundingSettled))
    assert w.fees_paid == pytest.approx(fees, abs=1e-6)
    assert w.funding_paid == pytest.approx(funding, abs=1e-6)
    net, avg, gross = replay_fills(tr.events)
    assert w.realised_pnl == pytest.approx(gross, abs=1e-6)
    pos = venue.position("BTCUSDT")
    signed = 0.0 if pos.is_flat else (pos.qty if pos.side == "long" else -pos.qty)
    assert signed == pytest.approx(net, abs=1e-12)
    if not pos.is_flat:
        assert pos.avg_entry == pytest.approx(avg, rel=1e-9)


@SETTINGS
@given(sessions())
def test_reduce_only_never_increases_the_position(s: Session):
    _, tr = play(s)
    replay_fills(tr.events)  # asserts per reduce-only fill


@SETTINGS
@given(sessions())
def test_no_fill_outside_its_bar_after_removing_slippage(s: Session):
    _, tr = play(s)
    frac = s.slippage_bps / 10_000
    for bar, fills in zip(s.bars, tr.bar_fills, strict=True):
        for f in fills:
            if f.link_id.endswith("-liq"):
                continue  # the bankruptcy price, by design
            intent = tr.intents.get(f.link_id)
            slipped = intent is None or intent.order_type == "Market"  # venue SL/TP: market
            base = f.price / (1 + frac if f.side == "Buy" else 1 - frac) if slipped else f.price
            assert bar.low - 1e-6 <= base <= bar.high + 1e-6, (f, bar)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sessions())
def test_same_inputs_same_events(s: Session):
    venue_a, a = play(s)
    venue_b, b = play(s)
    assert a.events == b.events
    assert venue_a.wallet(20_000) == venue_b.wallet(20_000)


def test_steps_must_advance_and_bars_must_be_sane():
    venue = SimVenue(BTC, starting_balance=1_000, leverage=5)
    venue.on_market(Step(close_ts(0), Bar(bar_ts(0), 10, 11, 9, 10, 1, 0), ()))
    with pytest.raises(BadInputError, match="does not advance"):
        venue.on_market(Step(close_ts(0), None, ()))
    with pytest.raises(BadInputError, match="low <= open"):
        venue.on_market(Step(close_ts(1), Bar(bar_ts(1), 10, 9, 11, 10, 1, 0), ()))
    with pytest.raises(BadInputError, match="does not close at"):
        venue.on_market(Step(close_ts(2), Bar(bar_ts(0), 10, 11, 9, 10, 1, 0), ()))
