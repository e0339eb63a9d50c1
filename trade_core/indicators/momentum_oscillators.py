"""Bounded and centred oscillators: Ultimate Oscillator, Fisher Transform, Awesome Oscillator.

``ultosc`` follows TA-Lib 0.8 operation for operation. ``fisher`` (Ehlers) and ``ao``
(Bill Williams) are not in TA-Lib; each docstring gives the published formula used.
Volume is not read.
"""

from __future__ import annotations

import math

import numpy as np

from trade_core.features.base import Feature, Output
from trade_core.features.sources import padded, pick, source_array, source_param
from trade_core.indicators import REGISTRY
from trade_core.indicators._momentum_kernels import (
    NAN,
    RollingMax,
    RollingMin,
    RunningSMA,
    flat_mask,
    is_flat,
    period_param,
    rolling_max,
    rolling_min,
    running_sums,
    sma_array,
)


def _ult_terms(prev_close: float, high: float, low: float, close: float) -> tuple[float, float]:
    """(buying pressure ``close - min(low, prev_close)``, true range), TA-Lib's operations."""
    true_low = low if low < prev_close else prev_close
    true_range = high - low
    t = abs(prev_close - high)
    if t > true_range:
        true_range = t
    t = abs(prev_close - low)
    if t > true_range:
        true_range = t
    return close - true_low, true_range


@REGISTRY.register(
    "ultosc",
    params=(
        period_param("length1", 7, doc="one of the three windows (weight by rank, see doc)"),
        period_param("length2", 14, doc="one of the three windows"),
        period_param("length3", 28, doc="one of the three windows"),
    ),
    warmup=lambda p: max(p["length1"], p["length2"], p["length3"]) + 1,
    reference="TA-Lib ULTOSC; Larry Williams, Technical Analysis of S&C (1985)",
)
class UltOsc(Feature):
    """Ultimate Oscillator (Larry Williams), 0..100, exactly as TA-Lib 0.8 ULTOSC.

    Per bar (from the second): buying pressure ``bp = close - min(low, prev_close)`` and
    true range ``tr = max(high - low, |prev_close - high|, |prev_close - low|)``. The three
    periods are sorted, s <= m <= l (whatever order they are given in); over each window
    ``A = sum(bp)``, ``B = sum(tr)`` (TA-Lib's running totals: add the newest bar, subtract
    the one leaving). ``UO = 100 * ((4*A_s/B_s + 2*A_m/B_m + A_l/B_l) / 7)``, where a window
    whose ``B`` is not > 0 contributes 0. A window made only of null bars (tr == 0 and
    bp == 0, i.e. high == low == previous close) has its totals reset to exactly 0, as TA-Lib
    does, so rounding residue never turns into a ratio; a fully flat market reads 0.
    First value at bar index l (warm-up l + 1).
    """

    def _reset_state(self) -> None:
        p = self.params
        s, m, ln = sorted((p["length1"], p["length2"], p["length3"]))
        self._ln = ln
        # per window: [period, weight, sum of bp, sum of tr]
        self._win = [[s, 4.0, 0.0, 0.0], [m, 2.0, 0.0, 0.0], [ln, 1.0, 0.0, 0.0]]
        self._bp = [0.0] * ln
        self._tr = [0.0] * ln
        self._prev = 0.0
        self._null = 0

    def update(self, ts: int, open_: float, high: float, low: float, close: float, volume: float):
        b = self.bars
        self.bars += 1
        prev, self._prev = self._prev, close
        if b == 0:
            return
        ln = self._ln
        bp, tr = _ult_terms(prev, high, low, close)
        bps, trs = self._bp, self._tr
        bps[b % ln] = bp
        trs[b % ln] = tr
        null = self._null = min(self._null + 1, ln) if tr == 0.0 and bp == 0.0 else 0
        if b < ln:  # priming: each window collects the bars before the first output
            for w in self._win:
                if b >= ln - w[0] + 1:
                    w[2] += bp
                    w[3] += tr
            return
        out = 0.0
        for w in self._win:
            p = w[0]
            a = w[2] + bp
            t = w[3] + tr
            if null >= p:  # p null bars in a row: the window's totals are exactly 0
                a = t = 0.0
            if t > 0.0:
                out += w[1] * (a / t)
            i = (b - p + 1) % ln  # the bar leaving this window
            w[2] = a - bps[i]
            w[3] = t - trs[i]
        self.out[0] = 100.0 * (out / 7.0)

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        s, m, ln = sorted((params["length1"], params["length2"], params["length3"]))
        h, lo, c = arrays["high"], arrays["low"], arrays["close"]
        total = len(c)
        if total <= ln:
            return {"value": np.full(total, NAN)}
        pc = np.concatenate(([0.0], c[:-1]))
        tr = h - lo
        t = np.abs(pc - h)
        tr = np.where(t > tr, t, tr)
        t = np.abs(pc - lo)
        tr = np.where(t > tr, t, tr)
        bp = c - np.where(lo < pc, lo, pc)
        bp[0] = tr[0] = 0.0  # bar 0 has no previous close and enters no window
        run = _null_run(tr, bp)
        out = np.zeros(total - ln)
        for weight, p in ((4.0, s), (2.0, m), (1.0, ln)):
            a = _window_totals(bp, p, ln, run)
            b = _window_totals(tr, p, ln, run)
            with np.errstate(divide="ignore", invalid="ignore"):
                out += np.where(b > 0.0, weight * (a / b), 0.0)
        return {"value": padded(100.0 * (out / 7.0), total)}


def _null_run(tr: np.ndarray, bp: np.ndarray) -> np.ndarray:
    """Consecutive null bars (tr == bp == 0) ending at each bar, counted from bar 1."""
    idx = np.arange(len(tr))
    null = (tr == 0.0) & (bp == 0.0)
    null[0] = False
    last_live = np.maximum.accumulate(np.where(null, 0, idx))
    return idx - last_live


def _window_totals(term: np.ndarray, p: int, ln: int, run: np.ndarray) -> np.ndarray:
    """TA-Lib ULTOSC's running total of ``term`` over p bars, at bars ln..end (after adding
    the bar, and after the reset to 0 when the last p bars were all null)."""
    reset = run[ln:] >= p
    if not reset.any():
        return running_sums(term[ln - p + 1 :], p)
    vals = term.tolist()
    tot = 0.0
    for v in vals[ln - p + 1 : ln]:
        tot += v
    out: list[float] = []
    app = out.append
    for new, old, rs in zip(vals[ln:], vals[ln - p + 1 :], reset.tolist(), strict=False):
        tot += new
        if rs:
            tot = 0.0
        app(tot)
        tot -= old
    return np.asarray(out)


@REGISTRY.register(
    "fisher",
    params=(period_param("length", 9, minimum=2), source_param("hl2")),
    outputs=(
        Output("fisher", doc="Fisher transform of the smoothed range position"),
        Output("trigger", doc="fisher of the previous bar"),
    ),
    warmup=lambda p: p["length"] + 1,
    reference="John F. Ehlers, 'Using the Fisher Transform', Stocks & Commodities V.20:11 (2002)",
)
class Fisher(Feature):
    """Fisher Transform (John Ehlers, S&C 2002), on ``source`` (default hl2 = (H+L)/2).

    Over the last n = ``length`` values of the source p: ``hi = max p``, ``lo = min p``.
    ``v = 0.66 * ((p - lo) / (hi - lo) - 0.5) + 0.67 * v_prev`` (Ehlers' ``.33*2`` and
    ``.67``); a flat window (``|hi - lo| <= 1e-14 * (|hi| + |lo|)``) counts as position 0.5,
    so its first term is 0. Clamp: ``v > 0.99`` becomes ``0.999`` and ``v < -0.99`` becomes
    ``-0.999`` (the clamped v is what the next bar smooths). Then
    ``fisher = 0.5 * ln((1 + v) / (1 - v)) + 0.5 * fisher_prev`` and ``trigger`` =
    fisher_prev. The recursion starts at the first full window (bar index n-1) with
    ``v_prev = fisher_prev = 0``; both outputs are published from bar index n, the first bar
    with a real previous fisher (warm-up n + 1). Unbounded in principle; |fisher| < ~3.8.
    """

    def _reset_state(self) -> None:
        self._hi = RollingMax(self.params["length"])
        self._lo = RollingMin(self.params["length"])
        self._src = self.params["source"]
        self._v = 0.0
        self._fish = 0.0

    def update(self, ts: int, open_: float, high: float, low: float, close: float, volume: float):
        p = (high + low) / 2.0 if self._src == "hl2" else pick(self._src, open_, high, low, close)
        self.bars += 1
        hi = self._hi.push(p)
        lo = self._lo.push(p)
        if self.bars < self._hi.n:
            return
        u = 0.0 if is_flat(hi, lo) else 0.66 * ((p - lo) / (hi - lo) - 0.5)
        v = u + 0.67 * self._v
        if v > 0.99:
            v = 0.999
        elif v < -0.99:
            v = -0.999
        prev = self._fish
        self._v = v
        self._fish = 0.5 * math.log((1.0 + v) / (1.0 - v)) + 0.5 * prev
        if self.bars > self._hi.n:
            self.out[0] = self._fish
            self.out[1] = prev

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        n = params["length"]
        p = source_array(arrays, params["source"])
        total = len(p)
        hi, lo = rolling_max(p, n)[n - 1 :], rolling_min(p, n)[n - 1 :]
        with np.errstate(divide="ignore", invalid="ignore"):
            u = 0.66 * ((p[n - 1 :] - lo) / (hi - lo) - 0.5)
        u[flat_mask(hi, lo)] = 0.0
        fish: list[float] = []
        app = fish.append
        v = f = 0.0
        log = math.log
        for x in u.tolist():
            v = x + 0.67 * v
            if v > 0.99:
                v = 0.999
            elif v < -0.99:
                v = -0.999
            f = 0.5 * log((1.0 + v) / (1.0 - v)) + 0.5 * f
            app(f)
        arr = np.asarray(fish)
        return {"fisher": padded(arr[1:], total), "trigger": padded(arr[:-1], total)}


@REGISTRY.register(
    "ao",
    params=(
        period_param("fast", 5, doc="bars of the fast SMA of hl2"),
        period_param("slow", 34, doc="bars of the slow SMA of hl2"),
    ),
    warmup=lambda p: max(p["fast"], p["slow"]),
    reference="Bill Williams, New Trading Dimensions (1998): SMA(hl2, 5) - SMA(hl2, 34)",
)
class AO(Feature):
    """Awesome Oscillator (Bill Williams), price units: ``SMA(hl2, fast) - SMA(hl2, slow)``
    with ``hl2 = (high + low) / 2`` and the defaults 5 and 34. Each SMA is the simple mean
    of the last n median prices, kept as TA-Lib keeps it (running total: add the newest,
    divide, subtract the oldest), so it equals ``talib.SMA(hl2, 5) - talib.SMA(hl2, 34)``.
    First value at bar index ``max(fast, slow) - 1``.
    """

    def _reset_state(self) -> None:
        self._fast = RunningSMA(self.params["fast"])
        self._slow = RunningSMA(self.params["slow"])

    def update(self, ts: int, open_: float, high: float, low: float, close: float, volume: float):
        self.bars += 1
        x = (high + low) / 2.0
        value = self._fast.push(x) - self._slow.push(x)
        if value == value:
            self.out[0] = value

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        hl2 = (arrays["high"] + arrays["low"]) / 2.0
        return {"value": sma_array(hl2, params["fast"]) - sma_array(hl2, params["slow"])}
