"""Ichimoku Kinko Hyo, strictly causal: lines as of now plus the spans the chart shows now.

The classic chart plots the senkou spans ``displacement`` bars into the future and the chikou
(lagging) span ``displacement`` bars into the past. Plotting is not computing: every output
here is computed from bars up to the current one, and no chikou is emitted because the chart
value at bar t would be close[t + displacement].
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from trade_core.features.base import Feature, Output
from trade_core.indicators import REGISTRY
from trade_core.indicators._range_kernels import (
    NAN,
    RollingExtreme,
    length_param,
    nan_array,
    rolling_max,
    rolling_min,
)

Arrays = dict[str, np.ndarray]
LINES = ("tenkan", "kijun", "senkou_b")


def _warmup(p: dict[str, Any]) -> int:
    return max(p["tenkan"], p["kijun"], p["senkou_b"]) + p["displacement"]


@REGISTRY.register(
    "ichimoku",
    params=(
        length_param(9, name="tenkan", doc="conversion-line window (bars)"),
        length_param(26, name="kijun", doc="base-line window (bars)"),
        length_param(52, name="senkou_b", doc="leading-span-B window (bars)"),
        length_param(26, minimum=0, name="displacement", doc="bars the spans are plotted ahead"),
    ),
    outputs=(
        Output("tenkan", warmup=lambda p: p["tenkan"]),
        Output("kijun", warmup=lambda p: p["kijun"]),
        Output("span_a", warmup=lambda p: max(p["tenkan"], p["kijun"])),
        Output("span_b", warmup=lambda p: p["senkou_b"]),
        Output(
            "span_a_ahead",
            doc="span A computed displacement bars ago (chart's now)",
            warmup=lambda p: max(p["tenkan"], p["kijun"]) + p["displacement"],
        ),
        Output(
            "span_b_ahead",
            doc="span B computed displacement bars ago (chart's now)",
            warmup=lambda p: p["senkou_b"] + p["displacement"],
        ),
    ),
    warmup=_warmup,
    reference="Ichimoku Kinko Hyo (G. Hosoda); midpoints = TA-Lib MIDPRICE, causal spans",
)
class Ichimoku(Feature):
    """Ichimoku lines, each the midpoint ``(highest high + lowest low) / 2`` of a window of
    bars ending at the current bar (TA-Lib MIDPRICE):

    - ``tenkan`` over ``tenkan`` bars (9), ``kijun`` over ``kijun`` bars (26);
    - ``span_a = (tenkan + kijun) / 2`` and ``span_b`` = midpoint over ``senkou_b`` bars (52),
      both *as computed now* (the chart draws them ``displacement`` bars ahead);
    - ``span_a_ahead``/``span_b_ahead`` = ``span_a``/``span_b`` computed ``displacement`` bars
      ago — the cloud the classic chart shows at the current bar (d = 26: values of bar t-26).
      TradingView's built-in offsets by ``displacement - 1``; use ``displacement=25`` to
      reproduce its chart.

    No chikou span: it is the close plotted back in time, i.e. it would need future bars.
    Flat bars give equal highs and lows, so every line equals that price.

    Warm-up: each output from the bar its own window is full (tenkan 9, kijun 26, span_a 26,
    span_b 52, the ``_ahead`` spans ``displacement`` bars later); the feature as a whole is
    ready at ``max(tenkan, kijun, senkou_b) + displacement`` bars (78 with the defaults).
    """

    def _reset_state(self) -> None:
        p = self.params
        self._q = [(RollingExtreme(p[k], 1), RollingExtreme(p[k], -1)) for k in LINES]
        self._past: deque[tuple[float, float]] = deque(maxlen=p["displacement"] + 1)

    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        i = self.bars
        self.bars += 1
        mids = [(hq.push(i, high)[1] + lq.push(i, low)[1]) / 2.0 for hq, lq in self._q]
        tenkan, kijun, span_b = mids
        span_a = (tenkan + kijun) / 2.0
        self._past.append((span_a, span_b))
        ahead = self._past[0] if len(self._past) > self.params["displacement"] else (NAN, NAN)
        values = (tenkan, kijun, span_a, span_b, ahead[0], ahead[1])
        b = self.bars
        self.out[:] = [v if b >= w else NAN for v, w in zip(values, self.out_warmups, strict=True)]

    @classmethod
    def batch(cls, arrays: Arrays, params: dict[str, Any]) -> dict[str, np.ndarray]:
        """Vectorised rolling max/min (O(bars)) and array shifts."""
        h, lo = arrays["high"], arrays["low"]
        size = len(h)
        tenkan, kijun, span_b = (
            (rolling_max(h, params[k]) + rolling_min(lo, params[k])) / 2.0 for k in LINES
        )
        span_a = (tenkan + kijun) / 2.0
        d = params["displacement"]
        a_ahead, b_ahead = nan_array(size), nan_array(size)
        if d < size:
            a_ahead[d:], b_ahead[d:] = span_a[: size - d], span_b[: size - d]
        out = {
            "tenkan": tenkan,
            "kijun": kijun,
            "span_a": span_a,
            "span_b": span_b,
            "span_a_ahead": a_ahead,
            "span_b_ahead": b_ahead,
        }
        spec = cls.spec
        for o, w in zip(spec.outputs, spec.output_warmups(params), strict=True):
            out[o.name][: min(w, size + 1) - 1] = NAN
        return out
