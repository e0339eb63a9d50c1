"""Trend-strength and trend-following indicators that TA-Lib 0.8 also has: ADX/DI, Aroon, PSAR.

Each follows TA-Lib's C code operation for operation (ADX/DI and Aroon agree with ``talib``
bit for bit; PSAR to the last bit, see its docstring); the class docstrings give the exact
definitions. Prices are in quote currency; ADX, DI and Aroon are 0..100 scales.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from trade_core.features.base import Feature, Output, Param
from trade_core.indicators import REGISTRY
from trade_core.indicators._range_kernels import (
    NAN,
    RollingExtreme,
    length_param,
    nan_array,
    true_range,
    true_range_array,
)

Arrays = dict[str, np.ndarray]
AROON_VECTOR_MAX = 256
"""Aroon windows up to this length are batched with numpy; longer ones with the deque loop."""


@REGISTRY.register(
    "adx",
    params=(length_param(14, minimum=2, doc="Wilder smoothing period"),),
    outputs=(
        Output("adx"),
        Output("plus_di", warmup=lambda p: p["length"] + 1),
        Output("minus_di", warmup=lambda p: p["length"] + 1),
    ),
    warmup=lambda p: 2 * p["length"],
    reference="TA-Lib ADX, PLUS_DI, MINUS_DI (Wilder, New Concepts in Technical Trading, 1978)",
)
class ADX(Feature):
    """Average directional index with its directional indicators (Wilder), 0..100.

    Per bar from bar 2: ``up = high - high_prev``, ``down = low_prev - low``;
    ``+DM = up`` if ``up > 0 and up > down`` else 0; ``-DM = down`` if
    ``down > 0 and up < down`` else 0 (a tie gives both 0); TR as in ``true_range``.
    Wilder sums (n = length): the first n-1 values (bars 2..n) are added up; from bar n+1 on,
    ``S = S - S/n + x`` for each of +DM, -DM and TR. Then
    ``+DI = 100 * (+DM_S / TR_S)``, ``-DI = 100 * (-DM_S / TR_S)`` (both 0 when TR_S == 0),
    ``DX = 100 * |(-DI) - (+DI)| / ((-DI) + (+DI))``. The first ADX (bar 2n) is the sum of
    the n DX of bars n+1..2n divided by n; after that ``ADX = (ADX_prev * (n-1) + DX) / n``.
    A bar whose TR_S or DI sum is 0 (a run of flat bars) adds no DX and leaves ADX unchanged,
    as in TA-Lib.

    Warm-up as TA-Lib: +DI/-DI from bar n+1 (their own output warm-up), ADX from bar 2n
    (the feature's warm-up).
    """

    def _reset_state(self) -> None:
        n = self.params["length"]
        self._n, self._nm1, self._end = n, float(n - 1), 2 * n
        self._ph = self._pl = self._pc = NAN
        self._pdm = self._mdm = self._tr = self._sum_dx = 0.0
        self._adx = NAN

    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        self.bars += 1
        b, n = self.bars, self._n
        if b == 1:
            self._ph, self._pl, self._pc = high, low, close
            return
        up, down = high - self._ph, self._pl - low
        tr = true_range(high, low, self._pc)
        self._ph, self._pl, self._pc = high, low, close
        if b <= n:
            if down > 0 and up < down:
                self._mdm += down
            elif up > 0 and up > down:
                self._pdm += up
            self._tr += tr
            return
        mdm = self._mdm - self._mdm / n
        pdm = self._pdm - self._pdm / n
        if down > 0 and up < down:
            mdm += down
        elif up > 0 and up > down:
            pdm += up
        self._mdm, self._pdm = mdm, pdm
        tr_s = self._tr = self._tr - self._tr / n + tr
        pdi = mdi = 0.0
        dx = NAN
        if tr_s != 0.0:
            mdi = 100.0 * (mdm / tr_s)
            pdi = 100.0 * (pdm / tr_s)
            if mdi + pdi != 0.0:
                dx = 100.0 * (abs(mdi - pdi) / (mdi + pdi))
        self.out[1], self.out[2] = pdi, mdi
        if b <= self._end:
            if dx == dx:
                self._sum_dx += dx
            if b < self._end:
                return
            self._adx = self._sum_dx / n
        elif dx == dx:
            self._adx = (self._adx * self._nm1 + dx) / n
        self.out[0] = self._adx

    @classmethod
    def batch(cls, arrays: Arrays, params: dict[str, Any]) -> dict[str, np.ndarray]:
        """Vectorised DM/TR, Wilder sums in a tight loop, vectorised DI/DX, ADX loop."""
        h, lo, c = arrays["high"], arrays["low"], arrays["close"]
        n, size = params["length"], len(h)
        out = {k: nan_array(size) for k in ("adx", "plus_di", "minus_di")}
        if size <= n:
            return out
        up, down = np.zeros(size), np.zeros(size)
        up[1:], down[1:] = h[1:] - h[:-1], lo[:-1] - lo[1:]
        pdm1 = np.where((up > 0) & (up > down), up, 0.0)
        mdm1 = np.where((down > 0) & (up < down), down, 0.0)
        tr1 = true_range_array(h, lo, c)
        pdm_s, mdm_s, tr_s = (_wilder_sums(a.tolist(), n) for a in (pdm1, mdm1, tr1))
        with np.errstate(divide="ignore", invalid="ignore"):
            pdi = np.where(tr_s != 0.0, 100.0 * (pdm_s / tr_s), 0.0)
            mdi = np.where(tr_s != 0.0, 100.0 * (mdm_s / tr_s), 0.0)
            total = mdi + pdi
            dx = np.where((tr_s != 0.0) & (total != 0.0), 100.0 * (np.abs(mdi - pdi) / total), NAN)
        out["plus_di"][n:] = pdi[n:]
        out["minus_di"][n:] = mdi[n:]
        if size >= 2 * n:
            out["adx"][2 * n - 1 :] = _adx_loop(dx.tolist(), n)
        return out


def _wilder_sums(x: list[float], n: int) -> np.ndarray:
    """TA-Lib's DM/TR sums: x[1..n-1] added up, then ``S = S - S/n + x`` from index n."""
    s = 0.0
    for v in x[1:n]:
        s += v
    tail = [s := s - s / n + v for v in x[n:]]
    return np.asarray([NAN] * n + tail, dtype=np.float64)


def _adx_loop(dx: list[float], n: int) -> list[float]:
    """ADX from index 2n-1: mean of DX[n..2n-1] (NaN DX skipped), then Wilder-smoothed."""
    total = 0.0
    for d in dx[n : 2 * n]:
        if d == d:
            total += d
    adx = total / n
    out = [adx]
    push = out.append
    nm1 = float(n - 1)
    for d in dx[2 * n :]:
        if d == d:
            adx = (adx * nm1 + d) / n
        push(adx)
    return out


@REGISTRY.register(
    "aroon",
    params=(length_param(14, minimum=2, doc="look-back n; the window is n+1 bars"),),
    outputs=(Output("up"), Output("down"), Output("osc")),
    warmup=lambda p: p["length"] + 1,
    reference="TA-Lib AROON and AROONOSC (T. Chande, 1995)",
)
class Aroon(Feature):
    """Aroon up/down/oscillator (Chande), 0..100 (osc -100..100).

    Over the window of the last n+1 bars (the current bar and the n before it, as TA-Lib):
    ``up = (100/n) * (n - bars_since_highest_high)``,
    ``down = (100/n) * (n - bars_since_lowest_low)``,
    ``osc = (100/n) * (index_of_high - index_of_low)`` (= up - down; TA-Lib AROONOSC's form).
    On ties the most recent extreme counts (so a flat window gives up = down = 100, osc = 0).
    First value at bar n+1.
    """

    def _reset_state(self) -> None:
        n = self.params["length"]
        self._factor = 100.0 / n
        self._hi = RollingExtreme(n + 1, 1)
        self._lo = RollingExtreme(n + 1, -1)

    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        i = self.bars
        self.bars += 1
        hi_idx = self._hi.push(i, high)[0]
        lo_idx = self._lo.push(i, low)[0]
        n = self.params["length"]
        if i >= n:
            f = self._factor
            self.out[0] = f * (n - (i - hi_idx))
            self.out[1] = f * (n - (i - lo_idx))
            self.out[2] = f * (hi_idx - lo_idx)

    @classmethod
    def batch(cls, arrays: Arrays, params: dict[str, Any]) -> dict[str, np.ndarray]:
        """Latest arg-max/arg-min per window with numpy (n <= 256) or the deque loop."""
        h, lo, n = arrays["high"], arrays["low"], params["length"]
        size = len(h)
        out = {k: nan_array(size) for k in ("up", "down", "osc")}
        if size <= n:
            return out
        if n <= AROON_VECTOR_MAX:
            # windows of the reversed series start at the newest bar: the first arg-extreme
            # is the latest extreme, and its offset is the number of bars since it
            since_hi = np.argmax(sliding_window_view(h[::-1].copy(), n + 1), axis=1)[::-1]
            since_lo = np.argmin(sliding_window_view(lo[::-1].copy(), n + 1), axis=1)[::-1]
        else:
            since_hi, since_lo = _bars_since_extremes(h.tolist(), lo.tolist(), n)
        f = 100.0 / n
        out["up"][n:] = f * (n - since_hi)
        out["down"][n:] = f * (n - since_lo)
        out["osc"][n:] = f * (since_lo - since_hi)
        return out


def _bars_since_extremes(h: list[float], lo: list[float], n: int) -> tuple[np.ndarray, ...]:
    hi_q, lo_q = RollingExtreme(n + 1, 1), RollingExtreme(n + 1, -1)
    since_hi, since_lo = [], []
    for i in range(len(h)):
        hi_idx = hi_q.push(i, h[i])[0]
        lo_idx = lo_q.push(i, lo[i])[0]
        if i >= n:
            since_hi.append(i - hi_idx)
            since_lo.append(i - lo_idx)
    return np.asarray(since_hi), np.asarray(since_lo)


@REGISTRY.register(
    "psar",
    params=(
        Param("acceleration", float, 0.02, minimum=0.0, maximum=1.0, doc="AF start and step"),
        Param("maximum", float, 0.2, minimum=0.0, maximum=1.0, doc="AF cap"),
    ),
    warmup=lambda p: 2,
    reference="TA-Lib SAR (Wilder's parabolic stop-and-reverse, 1978)",
)
class PSAR(Feature):
    """Parabolic SAR (Wilder), in price units, exactly as TA-Lib SAR.

    Start (bar 2): short if bar 2's ``-DM`` is positive (``low1 - low2 > 0`` and
    ``high2 - high1 < low1 - low2``), else long (ties long). Long: SAR = low1, EP = high2;
    short: SAR = high1, EP = low2. The first step treats bar 2 as its own previous bar.

    Each bar (prev = previous bar, AF starts at ``acceleration``): if long and
    ``low <= SAR`` -> reverse: output ``max(EP, prev.high, high)``, go short, AF reset,
    EP = low; else output SAR, and if ``high > EP`` raise EP and AF += acceleration (capped at
    ``maximum``). Short is the mirror (``high >= SAR`` reverses; output
    ``min(EP, prev.low, low)``). Then the next bar's SAR = ``SAR + AF * (EP - SAR)``, clamped
    below ``min(prev.low, low)`` when long or above ``max(prev.high, high)`` when short.
    The value output on bar t uses bars up to t only (it is the stop in force during bar t).
    If ``acceleration > maximum`` the acceleration is set to ``maximum`` (TA-Lib). Flat bars
    need no special case (a flat bar touching the SAR reverses, as in TA-Lib).

    TA-Lib's compiled library evaluates ``SAR + AF * (EP - SAR)`` as one fused multiply-add;
    Python 3.11 has no ``math.fma``, so a value can differ from ``talib.SAR`` in its last bit
    (max 2.3e-16 relative on the real files).
    """

    def _reset_state(self) -> None:
        acc, cap = self.params["acceleration"], self.params["maximum"]
        self._acc = min(acc, cap)
        self._cap = cap
        self._long = True
        self._sar = self._ep = self._ph = self._pl = NAN
        self._af = self._acc

    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        self.bars += 1
        if self.bars == 1:
            self._ph, self._pl = high, low
            return
        if self.bars == 2:
            up, down = high - self._ph, self._pl - low
            self._long = not (down > 0 and up < down)
            self._sar, self._ep = (self._pl, high) if self._long else (self._ph, low)
            self._ph, self._pl = high, low
        state = (self._long, self._sar, self._ep, self._af)
        value, state = _sar_step(state, self._ph, self._pl, high, low, self._acc, self._cap)
        self._long, self._sar, self._ep, self._af = state
        self._ph, self._pl = high, low
        self.out[0] = value

    @classmethod
    def batch(cls, arrays: Arrays, params: dict[str, Any]) -> dict[str, np.ndarray]:
        """The same step, inlined in a tight loop over ``.tolist()`` values."""
        out = nan_array(len(arrays["high"]))
        if len(out) >= 2:
            cap = params["maximum"]
            acc = min(params["acceleration"], cap)
            out[1:] = _sar_loop(arrays["high"].tolist(), arrays["low"].tolist(), acc, cap)
        return {"value": out}


def _sar_loop(h: list[float], lo: list[float], acc: float, cap: float) -> list[float]:
    """:func:`_sar_step` for bars 2.. inlined (same operations, no call per bar)."""
    up, down = h[1] - h[0], lo[0] - lo[1]
    is_long = not (down > 0 and up < down)
    sar, ep = (lo[0], h[1]) if is_long else (h[0], lo[1])
    af, ph, pl = acc, h[1], lo[1]
    values = []
    push = values.append
    for hi, low in zip(h[1:], lo[1:], strict=True):
        if is_long:
            if low <= sar:
                is_long, sar = False, max(ep, ph, hi)
                push(sar)
                af, ep = acc, low
                sar = max(sar + af * (ep - sar), ph, hi)
            else:
                push(sar)
                if hi > ep:
                    ep, af = hi, min(af + acc, cap)
                sar = min(sar + af * (ep - sar), pl, low)
        elif hi >= sar:
            is_long, sar = True, min(ep, pl, low)
            push(sar)
            af, ep = acc, hi
            sar = min(sar + af * (ep - sar), pl, low)
        else:
            push(sar)
            if low < ep:
                ep, af = low, min(af + acc, cap)
            sar = max(sar + af * (ep - sar), ph, hi)
        ph, pl = hi, low
    return values


def _sar_step(
    state: tuple[bool, float, float, float],
    ph: float,
    pl: float,
    h: float,
    lo: float,
    acc: float,
    cap: float,
) -> tuple[float, tuple[bool, float, float, float]]:
    """One TA-Lib SAR iteration: ``(output, (is_long, next_sar, ep, af))``."""
    is_long, sar, ep, af = state
    if is_long:
        if lo <= sar:
            is_long, sar = False, max(ep, ph, h)
            value, af, ep = sar, acc, lo
            sar = max(sar + af * (ep - sar), ph, h)
        else:
            value = sar
            if h > ep:
                ep, af = h, min(af + acc, cap)
            sar = min(sar + af * (ep - sar), pl, lo)
    elif h >= sar:
        is_long, sar = True, min(ep, pl, lo)
        value, af, ep = sar, acc, h
        sar = min(sar + af * (ep - sar), pl, lo)
    else:
        value = sar
        if lo < ep:
            ep, af = lo, min(af + acc, cap)
        sar = max(sar + af * (ep - sar), ph, h)
    return value, (is_long, sar, ep, af)
