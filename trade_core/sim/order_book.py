"""The simulated exchange's open orders, indexed by ``orderLinkId``.

Only **open** orders are held (a filled, cancelled or rejected order leaves the book), in two
insertion-ordered dicts: *pending* orders that arrived after the last bar began and may not
trade on it (no look-ahead), and *live* ones (armed conditional orders, resting limits,
market orders due at the next open). The work per bar is therefore proportional to the open
orders, never to the history of the run. Every accepted ``orderLinkId`` (and every id the
venue derives for its own closes) is remembered in a set, so a duplicate is refused (Bybit
retCode 110072) in O(1).

Quantities in base coin, times in epoch ms, prices in USDT.
"""

from __future__ import annotations

from dataclasses import dataclass

from trade_core.engine.orders import OrderIntent
from trade_core.sim.sides import OrderSide

LINK_ID_MAX = 36


@dataclass(slots=True)
class SimOrder:
    """One open order and its progress through the simulator."""

    intent: OrderIntent
    seq: int  # arrival sequence number (ties between same-time events: lower first)
    arrival: int  # ms; may first trade on the first 1m bar with ``bar.ts >= arrival``
    leaves: float  # base coin still open
    live: bool = False  # arrived: armed (conditional) or executable
    triggered: bool = False  # conditional only: its trigger was reached
    window_bar: int | None = None  # ts of the bar that is its "now" (IOC/FOK/market)
    live_at: tuple[int, float] | None = None  # (bar ts, path time) it became executable
    carry: bool = False  # a Market GTC order cut by the volume cap: the rest fills at next open

    @property
    def link_id(self) -> str:
        return self.intent.link_id

    @property
    def side(self) -> OrderSide:
        """Lower-case order side of :mod:`trade_core.sim.sides` (``"buy"`` / ``"sell"``)."""
        return "buy" if self.intent.side == "Buy" else "sell"

    @property
    def sign(self) -> int:
        return self.intent.sign

    @property
    def awaiting_trigger(self) -> bool:
        """A conditional order whose trigger has not been reached yet."""
        return self.intent.is_conditional and not self.triggered

    @property
    def is_market(self) -> bool:
        return self.intent.order_type == "Market"

    @property
    def immediate(self) -> bool:
        """Trades only in its first executable bar: Market, IOC and FOK orders."""
        return self.is_market or self.intent.tif in ("IOC", "FOK")


class OrderBook:
    """Open orders by link id, pending vs live, plus the set of used link ids."""

    __slots__ = ("_live", "_pending", "_seen", "_seq", "size")

    def __init__(self) -> None:
        self._pending: dict[str, SimOrder] = {}
        self._live: dict[str, SimOrder] = {}
        self._seen: set[str] = set()
        self._seq = 0
        self.size = 0
        """Open orders, pending + live (``len(book)``), kept current by every change, so
        the venue's per-bar "any open order?" test is one attribute read."""

    def __len__(self) -> int:
        return self.size

    def seen(self, link_id: str) -> bool:
        """Whether ``link_id`` was used before (by an accepted order or a venue close)."""
        return link_id in self._seen

    def reserve(self, link_id: str) -> None:
        """Mark ``link_id`` as used."""
        self._seen.add(link_id)

    def add(self, intent: OrderIntent, arrival: int) -> SimOrder:
        """Book an accepted order as pending; it goes live on the next bar it may trade."""
        self._seq += 1
        order = SimOrder(intent, self._seq, arrival, intent.qty)
        before = len(self._pending)
        self._pending[intent.link_id] = order
        self.size += len(self._pending) - before
        self._seen.add(intent.link_id)
        return order

    def get(self, link_id: str) -> SimOrder | None:
        return self._live.get(link_id) or self._pending.get(link_id)

    def remove(self, link_id: str) -> SimOrder | None:
        """Take an order out of the book (filled or cancelled); None if it is not open."""
        order = self._live.pop(link_id, None) or self._pending.pop(link_id, None)
        if order is not None:
            self.size -= 1
        return order

    def activate(self, bar_ts: int) -> list[SimOrder]:
        """Move pending orders with ``arrival <= bar_ts`` to live; returns them by arrival."""
        ready = [o for o in self._pending.values() if o.arrival <= bar_ts]
        for order in ready:
            del self._pending[order.link_id]
            order.live = True
            self._live[order.link_id] = order
        if ready:
            self.size = len(self._pending) + len(self._live)
        return ready

    def live_orders(self) -> list[SimOrder]:
        """Live orders in arrival order (a snapshot: safe to change the book meanwhile)."""
        return list(self._live.values())

    def open_orders(self) -> list[SimOrder]:
        """All open orders (live and pending) in arrival order (a snapshot)."""
        return sorted([*self._live.values(), *self._pending.values()], key=lambda o: o.seq)


def derived_link_id(base: str, suffix: str, book: OrderBook) -> str:
    """A deterministic, unused link id ``<base>-<suffix>`` (``base`` trimmed to fit 36 chars),
    numbered ``-<suffix>2``, ``-<suffix>3`` ... if taken; reserved in ``book``."""
    n = 1
    while True:
        tail = f"-{suffix}" if n == 1 else f"-{suffix}{n}"
        candidate = base[: LINK_ID_MAX - len(tail)] + tail
        if not book.seen(candidate):
            book.reserve(candidate)
            return candidate
        n += 1
