"""Chart transforms and composite signals TA-Lib does not have: Heikin-Ashi and the TTM Squeeze.

Both follow the published formulas named in their docstrings. Windowed sums, maxima and
minima use the drift-free block decomposition of :mod:`trade_core.indicators._block_windows`,
so the streaming ``update`` and the vectorised ``batch`` agree bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from trade_core.features.base import BOOL, Feature, Output, Param
from trade_core.indicators import REGISTRY
from trade_core.indicators._block_windows import (
    RollingLinReg,
    RollingMax,
    RollingMin,
    RollingSum,
    linreg_value,
    window_linreg,
    window_max,
    window_min,
    window_sum,
)
from trade_core.indicators.volume import PERIOD_MAX


@REGISTRY.register(
    "heikin_ashi",
    outputs=(Output("open"), Output("high"), Output("low"), Output("close")),
    warmup=lambda p: 1,
    reference="Heikin-Ashi candles (D. Valcu, TASC Feb 2004)",
)
class HeikinAshi(Feature):
    """Heikin-Ashi candles (quote currency), defined from the first bar (warm-up 1).

    ``close = (open + high + low + close) / 4`` (ohlc4, summed left to right);
    ``open = (prev HA open + prev HA close) / 2``, seeded on the first bar with
    ``(open + close) / 2`` of that bar; ``high = max(high, HA open, HA close)``;
    ``low = min(low, HA open, HA close)``. So ``low <= min(open, close)`` and
    ``max(open, close) <= high`` always hold for the HA candle.
    """

    def _reset_state(self) -> None:
        self._ho = 0.0
        self._hc = 0.0

    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        self.bars += 1
        ho = (open_ + close) / 2.0 if self.bars == 1 else (self._ho + self._hc) / 2.0
        hc = (open_ + high + low + close) / 4.0
        self._ho, self._hc = ho, hc
        top = ho if ho > hc else hc
        bottom = ho if ho < hc else hc
        out = self.out
        out[0] = ho
        out[1] = high if high > top else top
        out[2] = low if low < bottom else bottom
        out[3] = hc

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        """HA close and high/low vectorised; the HA-open recurrence in a tight loop."""
        o, h, lo, c = (arrays[k] for k in ("open", "high", "low", "close"))
        hc = (o + h + lo + c) / 4.0
        ho = np.empty_like(hc)
        if len(hc):
            closes = hc.tolist()
            opens = [0.0] * len(closes)
            prev = (float(o[0]) + float(c[0])) / 2.0
            opens[0] = prev
            for i in range(1, len(closes)):
                prev = (prev + closes[i - 1]) / 2.0
                opens[i] = prev
            ho[:] = opens
        high = np.maximum(h, np.maximum(ho, hc))
        low = np.minimum(lo, np.minimum(ho, hc))
        return {"open": ho, "high": high, "low": low, "close": hc}


@REGISTRY.register(
    "squeeze",
    params=(
        Param("length", int, 20, minimum=1, maximum=PERIOD_MAX, doc="Bollinger Band bars"),
        Param("bb_mult", float, 2.0, minimum=0.0, doc="Bollinger Band width in stdevs"),
        Param(
            "kc_length",
            int,
            20,
            minimum=2,
            maximum=PERIOD_MAX,
            doc="Keltner Channel bars; also the momentum window",
        ),
        Param("kc_mult", float, 1.5, minimum=0.0, doc="Keltner width in average ranges"),
        Param("use_true_range", bool, True, doc="Keltner range: true range (else high - low)"),
    ),
    outputs=(Output("on", BOOL, doc="squeeze on: BB inside KC"), Output("momentum")),
    warmup=lambda p: max(p["length"], 2 * p["kc_length"] - 1),
    reference="TTM Squeeze (John Carter, Mastering the Trade), as published by LazyBear",
)
class Squeeze(Feature):
    """TTM Squeeze (John Carter), in LazyBear's published TradingView form.

    With ``n = length`` (20), ``m = kc_length`` (20), all windows ending at the current bar:

    - Bollinger Bands: ``basis = SMA(close, n)``, ``dev = bb_mult * stdev(close, n)`` with the
      population stdev ``sqrt(mean(close^2) - mean(close)^2)`` (0 if that is <= 0);
      ``upper/lower BB = basis +/- dev``. (LazyBear's script multiplies by the Keltner factor
      here, a known typo; this uses ``bb_mult`` = 2 as Carter describes.)
    - Keltner Channel: ``ma = SMA(close, m)``, ``range = true range`` =
      ``max(high - low, |high - prev close|, |low - prev close|)`` (``high - low`` on the first
      bar, or always if ``use_true_range`` is false); ``upper/lower KC = ma +/- SMA(range, m)
      * kc_mult``.
    - ``on`` (bool state): ``lower BB > lower KC and upper BB < upper KC`` — volatility has
      contracted inside the Keltner Channel. False during warm-up.
    - ``momentum`` (quote currency): ``d = close - ((highest(high, m) + lowest(low, m)) / 2
      + SMA(close, m)) / 2``, then the least-squares line through the last m values of ``d``
      (x = 0..m-1) evaluated at the current bar (Pine's ``linreg(d, m, 0)``).

    ``d`` is defined from bar m, so both outputs start at bar ``max(n, 2m - 1)``. Window sums
    are fresh block sums (no running-sum drift).
    """

    def _reset_state(self) -> None:
        p = self.params
        n, m = p["length"], p["kc_length"]
        self._n, self._m = n, m
        self._bb_mult, self._kc_mult, self._use_tr = p["bb_mult"], p["kc_mult"], p["use_true_range"]
        self._bb_sum, self._bb_sq = RollingSum(n), RollingSum(n)
        self._kc_sum, self._range_sum = RollingSum(m), RollingSum(m)
        self._hh, self._ll = RollingMax(m), RollingMin(m)
        self._lr = RollingLinReg(m)
        self._prev_close = 0.0

    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        self.bars += 1
        rng = high - low
        if self._use_tr and self.bars > 1:
            pc = self._prev_close
            up, down = abs(high - pc), abs(low - pc)
            rng = rng if rng >= up else up
            rng = rng if rng >= down else down
        self._prev_close = close
        m = self._m
        s1, s2 = self._bb_sum.push(close), self._bb_sq.push(close * close)
        kc, rs = self._kc_sum.push(close), self._range_sum.push(rng)
        hh, ll = self._hh.push(high), self._ll.push(low)
        d = close - ((hh + ll) / 2.0 + kc / m) / 2.0 if self.bars >= m else 0.0
        sy, sxy = self._lr.push(d)
        if self.bars < self.warmup_bars:
            return
        mean = s1 / self._n
        var = s2 / self._n - mean * mean
        dev = self._bb_mult * math.sqrt(var) if var > 0.0 else 0.0
        basis, width = kc / m, (rs / m) * self._kc_mult
        self.out[0] = (mean - dev) > (basis - width) and (mean + dev) < (basis + width)
        self.out[1] = linreg_value(sy, sxy, m)

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        """Vectorised block-window sums/extremes: the stream's operations, element-wise."""
        n, m = params["length"], params["kc_length"]
        h, lo, c = arrays["high"], arrays["low"], arrays["close"]
        rng = _ranges(h, lo, c, params["use_true_range"])
        s1, s2 = window_sum(c, n), window_sum(c * c, n)
        kc, rs = window_sum(c, m), window_sum(rng, m)
        d = c - ((window_max(h, m) + window_min(lo, m)) / 2.0 + kc / m) / 2.0
        d[: m - 1] = 0.0
        sy, sxy = window_linreg(d, m)
        mean = s1 / n
        var = s2 / n - mean * mean
        with np.errstate(invalid="ignore"):
            dev = np.where(var > 0.0, params["bb_mult"] * np.sqrt(np.maximum(var, 0.0)), 0.0)
        basis, width = kc / m, (rs / m) * params["kc_mult"]
        on = ((mean - dev) > (basis - width)) & ((mean + dev) < (basis + width))
        momentum = linreg_value(sy, sxy, m)
        w = max(n, 2 * m - 1)
        on[: w - 1] = False
        momentum[: w - 1] = np.nan
        return {"on": on.astype(bool), "momentum": momentum}


def _ranges(h: np.ndarray, lo: np.ndarray, c: np.ndarray, true_range: bool) -> np.ndarray:
    """Per-bar Keltner range: true range (``high - low`` on the first bar) or ``high - low``."""
    rng = h - lo
    if true_range and len(c) > 1:
        pc = c[:-1]
        rng[1:] = np.maximum(np.maximum(rng[1:], np.abs(h[1:] - pc)), np.abs(lo[1:] - pc))
    return rng
