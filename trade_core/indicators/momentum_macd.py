"""EMA-based momentum: MACD, the Percentage Price Oscillator and TRIX.

Every EMA here is TA-Lib 0.8's: ``k = 2 / (n + 1)``, seeded at its n-th input with the mean
of the first n inputs (summed from 0.0 in order), then ``ema = (x - ema) * k + ema`` computed
as one fused multiply-add (rounded once; see ``_momentum_kernels.fma``). The recurrences come
from this package's private ``_momentum_kernels`` (no other moving-average module is
imported) and follow TA-Lib 0.8 operation for operation. Volume is not read.
"""

from __future__ import annotations

import numpy as np

from trade_core.features.base import Feature, Output, Param
from trade_core.features.sources import padded, pick, source_array, source_param
from trade_core.indicators import REGISTRY
from trade_core.indicators._momentum_kernels import (
    NAN,
    TA_EPSILON,
    RunningSMA,
    SeededEMA,
    ema_values,
    period_param,
    sma_array,
)


def _ordered(p: dict) -> tuple[int, int]:
    """(fast, slow) with TA-Lib's swap when ``slow < fast``."""
    return min(p["fast"], p["slow"]), max(p["fast"], p["slow"])


@REGISTRY.register(
    "macd",
    params=(
        period_param("fast", 12, minimum=2, doc="fast EMA period"),
        period_param("slow", 26, minimum=2, doc="slow EMA period"),
        period_param("signal", 9, doc="signal EMA period"),
        source_param(),
    ),
    outputs=(
        Output("line", doc="fast EMA - slow EMA, price units"),
        Output("signal", doc="EMA of line"),
        Output("hist", doc="line - signal"),
    ),
    warmup=lambda p: max(p["fast"], p["slow"]) + p["signal"] - 1,
    reference="TA-Lib MACD (Gerald Appel); EMAs seeded with SMAs, TA-Lib's aligned seeding",
)
class MACD(Feature):
    """Moving Average Convergence/Divergence (Appel), exactly as TA-Lib MACD computes it.

    With fast period f < slow period s (TA-Lib swaps them if given the other way round):
    the slow EMA is seeded at bar index s-1 with the mean of bars 0..s-1; the fast EMA is
    seeded **at the same bar** with the mean of bars s-f..s-1 (TA-Lib aligns the two seed
    windows to end together; a standalone fast EMA would start at bar f-1). From then on
    each follows ``ema = (x - ema) * k + ema`` (one fused multiply-add, as TA-Lib 0.8),
    ``k = 2 / (period + 1)``.
    ``line = fast - slow``. ``signal`` is the EMA of line (period g), seeded with the mean of
    the first g line values (bars s-1 .. s+g-2). ``hist = line - signal``. All three are
    published from bar index ``s + g - 2`` (warm-up s + g - 1), as in TA-Lib.
    """

    def _reset_state(self) -> None:
        self._fast_n, self._slow_n = _ordered(self.params)
        self._fast = SeededEMA(self._fast_n)
        self._slow = SeededEMA(self._slow_n)
        self._signal = SeededEMA(self.params["signal"])
        self._src = self.params["source"]

    def update(self, ts: int, open_: float, high: float, low: float, close: float, volume: float):
        x = close if self._src == "close" else pick(self._src, open_, high, low, close)
        self.bars += 1
        slow = self._slow.push(x)
        if self.bars <= self._slow_n - self._fast_n:
            return  # only the slow EMA's seed window has started
        fast = self._fast.push(x)
        if self.bars < self._slow_n:
            return
        line = fast - slow
        signal = self._signal.push(line)
        if signal == signal:
            self.out[0] = line
            self.out[1] = signal
            self.out[2] = line - signal

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        f, s = _ordered(params)
        g = params["signal"]
        x = source_array(arrays, params["source"]).tolist()
        total = len(x)
        slow = np.asarray(ema_values(x, s))
        fast = np.asarray(ema_values(x[s - f :], f))
        line = fast - slow
        signal = np.asarray(ema_values(line.tolist(), g))
        line = line[g - 1 :]
        return {
            "line": padded(line, total),
            "signal": padded(signal, total),
            "hist": padded(line - signal, total),
        }


@REGISTRY.register(
    "ppo",
    params=(
        period_param("fast", 12, minimum=2, doc="fast MA period"),
        period_param("slow", 26, minimum=2, doc="slow MA period"),
        Param("ma", str, "ema", choices=("ema", "sma"), doc="MA type (TA-Lib 0.8 default ema)"),
        source_param(),
    ),
    warmup=lambda p: max(p["fast"], p["slow"]),
    reference="TA-Lib PPO (matype EMA, TA-Lib 0.8's default; SMA optional)",
)
class PPO(Feature):
    """Percentage Price Oscillator, percent: ``((fast MA - slow MA) / slow MA) * 100``.

    Both MAs read ``source`` from bar 0, each independently (unlike ``macd``): with
    ``ma = "ema"`` (TA-Lib 0.8's default matype) each is TA-Lib's EMA seeded at its own
    n-th bar with the mean of its first n bars; with ``"sma"`` each is the simple mean of its
    last n bars. If ``slow < fast`` the two are swapped. When ``|slow MA| < 1e-14`` (TA-Lib's
    zero band) the value is **0**. First value at bar index ``max(fast, slow) - 1``.
    """

    def _reset_state(self) -> None:
        f, s = _ordered(self.params)
        make = SeededEMA if self.params["ma"] == "ema" else RunningSMA
        self._fast = make(f)
        self._slow = make(s)
        self._src = self.params["source"]

    def update(self, ts: int, open_: float, high: float, low: float, close: float, volume: float):
        x = close if self._src == "close" else pick(self._src, open_, high, low, close)
        self.bars += 1
        fast = self._fast.push(x)
        slow = self._slow.push(x)
        if slow != slow:
            return
        if -TA_EPSILON < slow < TA_EPSILON:
            self.out[0] = 0.0
        else:
            self.out[0] = (fast - slow) / slow * 100.0

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        f, s = _ordered(params)
        x = source_array(arrays, params["source"])
        if params["ma"] == "sma":
            fast, slow = sma_array(x, f), sma_array(x, s)
        else:
            values, total = x.tolist(), len(x)
            fast = padded(ema_values(values, f), total)
            slow = padded(ema_values(values, s), total)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = (fast - slow) / slow * 100.0
        value[(slow > -TA_EPSILON) & (slow < TA_EPSILON)] = 0.0
        return {"value": value}


@REGISTRY.register(
    "trix",
    params=(period_param("length", 30), source_param()),
    warmup=lambda p: 3 * p["length"] - 1,
    reference="TA-Lib TRIX (Jack Hutson): 1-bar percent ROC of a triple EMA",
)
class TRIX(Feature):
    """TRIX (Hutson), percent: the one-bar rate of change of a triple-smoothed EMA.

    ``e1 = EMA(source, n)``, ``e2 = EMA(e1, n)``, ``e3 = EMA(e2, n)``, each TA-Lib 0.8's EMA
    (``k = 2/(n+1)``, fused multiply-add step, seeded with the mean of its first n inputs;
    e2's first input is e1's first value, so e1 starts at bar n-1, e2 at 2n-2, e3 at 3n-3).
    ``TRIX = ((e3 / e3_prev) - 1) * 100``; **0** if ``e3_prev == 0``. First value at bar
    index ``3n - 2`` (warm-up 3n - 1).
    """

    def _reset_state(self) -> None:
        n = self.params["length"]
        self._e1, self._e2, self._e3 = SeededEMA(n), SeededEMA(n), SeededEMA(n)
        self._prev = NAN
        self._src = self.params["source"]

    def update(self, ts: int, open_: float, high: float, low: float, close: float, volume: float):
        x = close if self._src == "close" else pick(self._src, open_, high, low, close)
        self.bars += 1
        e = self._e1.push(x)
        if e != e:
            return
        e = self._e2.push(e)
        if e != e:
            return
        e = self._e3.push(e)
        prev, self._prev = self._prev, e
        if e != e or prev != prev:
            return
        self.out[0] = (e / prev - 1.0) * 100.0 if prev != 0.0 else 0.0

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        n = params["length"]
        x = source_array(arrays, params["source"])
        e3 = np.asarray(ema_values(ema_values(ema_values(x.tolist(), n), n), n))
        prev, cur = e3[:-1], e3[1:]
        with np.errstate(divide="ignore", invalid="ignore"):
            value = (cur / prev - 1.0) * 100.0
        value[prev == 0.0] = 0.0
        return {"value": padded(value, len(x))}
