"""The values that flow through the engine's time layer: bars, bar-close events, clock steps.

Every timestamp is ``int`` epoch milliseconds, UTC. A bar is identified by its **open** time
``ts`` and is *closed* at ``ts + tf_ms(tf)``. The market clock ticks at 1m closes: each
:class:`Step` is one such instant, carrying the 1m bar that closed then (if any) and every
timeframe-role bar that closed at exactly that instant.
"""

from __future__ import annotations

from typing import NamedTuple

from trade_core.data.timeframes import tf_ms

MINUTE_MS = 60_000


class Bar(NamedTuple):
    """One closed candle: ``ts`` is the open time (int ms); prices/volumes are float.

    ``turnover`` is quote-currency volume (USDT), NaN when the source does not provide it.
    """

    ts: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    turnover: float


class BarClosed(NamedTuple):
    """Event: the bar ``bar`` of timeframe role ``role`` (timeframe ``tf``) closed.

    It closed at ``bar.ts + tf_ms(tf)`` ms (see :func:`close_time`). ``complete`` is False
    when some 1m bars inside it never reached the clock (a gap in the 1m stream): its values
    then cover only the 1m bars that did arrive (or, in live mode, are the exchange's).
    """

    role: str
    tf: str
    bar: Bar
    complete: bool


class Step(NamedTuple):
    """Everything the market clock knows at one instant ``time`` (int ms, a 1m close).

    - ``bar``: the 1m bar that closed at ``time`` (``bar.ts == time - 60_000``), or ``None``
      when that 1m bar is missing (a gap) and the step only carries role bars closing then.
    - ``closed``: every role bar with ``close_time == time``, in the clock's role order
      (ascending timeframe: exec first, then med, then high). Empty on most steps.

    Steps come in strictly increasing ``time``; a step has a ``bar``, ``closed`` events, or both.
    """

    time: int
    bar: Bar | None
    closed: tuple[BarClosed, ...]


def close_time(event: BarClosed) -> int:
    """The instant (epoch ms) at which the event's bar closed: open time + timeframe length."""
    return event.bar.ts + tf_ms(event.tf)
