"""The venue port: what the engine asks of an exchange, simulated or real.

Commands in (``submit``, ``cancel``, ``set_trading_stop``), events out (``drain``), state on
request (``position``, ``wallet``, ``equity``). The simulated exchange implements it over
historical 1m bars; the Bybit adapter (later) implements it over pybit. The engine never asks
which it has.

``on_market(step)`` hands the venue each market step *before* the engine looks at it: the
simulator walks its resting and conditional orders, position TP/SL and liquidation through
``step.bar`` (and settles funding); a live venue uses it only to timestamp and to poll for the
exchange's own events. Either way, the events it produced are what ``drain`` returns next.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from trade_core.engine.bars import Step
from trade_core.engine.orders import OrderIntent, VenueEvent

PositionSide = Literal["long", "short"]


@dataclass(frozen=True, slots=True)
class PositionState:
    """One-way position of a symbol; ``side`` None when flat (then ``qty`` is 0)."""

    symbol: str
    side: PositionSide | None
    qty: float  # base coin, >= 0
    avg_entry: float  # USDT, NaN when flat
    leverage: float
    margin: float  # isolated position margin incl. added/removed, USDT
    liq_price: float  # USDT, NaN when flat
    stop_loss: float | None
    take_profit: float | None
    opened_ts: int = 0  # epoch ms of the fill that opened it (Bybit createdTime); 0 flat

    @property
    def is_flat(self) -> bool:
        return self.side is None


@dataclass(frozen=True, slots=True)
class WalletState:
    """USDT wallet: ``balance`` excludes unrealised PnL; ``equity`` marks it to ``mark``."""

    balance: float
    equity: float
    realised_pnl: float
    fees_paid: float
    funding_paid: float


class Venue(Protocol):
    """The port the engine trades through (see the module docstring)."""

    def on_market(self, step: Step) -> None: ...

    def submit(self, intent: OrderIntent) -> None: ...

    def cancel(self, link_id: str, ts: int, reason: str = "by engine") -> None: ...

    def set_trading_stop(
        self, symbol: str, ts: int, *, stop_loss: float | None, take_profit: float | None
    ) -> None: ...

    def drain(self) -> list[VenueEvent]: ...

    def position(self, symbol: str) -> PositionState: ...

    def wallet(self, mark_price: float) -> WalletState: ...

    def equity(self, mark_price: float) -> float:
        """``wallet(mark_price).equity`` (USDT); the engine asks for it at every exec close,
        so a venue may answer without building a :class:`WalletState`."""
        ...
