"""The backtest result: everything one run produced, in plain data, plus its JSON form.

Built by :mod:`trade_core.backtest.runner` from the engine's :class:`EngineResult`. Trades come
from the venue's closed-PnL records (see :mod:`trade_core.engine.trades`), fills and orders from
the venue events, the equity curve from the engine (one point per exec close, USDT marked at
the exec bar's close). The audit (:mod:`trade_core.backtest.audit`) reads this object, the
candles and the Play; it never trusts the engine's running totals.

Determinism: the same inputs give byte-identical :meth:`BacktestResult.to_json` (dict order
fixed, floats printed by ``repr``), and :meth:`BacktestResult.fingerprint` hashes trades,
fills and metrics.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from trade_core.backtest.metrics import Metrics
from trade_core.engine.engine import EngineEvent
from trade_core.engine.orders import (
    FundingSettled,
    OrderCancelled,
    OrderFilled,
    OrderIntent,
    OrderRejected,
    PositionLiquidated,
    VenueEvent,
)
from trade_core.engine.trades import Trade
from trade_core.engine.venue import PositionState


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """One order the engine placed and what became of it.

    ``status``: ``Filled``, ``PartiallyFilledCanceled``, ``Cancelled``, ``Rejected`` or ``New``
    (still open at the end). ``avg_price`` is the qty-weighted fill price (None unfilled).
    """

    link_id: str
    ts: int
    side: str
    order_type: str
    qty: float
    price: float | None
    tif: str
    reduce_only: bool
    stop_loss: float | None
    take_profit: float | None
    reason: str
    status: str
    filled_qty: float
    avg_price: float | None
    status_reason: str


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One audit check: its number (1-23), name, verdict and the numbers behind it."""

    number: int
    name: str
    passed: bool
    detail: str
    skipped: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BacktestResult:
    """A finished backtest (module docstring). Money in USDT, times in epoch ms UTC."""

    play_name: str
    play_version: int
    play_hash: str
    symbol: str
    timeframes: dict[str, str]
    feed: str  # "batch" | "stream"
    data_source: str
    data_fingerprint: str
    start_ts: int  # first 1m bar's open
    end_ts: int  # last 1m bar's close
    bars_1m: int
    exec_bars: int
    starting_equity: float
    final_equity: float
    trades: list[Trade]
    fills: list[OrderFilled]
    orders: list[OrderRecord]
    funding: list[FundingSettled]
    liquidations: list[PositionLiquidated]
    equity_ts: np.ndarray  # int64 ms, one per exec close
    equity: np.ndarray  # float64 USDT at each exec close
    events: list[EngineEvent]
    venue_events: list[VenueEvent]
    open_position: PositionState
    open_upnl: float  # unrealised PnL of the open position at the last close, USDT
    # equity change = sum(trade net PnL) + open_upnl - open_fees - open_funding
    metrics: Metrics
    settings: dict[str, Any] = field(default_factory=dict)  # fees, slippage, leverage caps
    open_fees: float = 0.0  # fees paid to open the still-open position (in no trade yet), USDT
    open_funding: float = 0.0  # funding paid (+) on the still-open position, USDT
    audit: list[CheckResult] = field(default_factory=list)

    @property
    def audit_passed(self) -> bool:
        return all(c.passed for c in self.audit)

    def summary(self) -> dict[str, Any]:
        """``metrics`` as the JSON report gives it: every metric, plus the closed trade count
        under ``trades`` and ``final_equity``."""
        m = self.metrics.to_dict()
        m["trades"] = len(self.trades)
        m["final_equity"] = self.final_equity
        return m

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` document: metrics, audit, trades, plus what was run."""
        return {
            "play": {
                "name": self.play_name,
                "version": self.play_version,
                "hash": self.play_hash,
            },
            "run": {
                "symbol": self.symbol,
                "timeframes": self.timeframes,
                "feed": self.feed,
                "data_source": self.data_source,
                "data_fingerprint": self.data_fingerprint,
                "start_ts": self.start_ts,
                "end_ts": self.end_ts,
                "bars_1m": self.bars_1m,
                "exec_bars": self.exec_bars,
                "settings": self.settings,
            },
            "metrics": self.summary(),
            "audit": [c.to_dict() for c in self.audit],
            "trades": [t.to_dict() for t in self.trades],
            "open_position": None
            if self.open_position.is_flat
            else {
                "side": self.open_position.side,
                "qty": self.open_position.qty,
                "avg_entry": self.open_position.avg_entry,
                "upnl": self.open_upnl,
            },
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False, default=_plain)

    def fingerprint(self) -> str:
        """sha256 of trades, fills, equity and metrics: equal iff the runs were identical."""
        h = hashlib.sha256()
        h.update(json.dumps([t.to_dict() for t in self.trades]).encode())
        h.update(json.dumps([asdict(f) for f in self.fills]).encode())
        h.update(np.ascontiguousarray(self.equity_ts).tobytes())
        h.update(np.ascontiguousarray(self.equity).tobytes())
        h.update(json.dumps(self.metrics.to_dict(), sort_keys=True).encode())
        return h.hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer | np.floating):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def order_records(intents: list[OrderIntent], events: list[VenueEvent]) -> list[OrderRecord]:
    """Each intent with its fate, from the venue events (fills, cancels, rejections)."""
    filled: dict[str, list[tuple[float, float]]] = {}
    ended: dict[str, tuple[str, str]] = {}
    for e in events:
        if isinstance(e, OrderFilled):
            filled.setdefault(e.link_id, []).append((e.qty, e.price))
        elif isinstance(e, OrderRejected):
            ended.setdefault(e.link_id, ("Rejected", f"{e.code}: {e.reason}"))
        elif isinstance(e, OrderCancelled):
            ended.setdefault(e.link_id, ("Cancelled", e.reason))
    out = []
    for o in intents:
        parts = filled.get(o.link_id, [])
        qty = sum(q for q, _ in parts)
        avg = sum(q * p for q, p in parts) / qty if qty > 0 else None
        status, why = ended.get(o.link_id, ("", ""))
        if not status:
            status = "Filled" if parts else "New"
        elif status == "Cancelled" and parts:
            status = "PartiallyFilledCanceled"
        elif status == "Rejected" and parts:  # a refused cancel of an order that had filled
            status, why = "Filled", ""
        out.append(OrderRecord(
            o.link_id, o.created_ts, o.side, o.order_type, o.qty, o.price, o.tif,
            o.reduce_only, o.stop_loss, o.take_profit, o.reason, status, qty, avg, why,
        ))  # fmt: skip
    return out
