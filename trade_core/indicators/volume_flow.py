"""Volume indicators TA-Lib does not have: Chaikin Money Flow, Elder's Force Index, daily VWAP.

Each follows the published formula named in its docstring. Windowed sums use the drift-free
block decomposition of :mod:`trade_core.indicators._block_windows`; cumulative sums restart every
UTC day. Prices are in quote currency, volumes in base currency.
"""

from __future__ import annotations

import sys
from math import fsum

import numpy as np

from trade_core.features.base import Feature, Param
from trade_core.features.sources import pick, source_array, source_param
from trade_core.indicators import REGISTRY
from trade_core.indicators._block_windows import RollingSum, window_sum
from trade_core.indicators.volume import (
    PERIOD_MAX,
    SPLIT,
    ad_terms,
    fma_split,
    split,
)
from trade_core.timestamps import DAY_MS


def _length(default: int, doc: str) -> Param:
    return Param("length", int, default, minimum=1, maximum=PERIOD_MAX, doc=doc)


@REGISTRY.register(
    "cmf",
    params=(_length(20, "bars in the window"),),
    warmup=lambda p: p["length"],
    reference="Chaikin Money Flow (Marc Chaikin): sum(mfm*volume, n) / sum(volume, n)",
)
class CMF(Feature):
    """Chaikin Money Flow over ``n`` bars (default 20), in [-1, 1].

    Money-flow multiplier ``mfm = ((close - low) - (high - close)) / (high - low)``; a flat bar
    (``high == low``, 0/0) has ``mfm = 0``, as in TA-Lib's AD. Money-flow volume
    ``mfv = mfm * volume``. ``CMF = sum(mfv, last n) / sum(volume, last n)``; a window whose
    volume sums to 0 (no trades in n bars) gives 0. The window sums are fresh sums of at most
    n values (block decomposition, no running-sum drift; an all-zero window sums to exactly 0).
    First value at bar n.
    """

    def _reset_state(self) -> None:
        n = self.params["length"]
        self._num, self._den = RollingSum(n), RollingSum(n)

    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        self.bars += 1
        rng = high - low
        mfv = (((close - low) - (high - close)) / rng) * volume if rng > 0.0 else 0.0
        num = self._num.push(mfv)
        den = self._den.push(volume)
        if self.bars >= self.warmup_bars:
            self.out[0] = num / den if den != 0.0 else 0.0

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        """Vectorised block-decomposed window sums (bit-equal to the stream)."""
        n = params["length"]
        num, den = window_sum(ad_terms(arrays), n), window_sum(arrays["volume"], n)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(den != 0.0, num / den, 0.0)
        out[: n - 1] = np.nan
        return {"value": out}


@REGISTRY.register(
    "efi",
    params=(_length(13, "EMA period (bars)"),),
    warmup=lambda p: p["length"] + 1,
    reference="Elder's Force Index (A. Elder, Trading for a Living): EMA(n) of dclose*volume",
)
class EFI(Feature):
    """Elder's Force Index: ``EMA_n(force)``, ``force_t = (close_t - close_{t-1}) * volume_t``.

    Raw force starts at bar 2 (it needs a previous close). The EMA uses ``k = 2 / (n + 1)``,
    ``e_t = (force_t - e_{t-1}) * k + e_{t-1}``, seeded with the simple mean of the first n
    forces (bars 2..n+1, summed left to right) — TA-Lib's EMA seeding. First value at bar
    n + 1. Units: quote currency x base volume per bar.

    Rounding: the step is one fused multiply-add, ``fma(force_t - e_{t-1}, k, e_{t-1})``, as
    the TA-Lib 0.8.1 build behind ``talib`` evaluates its EMA, so EFI equals
    ``talib.EMA(force, n)`` bit for bit. For ``n = 1`` (``k = 1``) EFI is the force itself.
    """

    def _reset_state(self) -> None:
        self._n = self.params["length"]
        self._k = split(2.0 / (self._n + 1))
        self._prev = 0.0
        self._sum = 0.0
        self._ema = 0.0

    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        self.bars += 1
        force = (close - self._prev) * volume
        self._prev = close
        m = self.bars - 1  # forces seen, this one included
        if m < 1:
            return
        if m < self._n:
            self._sum += force
        elif m == self._n:
            self._ema = (self._sum + force) / self._n
            self.out[0] = self._ema
        elif self._n == 1:
            self.out[0] = force
        else:
            self._ema = fma_split(self._k, force - self._ema, self._ema)
            self.out[0] = self._ema

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        """Forces vectorised; seed and EMA in a tight loop (same operations as the stream)."""
        n, c = params["length"], arrays["close"]
        out = np.full(len(c), np.nan)
        if len(c) <= n:
            return {"value": out}
        force_array = (c[1:] - c[:-1]) * arrays["volume"][1:]
        if n == 1:
            out[1:] = force_array
            return {"value": out}
        force = force_array.tolist()
        total = 0.0
        for f in force[: n - 1]:
            total += f
        ema = (total + force[n - 1]) / n
        kh, kl = split(2.0 / (n + 1))
        emas = [ema] * (len(force) - n + 1)
        for j in range(n, len(force)):
            b = force[j] - ema  # fma(b, k, ema), inlined (see fma_split)
            t = SPLIT * b
            bh = t - (t - b)
            bl = b - bh
            ema = fsum((kh * bh, kh * bl, kl * bh, kl * bl, ema))
            emas[j - n + 1] = ema
        out[n:] = emas
        return {"value": out}


_TINY = sys.float_info.min  # smallest normal float64: below it a volume counts as 0


@REGISTRY.register(
    "vwap",
    params=(source_param("hlc3"),),
    warmup=lambda p: 1,
    reference="Session VWAP anchored at 00:00 UTC: cumsum(price*volume) / cumsum(volume)",
)
class VWAP(Feature):
    """Volume-weighted average price of the current UTC day (session reset at 00:00 UTC).

    The day of a bar is ``ts // 86_400_000`` (``ts`` = bar open time, epoch ms UTC), so a bar
    opening at 00:00 starts a new session. Price ``p`` = the ``source`` (default typical price
    hlc3 = (high + low + close) / 3). ``VWAP_t = sum(p * volume) / sum(volume)`` over the day's
    bars up to t, summed left to right from 0 at the session start. While the day's volume so
    far is 0 (no trades yet today), VWAP is defined as the current bar's ``p``. A subnormal
    volume (below ``sys.float_info.min``, ~2.2e-308) counts as 0: ``p * volume`` would lose
    its precision and push VWAP outside the day's range; no real volume is that small. Units:
    quote currency. Defined from the first bar (warm-up 1).
    """

    def _reset_state(self) -> None:
        self._src = self.params["source"]
        self._day: int | None = None
        self._pv = 0.0
        self._vol = 0.0

    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        self.bars += 1
        if self._src == "hlc3":
            p = (high + low + close) / 3.0
        else:
            p = pick(self._src, open_, high, low, close)
        day = ts // DAY_MS
        if day != self._day:
            self._day, self._pv, self._vol = day, 0.0, 0.0
        if volume < _TINY:
            volume = 0.0
        self._pv += p * volume
        self._vol += volume
        self.out[0] = self._pv / self._vol if self._vol > 0.0 else p

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        """One sequential ``cumsum`` per UTC day (the stream's additions, in order)."""
        p, v = source_array(arrays, params["source"]), arrays["volume"]
        v = np.where(v < _TINY, 0.0, v)
        pv = p * v
        day = arrays["ts"] // DAY_MS
        starts = np.flatnonzero(np.concatenate(([True], day[1:] != day[:-1])))
        ends = np.append(starts[1:], len(day))
        cum_pv, cum_v = np.empty_like(pv), np.empty_like(v)
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            np.cumsum(pv[s:e], out=cum_pv[s:e])
            np.cumsum(v[s:e], out=cum_v[s:e])
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(cum_v > 0.0, cum_pv / cum_v, p)
        return {"value": out}
