"""Trade records: one per closed-PnL record the venue reports, with the engine's exit reason.

A trade is not re-derived from fills in the engine: the venue (simulated or Bybit) reports
each closing fill as a :class:`~trade_core.engine.orders.PositionClosed`, and the engine only
adds what the venue cannot know: *why* it closed (the rule or stop behind the closing order)
and how many exec bars it was held. A partial close is its own trade, as in Bybit's
closed-PnL list. Amounts USDT (fees and funding paid-positive), times epoch ms.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from trade_core.engine.orders import PositionClosed

VENUE_EXIT_REASONS = {
    "StopLoss": "stop_loss",
    "TakeProfit": "take_profit",
    "Liquidation": "liquidation",
}
"""Exit reason of a close the venue made by itself (position TP/SL, liquidation)."""


@dataclass(frozen=True, slots=True)
class Trade:
    """One closed trade (``net_pnl = gross_pnl - entry_fee - exit_fee - funding``)."""

    trade_id: int
    symbol: str
    side: str  # "long" | "short": the position's side
    qty: float  # base coin closed
    entry_ts: int  # fill that opened the position
    entry_price: float  # the position's average entry
    exit_ts: int
    exit_price: float
    entry_fee: float  # pro-rata share of the opening fees
    exit_fee: float
    funding: float  # pro-rata share of funding settled while open (paid +)
    gross_pnl: float
    net_pnl: float
    exit_reason: str  # "exit.long", "reverse to short", "stop_loss", "trailing_stop", ...
    bars_held: int  # exec-bar closes between entry and exit fill
    entry_link_id: str
    exit_link_id: str

    @property
    def fees(self) -> float:
        return self.entry_fee + self.exit_fee

    @property
    def liquidated(self) -> bool:
        return self.exit_reason == "liquidation"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def trade_from_closed(trade_id: int, rec: PositionClosed, exit_reason: str, exec_ms: int) -> Trade:
    """The trade for closed-PnL record ``rec``; ``exec_ms`` the exec timeframe in ms."""
    bars_held = rec.ts // exec_ms - rec.opened_ts // exec_ms
    return Trade(
        trade_id=trade_id,
        symbol=rec.symbol,
        side=rec.position_side,
        qty=rec.qty,
        entry_ts=rec.opened_ts,
        entry_price=rec.avg_entry,
        exit_ts=rec.ts,
        exit_price=rec.avg_exit,
        entry_fee=rec.entry_fee,
        exit_fee=rec.exit_fee,
        funding=rec.funding,
        gross_pnl=rec.gross_pnl,
        net_pnl=rec.closed_pnl - rec.funding,
        exit_reason=exit_reason,
        bars_held=bars_held,
        entry_link_id=rec.entry_link_id,
        exit_link_id=rec.exit_link_id,
    )
