"""Rolling least-squares line: its value at the newest bar (``linreg``) and its slope
(``slope``), as TA-Lib 0.8.1's LINEARREG and LINEARREG_SLOPE compute them."""

from __future__ import annotations

from itertools import islice

import numpy as np

from trade_core.features.base import Feature
from trade_core.features.sources import padded, pick, source_array, source_param
from trade_core.indicators import REGISTRY
from trade_core.indicators.moving_averages import length_param

RESEED_PERIODS = 32
"""TA-Lib 0.8.1 rebuilds the running sums every ``32 * n`` bars (issue #254)."""
OUTLIER_RATIO = 100.0
"""... and on a bar whose departing value outweighs the window: ``|n*x_old| > 100*sum|x|``."""


def _constants(n: int) -> tuple[float, float]:
    """``SumX`` and TA-Lib's ``Divisor = SumX^2 - n*SumXSqr`` for ages x = 0..n-1."""
    sum_x = float(n) * (n - 1) * 0.5
    sum_x_sqr = float(n) * (n - 1) * (2 * n - 1) / 6.0
    return sum_x, sum_x * sum_x - n * sum_x_sqr


def _scan(window: list[float]) -> tuple[float, float, float]:
    """``SumY``, ``SumXY`` (weight = age, n-1 for the oldest) and ``sum|y|``, oldest first."""
    sy = sxy = sa = 0.0
    w = float(len(window) - 1)
    for v in window:
        sy += v
        sxy += w * v
        sa += abs(v)
        w -= 1.0
    return sy, sxy, sa


def _regression(x: np.ndarray, n: int, line: bool) -> np.ndarray:
    """TA-Lib's running-sum regression over ``x``: the line's value at the newest bar
    (``line``) or its slope, for the windows ending at ``n-1 .. len-1``."""
    vals = x.tolist()
    if len(vals) < n:
        return np.empty(0)
    sy, sxy, sa = _scan(vals[:n])
    ys = [sy]
    xys = [sxy]
    app_y = ys.append
    app_xy = xys.append
    fn = float(n)
    period = RESEED_PERIODS * n
    reseed = period
    for t, (old, new) in enumerate(zip(vals, islice(vals, n, None), strict=False), n):
        weighted = fn * old
        sxy = sxy + sy - weighted
        sy = sy - old + new
        sa = sa - abs(old) + abs(new)
        reseed -= 1
        if reseed <= 0 or abs(weighted) > OUTLIER_RATIO * sa:
            reseed = period
            sy, sxy, sa = _scan(vals[t - n + 1 : t + 1])
        app_y(sy)
        app_xy(sxy)
    sum_x, divisor = _constants(n)
    sy_arr = np.asarray(ys)
    m = (n * np.asarray(xys) - sum_x * sy_arr) / divisor
    return (sy_arr - m * sum_x) / n + m * float(n - 1) if line else m


class _LinearRegression(Feature):
    """Shared state: TA-Lib 0.8.1's running ``SumY``/``SumXY`` over the last n values."""

    _LINE = True

    def _reset_state(self) -> None:
        n = self.params["length"]
        self._n = n
        self._sum_x, self._divisor = _constants(n)
        self._ring = [0.0] * n
        self._sy = self._sxy = self._sa = 0.0
        self._reseed = RESEED_PERIODS * n
        self._src = self.params["source"]

    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        x = close if self._src == "close" else pick(self._src, open_, high, low, close)
        t = self.bars
        self.bars = t + 1
        n = self._n
        ring = self._ring
        i = t % n
        old = ring[i]  # x[t-n], overwritten by x[t]
        ring[i] = x
        if t < n - 1:
            return
        if t == n - 1:
            sy, sxy, sa = _scan(ring)
        else:
            weighted = float(n) * old
            sxy = self._sxy + self._sy - weighted
            sy = self._sy - old + x
            sa = self._sa - abs(old) + abs(x)
            self._reseed -= 1
            if self._reseed <= 0 or abs(weighted) > OUTLIER_RATIO * sa:
                self._reseed = RESEED_PERIODS * n
                sy, sxy, sa = _scan(ring[i + 1 :] + ring[: i + 1])
        self._sy, self._sxy, self._sa = sy, sxy, sa
        m = (n * sxy - self._sum_x * sy) / self._divisor
        self.out[0] = ((sy - m * self._sum_x) / n + m * (n - 1)) if self._LINE else m

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        x = source_array(arrays, params["source"])
        return {"value": padded(_regression(x, params["length"], cls._LINE), len(x))}


_DEFINITION = """Least squares over the last n = ``length`` values of ``source`` (n >= 2),
    with x = the bar's age (0 = newest, n-1 = oldest) as TA-Lib does: ``SumX = n(n-1)/2``,
    ``Divisor = SumX^2 - n * n(n-1)(2n-1)/6``, ``m = (n*SumXY - SumX*SumY) / Divisor`` (the
    slope per bar forward in time) and ``b = (SumY - m*SumX) / n`` (the line at the oldest
    bar). ``SumY`` and ``SumXY`` are TA-Lib 0.8.1's running sums: per bar
    ``SumXY = (SumXY + SumY) - n*x_old``, ``SumY = (SumY - x_old) + x_new``; both are
    rebuilt from the window (oldest first) every ``32n`` bars and whenever
    ``|n*x_old| > 100 * sum|x|`` over the window. First value at bar index n - 1 (warm-up
    n). A flat window gives slope 0 and the flat price."""


@REGISTRY.register(
    "linreg",
    params=(length_param(14, minimum=2), source_param()),
    warmup=lambda p: p["length"],
    reference="TA-Lib LINEARREG (least-squares line's value at the newest bar)",
)
class LinReg(_LinearRegression):
    __doc__ = (
        "Linear regression value (price units): the least-squares line through the window, "
        "evaluated at the newest bar, ``b + m*(n-1)``.\n\n    " + _DEFINITION
    )

    _LINE = True


@REGISTRY.register(
    "slope",
    params=(length_param(14, minimum=2), source_param()),
    warmup=lambda p: p["length"],
    reference="TA-Lib LINEARREG_SLOPE (slope of the least-squares line)",
)
class Slope(_LinearRegression):
    __doc__ = (
        "Linear regression slope (price units per bar): the slope m of the least-squares "
        "line through the window.\n\n    " + _DEFINITION
    )

    _LINE = False
