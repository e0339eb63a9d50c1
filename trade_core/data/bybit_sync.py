"""Fill the store with Bybit klines and funding rates, fetching only what is missing.

Klines (``/v5/market/kline``): the answer is newest-first and holds at most ``limit`` rows;
when a window has more bars than that, Bybit silently returns the newest ones. So every
request covers at most :data:`KLINE_LIMIT` bars and windows walk forward through the missing
ranges that :meth:`MarketStore.gaps` reports — which makes the sync resumable: an interrupted
run, a later run over a wider range and holes all reduce to "fetch the gaps". Each window is
written in its own transaction, so a crash loses at most one window. The still-forming bar is
never stored: the end is clamped to the open of the current bar, ``floor(now, tf)``.

Funding (``/v5/market/funding/history``, at most :data:`FUNDING_LIMIT` rows, newest first):
we walk ``endTime`` backwards from the end of the range, each next page ending just before the
oldest settlement of the previous one. Why not windows forward: a forward window must be
small enough to hold at most 200 settlements, which needs the funding interval — and that is
1, 2, 4 or 8 h depending on the symbol and has changed over time; a too-large window would
silently lose the oldest settlements in it. Walking backwards relies only on "the newest
``limit`` up to ``endTime``", terminates because ``endTime`` strictly decreases, and needs
no interval. Since it discovers the newest settlements first, a range is written in one
transaction after it is complete (funding is small: 8 760 rows a year at 1 h), so the store
never holds the newer part of a range without its older part — which is what makes resuming
from ``store.last_funding_ts`` correct.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from trade_core.data.bybit_client import BybitPublicClient
from trade_core.data.bybit_payloads import FundingRow, KlineRow
from trade_core.data.candles import Candles
from trade_core.data.instrument_spec import check_symbol
from trade_core.data.store import MarketStore, UpsertResult
from trade_core.data.timeframes import BYBIT_INTERVALS, floor_ts, tf_ms
from trade_core.errors import BadInputError, ExchangeError
from trade_core.progress import ProgressFn, report
from trade_core.timestamps import HOUR_MS, fmt_ts
from trade_core.timestamps import now_ms as wall_now_ms

KLINE_LIMIT = 1000
"""Bars per kline request: Bybit's maximum ``limit``."""
FUNDING_LIMIT = 200
"""Settlements per funding request: Bybit's maximum ``limit``."""
MIN_FUNDING_INTERVAL_MS = HOUR_MS
"""Shortest funding interval Bybit uses (1 h): no settlement can hide in a shorter span."""
MAX_FUNDING_INTERVAL_MS = 8 * HOUR_MS
"""Longest funding interval Bybit uses (8 h): a longer gap between settlements is a hole."""


@dataclass(slots=True)
class SyncResult:
    """What one sync did: requests made, rows fetched (bars or settlements), and how the
    store took them. ``ranges`` are the missing ``[start, end)`` ranges (epoch ms) fetched."""

    requests: int = 0
    bars_fetched: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    ranges: list[tuple[int, int]] = field(default_factory=list)

    def add(self, upsert: UpsertResult) -> None:
        self.inserted += upsert.inserted
        self.updated += upsert.updated
        self.unchanged += upsert.unchanged


# ---------------------------------------------------------------------------- klines
def kline_windows(start: int, end: int, step_ms: int) -> Iterator[tuple[int, int]]:
    """Consecutive ``[ws, we)`` windows of at most :data:`KLINE_LIMIT` bars covering
    ``[start, end)`` (both aligned to ``step_ms``)."""
    ws = start
    while ws < end:
        we = min(ws + KLINE_LIMIT * step_ms, end)
        yield ws, we
        ws = we


def window_candles(symbol: str, tf: str, rows: list[KlineRow], window: tuple[int, int]) -> Candles:
    """One window's rows as ascending :class:`Candles`, checked against the request.

    Bybit answers newest-first; we sort rather than merely reverse, and reject rows outside
    ``[ws, we)``, misaligned or duplicated — any of them means the answer is not what was
    asked for, and storing it could put a wrong bar in place of a right one.
    """
    ws, we = window
    step = tf_ms(tf)
    ts = np.fromiter((r.ts for r in rows), dtype=np.int64, count=len(rows))
    bad = (ts < ws) | (ts >= we) | (ts % step != 0)
    if bad.any():
        got = int(ts[np.argmax(bad)])
        raise ExchangeError(
            f"Bybit kline for {symbol} {tf} returned a bar at {got} ({fmt_ts(got)}) outside "
            f"the requested window [{fmt_ts(ws)}, {fmt_ts(we)}) or not on a {tf} boundary"
        )
    order = np.argsort(ts, kind="stable")
    ts = ts[order]
    if len(ts) > 1 and np.any(np.diff(ts) == 0):
        dup = int(ts[np.argmax(np.diff(ts) == 0)])
        raise ExchangeError(f"Bybit kline for {symbol} {tf} returned bar {dup} twice")

    def column(name: str) -> np.ndarray:
        values = np.fromiter((getattr(r, name) for r in rows), dtype=np.float64, count=len(rows))
        return values[order]

    return Candles(
        symbol,
        tf,
        ts,
        *(column(name) for name in ("open", "high", "low", "close", "volume", "turnover")),
    )


def sync_klines(
    store: MarketStore,
    client: BybitPublicClient,
    symbol: str,
    tf: str,
    start_ms: int,
    end_ms: int,
    on_progress: ProgressFn | None = None,
    *,
    now_ms: int | None = None,
) -> SyncResult:
    """Fetch the missing closed ``tf`` bars of ``symbol`` with open time in ``[start_ms,
    end_ms)`` (epoch ms) and upsert them, one transaction per request window.

    ``now_ms`` (default: the wall clock) decides which bar is still forming; bars from
    ``floor(now, tf)`` on are never requested nor stored. Progress is reported in bars.
    """
    sym = check_symbol(symbol)
    step = tf_ms(tf)
    interval = BYBIT_INTERVALS[tf]
    if start_ms >= end_ms:
        raise BadInputError(
            f"sync range is empty: start {fmt_ts(start_ms)} >= end {fmt_ts(end_ms)}"
        )
    now = wall_now_ms() if now_ms is None else now_ms
    end = min(end_ms, floor_ts(now, tf))
    result = SyncResult()
    if end <= start_ms:
        return result
    gaps = store.gaps(sym, tf, start_ms, end)
    total = sum(g.bars for g in gaps)
    done = 0
    report(on_progress, done, total)
    for gap in gaps:
        result.ranges.append((gap.start, gap.end))
        for ws, we in kline_windows(gap.start, gap.end, step):
            rows = client.klines(sym, interval, ws, we - 1, KLINE_LIMIT)
            result.requests += 1
            candles = window_candles(sym, tf, rows, (ws, we))
            result.bars_fetched += len(candles)
            result.add(store.upsert_candles(candles))
            done += (we - ws) // step
            report(on_progress, done, total)
    return result


# ---------------------------------------------------------------------------- funding
def funding_ranges(
    store: MarketStore, symbol: str, start_ms: int, end_ms: int
) -> list[tuple[int, int]]:
    """The ``[lo, hi)`` ranges of ``[start_ms, end_ms)`` that may hold unstored settlements.

    Without knowing the symbol's funding interval (1, 2, 4 or 8 h, and it changes), a span
    can only be ruled out when no settlement fits in it: before the first stored settlement
    and after the last one (``store.last_funding_ts``: the resume point), a span shorter than
    the shortest interval (1 h); between two stored settlements, a gap no longer than the
    longest interval (8 h). Everything else is fetched again (usually one request).
    """
    ts, _ = store.read_funding(symbol, start_ms, end_ms)
    if len(ts) == 0:
        return [(start_ms, end_ms)]
    ranges: list[tuple[int, int]] = []
    first = int(ts[0])
    if first - start_ms >= MIN_FUNDING_INTERVAL_MS:
        ranges.append((start_ms, first))
    holes = np.flatnonzero(np.diff(ts) > MAX_FUNDING_INTERVAL_MS)
    ranges.extend((int(ts[i]) + 1, int(ts[i + 1])) for i in holes)
    last = store.last_funding_ts(symbol)
    resume = (last if last is not None and last < end_ms else int(ts[-1])) + 1
    if end_ms - resume >= MIN_FUNDING_INTERVAL_MS:
        ranges.append((resume, end_ms))
    return ranges


def fetch_funding_range(
    client: BybitPublicClient, symbol: str, lo: int, hi: int
) -> tuple[list[FundingRow], int]:
    """All settlements in ``[lo, hi)`` by walking ``endTime`` backwards; ``(rows, requests)``."""
    rows: dict[int, FundingRow] = {}
    end = hi - 1
    requests = 0
    while end >= lo:
        page = client.funding_history(symbol, lo, end, FUNDING_LIMIT)
        requests += 1
        for row in page:
            if not lo <= row.ts <= end:
                raise ExchangeError(
                    f"Bybit funding history for {symbol} returned {row.ts} ({fmt_ts(row.ts)}) "
                    f"outside the requested [{fmt_ts(lo)}, {fmt_ts(end)}]"
                )
            rows[row.ts] = row
        if len(page) < FUNDING_LIMIT:
            break
        end = min(row.ts for row in page) - 1
    return [rows[t] for t in sorted(rows)], requests


def sync_funding(
    store: MarketStore,
    client: BybitPublicClient,
    symbol: str,
    start_ms: int,
    end_ms: int,
    on_progress: ProgressFn | None = None,
) -> SyncResult:
    """Fetch the unstored funding settlements of ``symbol`` in ``[start_ms, end_ms)`` (ms)
    and upsert each missing range in one transaction. Progress: settlements fetched so far
    (the total is unknown up front, so it is reported as 0)."""
    sym = check_symbol(symbol)
    if start_ms >= end_ms:
        raise BadInputError(
            f"sync range is empty: start {fmt_ts(start_ms)} >= end {fmt_ts(end_ms)}"
        )
    result = SyncResult()
    report(on_progress, 0, 0)
    for lo, hi in funding_ranges(store, sym, start_ms, end_ms):
        rows, requests = fetch_funding_range(client, sym, lo, hi)
        result.ranges.append((lo, hi))
        result.requests += requests
        result.bars_fetched += len(rows)
        ts = np.array([r.ts for r in rows], dtype=np.int64)
        rate = np.array([r.rate for r in rows], dtype=np.float64)
        result.add(store.upsert_funding(sym, ts, rate))
        report(on_progress, result.bars_fetched, 0)
    return result
