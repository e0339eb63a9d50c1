"""Shared set-up of the SimVenue tests: instruments, 1m bars, commands and a scenario runner.

A scenario is a list of :class:`B` rows, one closed 1m bar each (bar ``i`` opens at
``T0 + i * M``); ``then`` holds the commands the engine issues at that bar's close, which
can first trade on bar ``i + 1``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

import pytest

from trade_core.data.instrument_spec import Instrument, RiskTier
from trade_core.engine.bars import Bar, Step
from trade_core.engine.orders import OrderFilled, OrderIntent, PositionClosed, VenueEvent
from trade_core.sim.venue import SimVenue

M = 60_000
NO_KW: Mapping[str, Any] = MappingProxyType({})  # "no extra SimVenue arguments"
T0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC; a multiple of 8 h

BTC_T1 = RiskTier(
    risk_limit_value=2_000_000, maintenance_margin=0.005, initial_margin=0.01, max_leverage=100
)
BTC = Instrument(
    symbol="BTCUSDT",
    tick_size=0.1,
    qty_step=0.001,
    min_qty=0.001,
    max_qty=100.0,
    max_mkt_qty=10.0,
    min_notional=5,
    max_leverage=100,
    risk_tiers=(BTC_T1,),
    as_of=T0,
)


def bar_ts(i: int) -> int:
    """Open time (ms) of scenario bar ``i``."""
    return T0 + i * M


def close_ts(i: int) -> int:
    """Close time (ms) of scenario bar ``i``: the step time, when the engine decides."""
    return T0 + (i + 1) * M


@dataclass(frozen=True)
class B:
    """One 1m bar (open, high, low, close) and the commands issued at its close."""

    o: float
    h: float
    lo: float
    c: float
    then: tuple[Any, ...] = field(default=())


def buy(link: str, qty: float, **kw: Any) -> OrderIntent:
    return OrderIntent(link, "BTCUSDT", "Buy", qty, **kw)


def sell(link: str, qty: float, **kw: Any) -> OrderIntent:
    return OrderIntent(link, "BTCUSDT", "Sell", qty, **kw)


@dataclass(frozen=True)
class Cancel:
    link_id: str


@dataclass(frozen=True)
class TradingStop:
    stop_loss: float | None
    take_profit: float | None


def make_venue(**kw: Any) -> SimVenue:
    args: dict[str, Any] = {"starting_balance": 10_000.0, "leverage": 10.0}
    args.update(kw)
    return SimVenue(BTC, **args)


def feed(venue: SimVenue, i: int, row: B) -> None:
    """Step bar ``i`` into the venue, then issue the row's commands at its close."""
    bar = Bar(bar_ts(i), row.o, row.h, row.lo, row.c, 10.0, math.nan)
    venue.on_market(Step(close_ts(i), bar, ()))
    for cmd in row.then:
        if isinstance(cmd, OrderIntent):
            venue.submit(cmd)
        elif isinstance(cmd, Cancel):
            venue.cancel(cmd.link_id, close_ts(i))
        elif isinstance(cmd, TradingStop):
            venue.set_trading_stop(
                "BTCUSDT", close_ts(i), stop_loss=cmd.stop_loss, take_profit=cmd.take_profit
            )
        else:  # pragma: no cover - a test-table typo
            raise TypeError(cmd)


def run(rows: list[B], venue: SimVenue | None = None) -> tuple[SimVenue, list[VenueEvent]]:
    """Feed every row; returns the venue and all events in order."""
    venue = venue or make_venue()
    events: list[VenueEvent] = []
    for i, row in enumerate(rows):
        feed(venue, i, row)
        events.extend(venue.drain())
    return venue, events


class F(NamedTuple):
    """An expected fill: link id, side, qty, price, fee (USDT), liquidity."""

    link: str
    side: str
    qty: float
    price: float
    fee: float
    liquidity: str = "taker"


def fills(events: list[VenueEvent]) -> list[OrderFilled]:
    return [e for e in events if isinstance(e, OrderFilled)]


def assert_fills(events: list[VenueEvent], expected: list[F]) -> None:
    got = fills(events)
    assert [(f.link_id, f.side) for f in got] == [(e.link, e.side) for e in expected], got
    for f, e in zip(got, expected, strict=True):
        assert f.qty == pytest.approx(e.qty, abs=1e-12), f
        assert f.price == pytest.approx(e.price, abs=1e-6), f
        assert f.fee == pytest.approx(e.fee, abs=1e-9), f
        assert f.liquidity == e.liquidity, f


def kinds(events: list[VenueEvent], closed: bool = False) -> list[str]:
    """Event class names with their link id, e.g. ``"OrderFilled:e1"``, for order checks;
    ``PositionClosed`` records only with ``closed=True`` (tests/unit/sim/test_venue_closed_pnl.py
    checks them)."""
    out = []
    for e in events:
        if isinstance(e, PositionClosed) and not closed:
            continue
        key = getattr(e, "link_id", None) or getattr(e, "symbol", "")
        out.append(f"{type(e).__name__}:{key}")
    return out
