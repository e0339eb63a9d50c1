"""Fills and trades of a result as numpy columns, built once per audit.

Extraction is one C-level pass per list (``attrgetter``); every check then works on whole
columns. Prices USDT, quantities base coin, money USDT, times epoch ms UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter

import numpy as np

from trade_core.engine.orders import OrderFilled
from trade_core.engine.trades import Trade

KIND_ORDER, KIND_SL, KIND_TP, KIND_LIQ = 0, 1, 2, 3
"""What made a fill: an engine order, or the venue's stop-loss / take-profit / liquidation."""
_VENUE_TAGS = {"sl": KIND_SL, "tp": KIND_TP, "liq": KIND_LIQ}
_DIGITS = "0123456789"


def fill_kind(link_id: str) -> int:
    """The kind of a fill from its link id: the venue derives ``<entry>-sl``, ``-tp``,
    ``-liq`` (``-sl2`` ... when reused) for its own closes; anything else is an order."""
    base = link_id.rstrip(_DIGITS) if link_id[-1:] in _DIGITS else link_id
    return _VENUE_TAGS.get(base[base.rfind("-") + 1 :], KIND_ORDER)


def _columns(items: Sequence[object], names: tuple[str, ...]) -> list[list]:
    """One list per attribute (``map`` of a C getter each: faster than transposing tuples)."""
    return [list(map(attrgetter(name), items)) for name in names]


@dataclass(frozen=True)
class FillTable:
    """Every fill: link id, time, side sign (+1 Buy / -1 Sell), qty, price, fee, whether
    maker / reduce-only / a liquidation, and its kind (``KIND_*``)."""

    links: list[str]
    ts: np.ndarray
    sign: np.ndarray
    qty: np.ndarray
    price: np.ndarray
    fee: np.ndarray
    liquidity: list[str]
    reduce_only: np.ndarray
    kind: np.ndarray

    def __len__(self) -> int:
        return len(self.links)

    @classmethod
    def of(cls, fills: Sequence[OrderFilled]) -> FillTable:
        names = ("link_id", "ts", "side", "qty", "price", "fee", "liquidity", "reduce_only")
        link, ts, side, qty, price, fee, liq, ro = _columns(fills, names)
        return cls(
            links=list(link),
            ts=np.array(ts, np.int64),
            sign=np.array([s == "Buy" for s in side], np.int64) * 2 - 1,
            qty=np.array(qty, np.float64),
            price=np.array(price, np.float64),
            fee=np.array(fee, np.float64),
            liquidity=list(liq),
            reduce_only=np.array(ro, bool),
            kind=np.array(
                [fill_kind(x) if r else KIND_ORDER for x, r in zip(link, ro, strict=True)], np.int8
            ),  # venue closes are reduce-only
        )


@dataclass(frozen=True)
class TradeTable:
    """Every trade record's numbers: side sign (+1 long / -1 short, 0 unknown), qty,
    entry/exit price and time, gross, fees, funding, net, entry link."""

    ids: np.ndarray
    sign: np.ndarray
    qty: np.ndarray
    entry_price: np.ndarray
    exit_price: np.ndarray
    entry_ts: np.ndarray
    exit_ts: np.ndarray
    gross: np.ndarray
    entry_fee: np.ndarray
    exit_fee: np.ndarray
    funding: np.ndarray
    net: np.ndarray
    entry_links: list[str]

    def __len__(self) -> int:
        return len(self.entry_links)

    @classmethod
    def of(cls, trades: Sequence[Trade]) -> TradeTable:
        names = (
            *("trade_id", "side", "qty", "entry_price", "exit_price", "entry_ts", "exit_ts"),
            *("gross_pnl", "entry_fee", "exit_fee", "funding", "net_pnl", "entry_link_id"),
        )
        tid, side, qty, ep, xp, ets, xts, gross, ef, xf, fund, net, link = _columns(trades, names)
        signs = {"long": 1, "short": -1}
        f = np.float64
        return cls(
            ids=np.array(tid, np.int64),
            sign=np.array([signs.get(s, 0) for s in side], np.int64),
            qty=np.array(qty, f),
            entry_price=np.array(ep, f),
            exit_price=np.array(xp, f),
            entry_ts=np.array(ets, np.int64),
            exit_ts=np.array(xts, np.int64),
            gross=np.array(gross, f),
            entry_fee=np.array(ef, f),
            exit_fee=np.array(xf, f),
            funding=np.array(fund, f),
            net=np.array(net, f),
            entry_links=list(link),
        )
