"""Wilder-smoothed momentum: RSI, CMO and the Stochastic RSI.

All three follow TA-Lib 0.8 operation for operation (default compatibility, unstable period
0), so they agree with it to the last bits. Volume is not read (zero-volume bars are ordinary
bars).
"""

from __future__ import annotations

import numpy as np

from trade_core.features.base import Feature, Output
from trade_core.features.sources import padded, pick, source_array, source_param
from trade_core.indicators import REGISTRY
from trade_core.indicators._momentum_kernels import (
    RollingMax,
    RollingMin,
    RunningSMA,
    fast_k,
    fast_k_one,
    period_param,
    rolling_max,
    rolling_min,
    running_sums,
    wilder_averages,
)


class _WilderGainLoss(Feature):
    """Shared state: Wilder's average gain and loss of the source's bar-to-bar change.

    ``_INVERSE``: scale by a precomputed ``1/n`` (TA-Lib 0.8 RSI) rather than divide by n
    (TA-Lib 0.8 CMO); the two differ in the last bits only.
    """

    _INVERSE = True

    def _reset_state(self) -> None:
        self._n = self.params["length"]
        self._inv = 1.0 / self._n
        self._src = self.params["source"]
        self._prev = 0.0
        self._gain = 0.0
        self._loss = 0.0

    def _step(self, open_: float, high: float, low: float, close: float) -> bool:
        """Advance one bar; True once ``_gain``/``_loss`` hold the averages for this bar."""
        x = close if self._src == "close" else pick(self._src, open_, high, low, close)
        self.bars += 1
        b = self.bars
        if b == 1:
            self._prev = x
            return False
        d = x - self._prev
        self._prev = x
        up = d if d > 0.0 else 0.0
        n = self._n
        if b > n + 1:  # Wilder: avg = (avg * (n - 1) + today) / n, TA-Lib's operation order
            gain = self._gain * (n - 1) + up
            loss = self._loss * (n - 1) + (up - d)
            if self._INVERSE:
                self._gain = gain * self._inv
                self._loss = loss * self._inv
            else:
                self._gain = gain / n
                self._loss = loss / n
            return True
        self._gain += up
        self._loss += up - d
        if b < n + 1:
            return False
        if self._INVERSE:  # seed: the simple mean of the first n changes
            self._gain *= self._inv
            self._loss *= self._inv
        else:
            self._gain /= n
            self._loss /= n
        return True


def _rsi_from(gain: np.ndarray, loss: np.ndarray) -> np.ndarray:
    total = gain + loss
    with np.errstate(divide="ignore", invalid="ignore"):
        value = 100.0 * (gain / total)
    value[total <= 0.0] = 0.0
    return value


@REGISTRY.register(
    "rsi",
    params=(period_param("length", 14, minimum=2), source_param()),
    warmup=lambda p: p["length"] + 1,
    reference="TA-Lib RSI; J. Welles Wilder, New Concepts in Technical Trading Systems (1978)",
)
class RSI(_WilderGainLoss):
    """Relative Strength Index (0..100) of ``source`` over ``length`` = n bars (Wilder).

    ``d_t = x_t - x_{t-1}``; gain ``= d`` if ``d >= 0`` else 0, loss ``= -d`` if ``d < 0``
    else 0. Seed at bar n (the n-th change): ``G = mean(gain_1..n)``, ``L = mean(loss_1..n)``;
    then Wilder smoothing ``G = (G * (n-1) + gain) * (1/n)`` (same for L; TA-Lib 0.8 scales
    by a precomputed 1/n). ``RSI = 100 * (G / (G + L))``; when ``G + L == 0`` (no change at all
    since the seed, e.g. a flat market) the value is **0** (TA-Lib's convention).
    First value at bar index n (warm-up n + 1).
    """

    def update(self, ts: int, open_: float, high: float, low: float, close: float, volume: float):
        if self._step(open_, high, low, close):
            total = self._gain + self._loss
            self.out[0] = 100.0 * (self._gain / total) if total > 0.0 else 0.0

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        gain, loss = wilder_averages(source_array(arrays, params["source"]), params["length"], True)
        return {"value": _rsi_from(gain, loss)}


@REGISTRY.register(
    "cmo",
    params=(period_param("length", 14, minimum=2), source_param()),
    warmup=lambda p: p["length"] + 1,
    reference="TA-Lib CMO (Tushar Chande's momentum oscillator with TA-Lib's Wilder smoothing)",
)
class CMO(_WilderGainLoss):
    """Chande Momentum Oscillator (-100..100), TA-Lib's form: the RSI's Wilder-smoothed
    average gain G and loss L (seeded with their simple means over the first n changes, see
    ``rsi``, but here divided by n as TA-Lib does for CMO), then
    ``CMO = 100 * ((G - L) / (G + L))``; **0** when ``G + L == 0`` (flat market). Note that
    TA-Lib smooths G and L (Wilder) rather than summing raw changes over the window as in
    Chande's article. First value at bar index n (warm-up n + 1).
    """

    _INVERSE = False

    def update(self, ts: int, open_: float, high: float, low: float, close: float, volume: float):
        if self._step(open_, high, low, close):
            total = self._gain + self._loss
            self.out[0] = 100.0 * ((self._gain - self._loss) / total) if total > 0.0 else 0.0

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        x = source_array(arrays, params["source"])
        gain, loss = wilder_averages(x, params["length"], False)
        total = gain + loss
        with np.errstate(divide="ignore", invalid="ignore"):
            value = 100.0 * ((gain - loss) / total)
        value[total <= 0.0] = 0.0
        return {"value": value}


@REGISTRY.register(
    "stochrsi",
    params=(
        period_param("length", 14, minimum=2, doc="RSI period"),
        period_param("fastk", 5, doc="bars of RSI in the stochastic window"),
        period_param("fastd", 3, doc="SMA period of %D"),
        source_param(),
    ),
    outputs=(Output("k", doc="fast %K of the RSI, 0..100"), Output("d", doc="SMA of k")),
    warmup=lambda p: p["length"] + p["fastk"] + p["fastd"] - 1,
    reference="TA-Lib STOCHRSI (STOCHF on RSI, fastd SMA); Chande & Kroll, S&C V.11:5",
)
class StochRSI(_WilderGainLoss):
    """Stochastic RSI (TA-Lib STOCHRSI: a fast stochastic applied to the RSI series).

    ``r`` = RSI(``length``) as defined for ``rsi`` (0 on a flat market). Over the last
    ``fastk`` RSI values, ``hi = max r``, ``lo = min r``; ``k = ((r - lo) / (hi - lo)) * 100``,
    **0** when the window is flat: ``|hi - lo| <= 1e-14 * (|hi| + |lo|)`` (TA-Lib 0.8's
    relative test; it also absorbs the last-bit wobble a flat market leaves in the RSI).
    ``d`` = simple mean of the last ``fastd`` values of k (TA-Lib's default MA type, SMA).
    Both are published from the first bar where d exists, bar index
    ``length + fastk + fastd - 2`` (k is NaN before, as in TA-Lib). Range 0..100.
    """

    def _reset_state(self) -> None:
        super()._reset_state()
        self._hi = RollingMax(self.params["fastk"])
        self._lo = RollingMin(self.params["fastk"])
        self._sma = RunningSMA(self.params["fastd"])

    def update(self, ts: int, open_: float, high: float, low: float, close: float, volume: float):
        if not self._step(open_, high, low, close):
            return
        total = self._gain + self._loss
        r = 100.0 * (self._gain / total) if total > 0.0 else 0.0
        hi = self._hi.push(r)
        lo = self._lo.push(r)
        if self._hi.count < self._hi.n:
            return
        k = fast_k_one(r, hi, lo)
        d = self._sma.push(k)
        if d == d:  # d is defined: publish both
            self.out[0] = k
            self.out[1] = d

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        n, fk, fd = params["length"], params["fastk"], params["fastd"]
        total = len(arrays["close"])
        gain, loss = wilder_averages(source_array(arrays, params["source"]), n, True)
        r = _rsi_from(gain, loss)[n:]
        k = fast_k(r, rolling_max(r, fk), rolling_min(r, fk))[fk - 1 :]
        d = running_sums(k, fd) / fd
        k_out = padded(k[fd - 1 :], total)
        return {"k": k_out, "d": padded(d, total)}


__all__ = ["CMO", "RSI", "StochRSI"]
