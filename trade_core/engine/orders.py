"""Orders and venue events: the vocabulary of the venue port (commands in, events out).

The engine speaks only these types to a venue; the simulated exchange and the Bybit adapter
both accept :class:`OrderIntent` and report :class:`VenueEvent` s of one shape, so every mode
fills, rejects and cancels identically from the engine's point of view. Field names follow
Bybit V5 (``orderLinkId``, ``timeInForce``, ``triggerDirection`` ...) so the live adapter maps
them one to one. Prices in USDT, quantities in the base coin, times in epoch ms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from trade_core.errors import BadInputError

Side = Literal["Buy", "Sell"]
OrderType = Literal["Market", "Limit"]
TimeInForce = Literal["GTC", "IOC", "FOK", "PostOnly"]
TriggerBy = Literal["LastPrice", "MarkPrice", "IndexPrice"]
ExitType = Literal["Order", "StopLoss", "TakeProfit", "Liquidation"]

LINK_ID_MAX = 36
_LINK_ID = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(n: int) -> str:
    if n < 0:
        raise ValueError("base36 of a negative number")
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _B36[r] + out
        if n == 0:
            return out


def link_id(play_hash: str, ts_ms: int, seq: int, tag: str) -> str:
    """A deterministic ``orderLinkId``: ``<hash8>-<ts36>-<seq36>-<tag>``, at most 36 chars.

    The same play, bar and sequence number always give the same id, so a retried or
    restarted submit cannot place a second order (Bybit answers 110072 to a duplicate).
    ``tag`` says what the order is for (``el`` entry long, ``sl`` stop, ...), trimmed to fit.
    """
    head = f"{play_hash[:8]}-{_base36(ts_ms // 1000)}-{_base36(seq)}-"
    clean = re.sub(r"[^A-Za-z0-9_]", "_", tag)
    lid = head + clean[: max(0, LINK_ID_MAX - len(head))]
    if not _LINK_ID.match(lid):
        raise BadInputError(f"cannot build a valid orderLinkId from {play_hash!r}, {tag!r}")
    return lid


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """One order the engine asks a venue to place (Bybit ``/v5/order/create`` shape)."""

    link_id: str
    symbol: str
    side: Side
    qty: float
    order_type: OrderType = "Market"
    price: float | None = None
    tif: TimeInForce = "GTC"
    reduce_only: bool = False
    trigger_price: float | None = None
    trigger_direction: int | None = None  # 1: price rises to trigger, 2: falls to it
    trigger_by: TriggerBy = "LastPrice"
    take_profit: float | None = None  # position TP attached when this order fills
    stop_loss: float | None = None  # position SL attached when this order fills
    created_ts: int = 0
    reason: str = ""  # why the engine placed it: "entry.long", "exit.long", "stop" ...

    def __post_init__(self) -> None:
        problems = []
        if not _LINK_ID.match(self.link_id):
            problems.append(f"link_id {self.link_id!r} is not 1-36 chars of [A-Za-z0-9_-]")
        if self.side not in ("Buy", "Sell"):
            problems.append(f"side must be Buy or Sell, got {self.side!r}")
        if not self.qty > 0:
            problems.append(f"qty must be > 0, got {self.qty!r}")
        if self.order_type == "Limit" and not (self.price is not None and self.price > 0):
            problems.append("a Limit order needs a price > 0")
        if self.order_type == "Market" and self.price is not None:
            problems.append("a Market order takes no price")
        if self.order_type == "Market" and self.tif in ("PostOnly",):
            problems.append("PostOnly applies to Limit orders only")
        if (self.trigger_price is None) != (self.trigger_direction is None):
            problems.append("trigger_price and trigger_direction go together")
        if self.trigger_direction not in (None, 1, 2):
            problems.append("trigger_direction is 1 (rises to) or 2 (falls to)")
        if problems:
            raise BadInputError(f"order {self.link_id}: " + "; ".join(problems))

    @property
    def is_conditional(self) -> bool:
        return self.trigger_price is not None

    @property
    def sign(self) -> int:
        """+1 for Buy, -1 for Sell (the direction it moves a one-way position)."""
        return 1 if self.side == "Buy" else -1


@dataclass(frozen=True, slots=True)
class OrderAccepted:
    link_id: str
    ts: int


@dataclass(frozen=True, slots=True)
class OrderRejected:
    """Refused on arrival; ``code`` is Bybit's retCode (e.g. 110094 below min notional)."""

    link_id: str
    ts: int
    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class OrderFilled:
    """One fill (an order may fill in several). ``fee`` in USDT, paid (negative = rebate)."""

    link_id: str
    ts: int
    side: Side
    qty: float
    price: float
    fee: float
    liquidity: Literal["maker", "taker"]
    reduce_only: bool
    leaves_qty: float  # what remains open on the order after this fill


@dataclass(frozen=True, slots=True)
class OrderCancelled:
    link_id: str
    ts: int
    reason: str  # "IOC remainder", "ttl", "position closed", "by engine", "liquidation" ...


@dataclass(frozen=True, slots=True)
class FundingSettled:
    """A funding settlement on an open position; ``amount`` USDT paid (negative = received)."""

    symbol: str
    ts: int
    rate: float
    mark_price: float
    qty: float
    amount: float


@dataclass(frozen=True, slots=True)
class PositionLiquidated:
    """The position was taken over at its bankruptcy price; its margin is lost."""

    symbol: str
    ts: int
    side: Side  # side of the closing trade
    qty: float
    mark_price: float
    bankruptcy_price: float
    margin_lost: float


@dataclass(frozen=True, slots=True)
class PositionClosed:
    """One closed-PnL record (Bybit ``/v5/position/closed-pnl``): a fill that closed all or
    part of the position. A partial close is its own record.

    ``entry_fee`` is the closed part's pro-rata share of the fees paid to open the position,
    ``funding`` its share of the funding settled while it was open (USDT, positive = paid;
    Bybit books funding apart, so ``closed_pnl`` = ``gross_pnl - entry_fee - exit_fee`` leaves
    it out, as Bybit's ``closedPnl`` does). ``exit_type`` says what closed it: ``"Order"`` (an
    order of the engine's), ``"StopLoss"`` / ``"TakeProfit"`` (position TP/SL) or
    ``"Liquidation"``. Prices USDT, ``qty`` base coin, times epoch ms.
    """

    symbol: str
    ts: int
    position_side: Literal["long", "short"]
    qty: float
    avg_entry: float
    avg_exit: float
    entry_fee: float
    exit_fee: float
    funding: float
    gross_pnl: float
    closed_pnl: float
    opened_ts: int
    entry_link_id: str
    exit_link_id: str
    exit_type: ExitType


VenueEvent = (
    OrderAccepted
    | OrderRejected
    | OrderFilled
    | OrderCancelled
    | FundingSettled
    | PositionLiquidated
    | PositionClosed
)
