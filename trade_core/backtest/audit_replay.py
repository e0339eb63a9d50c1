"""The audit's own replay of a backtest: fills, funding and protective levels, in time order.

It rebuilds the one-way isolated position (side, size, average entry, extra margin drained
by funding), the wallet balance, the closed-PnL share of every closing fill and the expected
funding settlements from the fills, the candles, the funding arrays and the orders' TP/SL,
with small closed-form formulas of its own (BYBIT_RULES): never from the venue's ledger.

* Size: the net position after fill ``i`` is the running sum of signed fill quantities (in
  whole ``qty_step`` units); a fill against the position closes ``min(fill, position)`` and
  opens the rest the other way.
* Money (average entry, fee and funding shares, extra margin, balance) is one sequential
  pass over the merged events, in plain floats.

Order of events at one instant ``T`` (ms): a funding settlement at ``T`` (the end of the 1m
bar closing at ``T``), then a liquidation it caused (stamped ``T``), then the engine's decision
at ``T`` (trailing-stop moves), then the fills of the next bar's open (also stamped ``T``).
Fills inside a bar are stamped ``bar.ts + t * 20 000`` with path time ``t`` (0 open .. 3 close).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from trade_core.backtest.audit_tables import KIND_LIQ, KIND_ORDER, KIND_SL, KIND_TP, FillTable
from trade_core.backtest.audit_walk import FILL, FUNDING, TRAIL, Walk, WalkFills, WalkFunding
from trade_core.engine.orders import OrderRejected

if TYPE_CHECKING:
    from trade_core.backtest.audit_context import AuditContext

LEG_MS = 20_000
"""Ms of a 1m bar per leg of the simulator's path (open -> extreme -> extreme -> close)."""


def _table(rows: list[tuple], dtypes: tuple[object, ...]) -> list[np.ndarray | list]:
    """Columns of ``rows`` as arrays (``list`` in ``dtypes`` keeps a Python list)."""
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in dtypes]
    return [
        list(c) if d is list else np.array(c, dtype=d) for c, d in zip(cols, dtypes, strict=True)
    ]  # type: ignore[call-overload]


@dataclass(frozen=True)
class Closings:
    """One row per fill that closed quantity, in time order (a trade record's counterpart).
    ``stop``/``target``: the levels in effect (NaN none); ``stop_tol``: USDT a logged stop
    may be off."""

    fill: np.ndarray
    sign: np.ndarray
    qty: np.ndarray
    avg: np.ndarray
    price: np.ndarray
    gross: np.ndarray
    entry_fee: np.ndarray
    exit_fee: np.ndarray
    funding: np.ndarray
    opened_ts: np.ndarray
    entry_links: list[str]
    stop: np.ndarray
    target: np.ndarray
    stop_tol: np.ndarray

    def __len__(self) -> int:
        return len(self.entry_links)


_CLOSING_TYPES = (
    *(np.int64, np.int64, float, float, float, float, float, float, float),
    *(np.int64, list, float, float, float),
)


@dataclass(frozen=True)
class Segments:
    """Stretches with an unchanged open position: state, then start and end on the path
    (1m row, path time, path price; ``end_row`` = number of bars for the data's end) and how
    it ended (``END_*``, before a bar's path, by fill ``end_fill``, at a funding instant)."""

    sign: np.ndarray
    qty: np.ndarray
    avg: np.ndarray
    extra: np.ndarray
    start_row: np.ndarray
    start_t: np.ndarray
    start_price: np.ndarray
    end_row: np.ndarray
    end_t: np.ndarray
    end_price: np.ndarray
    end_kind: np.ndarray
    end_pre_path: np.ndarray
    end_fill: np.ndarray
    liq_at_funding: np.ndarray

    def __len__(self) -> int:
        return int(self.sign.size)


_SEGMENT_TYPES = (
    *(np.int64, float, float, float, np.int64, float, float),
    *(np.int64, float, float, np.int8, bool, np.int64, bool),
)


_SETTLEMENT_TYPES = (np.int64, float, float, np.int64, float, float)


@dataclass(frozen=True)
class Settlements:
    """Funding settlements the data and the replayed position call for (USDT paid +)."""

    ts: np.ndarray
    rate: np.ndarray
    mark: np.ndarray
    sign: np.ndarray
    qty: np.ndarray
    amount: np.ndarray


@dataclass(frozen=True)
class FinalPosition:
    """The position at the end and what it has not allotted yet (USDT)."""

    sign: int = 0
    units: int = 0
    qty: float = 0.0
    avg: float = math.nan
    open_fees: float = 0.0
    funding: float = 0.0


@dataclass(frozen=True)
class Replay:
    """Everything the replay found (module docstring); per-fill arrays follow the fills."""

    fill_row: np.ndarray  # 1m bar row of each fill (-1: no such bar in the data)
    build_rows: np.ndarray  # bars with fills, ascending ...
    build_signs: np.ndarray  # ... and the position sign their path was walked with
    closings: Closings
    segments: Segments
    settlements: Settlements
    balance_ts: np.ndarray
    balance: np.ndarray
    liquidation_ts: set[int]
    opened_units: int
    reduce_bad: int = 0  # reduce-only fills that opened or grew a position ...
    reduce_problems: list[str] = field(default_factory=list)  # ... the first few described
    level_problems: list[str] = field(default_factory=list)  # logged stops unreadable
    final: FinalPosition = field(default_factory=FinalPosition)

    def build_sign(self, rows: np.ndarray, default: np.ndarray) -> np.ndarray:
        """Sign each bar's path was walked with: recorded for bars with fills, else
        ``default`` (the sign of the position through the bar)."""
        rows = np.asarray(rows, np.int64)
        if self.build_rows.size == 0:
            return np.asarray(default, np.int64)
        at = np.minimum(np.searchsorted(self.build_rows, rows), self.build_rows.size - 1)
        return np.where(self.build_rows[at] == rows, self.build_signs[at], default)


@dataclass(frozen=True)
class _Prepared:
    """The vectorised part: fill positions on the path and the quantity each closes/opens."""

    row: np.ndarray
    t: np.ndarray
    path_price: np.ndarray
    pre_path: np.ndarray
    closed_u: np.ndarray
    opened_u: np.ndarray
    net: np.ndarray
    before: np.ndarray
    levels: list[tuple[float | None, float | None] | None]


def _prepare(ctx: AuditContext, ft: FillTable) -> _Prepared:
    cols, step = ctx.cols, ctx.instrument.qty_step
    row = cols.rows(ft.ts)
    safe = np.maximum(row, 0)
    bar_ts = cols.ts[safe] if cols.ts.size else np.zeros(len(ft), np.int64)
    orders = ctx.orders
    market = np.array(
        [(o := orders.get(x)) is not None and o.order_type == "Market" for x in ft.links], bool
    ) & (ft.kind == KIND_ORDER)
    protective = (ft.kind == KIND_SL) | (ft.kind == KIND_TP)
    base = ft.price / (1.0 + ft.sign * ctx.slippage_fraction)
    opens = cols.open[safe] if cols.ts.size else ft.price
    units = np.rint(ft.qty / step).astype(np.int64)
    signed = ft.sign * units
    net = np.cumsum(signed)
    before = net - signed
    closing = (before != 0) & (np.sign(before) == -ft.sign)
    closed_u = np.where(closing, np.minimum(units, np.abs(before)), 0)
    opened_u = units - closed_u
    levels: list[tuple[float | None, float | None] | None] = [None] * len(ft)
    for i in np.flatnonzero(opened_u > 0).tolist():
        o = orders.get(ft.links[i])
        if o is not None and (o.stop_loss is not None or o.take_profit is not None):
            levels[i] = (o.stop_loss, o.take_profit)
    return _Prepared(
        row=row,
        t=(ft.ts - bar_ts) / LEG_MS,
        path_price=np.where(market, opens, np.where(protective, base, ft.price)),
        pre_path=market & (ft.ts == bar_ts) & (row >= 0),
        closed_u=closed_u,
        opened_u=opened_u,
        net=net,
        before=before,
        levels=levels,
    )


def _build_signs(prep: _Prepared) -> tuple[np.ndarray, np.ndarray]:
    """Per bar with fills: the sign after its open's market fills (made before its path),
    else the sign before its first fill."""
    ok = np.flatnonzero(prep.row >= 0)
    if ok.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    rows, first = np.unique(prep.row[ok], return_index=True)
    first = ok[first]
    n = prep.row.size
    not_pre = np.where(~prep.pre_path, np.arange(n), n)
    next_in_path = np.minimum.accumulate(not_pre[::-1])[::-1]
    ends = np.append(first[1:], ok[-1] + 1)
    stop = np.minimum(next_in_path[first], ends)
    after_pre = np.sign(prep.net[np.maximum(stop - 1, 0)])
    return rows, np.where(stop > first, after_pre, np.sign(prep.before[first]))


def _reduce_problems(ft: FillTable, prep: _Prepared) -> tuple[int, list[str]]:
    """Reduce-only fills that did not only shrink an opposite position: count, first few."""
    bad = ft.reduce_only & ((prep.closed_u == 0) | (prep.opened_u > 0))
    out = []
    for i in np.flatnonzero(bad).tolist()[:3]:
        pos = int(prep.before[i])
        what = "no opposite position" if prep.closed_u[i] == 0 else f"a position of {pos:+d} units"
        out.append(f"{ft.links[i]} {ft.qty[i]:g} at {int(ft.ts[i])} with {what}")
    return int(bad.sum()), out


def _funding_events(
    ctx: AuditContext, prep: _Prepared, ft: FillTable
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Funding times in ``(start, end]`` with a position open then and a close to mark at:
    ``(ts, rate, bar row of the mark)``."""
    r, d = ctx.result, ctx.data
    fts = np.asarray(d.funding_ts, np.int64)
    rate = np.asarray(d.funding_rate, np.float64)
    keep = (fts > r.start_ts) & (fts <= r.end_ts)
    fts, rate = fts[keep], rate[keep]
    rows = ctx.cols.last_closed_row(fts)
    last = np.searchsorted(ft.ts, fts, side="left") - 1
    held = np.where(last >= 0, prep.net[np.maximum(last, 0)] if prep.net.size else 0, 0)
    keep = (rows >= 0) & (held != 0)
    return fts[keep], rate[keep], rows[keep]


def replay_fills(ctx: AuditContext) -> Replay:
    """Replay the result's fills with the data's funding and the engine's stop moves."""
    ft = ctx.fill_table
    prep = _prepare(ctx, ft)
    fts, frate, frow = _funding_events(ctx, prep, ft)
    r = ctx.result
    rejected = {
        e.ts for e in r.venue_events if isinstance(e, OrderRejected) and e.link_id.endswith("tpsl")
    }
    trails = [(e.ts, e.detail) for e in r.events if e.kind == "trail" and e.ts not in rejected]
    ts_all = np.concatenate((ft.ts, fts, np.array([t for t, _ in trails], np.int64)))
    what = np.concatenate(
        (np.full(len(ft), FILL), np.full(fts.size, FUNDING), np.full(len(trails), TRAIL))
    )
    idx = np.concatenate((np.arange(len(ft)), np.arange(fts.size), np.arange(len(trails))))
    order = np.lexsort((idx, what, ts_all))
    funding = WalkFunding(
        fts.tolist(), frate.tolist(), ctx.cols.close[frow].tolist(), frow.tolist()
    )
    walk = Walk(_walk_fills(ft, prep), funding, trails,
                start_balance=float(ctx.play.model.account.starting_equity),
                leverage=ctx.leverage, qty_step=ctx.instrument.qty_step,
                tick=ctx.instrument.tick_size, n_bars=int(ctx.cols.ts.size))  # fmt: skip
    walk.run(what[order].tolist(), idx[order].tolist())
    rows, signs = _build_signs(prep)
    bad, described = _reduce_problems(ft, prep)
    return Replay(
        fill_row=prep.row,
        build_rows=rows,
        build_signs=signs,
        closings=Closings(*_table(walk.closes, _CLOSING_TYPES)),
        segments=Segments(*_table(walk.segs, _SEGMENT_TYPES)),
        settlements=Settlements(*_table(walk.setl, _SETTLEMENT_TYPES)),
        balance_ts=np.array(walk.bal_ts, np.int64),
        balance=np.array(walk.bals, np.float64),
        liquidation_ts=walk.liq_ts,
        opened_units=int(prep.opened_u.sum()),
        reduce_bad=bad,
        reduce_problems=described,
        level_problems=walk.level_problems,
        final=FinalPosition(walk.sgn, walk.units, walk.q, walk.avg, walk.ofees, walk.pfund),
    )


def _walk_fills(ft: FillTable, prep: _Prepared) -> WalkFills:
    """The fills as the walk reads them: plain lists, one value per fill."""
    points = list(zip(prep.row.tolist(), prep.t.tolist(), prep.path_price.tolist(), strict=True))
    return WalkFills(
        ts=ft.ts.tolist(),
        sign=ft.sign.tolist(),
        qty=ft.qty.tolist(),
        price=ft.price.tolist(),
        fee=ft.fee.tolist(),
        liq=(ft.kind == KIND_LIQ).tolist(),
        link=ft.links,
        point=points,
        pre_path=prep.pre_path.tolist(),
        closed_u=prep.closed_u.tolist(),
        opened_u=prep.opened_u.tolist(),
        levels=prep.levels,
    )
