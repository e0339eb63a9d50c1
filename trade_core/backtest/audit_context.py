"""What every audit check reads: the result, the Play, the data and the run settings, plus the
facts the checks share, each computed once and only when a check asks for it.

Nothing here comes from the venue's ledger or the engine's running totals: candle columns,
the warm-up instant, the decision instants and the replay (:mod:`audit_replay`) are rebuilt
from the fills, the candles, the funding arrays, the Play and the instrument. Times are epoch
ms UTC, money USDT, quantities base coin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from trade_core.backtest.audit_replay import Replay, replay_fills
from trade_core.backtest.audit_tables import FillTable, TradeTable
from trade_core.backtest.result import BacktestResult, OrderRecord
from trade_core.backtest.runner import BacktestData, RunConfig
from trade_core.data.candles import Candles
from trade_core.data.timeframes import tf_ms
from trade_core.engine.bars import MINUTE_MS
from trade_core.play import Play
from trade_core.timestamps import fmt_ts

REL_TOL = 1e-9
"""Relative float tolerance of every money comparison (recomputed vs reported)."""

NEVER = np.iinfo(np.int64).max
"""A warm-up instant that never comes (a role has fewer bars than the Play needs)."""

Outcome = tuple[bool, str]
"""What a check returns: passed, and the numbers behind the verdict (first offender named)."""


def column(items: Sequence[object], attr: str, dtype: type = np.float64) -> np.ndarray:
    """``attr`` of every item as a numpy array (None -> NaN for floats)."""
    if dtype is np.float64:
        values = (np.nan if getattr(x, attr) is None else getattr(x, attr) for x in items)
        return np.fromiter(values, np.float64, len(items))
    return np.fromiter((getattr(x, attr) for x in items), dtype, len(items))


def close_enough(a: float, b: float, scale: float = 0.0) -> bool:
    """``a == b`` up to :data:`REL_TOL` of ``max(|a|, |b|, scale)`` (USDT or prices)."""
    return abs(a - b) <= REL_TOL * max(abs(a), abs(b), scale, 1e-300)


def when(ts: int) -> str:
    """A time for a detail line: ``2024-01-02 03:04`` (seconds when not whole minutes)."""
    return fmt_ts(int(ts))


def warmup_ready_ts(play: Play, candles: Candles) -> int:
    """The first instant (ms) at which every role has closed the bars its warm-up needs.

    A role bar of timeframe ``tf`` is a bucket ``[k*tf, (k+1)*tf)`` holding at least one 1m
    bar and closing no later than the last 1m close (the feeds' rule), so the ``n``-th of them
    closes at the ``n``-th such bucket's end. Roles needing 0 bars impose nothing; the answer
    is :data:`NEVER` when some role never gets enough bars.
    """
    if not len(candles):
        return int(NEVER)
    ts = candles.ts
    end = int(ts[-1]) + MINUTE_MS
    ready = int(ts[0])
    for role, need in play.warmup.bars.items():
        if need <= 0:
            continue
        step = tf_ms(play.timeframes[role])
        if step == MINUTE_MS:
            closes = ts[:need] + MINUTE_MS
        else:
            bucket = ts - ts % step  # ascending, as ts is
            closes = bucket[np.flatnonzero(np.diff(bucket, prepend=-1))] + step
            closes = closes[closes <= end]
        if need > closes.size:
            return int(NEVER)
        ready = max(ready, int(closes[need - 1]))
    return ready


@dataclass
class Columns:
    """The 1m candles as plain float64/int64 arrays (bar open ``ts`` ms, prices USDT)."""

    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray

    def rows(self, ts: np.ndarray) -> np.ndarray:
        """Row of the 1m bar each ``ts`` (ms) falls in (``floor(ts / 60 s)``), -1 if absent."""
        opens = np.asarray(ts, dtype=np.int64)
        opens = opens - opens % MINUTE_MS
        idx = np.searchsorted(self.ts, opens)
        idx = np.minimum(idx, max(self.ts.size - 1, 0))
        found = self.ts.size > 0
        hit = (self.ts[idx] == opens) if found else np.zeros(opens.size, bool)
        return np.where(hit, idx, -1)

    def last_closed_row(self, ts: np.ndarray) -> np.ndarray:
        """Row of the last 1m bar closing at or before each ``ts`` (ms), -1 if none."""
        return np.searchsorted(self.ts, np.asarray(ts, np.int64) - MINUTE_MS, side="right") - 1


class AuditContext:
    """The inputs of one audit and the facts several checks share (module docstring)."""

    def __init__(
        self, result: BacktestResult, play: Play, data: BacktestData, cfg: RunConfig
    ) -> None:
        self.result, self.play, self.data, self.cfg = result, play, data, cfg
        self.instrument = data.instrument

    @cached_property
    def cols(self) -> Columns:
        c = self.data.candles
        return Columns(
            np.asarray(c.ts, np.int64),
            np.asarray(c.open, np.float64),
            np.asarray(c.high, np.float64),
            np.asarray(c.low, np.float64),
            np.asarray(c.close, np.float64),
        )

    @cached_property
    def leverage(self) -> float:
        """The position's leverage: min(Play, system cap, instrument max) (a multiple)."""
        return min(
            self.play.model.risk.leverage, self.cfg.max_leverage, self.instrument.max_leverage
        )

    @cached_property
    def slippage_fraction(self) -> float:
        """Configured adverse slippage of taker fills as a fraction (bps / 10 000)."""
        return float(self.result.settings.get("slippage_bps", 0.0)) / 10_000.0

    @cached_property
    def orders(self) -> dict[str, OrderRecord]:
        return {o.link_id: o for o in self.result.orders}

    @cached_property
    def entry_orders(self) -> list[OrderRecord]:
        """Orders that may open a position (not reduce-only), in creation order."""
        return [o for o in self.result.orders if not o.reduce_only]

    @cached_property
    def warmup_ts(self) -> int:
        return warmup_ready_ts(self.play, self.data.candles)

    @cached_property
    def fill_table(self) -> FillTable:
        return FillTable.of(self.result.fills)

    @cached_property
    def trade_table(self) -> TradeTable:
        return TradeTable.of(self.result.trades)

    @cached_property
    def replay(self) -> Replay:
        return replay_fills(self)

    @cached_property
    def decisions(self) -> tuple[np.ndarray, np.ndarray]:
        """``(ts, equity)`` at each exec close where the engine decides: a curve point on the
        exec grid, its exec bar complete (every 1m bar present), at or after warm-up."""
        ts = np.asarray(self.result.equity_ts, np.int64)
        eq = np.asarray(self.result.equity, np.float64)
        step = tf_ms(self.play.timeframes["exec"])
        bars = self.cols.ts
        first, last = int(bars[0]), int(bars[-1])
        if last - first == (bars.size - 1) * MINUTE_MS:  # no gap: complete iff inside the data
            complete = (ts - step >= first) & (ts <= last + MINUTE_MS)
        else:
            have = np.searchsorted(bars, ts) - np.searchsorted(bars, ts - step)
            complete = have == step // MINUTE_MS
        keep = (ts % step == 0) & complete & (ts >= self.warmup_ts)
        return ts[keep], eq[keep]
