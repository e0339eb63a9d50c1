"""Swing pivots (fractals), emitted causally on the bar that confirms them."""

from __future__ import annotations

from collections import deque

from trade_core.features.base import BOOL, ENUM, Feature, Output, Param
from trade_core.structures import REGISTRY

SWING_OUTPUTS = (
    Output("last_high", doc="price of the last confirmed pivot high"),
    Output("last_high_ts", doc="open time (epoch ms) of that pivot's bar"),
    Output("prev_high", doc="price of the pivot high before it"),
    Output("last_low", doc="price of the last confirmed pivot low"),
    Output("last_low_ts", doc="open time (epoch ms) of that pivot's bar"),
    Output("prev_low", doc="price of the pivot low before it"),
    Output("new_high", BOOL, doc="a pivot high was confirmed on this bar"),
    Output("new_low", BOOL, doc="a pivot low was confirmed on this bar"),
    Output("last_pivot", ENUM, ("high", "low"), doc="kind of the pivot registered last"),
)
IDX: dict[str, int] = {o.name: i for i, o in enumerate(SWING_OUTPUTS)}
_LH, _LHT, _PH, _LL, _LLT, _PL, _NH, _NL, _LP = range(len(SWING_OUTPUTS))


@REGISTRY.register(
    "swing",
    params=(
        Param(
            "left",
            int,
            5,
            minimum=1,
            maximum=1000,
            doc="bars before the pivot, each with a strictly lower high (higher low)",
        ),
        Param(
            "right",
            int,
            5,
            minimum=0,
            maximum=1000,
            doc="bars after the pivot that may tie but not exceed it; the confirmation delay",
        ),
        Param(
            "alternate",
            bool,
            False,
            doc="true: force high/low alternation (a second high in a row is kept only if "
            "strictly higher, replacing the first; likewise lows)",
        ),
    ),
    outputs=SWING_OUTPUTS,
    warmup=lambda p: p["left"] + p["right"] + 1,
    reference="Bill Williams fractal / TradingView ta.pivothigh(left, right) and "
    "ta.pivotlow(left, right): same pivot test, reported on the confirming bar p + right",
)
class Swing(Feature):
    """Swing pivots confirmed ``right`` bars after the pivot bar — never earlier.

    **Pivot test.** With ``L = left`` and ``R = right``, bar ``p`` is a *pivot high* when

    - ``high[p] > high[j]`` for every ``j`` in ``p-L .. p-1`` (strict: of equal highs within
      ``L`` bars, only the first can be a pivot), and
    - ``high[p] >= high[j]`` for every ``j`` in ``p+1 .. p+R`` (ties after the pivot allowed).

    A *pivot low* is the mirror: ``low[p] < low[j]`` for the ``L`` bars before and
    ``low[p] <= low[j]`` for the ``R`` bars after. Bar ``p`` needs ``L`` bars before it.

    **Confirmation.** The test on ``p`` needs the bars up to ``i = p + R``, so the pivot is
    *emitted on bar i = p + R*: ``new_high``/``new_low`` are True on bar ``i`` only, and from
    bar ``i`` on ``last_high`` = ``high[p]`` and ``last_high_ts`` = ``ts[p]`` (the *pivot* bar's
    open time, epoch ms, so ``last_high_ts`` is ``R`` bars before the bar that reports it).
    A centred window (marking bar ``p`` itself) would look ``R`` bars into the future.

    **Outputs** (all as of the end of the current bar): ``last_high``, ``last_high_ts``,
    ``last_low``, ``last_low_ts`` (the last registered pivot of each kind; price units, ms),
    ``prev_high``/``prev_low`` (the registered pivot of that kind before the last; NaN until
    there are two), ``new_high``/``new_low`` (bool events), ``last_pivot`` ("high" or "low":
    the kind registered last).

    **Alternation** (``alternate``). False: every pivot is registered. True: a pivot of the
    same kind as ``last_pivot`` is registered only if strictly more extreme than the current
    ``last_high`` (higher) / ``last_low`` (lower); it then *replaces* it: ``last_high`` and
    ``last_high_ts`` move to the new pivot, ``prev_high`` is left unchanged (the replaced pivot
    drops out of the sequence) and ``new_high`` is True. A same-kind pivot that is not more
    extreme (ties included) is ignored: no event, no change. Nothing already emitted is
    revised — a replacement only changes the outputs from the confirming bar on.

    **Both on one bar.** If bar ``p`` is both a pivot high and a pivot low, both are
    confirmed on bar ``p + R``: the kind opposite to ``last_pivot`` is registered first (the
    high when there is no pivot yet), then the other, so ``last_pivot`` names the second.

    **Warm-up** ``left + right + 1``: the earliest bar that can confirm a pivot (index
    ``left + right``). ``ready`` does not mean a pivot exists: outputs stay NaN (""/False)
    until the first pivot is confirmed, and NaN then means "no pivot yet".
    """

    def _reset_state(self) -> None:
        self._left = self.params["left"]
        self._right = self.params["right"]
        self._alt = self.params["alternate"]
        width = self._left + self._right + 1
        self._hi: deque[float] = deque(maxlen=width)
        self._lo: deque[float] = deque(maxlen=width)
        self._ts: deque[int] = deque(maxlen=width)
        self._width = width

    def update(self, ts: int, open_: float, high: float, low: float, close: float, volume: float):
        self.bars += 1
        out = self.out
        out[_NH] = out[_NL] = False
        self._hi.append(high)
        self._lo.append(low)
        self._ts.append(ts)
        if self.bars < self._width:
            return
        left = self._left
        his, los = list(self._hi), list(self._lo)
        h, lo = his[left], los[left]
        is_high = h > max(his[:left]) and (not self._right or h >= max(his[left + 1 :]))
        is_low = lo < min(los[:left]) and (not self._right or lo <= min(los[left + 1 :]))
        if not (is_high or is_low):
            return
        t = float(self._ts[left])
        if is_high and is_low and out[_LP] == "high":
            self._register_low(lo, t)
            self._register_high(h, t)
            return
        if is_high:
            self._register_high(h, t)
        if is_low:
            self._register_low(lo, t)

    def _register_high(self, price: float, t: float) -> None:
        out = self.out
        if self._alt and out[_LP] == "high":
            if not price > out[_LH]:
                return
        else:
            out[_PH] = out[_LH]
        out[_LH], out[_LHT], out[_NH], out[_LP] = price, t, True, "high"

    def _register_low(self, price: float, t: float) -> None:
        out = self.out
        if self._alt and out[_LP] == "low":
            if not price < out[_LL]:
                return
        else:
            out[_PL] = out[_LL]
        out[_LL], out[_LLT], out[_NL], out[_LP] = price, t, True, "low"


__all__ = ["IDX", "SWING_OUTPUTS", "Swing"]
