"""The market-feed port and its historical implementations.

**The contract** (what every feed — historical, replay, live WebSocket — implements):

A :class:`MarketFeed` has ``roles`` (role -> timeframe, validated by
:func:`~trade_core.engine.clock.role_order`) and iterates :class:`~trade_core.engine.bars.Step`
values, each the state of the market at one instant ``step.time`` (epoch ms, a 1m close):

1. ``step.time`` strictly increases from step to step.
2. ``step.bar`` is the closed 1m bar with ``bar.ts == step.time - 60_000``, or ``None`` when
   that 1m bar is missing (a gap) and the step exists only to deliver role bars that closed
   at ``step.time``. Every 1m bar the feed has is delivered in exactly one step.
3. ``step.closed`` holds every role bar whose close time (``bar.ts + tf_ms``) equals
   ``step.time`` — all of them, in ascending timeframe order (exec, med, high) — and no other.
   A role bar is never delivered before its close nor built from a 1m bar after it.
   ``complete`` is False when some of its 1m bars never reached the clock.
4. A step is yielded only once it is final: nothing later adds to it. A step whose 1m bar is
   missing is yielded as soon as a later input proves its instant is over (never earlier).
5. Iteration ends when the feed ends; a role bar whose close lies after the last instant seen
   is not delivered.

The engine consumes a step the same way in every mode: handle ``step.bar`` intrabar (orders,
TP/SL, liquidation on that 1m bar), then ``push_role`` each bar in ``step.closed``, then — if
the exec role is among them — ``close_exec()`` and the exec decision.

Implementations here: :class:`HistoricalFeed` (1m candles through the clock, optionally
precomputed with numpy) and :class:`ReplayFeed` (the same candles delivered as a live
WebSocket would: separate ``confirm=true`` klines per timeframe, through the clock's live path).
Both yield exactly the steps of feeding the 1m bars one by one to
:class:`~trade_core.engine.clock.MultiTimeframeClock`; tests prove it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import partial
from itertools import chain, islice, repeat, tee
from operator import call
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np

from trade_core.data.candles import CANDLE_COLUMNS, Candles
from trade_core.data.resample import resample
from trade_core.data.timeframes import tf_ms
from trade_core.engine.bars import MINUTE_MS, Bar, BarClosed, Step
from trade_core.engine.clock import MultiTimeframeClock, role_order
from trade_core.errors import BadInputError

CHUNK = 1 << 16  # 1m bars materialised as Python objects at a time (bounds memory)

# C-level constructors: tuple.__new__(Cls, iterable) is what NamedTuple._make does, minus the
# Python frame; zip() always hands them exactly the right number of fields.
_new_bar = partial(tuple.__new__, Bar)
_new_step = partial(tuple.__new__, Step)
_new_closed = partial(tuple.__new__, BarClosed)


@runtime_checkable
class MarketFeed(Protocol):
    """Port: a source of market steps (see the module docstring for the full contract)."""

    @property
    def roles(self) -> Mapping[str, str]:
        """Role -> timeframe this feed assembles, e.g. ``{"exec": "15m", "high": "4h"}``."""

    def __iter__(self) -> Iterator[Step]:
        """The steps, in strictly increasing ``time`` (ms)."""


class Kline(NamedTuple):
    """One ``confirm=true`` kline message as a live stream delivers it: timeframe and bar."""

    tf: str
    bar: Bar


def check_1m(candles: Candles) -> None:
    """Raise BadInputError unless ``candles`` are 1m bars, minute-aligned, strictly increasing."""
    if candles.tf != "1m":
        raise BadInputError(f"a feed needs 1m candles, got {candles.tf} ({candles.symbol})")
    ts = candles.ts
    if len(ts) and np.any(ts % MINUTE_MS):
        raise BadInputError(f"{candles.symbol} 1m candles have ts off the minute boundary")
    if np.any(np.diff(ts) <= 0):
        raise BadInputError(f"{candles.symbol} 1m candles must have strictly increasing ts")


def iter_bars(candles: Candles, lo: int = 0, hi: int | None = None) -> Iterator[Bar]:
    """Rows ``[lo, hi)`` of ``candles`` as :class:`Bar` (Python int ms / float), lazily."""
    cols = [getattr(candles, name)[lo:hi].tolist() for name in CANDLE_COLUMNS]
    return map(_new_bar, zip(*cols, strict=True))


def candle_bars(candles: Candles, lo: int = 0, hi: int | None = None) -> list[Bar]:
    """Rows ``[lo, hi)`` of ``candles`` as a list of :class:`Bar`."""
    return list(iter_bars(candles, lo, hi))


def _role_bars(candles: Candles, tf: str) -> tuple[Candles, np.ndarray]:
    """Role bars built by ``resample`` that close no later than the last 1m close (ms)."""
    res = resample(candles, tf)
    end = int(candles.ts[-1]) + MINUTE_MS
    n = int(np.searchsorted(res.candles.ts + tf_ms(tf), end, side="right"))  # closes ascend
    return res.candles.slice(0, n), res.complete[:n]


class HistoricalFeed:
    """Historical 1m candles (e.g. ``MarketStore.read_candles(symbol, "1m", start, end)``).

    With ``precompute=True`` (default) role bars come from numpy resampling and are laid out
    on the 1m steps; with ``precompute=False`` every 1m bar goes through
    :meth:`MultiTimeframeClock.on_1m`. Both yield the same steps (proven by tests).
    """

    def __init__(
        self, candles: Candles, roles: Mapping[str, str], *, precompute: bool = True
    ) -> None:
        check_1m(candles)
        self._order = role_order(roles)
        self._candles = candles
        self._precompute = precompute

    @property
    def roles(self) -> dict[str, str]:
        return dict(self._order)

    def __iter__(self) -> Iterator[Step]:
        if not len(self._candles):
            return iter(())
        return self._precomputed() if self._precompute else self._streamed()

    def _streamed(self) -> Iterator[Step]:
        clock = MultiTimeframeClock(self.roles)
        for lo in range(0, len(self._candles), CHUNK):
            for bar in iter_bars(self._candles, lo, lo + CHUNK):
                yield from clock.on_1m(bar)
        yield from clock.flush()

    def _precomputed(self) -> Iterator[Step]:
        # chained segments: no generator frame is resumed per step, only per segment
        return chain.from_iterable(self._segments())

    def _segments(self) -> Iterator[Iterable[Step]]:
        """The steps in order, as consecutive segments (lazy: one chunk of rows at a time)."""
        attached, gaps = self._layout()
        att_idx = np.fromiter(attached, np.int64, len(attached))
        gap_idx = np.fromiter(gaps, np.int64, len(gaps))
        for lo in range(0, len(self._candles), CHUNK):
            hi = min(lo + CHUNK, len(self._candles))
            a, b = np.searchsorted(att_idx, [lo, hi])
            steps = self._chunk(lo, hi, {i: attached[i] for i in att_idx[a:b].tolist()})
            pos = lo
            a, b = np.searchsorted(gap_idx, [lo, hi])
            for i in gap_idx[a:b].tolist():  # steps with no 1m bar go just before row i
                yield islice(steps, i - pos)
                yield gaps[i]
                pos = i
            yield steps

    def _chunk(
        self, lo: int, hi: int, attached: dict[int, tuple[BarClosed, ...]]
    ) -> Iterator[Step]:
        """Lazy steps of 1m rows ``[lo, hi)``: objects die young unless the consumer keeps them."""
        c = self._candles
        times = (c.ts[lo:hi] + MINUTE_MS).tolist()
        bars: Iterable[Bar] = iter_bars(c, lo, hi)
        closed: list[tuple[BarClosed, ...]] = [()] * (hi - lo)
        for i, events in attached.items():
            closed[i - lo] = events
        step_events: Iterable[tuple[BarClosed, ...]] = closed
        minute_roles = [r for r, tf in self._order if tf == "1m"]
        if minute_roles:  # a 1m role's bar is the 1m bar itself, first in role order
            (role,) = minute_roles  # role_order: no two roles share a timeframe
            bars, mine = tee(bars)
            own = map(_new_closed, zip(repeat(role), repeat("1m"), mine, repeat(True)))
            step_events = map(tuple.__add__, zip(own), closed)  # (own event, *attached)
        # Everything stays lazy and C-level (no Python frame per bar, no list of the chunk's
        # objects): each Bar/Step dies young unless the consumer keeps it, so the garbage
        # collector never has to walk tens of thousands of live tuples.
        return map(_new_step, zip(times, bars, step_events, strict=True))

    def _layout(self) -> tuple[dict[int, tuple[BarClosed, ...]], dict[int, list[Step]]]:
        """Role bars by 1m row: attached to the row closing with them, or as gap steps.

        Returns ``{row: events closing with that 1m bar}`` and ``{row: [steps with no 1m
        bar, to yield just before that row]}`` (a gap hid the 1m bar of their close).
        """
        by_time: dict[int, list[BarClosed]] = {}
        for role, tf in self._order:
            if tf == "1m":
                continue
            bars, complete = _role_bars(self._candles, tf)
            step = tf_ms(tf)
            for bar, ok in zip(candle_bars(bars), complete.tolist(), strict=True):
                by_time.setdefault(bar.ts + step, []).append(BarClosed(role, tf, bar, ok))
        times = np.array(sorted(by_time), dtype=np.int64)
        ts = self._candles.ts
        rows = np.searchsorted(ts, times - MINUTE_MS)
        hit = ts[np.minimum(rows, len(ts) - 1)] == times - MINUTE_MS
        attached: dict[int, tuple[BarClosed, ...]] = {}
        gaps: dict[int, list[Step]] = {}
        for t, row, on_bar in zip(times.tolist(), rows.tolist(), hit.tolist(), strict=True):
            if on_bar:
                attached[row] = tuple(by_time[t])
            else:
                gaps.setdefault(row, []).append(Step(t, None, tuple(by_time[t])))
        return attached, gaps


class ReplayFeed:
    """Historical 1m candles delivered exactly as a live WebSocket would deliver them.

    Each timeframe is a separate stream of ``confirm=true`` klines: the 1m closes, plus one
    stream per role above 1m built independently by ``resample`` (its bar arrives at its close,
    ``bar.ts + tf_ms``). Messages come in instant order; within one instant the 1m kline comes
    first, then the roles by ascending timeframe — or, with ``shuffle_seed``, in a random order
    (a live stream promises no order between topics). Everything goes through the clock's live
    path (:meth:`MultiTimeframeClock.on_role_bar`).
    """

    def __init__(
        self, candles: Candles, roles: Mapping[str, str], *, shuffle_seed: int | None = None
    ) -> None:
        check_1m(candles)
        self._order = role_order(roles)
        self._candles = candles
        self._seed = shuffle_seed

    @property
    def roles(self) -> dict[str, str]:
        return dict(self._order)

    def messages(self) -> Iterator[Kline]:
        """The kline messages in the order the live stream delivers them."""
        tfs = self._tfs()
        codes, bars = self._streams()
        return map(Kline, map(tfs.__getitem__, codes), bars)

    def _tfs(self) -> list[str]:
        return ["1m"] + [tf for _, tf in self._order if tf != "1m"]

    def _streams(self) -> tuple[Iterator[int], Iterator[Bar]]:
        """The messages as two iterators in lockstep: the stream code of each (0 is the 1m
        stream, ``k`` the k-th timeframe of :meth:`_tfs`) and its bar (lazy, ``CHUNK`` bars
        materialised at a time)."""
        if not len(self._candles):
            return iter(()), iter(())
        tfs = self._tfs()
        parts = [self._candles] + [_role_bars(self._candles, tf)[0] for tf in tfs[1:]]
        table = {name: np.concatenate([getattr(p, name) for p in parts]) for name in CANDLE_COLUMNS}
        stream = np.concatenate([np.full(len(p), k) for k, p in enumerate(parts)])
        instant = table["ts"] + np.array([tf_ms(tf) for tf in tfs])[stream]
        within = (
            stream if self._seed is None else np.random.default_rng(self._seed).random(len(stream))
        )
        order = np.lexsort((within, instant))
        merged = Candles(self._candles.symbol, "mixed", *(table[n][order] for n in CANDLE_COLUMNS))
        codes = stream[order].tolist()
        bars = chain.from_iterable(
            iter_bars(merged, lo, lo + CHUNK) for lo in range(0, len(merged), CHUNK)
        )
        return iter(codes), bars

    def __iter__(self) -> Iterator[Step]:
        delivered = [r for r, tf in self._order if tf != "1m"]
        clock = MultiTimeframeClock(self.roles, delivered=delivered)
        role_of = {tf: r for r, tf in self._order}
        # handler by stream code: the 1m bars to on_1m, each role's klines to on_role_bar
        handlers = [clock.on_1m] + [
            partial(clock.on_role_bar, role_of[tf]) for tf in self._tfs()[1:]
        ]
        codes, bars = self._streams()
        # C-level pipeline: one clock call per message, its list of steps flattened by chain
        steps = chain.from_iterable(map(call, map(handlers.__getitem__, codes), bars))
        return chain(steps, _later(clock.flush))


def _later(make: Callable[[], Iterable[Step]]) -> Iterator[Step]:
    """The steps of ``make()``, called only once the iteration reaches them."""
    yield from make()
