"""Range-position oscillators: the (slow) Stochastic and Williams %R.

Both read where the close sits inside the highest high / lowest low of a window and follow
TA-Lib 0.8 operation for operation, including its flat-window rule
``|hi - lo| <= 1e-14 * (|hi| + |lo|)`` (relative, so any price scale works). Volume is not
read.
"""

from __future__ import annotations

import numpy as np

from trade_core.features.base import Feature, Output
from trade_core.features.sources import padded
from trade_core.indicators import REGISTRY
from trade_core.indicators._momentum_kernels import (
    RollingMax,
    RollingMin,
    RunningSMA,
    fast_k,
    fast_k_one,
    flat_mask,
    is_flat,
    period_param,
    rolling_max,
    rolling_min,
    running_sums,
)


@REGISTRY.register(
    "stoch",
    params=(
        period_param("fastk", 14, doc="bars in the high/low window of the raw %K"),
        period_param("slowk", 3, doc="SMA period smoothing raw %K into k"),
        period_param("slowd", 3, doc="SMA period smoothing k into d"),
    ),
    outputs=(Output("k", doc="slow %K, 0..100"), Output("d", doc="slow %D = SMA of k")),
    warmup=lambda p: p["fastk"] + p["slowk"] + p["slowd"] - 2,
    reference="TA-Lib STOCH with SMA smoothing (slowk_matype = slowd_matype = 0); G. Lane",
)
class Stoch(Feature):
    """Slow stochastic oscillator (George Lane), TA-Lib STOCH with its default SMA smoothing.

    Raw %K over the last ``fastk`` bars: ``HH`` = highest high, ``LL`` = lowest low (this bar
    included), ``raw = ((close - LL) / (HH - LL)) * 100``, **0** when the window is flat
    (``|HH - LL| <= 1e-14 * (|HH| + |LL|)``, TA-Lib 0.8). ``k`` = simple mean of the last
    ``slowk`` raw values; ``d`` = simple mean of the last ``slowd`` values of k. Both are
    published from the first bar where d exists, bar index ``fastk + slowk + slowd - 3`` (as
    in TA-Lib, k is NaN before). Range 0..100. Note TA-Lib's own default fastk is 5; here 14.
    """

    def _reset_state(self) -> None:
        n = self.params["fastk"]
        self._hi = RollingMax(n)
        self._lo = RollingMin(n)
        self._k = RunningSMA(self.params["slowk"])
        self._d = RunningSMA(self.params["slowd"])

    def update(self, ts: int, open_: float, high: float, low: float, close: float, volume: float):
        self.bars += 1
        hi = self._hi.push(high)
        lo = self._lo.push(low)
        if self.bars < self._hi.n:
            return
        k = self._k.push(fast_k_one(close, hi, lo))
        if k != k:  # NaN: slow %K not ready yet
            return
        d = self._d.push(k)
        if d == d:
            self.out[0] = k
            self.out[1] = d

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        n, sk, sd = params["fastk"], params["slowk"], params["slowd"]
        total = len(arrays["close"])
        hi = rolling_max(arrays["high"], n)
        lo = rolling_min(arrays["low"], n)
        raw = fast_k(arrays["close"], hi, lo)[n - 1 :]
        k = running_sums(raw, sk) / sk
        d = running_sums(k, sd) / sd
        return {"k": padded(k[sd - 1 :], total), "d": padded(d, total)}


@REGISTRY.register(
    "willr",
    params=(period_param("length", 14, minimum=2),),
    warmup=lambda p: p["length"],
    reference="TA-Lib WILLR; Larry Williams, %R (1973)",
)
class WillR(Feature):
    """Williams %R (-100..0) over the last ``length`` bars (this bar included).

    ``HH`` = highest high, ``LL`` = lowest low of the window;
    ``%R = ((HH - close) / (HH - LL)) * -100`` (0 when the close is at the high, -100 at the
    low); **0** when the window is flat, ``|HH - LL| <= 1e-14 * (|HH| + |LL|)`` (TA-Lib 0.8).
    First value at bar index ``length - 1``.
    """

    def _reset_state(self) -> None:
        self._hi = RollingMax(self.params["length"])
        self._lo = RollingMin(self.params["length"])

    def update(self, ts: int, open_: float, high: float, low: float, close: float, volume: float):
        self.bars += 1
        hi = self._hi.push(high)
        lo = self._lo.push(low)
        if self.bars < self._hi.n:
            return
        self.out[0] = 0.0 if is_flat(hi, lo) else ((hi - close) / (hi - lo)) * -100.0

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        n = params["length"]
        hi = rolling_max(arrays["high"], n)
        lo = rolling_min(arrays["low"], n)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = ((hi - arrays["close"]) / (hi - lo)) * -100.0
        value[flat_mask(hi, lo)] = 0.0
        return {"value": value}
