"""The multi-timeframe clock: 1m closes in, one :class:`Step` per market instant out.

1m bars are the clock (DESIGN.md, "Multi-timeframe without look-ahead"). The clock turns a
stream of *closed* 1m bars — and, in live mode, the exchange's own confirmed klines for the
timeframe roles — into :class:`~trade_core.engine.bars.Step` values: one per instant ``t``
(epoch ms, a 1m close) carrying the 1m bar that closed at ``t`` and every role bar whose close
time is exactly ``t``. A role bar is never emitted before its close and never contains a 1m
bar from after it, so a feature reading "the last bar of role R" at ``t`` sees exactly the last
R bar with close time <= ``t``.

**Event order.** Steps come in strictly increasing ``time``. Inside a step, role bars are in
ascending timeframe order (exec, then med, then high): the engine applies the 1m bar, pushes
every role that closed, then makes the exec decision — all closes of an instant arrive together.

**Aggregation.** Roles are aggregated from 1m bars incrementally: first open, max high, min
low, last close, summed volume/turnover, equal bit for bit to
:func:`trade_core.data.resample.resample`. numpy sums with pairwise summation, which differs
from a running ``+=`` in the last bits, so the clock keeps the bucket's 1m bars (one shared
list: every forming bucket holds the same latest bars; O(1) append per bar) and builds the
bar, volume sums by the very same numpy reduction, when the bucket closes (amortised O(1)
per 1m bar).

**Gaps.** A bucket whose 1m bars did not all arrive is emitted with ``complete=False``. If a
gap swallows a bucket's last 1m bar, nothing proves at its close that the bucket is over; the
first later input (a 1m bar, or in live mode a role kline, of a later instant) does, and the
bucket is then emitted in a step of its own at its true close time, with ``bar=None``, before
that later input's step. A bucket with no 1m bars at all produces no event (as in
``resample``). The trailing bucket at the end of a stream is never emitted before its close.

**Live mode.** Roles named in ``delivered`` take their bars from :meth:`on_role_bar` (the
exchange's ``confirm=true`` klines). The clock holds instant ``t`` until the 1m bar and every
delivered role closing at ``t`` have arrived, in any order, then emits the same Step the
historical path would. ``complete`` always means "every 1m bar of this bar reached the clock",
in both modes. A delivered kline that never comes is replaced by the clock's own aggregate
when a later input proves the instant over; one that comes after that is dropped and counted
in ``late_role_bars``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from operator import itemgetter

import numpy as np

from trade_core.data.timeframes import tf_ms
from trade_core.engine.bars import MINUTE_MS, Bar, BarClosed, Step
from trade_core.errors import BadInputError
from trade_core.timestamps import fmt_ts

_IDX0 = np.zeros(1, dtype=np.intp)
_reduceat = np.add.reduceat
_HIGH, _LOW = itemgetter(2), itemgetter(3)
# NamedTuple constructors without their Python-level __new__ frame (exactly ``Step(...)``)
_new_step = partial(tuple.__new__, Step)
_new_closed = partial(tuple.__new__, BarClosed)
_TRIM_AT = 4096  # absorbed 1m bars kept beyond the longest bucket before trimming the list


def role_order(roles: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """Validate ``roles`` (role -> timeframe) and return ``(role, tf)`` in event order.

    ``exec`` is required; every other role's timeframe must be a longer whole multiple of the
    exec timeframe, and no two roles may share a timeframe. Event order is ascending timeframe.
    """
    if not isinstance(roles, Mapping) or "exec" not in roles:
        raise BadInputError(f"timeframe roles must be a mapping with an 'exec' role, got {roles!r}")
    lengths: dict[str, int] = {}
    for role, tf in roles.items():
        if not isinstance(role, str) or not role:
            raise BadInputError(f"a timeframe role name must be a non-empty string, got {role!r}")
        try:
            lengths[role] = tf_ms(tf)
        except (BadInputError, TypeError):
            raise BadInputError(f"role {role}: unknown timeframe {tf!r}") from None
    exec_ms = lengths["exec"]
    for role, ms in lengths.items():
        if role != "exec" and (ms <= exec_ms or ms % exec_ms):
            raise BadInputError(
                f"role {role} ({roles[role]}) must be a longer whole multiple of exec "
                f"({roles['exec']})"
            )
    if len(set(lengths.values())) != len(lengths):
        raise BadInputError(f"two timeframe roles share a timeframe: {dict(roles)}")
    return tuple((r, roles[r]) for r in sorted(lengths, key=lengths.__getitem__))


class _Bucket:
    """The forming bar of one role: its open time and where its 1m bars start.

    Every 1m bar the clock absorbs goes into every forming bucket, so a bucket's bars are
    always the last ``count`` bars the clock absorbed: the clock keeps those bars once, in one
    list, and a bucket only remembers the absolute number ``start`` of its first bar. The OHLCV
    is built when the bucket closes (:meth:`bar`), not updated on every 1m bar.
    """

    __slots__ = ("bucket", "need", "role", "start", "step", "tf")

    def __init__(self, role: str, tf: str) -> None:
        self.role, self.tf = role, tf
        self.step = tf_ms(tf)
        self.need = self.step // MINUTE_MS
        self.bucket = -1  # open time (ms) of the forming bar; meaningful only while start >= 0
        self.start = -1  # clock's absorbed-bar number of its first 1m bar; -1: no bar yet

    def bar(self, recent: list[Bar], count: int) -> Bar:
        """The bar of the ``count`` last absorbed 1m bars ``recent[-count:]``: first open,
        max high, min low (``max``/``min`` keep the first of ties, as ``if h > high`` did),
        last close, sums by numpy's own reduction (bit-equal to resample)."""
        bars = recent[-count:]
        vol = _reduceat(np.array([b[5] for b in bars], dtype=np.float64), _IDX0)[0]
        turn = _reduceat(np.array([b[6] for b in bars], dtype=np.float64), _IDX0)[0]
        high = max(map(_HIGH, bars))
        low = min(map(_LOW, bars))
        return Bar(self.bucket, bars[0][1], high, low, bars[-1][4], float(vol), float(turn))


class MultiTimeframeClock:
    """Assemble closed 1m bars (and live role klines) into :class:`Step` values.

    ``roles`` maps role -> timeframe, e.g. ``{"exec": "15m", "med": "1h", "high": "4h"}``.
    ``delivered`` names the roles whose closed bars come from :meth:`on_role_bar` (live mode);
    every other role is aggregated from the 1m bars. A 1m role is the 1m bar itself.
    Each method returns the steps that became final, in order (possibly none).
    """

    def __init__(self, roles: Mapping[str, str], delivered: Iterable[str] = ()) -> None:
        order = role_order(roles)
        self.roles: dict[str, str] = dict(order)
        self.order: tuple[str, ...] = tuple(r for r, _ in order)
        self._minute_roles = tuple(r for r, tf in order if tf == "1m")
        self._minute_role = self._minute_roles[0] if self._minute_roles else None  # at most 1
        self._buckets = [_Bucket(r, tf) for r, tf in order if tf != "1m"]
        self._by_role = {b.role: b for b in self._buckets}
        wanted = set(delivered)
        for role in wanted:
            if role not in self._by_role:
                raise BadInputError(
                    f"delivered role {role!r} is not a role of this clock with a timeframe above "
                    f"1m (roles: {self.roles})"
                )
        self._delivered = tuple((b.role, b.step) for b in self._buckets if b.role in wanted)
        # A bucket is aligned to its step, so it can close at t only if its step divides t;
        # if the gcd of the steps does not divide t, no bucket (delivered role) closes at t.
        self._close_gcd = math.gcd(*(b.step for b in self._buckets))  # 0: no bucket
        self._delivered_gcd = math.gcd(*(step for _, step in self._delivered))
        self._recent: list[Bar] = []  # the last absorbed 1m bars (enough for every bucket)
        self._keep = max((b.need for b in self._buckets), default=0)
        # 1m bars absorbed so far = _trimmed + len(_recent): the trims count what they drop,
        # so the fast path only appends
        self._trimmed = 0
        self._idle: list[_Bucket] = list(self._buckets)  # buckets waiting for a first bar
        self._done: int | None = None  # last instant emitted (ms)
        self._cur: int | None = None  # instant being assembled in live mode (ms)
        self._cur_bar: Bar | None = None
        self._cur_roles: dict[str, Bar] = {}
        self._cur_need = 0  # delivered klines that close at _cur (set with it: _hold)
        self._last_delivered: dict[str, int] = {}
        self._delivered_roles = frozenset(r for r, _ in self._delivered)
        self.late_role_bars = 0
        self._trim_at = _TRIM_AT + self._keep  # len(recent) above which it is trimmed
        # on_1m's fast path takes the 1m bar of open time ``_next_ts`` (ms): set, by _arm,
        # only while nothing is held, so that bar is the next consecutive one. It also needs
        # an instant no bucket can close at, one whose time ``_fast_gcd`` does not divide:
        # the gcd of the bucket steps or, with no buckets, every _TRIM_AT minutes, so that
        # the general path still trims ``_recent``.
        self._next_ts: int | None = None
        self._fast_gcd = self._close_gcd or _TRIM_AT * MINUTE_MS

    def on_1m(self, bar: Bar) -> Sequence[Step]:
        """Feed the next closed 1m bar (``bar.ts`` = open time, ms); return the final steps
        (a list or a tuple: the fast path's one-step tuple is cheaper to build)."""
        ts = bar[0]
        t = ts + MINUTE_MS
        if ts == self._next_ts and t % self._fast_gcd:
            # The usual case: the next consecutive 1m bar, nothing held, no bucket closes.
            # In both modes the step is final at once and holds only the 1m role's bar: what
            # the general path does, minus its checks (tests/unit/engine/test_clock.py
            # compares the two on every kind of stream). No trim here: the general path runs
            # at least every _fast_gcd and trims.
            self._recent.append(bar)
            if self._idle:  # the first bar after a close opens the closed buckets again
                self._open_idle(ts)
            self._done = self._next_ts = t
            role = self._minute_role
            if role is None:
                return (_new_step((t, bar, ())),)
            return (_new_step((t, bar, (_new_closed((role, "1m", bar, True)),))),)
        out = self._on_1m(bar, ts, t)
        self._arm()
        return out

    def _arm(self) -> None:
        """After the general path: let the next consecutive 1m bar take the fast path when
        nothing is held."""
        self._next_ts = self._done if self._cur is None else None

    def _on_1m(self, bar: Bar, ts: int, t: int) -> list[Step]:
        """The general path of :meth:`on_1m`: any bar, any state (``t`` = its close, ms)."""
        done, cur = self._done, self._cur
        if (
            ts % MINUTE_MS
            or (done is not None and t <= done)
            or (cur is not None and (t < cur or (t == cur and self._cur_bar is not None)))
        ):
            self._reject_1m(ts)
        # Consecutive bars with nothing pending (the usual case) cannot skip a close.
        gap = cur is not None or (done is not None and done != ts)
        out = self._flush_before(t) if gap else []
        recent = self._recent  # _absorb, inlined
        recent.append(bar)
        if len(recent) > self._trim_at:  # bounded memory
            drop = len(recent) - self._keep
            del recent[:drop]
            self._trimmed += drop
        if self._idle:
            self._open_idle(ts)
        g = self._close_gcd
        if not self._delivered:  # historical: every instant is complete at its 1m bar
            events = [_new_closed((r, "1m", bar, True)) for r in self._minute_roles]
            if g and not t % g:
                for b in self._buckets:
                    if t - b.bucket == b.step:
                        count = self._trimmed + len(self._recent) - b.start
                        events.append(BarClosed(b.role, b.tf, b.bar(self._recent, count),
                                                count == b.need))  # fmt: skip
                        self._reset(b)
            self._done = t
            out.append(_new_step((t, bar, tuple(events))))
            return out
        if self._cur is None:
            if not (g and not t % g):  # nothing held and no role closes at t: complete now
                self._done = t
                role = self._minute_role
                events = (_new_closed((role, "1m", bar, True)),) if role else ()
                out.append(_new_step((t, bar, events)))
                return out
            self._hold(t)
        self._cur_bar = bar
        if self._ready(t):
            out.append(self._emit(t))
        return out

    def _reject_1m(self, ts: int) -> None:
        """Raise the error for a 1m bar that is misaligned, out of order or a duplicate."""
        if ts % MINUTE_MS:
            raise BadInputError(f"1m bar ts {ts} is not on a minute boundary")
        at = max(x for x in (self._done, self._cur) if x is not None)
        raise BadInputError(
            f"1m bar {fmt_ts(ts)} arrived out of order or twice: the clock is already at "
            f"{fmt_ts(at)} (1m bars must come one at a time, in strictly increasing ts)"
        )

    def _open_idle(self, ts: int) -> None:
        """The 1m bar of open time ``ts`` just absorbed opens every bucket waiting for one."""
        first = self._trimmed + len(self._recent) - 1
        for b in self._idle:
            b.bucket = ts - ts % b.step
            b.start = first
        self._idle = []

    def _reset(self, b: _Bucket) -> None:
        """``b`` was emitted: its next 1m bar opens a new bar."""
        b.start = -1
        self._idle.append(b)

    def on_role_bar(self, role: str, bar: Bar) -> list[Step]:
        """Live mode: the exchange confirmed the bar ``bar`` of ``role``; return final steps.

        The bar closes at ``bar.ts + tf_ms`` (ms). It is held until the instant is complete.
        """
        out = self._on_role_bar(role, bar)
        self._arm()
        return out

    def _on_role_bar(self, role: str, bar: Bar) -> list[Step]:
        b = self._by_role.get(role)
        if b is None or role not in self._delivered_roles:
            raise BadInputError(
                f"role {role!r} is not delivered by the feed: construct the clock with "
                f"delivered=[...] naming it (delivered: {[r for r, _ in self._delivered]})"
            )
        ts = bar[0]
        if ts % b.step:
            raise BadInputError(f"{role} bar ts {fmt_ts(ts)} is not on a {b.tf} boundary")
        last = self._last_delivered.get(role)
        if last is not None and ts <= last:
            raise BadInputError(
                f"{role} bar {fmt_ts(ts)} arrived out of order or twice (last was {fmt_ts(last)})"
            )
        self._last_delivered[role] = ts
        t = ts + b.step
        cur = self._cur
        if (cur is not None and t < cur) or (
            cur is None and self._done is not None and t <= self._done
        ):
            self.late_role_bars += 1  # its instant is already out: the 1m aggregate was used
            return []
        # When the instant's 1m bar is already held (the usual order), every earlier instant
        # is out: nothing to flush.
        out = [] if cur == t else self._flush_before(t)
        if self._cur is None:
            self._hold(t)
        self._cur_roles[role] = bar
        if self._ready(t):
            out.append(self._emit(t))
        return out

    def flush(self) -> list[Step]:
        """End of stream (or shutdown): emit the instant still waiting for inputs, if any.

        Buckets whose close is after the last instant seen are never emitted.
        """
        out = [] if self._cur is None else self._flush_before(self._cur + 1)
        self._arm()
        return out

    def _hold(self, t: int) -> None:
        """Start assembling instant ``t`` (ms): nothing of it has arrived yet."""
        self._cur, self._cur_bar, self._cur_roles = t, None, {}
        self._cur_need = sum(1 for _, step in self._delivered if not t % step)

    def _ready(self, t: int) -> bool:
        """Instant ``t`` (the pending one) has its 1m bar and every delivered role closing at
        t. ``_cur_roles`` only ever holds klines that close at ``_cur`` (a later one flushes
        it first, an earlier one is late), one per role, so counting them is enough."""
        return self._cur_bar is not None and len(self._cur_roles) == self._cur_need

    def _flush_before(self, t: int) -> list[Step]:
        """Emit, in time order, every pending instant earlier than ``t`` (ms)."""
        instants = {
            b.bucket + b.step for b in self._buckets if b.start >= 0 and b.bucket + b.step < t
        }
        if self._cur is not None and self._cur < t:
            instants.add(self._cur)
        return [self._emit(i) for i in sorted(instants)]

    def _emit(self, t: int) -> Step:
        """Build the step of instant ``t`` (ms) and reset every bucket that closed at ``t``."""
        pending = self._cur == t
        bar = self._cur_bar if pending else None
        got = self._cur_roles if pending else {}
        events = [_new_closed((r, "1m", bar, True)) for r in self._minute_roles] if bar else []
        g = self._close_gcd
        if got or (g and not t % g):  # else no bucket closes at t and no kline is held
            absorbed = self._trimmed + len(self._recent)
            for b in self._buckets:
                count = absorbed - b.start if b.start >= 0 else 0  # _count, inlined
                mine = count and b.bucket + b.step == t
                given = got.get(b.role)
                if given is not None:
                    n = count if mine and b.bucket == given[0] else 0
                    events.append(_new_closed((b.role, b.tf, given, n == b.need)))
                elif mine:
                    events.append(_new_closed((b.role, b.tf, b.bar(self._recent, count),
                                               count == b.need)))  # fmt: skip
                if mine:
                    self._reset(b)
        if pending:
            self._cur, self._cur_bar, self._cur_roles = None, None, {}
        self._done = t
        return _new_step((t, bar, tuple(events)))
