"""Volume indicators that TA-Lib 0.8 also has: OBV, AD (Chaikin A/D line), ADOSC, MFI.

The arithmetic follows TA-Lib 0.8.1 operation for operation (same order of additions, same
seeding, same edge-case rules), so results agree with ``talib`` to the last bits. Prices are
in quote currency, volumes in base currency; money flow is price x volume (quote currency).
"""

from __future__ import annotations

from math import fsum

import numpy as np

from trade_core.features.base import Feature, Param
from trade_core.features.sources import pick, source_array, source_param
from trade_core.indicators import REGISTRY

PERIOD_MAX = 100_000
TA_EPSILON = 1e-14  # TA-Lib's TA_EPSILON, used by MFI's scaled dead-zone
SPLIT = 134217729.0  # 2**27 + 1: Veltkamp's constant to split a double into two halves


def _period(name: str, default: int, minimum: int, doc: str) -> Param:
    return Param(name, int, default, minimum=minimum, maximum=PERIOD_MAX, doc=doc)


def ad_terms(arrays: dict[str, np.ndarray]) -> np.ndarray:
    """Per-bar money-flow volume ``((c-l) - (h-c)) / (h-l) * v``; 0 where ``h - l <= 0``."""
    h, lo, c, v = (arrays[k] for k in ("high", "low", "close", "volume"))
    rng = h - lo
    flat = rng <= 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = (((c - lo) - (h - c)) / np.where(flat, 1.0, rng)) * v
    terms[flat] = 0.0
    return terms


@REGISTRY.register(
    "obv",
    params=(source_param(),),
    warmup=lambda p: 1,
    reference="TA-Lib OBV (Granville's On Balance Volume), starting at the first bar's volume",
)
class OBV(Feature):
    """On Balance Volume, a running total of volume signed by the price direction.

    ``obv_1 = volume_1`` (TA-Lib starts at the first bar's volume, not at 0); then
    ``obv_t = obv_{t-1} + volume_t`` if ``x_t > x_{t-1}``, ``- volume_t`` if ``x_t < x_{t-1}``,
    unchanged if equal (exact comparison), where ``x`` is the ``source`` price (close).
    Units: base-currency volume. Defined from the first bar (warm-up 1).
    """

    def _reset_state(self) -> None:
        self._src = self.params["source"]
        self._obv = 0.0
        self._prev = 0.0

    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        x = close if self._src == "close" else pick(self._src, open_, high, low, close)
        self.bars += 1
        if self.bars == 1:
            self._obv = volume
        elif x > self._prev:
            self._obv += volume
        elif x < self._prev:
            self._obv -= volume
        self._prev = x
        self.out[0] = self._obv

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        """Sequential ``cumsum`` of the signed volumes: the same additions as the stream."""
        x, v = source_array(arrays, params["source"]), arrays["volume"]
        if len(x) == 0:
            return {"value": np.empty(0)}
        d = np.diff(x)
        signed = np.concatenate(([v[0]], np.where(d > 0, v[1:], np.where(d < 0, -v[1:], 0.0))))
        return {"value": np.cumsum(signed)}


@REGISTRY.register(
    "ad",
    warmup=lambda p: 1,
    reference="TA-Lib AD (Chaikin Accumulation/Distribution line), accumulated from bar 1",
)
class AD(Feature):
    """Chaikin Accumulation/Distribution line.

    Money-flow multiplier ``mfm = ((close - low) - (high - close)) / (high - low)`` in [-1, 1];
    on a flat bar (``high == low``) it is 0/0 and, as in TA-Lib, the bar adds nothing.
    ``ad_t = ad_{t-1} + mfm_t * volume_t`` with ``ad_0 = 0``, so the first bar's value is its
    own term. Units: base-currency volume. Defined from the first bar (warm-up 1).
    """

    def _reset_state(self) -> None:
        self._ad = 0.0

    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        self.bars += 1
        rng = high - low
        if rng > 0.0:
            self._ad += (((close - low) - (high - close)) / rng) * volume
        self.out[0] = self._ad

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        """Sequential ``cumsum`` of the per-bar terms (flat bars add 0.0, an exact no-op)."""
        return {"value": np.cumsum(ad_terms(arrays))}


@REGISTRY.register(
    "adosc",
    params=(
        _period("fast", 3, 2, "period of the fast EMA of the A/D line (bars)"),
        _period("slow", 10, 2, "period of the slow EMA of the A/D line (bars)"),
    ),
    warmup=lambda p: max(p["fast"], p["slow"]),
    reference="TA-Lib ADOSC (Chaikin A/D Oscillator): EMA(fast, AD) - EMA(slow, AD)",
)
class ADOSC(Feature):
    """Chaikin A/D Oscillator: ``EMA_fast(AD) - EMA_slow(AD)`` of the A/D line (see ``ad``).

    Both EMAs use ``k = 2 / (period + 1)`` and, as in TA-Lib, are seeded with the first bar's
    A/D value (not with an SMA): ``e_1 = ad_1``, ``e_t = k * ad_t + (1 - k) * e_{t-1}``.
    The first value is reported at bar ``max(fast, slow)`` (TA-Lib's EMA lookback + 1); the
    EMAs run from bar 1. ``fast`` may exceed ``slow`` (the sign then flips, as in TA-Lib).
    Units: base-currency volume.

    Rounding: the TA-Lib 0.8.1 build behind the ``talib`` wheel evaluates the EMA step as one
    fused multiply-add, ``fma(1 - k, e_{t-1}, k * ad_t)`` (a compiler contraction: ``k * ad_t``
    rounded, then the product ``(1 - k) * e_{t-1}`` added to it with a single rounding). This
    class reproduces that exactly with :func:`fma_split` so results agree to the last bit.
    """

    def _reset_state(self) -> None:
        self._fk = 2.0 / (float(self.params["fast"]) + 1.0)
        self._sk = 2.0 / (float(self.params["slow"]) + 1.0)
        self._ofk_split = split(1.0 - self._fk)
        self._osk_split = split(1.0 - self._sk)
        self._ad = self._fast = self._slow = 0.0

    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        self.bars += 1
        rng = high - low
        if rng > 0.0:
            self._ad += (((close - low) - (high - close)) / rng) * volume
        ad = self._ad
        if self.bars == 1:
            self._fast = self._slow = ad
        else:
            fh, fl = self._ofk_split
            sh, sl = self._osk_split
            e = self._fast
            t = SPLIT * e
            hi = t - (t - e)
            lo = e - hi
            self._fast = fsum((fh * hi, fh * lo, fl * hi, fl * lo, self._fk * ad))
            e = self._slow
            t = SPLIT * e
            hi = t - (t - e)
            lo = e - hi
            self._slow = fsum((sh * hi, sh * lo, sl * hi, sl * lo, self._sk * ad))
        if self.bars >= self.warmup_bars:
            self.out[0] = self._fast - self._slow

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        """A/D by ``cumsum``; the two EMAs in one tight loop over a Python list."""
        ad = np.cumsum(ad_terms(arrays)).tolist()
        out = np.full(len(ad), np.nan)
        if not ad:
            return {"value": out}
        fk = 2.0 / (float(params["fast"]) + 1.0)
        sk = 2.0 / (float(params["slow"]) + 1.0)
        fast = _ema_fma(ad, fk, split(1.0 - fk))
        slow = _ema_fma(ad, sk, split(1.0 - sk))
        diff = (np.asarray(fast) - np.asarray(slow)).tolist()
        w = max(params["fast"], params["slow"])
        out[w - 1 :] = diff[w - 1 :]
        return {"value": out}


@REGISTRY.register(
    "mfi",
    params=(_period("length", 14, 2, "bars in the money-flow window"),),
    warmup=lambda p: p["length"] + 1,
    reference="TA-Lib 0.8.1 MFI (Money Flow Index), incl. its dead-zone and empty-window rules",
)
class MFI(Feature):
    """Money Flow Index over ``n`` bars, in [0, 100] (TA-Lib 0.8.1 rules).

    Typical price ``tp = (high + low + close) / 3``; raw money flow ``mf = tp * volume``
    (quote currency). From bar 2 on, each bar's flow is *positive* if ``tp`` rose, *negative*
    if it fell, and 0 if it did not move: ``|tp_t - tp_{t-1}| <= 1e-14 * (|tp_t| + |tp_{t-1}|)``
    (TA-Lib's scaled dead-zone). ``MFI = 100 * P / (P + N)`` with P, N the sums of positive and
    negative flows of the last ``n`` bars, kept as running sums (subtract the oldest, add the
    newest) that are reset to exactly 0 once ``n`` consecutive bars carried no flow; ``P`` is
    clamped into ``[0, P + N]``. A window with no flow (``P + N <= 0``: flat typical price or
    zero volume throughout) gives 0. First value at bar ``n + 1`` (``n`` price changes).
    """

    def _reset_state(self) -> None:
        n = self.params["length"]
        self._n = n
        self._pos_ring = [0.0] * n
        self._neg_ring = [0.0] * n
        self._i = 0
        self._pos = self._neg = 0.0
        self._prev = 0.0
        self._null_run = 0

    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        self.bars += 1
        tp = (high + low + close) / 3.0
        prev = self._prev
        self._prev = tp
        if self.bars == 1:
            return
        d = tp - prev
        mf = 0.0 if abs(d) <= TA_EPSILON * (abs(tp) + abs(prev)) else tp * volume
        pos_flow, neg_flow = (0.0, mf) if d < 0.0 else (mf, 0.0)
        i = self._i
        pos = (self._pos - self._pos_ring[i]) + pos_flow
        neg = (self._neg - self._neg_ring[i]) + neg_flow
        self._pos_ring[i], self._neg_ring[i] = pos_flow, neg_flow
        self._i = i + 1 if i + 1 < self._n else 0
        self._null_run = self._null_run + 1 if mf == 0.0 else 0
        if self._null_run >= self._n:
            self._null_run = self._n
            pos = neg = 0.0
        self._pos, self._neg = pos, neg
        if self.bars > self._n:
            self.out[0] = _mfi_value(pos, neg)

    @classmethod
    def batch(cls, arrays: dict[str, np.ndarray], params: dict) -> dict[str, np.ndarray]:
        """Flows vectorised; the two running sums in one tight loop (same operations)."""
        n, size = params["length"], len(arrays["close"])
        out = np.full(size, np.nan)
        if size <= n:
            return {"value": out}
        tp = (arrays["high"] + arrays["low"] + arrays["close"]) / 3.0
        d = tp[1:] - tp[:-1]
        dead = np.abs(d) <= TA_EPSILON * (np.abs(tp[1:]) + np.abs(tp[:-1]))
        mf = np.where(dead, 0.0, tp[1:] * arrays["volume"][1:])
        down = d < 0.0
        pos_in, neg_in = np.where(down, 0.0, mf), np.where(down, mf, 0.0)
        zeros = np.zeros(n)
        pos_out = np.concatenate((zeros, pos_in[:-n])).tolist()
        neg_out = np.concatenate((zeros, neg_in[:-n])).tolist()
        reset = _null_resets(mf == 0.0, n).tolist()
        flows_in = (pos_in.tolist(), neg_in.tolist())
        pos_sum, neg_sum = _running_pair(flows_in, (pos_out, neg_out), reset)
        p, q = np.asarray(pos_sum[n - 1 :]), np.asarray(neg_sum[n - 1 :])
        total = p + q
        clamped = np.where(p < 0.0, 0.0, np.where(p > total, total, p))
        with np.errstate(divide="ignore", invalid="ignore"):
            out[n:] = np.where(total <= 0.0, 0.0, 100.0 * (clamped / total))
        return {"value": out}


def split(a: float) -> tuple[float, float]:
    """Veltkamp split: ``a == hi + lo`` exactly, each half with at most 26 significant bits,
    so a product of two halves is exact in double precision (barring over/underflow)."""
    t = SPLIT * a
    hi = t - (t - a)
    return hi, a - hi


def fma_split(a_split: tuple[float, float], b: float, c: float) -> float:
    """``a * b + c`` with a single rounding (a fused multiply-add), ``a`` given pre-split.

    The four partial products of the split halves are exact, and ``math.fsum`` returns the
    correctly rounded sum of its exact inputs, so this equals a hardware FMA bit for bit.
    """
    ah, al = a_split
    t = SPLIT * b
    bh = t - (t - b)
    bl = b - bh
    return fsum((ah * bh, ah * bl, al * bh, al * bl, c))


def _ema_fma(xs: list[float], k: float, one_minus_k: tuple[float, float]) -> list[float]:
    """TA-Lib's (contracted) EMA step over ``xs``, seeded with ``xs[0]``: tight loop."""
    ah, al = one_minus_k
    e = xs[0]
    out = [e] * len(xs)
    for i in range(1, len(xs)):
        t = SPLIT * e
        hi = t - (t - e)
        lo = e - hi
        e = fsum((ah * hi, ah * lo, al * hi, al * lo, k * xs[i]))
        out[i] = e
    return out


def _mfi_value(pos: float, neg: float) -> float:
    total = pos + neg
    if total <= 0.0:
        return 0.0
    clamped = 0.0 if pos < 0.0 else (total if pos > total else pos)
    return 100.0 * (clamped / total)


def _null_resets(null: np.ndarray, n: int) -> np.ndarray:
    """True where the run of consecutive no-flow bars ending here has length >= ``n``."""
    idx = np.arange(len(null))
    last_flow = np.maximum.accumulate(np.where(null, -1, idx))
    return null & (idx - last_flow >= n)


def _running_pair(
    flows_in: tuple[list[float], list[float]],
    flows_out: tuple[list[float], list[float]],
    reset: list[bool],
) -> tuple[list[float], list[float]]:
    """Running window sums of (positive, negative) flows: ``s = (s - leaving) + entering``,
    set to 0.0 where ``reset``."""
    pos = neg = 0.0
    pos_sum, neg_sum = [0.0] * len(reset), [0.0] * len(reset)
    rows = zip(*flows_in, *flows_out, reset, strict=True)
    for i, (pi, ni, po, no, r) in enumerate(rows):
        if r:
            pos = neg = 0.0
        else:
            pos = (pos - po) + pi
            neg = (neg - no) + ni
        pos_sum[i], neg_sum[i] = pos, neg
    return pos_sum, neg_sum
