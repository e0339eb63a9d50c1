"""Rolling maximum, minimum, range and midpoint over a bar count or a time span."""

from __future__ import annotations

import math
from collections import deque

from trade_core.features.base import Feature, Output, Param
from trade_core.structures import REGISTRY

MINUTE_MS = 60_000


@REGISTRY.register(
    "rolling_window",
    params=(
        Param("bars", int, 20, minimum=1, maximum=100_000, doc="window length in bars"),
        Param(
            "minutes",
            int,
            0,
            minimum=0,
            maximum=525_600,
            doc="window length in minutes of bar open time; 0 = use bars",
        ),
        Param(
            "source",
            str,
            "high_low",
            choices=("high_low", "close"),
            doc="high_low: max of highs, min of lows; close: max and min of closes",
        ),
    ),
    outputs=(
        Output("max", doc="highest value in the window, price"),
        Output("min", doc="lowest value in the window, price"),
        Output("range", doc="max - min, price"),
        Output("mid", doc="(max + min) / 2, price"),
        Output("position", doc="(close - min) / (max - min), in [0, 1]; NaN when max == min"),
    ),
    warmup=lambda p: p["minutes"] + 1 if p["minutes"] else p["bars"],
    reference="Donchian channel (Richard Donchian): highest high / lowest low of the last N "
    "bars, as TA-Lib MAX/MIN; monotonic-deque sliding extrema (Lemire 2006)",
)
class RollingWindow(Feature):
    """Extremes of a sliding window that ends at (and includes) the current bar.

    **Window.** With ``minutes == 0``: the last ``bars`` bars, current included. With
    ``minutes = m > 0``: every bar whose open time is within the last ``m`` minutes,
    ``ts_j > ts_i - m * 60_000`` (so on 1m bars exactly ``m`` bars; a data gap just leaves
    fewer bars in the window); ``bars`` is then ignored.

    **Values.** ``source: high_low``: ``max`` = highest high, ``min`` = lowest low of the
    window; ``source: close``: highest and lowest close. ``range = max - min``,
    ``mid = (max + min) / 2``, ``position = (close_i - min) / range`` (the current close's
    place in the window, 0 at the low, 1 at the high; NaN when ``range == 0``). Price units
    except ``position`` (a fraction).

    **When defined.** Bar mode: from the ``bars``-th bar (index ``bars - 1``), as TA-Lib
    MAX/MIN. Time mode: from the first bar whose window is known complete, i.e. some bar
    already seen opened at least ``m`` minutes earlier (``ts_0 <= ts_i - m * 60_000``).

    **Warm-up** ``bars`` in bar mode. In time mode the spec cannot know the timeframe, so it
    says ``minutes + 1``: exact on 1m bars, an upper bound on longer bars (on 15m bars with
    ``minutes: 60`` values start at index 4, before ``ready``). ``ready`` implies defined.

    Cost O(1) amortised per bar: two monotonic deques (Lemire's algorithm).
    """

    def _reset_state(self) -> None:
        self._span = self.params["minutes"] * MINUTE_MS
        self._n = self.params["bars"]
        self._close_src = self.params["source"] == "close"
        self._maxq: deque[tuple[int, float]] = deque()  # (key, value), values decreasing
        self._minq: deque[tuple[int, float]] = deque()  # (key, value), values increasing
        self._first_ts: int | None = None

    def update(self, ts: int, open_: float, high: float, low: float, close: float, volume: float):
        self.bars += 1
        hi, lo = (close, close) if self._close_src else (high, low)
        if self._span:
            key, oldest = ts, ts - self._span  # keys <= oldest leave the window
            if self._first_ts is None:
                self._first_ts = ts
            complete = self._first_ts <= oldest
        else:
            key, oldest = self.bars, self.bars - self._n
            complete = self.bars >= self._n
        maxq, minq = self._maxq, self._minq
        while maxq and maxq[-1][1] <= hi:
            maxq.pop()
        maxq.append((key, hi))
        while minq and minq[-1][1] >= lo:
            minq.pop()
        minq.append((key, lo))
        while maxq[0][0] <= oldest:
            maxq.popleft()
        while minq[0][0] <= oldest:
            minq.popleft()
        if not complete:
            return
        top, bottom = maxq[0][1], minq[0][1]
        rng = top - bottom
        out = self.out
        out[0], out[1], out[2], out[3] = top, bottom, rng, (top + bottom) / 2.0
        out[4] = (close - bottom) / rng if rng > 0 else math.nan
