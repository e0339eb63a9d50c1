"""The validation suite's independent reference calculation (no ``trade_core`` import).

Used by ``plays/validation/_generate.py`` to work out expected numbers and by
``tests/validation/test_validation_suite.py`` to check that the committed expectation files
still equal what this calculation gives. It is deliberately small and written from the
published definitions (docs/features.md, ``trade features show``, BYBIT_RULES.md), with
TA-Lib where TA-Lib computes the documented quantity:

* :func:`expand` - the scenario spec -> 1m OHLCV arrays (its own reading of the spec rules);
* indicator and structure values (``INDICATORS``, ``swing`` ... ``derived_zone``);
* window operators over boolean series (``holds_for`` ...);
* :func:`signal_trades` - market-order trades of a signal play: a decision at each exec
  close from the first decision bar on, exits before entries, reversal, fills at the next
  1m bar's open (adverse slippage), taker fee on every fill.

Units: prices USDT, qty base coin, fees as fractions, bar indices are 1m bars from the
scenario's start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import talib

TAKER = 0.00055
MAKER = 0.0002
START_EQUITY = 10_000.0


# --------------------------------------------------------------------------- scenario
@dataclass
class Bars:
    """1m OHLCV arrays of a scenario."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return len(self.close)

    @property
    def hl2(self) -> np.ndarray:
        return (self.high + self.low) / 2

    @property
    def hlc3(self) -> np.ndarray:
        return (self.high + self.low + self.close) / 3

    def resample(self, minutes: int) -> Bars:
        """Whole ``minutes`` buckets from bar 0 (the scenario starts on a day boundary)."""
        n = len(self) // minutes
        sl = slice(0, n * minutes)

        def rs(a: np.ndarray) -> np.ndarray:
            return a[sl].reshape(n, minutes)

        return Bars(rs(self.open)[:, 0], rs(self.high).max(1), rs(self.low).min(1),
                    rs(self.close)[:, -1], rs(self.volume).sum(1))  # fmt: skip


def _d(x: float) -> Decimal:
    return Decimal(repr(float(x)))


def expand(spec: dict[str, Any]) -> Bars:
    """The scenario's bars, from the spec rules (flat, ramp, closes, bars, repeat)."""
    rows: list[tuple[float, float, float, float, float]] = []
    default_v = float(spec.get("volume", 100.0))

    def gen(o: float, c: float, wick: float, v: float) -> None:
        w = _d(wick)
        rows.append((o, float(max(_d(o), _d(c)) + w), float(min(_d(o), _d(c)) - w), c, v))

    def seg(s: dict[str, Any]) -> None:
        v = float(s.get("volume", default_v) if s.get("volume") is not None else default_v)
        wick = float(s.get("wick", 0.0))
        if "flat" in s:
            for _ in range(s["bars"]):
                gen(float(s["flat"]), float(s["flat"]), wick, v)
        elif "ramp" in s:
            a, b = _d(s["ramp"][0]), _d(s["ramp"][1])
            prev = float(a)
            for i in range(s["bars"]):
                c = float(a + (b - a) * (i + 1) / s["bars"])
                gen(prev, c, wick, v)
                prev = c
        elif "closes" in s:
            for c in s["closes"]:
                o = rows[-1][3] if rows else float(c)
                gen(o, float(c), wick, v)
        elif "repeat" in s:
            for _ in range(s["times"]):
                for inner in s["repeat"]:
                    seg(inner)
        else:
            for r in s["bars"]:
                rows.append((*map(float, r[:4]), float(r[4]) if len(r) == 5 else v))

    for s in spec["segments"]:
        seg(s)
    a = np.array(rows, dtype=float)
    return Bars(a[:, 0], a[:, 1], a[:, 2], a[:, 3], a[:, 4])


# --------------------------------------------------------------------------- helpers
def shift(x: np.ndarray, k: int) -> np.ndarray:
    """``x`` k bars ago (NaN where there is no such bar)."""
    out = np.full(len(x), np.nan)
    if k < len(x):
        out[k:] = x[: len(x) - k]
    return out


def rolling(x: np.ndarray, n: int, fn: Any) -> np.ndarray:
    out = np.full(len(x), np.nan)
    for i in range(n - 1, len(x)):
        out[i] = fn(x[i - n + 1 : i + 1])
    return out


def true_range(b: Bars) -> np.ndarray:
    pc = shift(b.close, 1)
    tr = np.maximum(b.high - b.low, np.maximum(abs(b.high - pc), abs(b.low - pc)))
    tr[0] = np.nan
    return tr


def rma_seeded(x: np.ndarray, n: int, first: int) -> np.ndarray:
    """Wilder's RMA of ``x`` seeded with the mean of ``x[first : first + n]``."""
    out = np.full(len(x), np.nan)
    if first + n > len(x):
        return out
    v = float(np.mean(x[first : first + n]))
    out[first + n - 1] = v
    for i in range(first + n, len(x)):
        v = (v * (n - 1) + x[i]) / n
        out[i] = v
    return out


def ema_seeded(x: np.ndarray, n: int) -> np.ndarray:
    return talib.EMA(np.asarray(x, dtype=float), n)


def linreg_last(y: np.ndarray) -> float:
    """Least-squares line through ``y`` (oldest first), evaluated at the newest point."""
    t = np.arange(len(y), dtype=float)
    m, c = np.polyfit(t, y, 1)
    return m * (len(y) - 1) + c


# --------------------------------------------------------------------------- indicators
def _ichimoku(b: Bars, tenkan: int = 9, kijun: int = 26, senkou_b: int = 52,
              displacement: int = 26) -> dict[str, np.ndarray]:  # fmt: skip
    t = talib.MIDPRICE(b.high, b.low, tenkan)
    k = talib.MIDPRICE(b.high, b.low, kijun)
    sa = (t + k) / 2
    sb = talib.MIDPRICE(b.high, b.low, senkou_b)
    return {"tenkan": t, "kijun": k, "span_a": sa, "span_b": sb,
            "span_a_ahead": shift(sa, displacement), "span_b_ahead": shift(sb, displacement)}  # fmt: skip


def _alma(
    b: Bars, length: int = 9, offset: float = 0.85, sigma: float = 6.0
) -> dict[str, np.ndarray]:
    m, s = offset * (length - 1), length / sigma
    w = np.array([math.exp(-((i - m) ** 2) / (2 * s * s)) for i in range(length)])
    return {"value": rolling(b.close, length, lambda y: float(np.dot(w, y) / w.sum()))}


def _fisher(b: Bars, length: int = 9) -> dict[str, np.ndarray]:
    p = b.hl2
    n = len(p)
    fish, trig = np.full(n, np.nan), np.full(n, np.nan)
    v_prev = f_prev = 0.0
    for i in range(length - 1, n):
        w = p[i - length + 1 : i + 1]
        hi, lo = w.max(), w.min()
        pos = 0.5 if abs(hi - lo) <= 1e-14 * (abs(hi) + abs(lo)) else (p[i] - lo) / (hi - lo)
        v = 0.66 * (pos - 0.5) + 0.67 * v_prev
        v = 0.999 if v > 0.99 else (-0.999 if v < -0.99 else v)
        f = 0.5 * math.log((1 + v) / (1 - v)) + 0.5 * f_prev
        if i >= length:
            fish[i], trig[i] = f, f_prev
        v_prev, f_prev = v, f
    return {"fisher": fish, "trigger": trig}


def _heikin_ashi(b: Bars) -> dict[str, np.ndarray]:
    n = len(b)
    hc = (b.open + b.high + b.low + b.close) / 4
    ho = np.empty(n)
    ho[0] = (b.open[0] + b.close[0]) / 2
    for i in range(1, n):
        ho[i] = (ho[i - 1] + hc[i - 1]) / 2
    return {"open": ho, "close": hc, "high": np.maximum(b.high, np.maximum(ho, hc)),
            "low": np.minimum(b.low, np.minimum(ho, hc))}  # fmt: skip


def _hma(b: Bars, length: int = 20) -> dict[str, np.ndarray]:
    x = b.close
    half = talib.WMA(x, length // 2) if length // 2 > 1 else x.copy()
    diff = 2 * half - talib.WMA(x, length)
    q = math.isqrt(length)
    return {"value": talib.WMA(diff, q) if q > 1 else diff}


def _cmf(b: Bars, length: int = 20) -> dict[str, np.ndarray]:
    rng = b.high - b.low
    mfm = np.where(rng > 0, ((b.close - b.low) - (b.high - b.close)) / np.where(rng > 0, rng, 1), 0)
    mfv = mfm * b.volume
    s_mfv, s_v = rolling(mfv, length, np.sum), rolling(b.volume, length, np.sum)
    return {"value": np.where(s_v > 0, s_mfv / np.where(s_v > 0, s_v, 1), 0.0)}


def _efi(b: Bars, length: int = 13) -> dict[str, np.ndarray]:
    force = (b.close - shift(b.close, 1)) * b.volume
    return {"value": talib.EMA(force, length)}


def _kc(b: Bars, length: int = 20, mult: float = 2.0) -> dict[str, np.ndarray]:
    mid, atr = talib.EMA(b.close, length), talib.ATR(b.high, b.low, b.close, length)
    return {"upper": mid + mult * atr, "middle": np.where(np.isnan(atr), np.nan, mid),
            "lower": mid - mult * atr}  # fmt: skip


def _squeeze(b: Bars, length: int = 20, bb_mult: float = 2.0, kc_length: int = 20,
             kc_mult: float = 1.5) -> dict[str, np.ndarray]:  # fmt: skip
    c = b.close
    basis = rolling(c, length, np.mean)
    dev = bb_mult * rolling(c, length, lambda y: float(np.std(y)))
    tr = true_range(b)
    tr[0] = b.high[0] - b.low[0]
    ma = rolling(c, kc_length, np.mean)
    rng = rolling(tr, kc_length, np.mean)
    on = ((basis - dev) > (ma - rng * kc_mult)) & ((basis + dev) < (ma + rng * kc_mult))
    hh, ll = rolling(b.high, kc_length, np.max), rolling(b.low, kc_length, np.min)
    d = c - ((hh + ll) / 2 + ma) / 2
    mom = rolling(d, kc_length, linreg_last)
    return {"on": on.astype(float), "momentum": mom}


def _supertrend(b: Bars, length: int = 10, mult: float = 3.0) -> dict[str, np.ndarray]:
    n = len(b)
    tr = true_range(b)
    tr[0] = b.high[0] - b.low[0]
    atr = rma_seeded(tr, length, 0)
    value, direction = np.full(n, np.nan), np.full(n, np.nan)
    up_prev = lo_prev = None
    was_upper = True
    for i in range(length - 1, n):
        hl2 = (b.high[i] + b.low[i]) / 2
        bu, bl = hl2 + mult * atr[i], hl2 - mult * atr[i]
        if lo_prev is None:
            lower, upper, d = bl, bu, -1
        else:
            cp = b.close[i - 1]
            lower = bl if (bl > lo_prev or cp < lo_prev) else lo_prev
            upper = bu if (bu < up_prev or cp > up_prev) else up_prev
            # down trend: turn up above the upper band; up trend: turn down below the lower
            flip_up, flip_down = b.close[i] > upper, b.close[i] < lower
            d = (1 if flip_up else -1) if was_upper else (-1 if flip_down else 1)
        value[i], direction[i] = (lower if d == 1 else upper), d
        was_upper = d == -1
        up_prev, lo_prev = upper, lower
    return {"value": value, "direction": direction}


def _vwap(b: Bars, start_ms: int) -> dict[str, np.ndarray]:
    n = len(b)
    day = (start_ms + np.arange(n) * 60_000) // 86_400_000
    p = b.hlc3
    out = np.empty(n)
    pv = vv = 0.0
    for i in range(n):
        if i == 0 or day[i] != day[i - 1]:
            pv = vv = 0.0
        pv += p[i] * b.volume[i]
        vv += b.volume[i]
        out[i] = pv / vv if vv > 0 else p[i]
    return {"value": out}


def _zscore(b: Bars, length: int = 20) -> dict[str, np.ndarray]:
    def z(y: np.ndarray) -> float:
        sd = float(np.std(y))
        return 0.0 if sd == 0 else float((y[-1] - y.mean()) / sd)

    return {"value": rolling(b.close, length, z)}


def _macd(b: Bars, fast: int = 12, slow: int = 26, signal: int = 9) -> dict[str, np.ndarray]:
    line, sig, hist = talib.MACD(b.close, fast, slow, signal)
    return {"line": line, "signal": sig, "hist": hist}


def _bbands(b: Bars, length: int = 20, mult: float = 2.0) -> dict[str, np.ndarray]:
    up, mid, lo = talib.BBANDS(b.close, length, mult, mult, 0)
    width = (up - lo) / mid
    pb = np.where(up > lo, (b.close - lo) / np.where(up > lo, up - lo, 1), 0.5)
    return {"upper": up, "middle": mid, "lower": lo, "width": width,
            "percent_b": np.where(np.isnan(up), np.nan, pb)}  # fmt: skip


def _adx(b: Bars, length: int = 14) -> dict[str, np.ndarray]:
    h, lo, c = b.high, b.low, b.close
    return {"adx": talib.ADX(h, lo, c, length), "plus_di": talib.PLUS_DI(h, lo, c, length),
            "minus_di": talib.MINUS_DI(h, lo, c, length)}  # fmt: skip


def _aroon(b: Bars, length: int = 14) -> dict[str, np.ndarray]:
    down, up = talib.AROON(b.high, b.low, length)
    return {"up": up, "down": down, "osc": talib.AROONOSC(b.high, b.low, length)}


def _stoch(b: Bars, fastk: int = 14, slowk: int = 3, slowd: int = 3) -> dict[str, np.ndarray]:
    k, d = talib.STOCH(b.high, b.low, b.close, fastk, slowk, 0, slowd, 0)
    return {"k": k, "d": d}


def _stochrsi(b: Bars, length: int = 14, fastk: int = 5, fastd: int = 3) -> dict[str, np.ndarray]:
    k, d = talib.STOCHRSI(b.close, length, fastk, fastd, 0)
    return {"k": k, "d": d}


def _donchian(b: Bars, length: int = 20) -> dict[str, np.ndarray]:
    up, lo = talib.MAX(b.high, length), talib.MIN(b.low, length)
    return {"upper": up, "middle": (up + lo) / 2, "lower": lo}


def _ppo(b: Bars, fast: int = 12, slow: int = 26) -> dict[str, np.ndarray]:
    f, s = talib.EMA(b.close, fast), talib.EMA(b.close, slow)
    return {"value": (f - s) / s * 100}


def _zlema(b: Bars, length: int = 20) -> dict[str, np.ndarray]:
    lag = (length - 1) // 2
    return {"value": talib.EMA(2 * b.close - shift(b.close, lag), length)}


def _vwma(b: Bars, length: int = 20) -> dict[str, np.ndarray]:
    pv = rolling(b.close * b.volume, length, np.sum)
    return {"value": pv / rolling(b.volume, length, np.sum)}


def _one(fn: Any) -> Any:
    return lambda b, **p: {"value": fn(b, **p)}


INDICATORS: dict[str, Any] = {
    "ad": _one(lambda b: talib.AD(b.high, b.low, b.close, b.volume)),
    "adosc": _one(
        lambda b, fast=3, slow=10: talib.ADOSC(b.high, b.low, b.close, b.volume, fast, slow)
    ),
    "adx": _adx,
    "alma": _alma,
    "ao": _one(lambda b, fast=5, slow=34: talib.SMA(b.hl2, fast) - talib.SMA(b.hl2, slow)),
    "aroon": _aroon,
    "atr": _one(lambda b, length=14: talib.ATR(b.high, b.low, b.close, length)),
    "bbands": _bbands,
    "cci": _one(lambda b, length=14: talib.CCI(b.high, b.low, b.close, length)),
    "cmf": _cmf,
    "cmo": _one(lambda b, length=14: talib.CMO(b.close, length)),
    "dema": _one(lambda b, length=20: talib.DEMA(b.close, length)),
    "donchian": _donchian,
    "efi": _efi,
    "ema": _one(lambda b, length=20: talib.EMA(b.close, length)),
    "fisher": _fisher,
    "heikin_ashi": _heikin_ashi,
    "hma": _hma,
    "ichimoku": _ichimoku,
    "kama": _one(lambda b, length=10: talib.KAMA(b.close, length)),
    "kc": _kc,
    "linreg": _one(lambda b, length=14: talib.LINEARREG(b.close, length)),
    "macd": _macd,
    "mfi": _one(lambda b, length=14: talib.MFI(b.high, b.low, b.close, b.volume, length)),
    "mom": _one(lambda b, length=10: talib.MOM(b.close, length)),
    "natr": _one(lambda b, length=14: talib.NATR(b.high, b.low, b.close, length)),
    "obv": _one(lambda b: talib.OBV(b.close, b.volume)),
    "ppo": _ppo,
    "psar": _one(
        lambda b, acceleration=0.02, maximum=0.2: talib.SAR(b.high, b.low, acceleration, maximum)
    ),
    "roc": _one(lambda b, length=10: talib.ROC(b.close, length)),
    "rsi": _one(lambda b, length=14: talib.RSI(b.close, length)),
    "slope": _one(lambda b, length=14: talib.LINEARREG_SLOPE(b.close, length)),
    "sma": _one(lambda b, length=20: talib.SMA(b.close, length)),
    "squeeze": _squeeze,
    "stdev": _one(lambda b, length=20, nbdev=1.0: talib.STDDEV(b.close, length, nbdev)),
    "stoch": _stoch,
    "stochrsi": _stochrsi,
    "supertrend": _supertrend,
    "t3": _one(lambda b, length=5, vfactor=0.7: talib.T3(b.close, length, vfactor)),
    "tema": _one(lambda b, length=20: talib.TEMA(b.close, length)),
    "trima": _one(lambda b, length=20: talib.TRIMA(b.close, length)),
    "trix": _one(lambda b, length=30: talib.TRIX(b.close, length)),
    "true_range": _one(true_range),
    "ultosc": _one(
        lambda b, length1=7, length2=14, length3=28: talib.ULTOSC(
            b.high, b.low, b.close, length1, length2, length3
        )
    ),
    "vwma": _vwma,
    "willr": _one(lambda b, length=14: talib.WILLR(b.high, b.low, b.close, length)),
    "wma": _one(lambda b, length=20: talib.WMA(b.close, length)),
    "zlema": _zlema,
    "zscore": _zscore,
}


def indicator(
    name: str, b: Bars, start_ms: int = 1_704_067_200_000, **params: Any
) -> dict[str, np.ndarray]:
    """Every output of indicator ``name`` on ``b`` (NaN before it is defined)."""
    if name == "vwap":
        return _vwap(b, start_ms)
    return {k: np.asarray(v, dtype=float) for k, v in INDICATORS[name](b, **params).items()}


# --------------------------------------------------------------------------- structures
@dataclass
class Swings:
    """Per bar: last/prev pivot high and low, events, and the pivot bars (indices)."""

    last_high: np.ndarray
    prev_high: np.ndarray
    last_low: np.ndarray
    prev_low: np.ndarray
    new_high: np.ndarray
    new_low: np.ndarray
    last_high_bar: np.ndarray
    last_low_bar: np.ndarray
    last_pivot: list[str]


def swing(b: Bars, left: int = 5, right: int = 5) -> Swings:
    """Pivots (non-alternating): high[p] > the ``left`` highs before, >= the ``right`` after;
    confirmed (reported) on bar p + right."""
    n = len(b)
    arr = {k: np.full(n, np.nan) for k in ("lh", "ph", "ll", "pl", "lhb", "llb")}
    nh, nl = np.zeros(n, bool), np.zeros(n, bool)
    kinds = [""] * n
    lh = ph = ll = pl = lhb = llb = math.nan
    last = ""
    for i in range(n):
        p = i - right
        is_h = is_l = False
        if p - left >= 0:
            hs, ls = b.high, b.low
            is_h = all(hs[p] > hs[j] for j in range(p - left, p)) and all(
                hs[p] >= hs[j] for j in range(p + 1, i + 1)
            )
            is_l = all(ls[p] < ls[j] for j in range(p - left, p)) and all(
                ls[p] <= ls[j] for j in range(p + 1, i + 1)
            )
        order = ["high", "low"] if last != "high" else ["low", "high"]
        for kind in order:
            if kind == "high" and is_h:
                ph, lh, lhb, last = lh, b.high[p], p, "high"
                nh[i] = True
            if kind == "low" and is_l:
                pl, ll, llb, last = ll, b.low[p], p, "low"
                nl[i] = True
        arr["lh"][i], arr["ph"][i], arr["ll"][i], arr["pl"][i] = lh, ph, ll, pl
        arr["lhb"][i], arr["llb"][i] = lhb, llb
        kinds[i] = last
    return Swings(arr["lh"], arr["ph"], arr["ll"], arr["pl"], nh, nl, arr["lhb"], arr["llb"], kinds)


def market_structure(b: Bars, s: Swings) -> dict[str, Any]:
    """Bias and BOS/CHoCH events from closes beyond the last confirmed levels."""
    n = len(b)
    bias, bos_up, bos_dn, choch = [""] * n, np.zeros(n, bool), np.zeros(n, bool), np.zeros(n, bool)
    hi_lvl = lo_lvl = math.nan
    cur = "neutral"
    for i in range(n):
        c = b.close[i]
        if not math.isnan(hi_lvl) and c > hi_lvl:
            (choch if cur == "bearish" else bos_up)[i] = True
            cur, hi_lvl = "bullish", math.nan
        if not math.isnan(lo_lvl) and c < lo_lvl:
            (choch if cur == "bullish" else bos_dn)[i] = True
            cur, lo_lvl = "bearish", math.nan
        if s.new_high[i]:
            hi_lvl = s.last_high[i]
        if s.new_low[i]:
            lo_lvl = s.last_low[i]
        bias[i] = cur
    return {"bias": bias, "bos_up": bos_up, "bos_down": bos_dn, "choch": choch}


def fibonacci(s: Swings, ratio: float) -> np.ndarray:
    """Retracement ``ratio`` of the last leg (up: H - r R, down: L + r R); NaN before."""
    n = len(s.last_high)
    out = np.full(n, np.nan)
    for i in range(n):
        h, lo = s.last_high[i], s.last_low[i]
        if math.isnan(h) or math.isnan(lo) or h <= lo:
            continue
        up = s.last_low_bar[i] < s.last_high_bar[i] or (
            s.last_low_bar[i] == s.last_high_bar[i] and s.last_pivot[i] == "high"
        )
        out[i] = h - ratio * (h - lo) if up else lo + ratio * (h - lo)
    return out


def trend_bias(s: Swings) -> list[str]:
    """up (HH and HL), down (LH and LL), range otherwise; "" before two pivots of each kind."""
    n = len(s.last_high)
    out = [""] * n
    hk = lk = ""
    for i in range(n):
        if s.new_high[i] and not math.isnan(s.prev_high[i]):
            d = s.last_high[i] - s.prev_high[i]
            hk = "HH" if d > 0 else ("LH" if d < 0 else "EH")
        if s.new_low[i] and not math.isnan(s.prev_low[i]):
            d = s.last_low[i] - s.prev_low[i]
            lk = "HL" if d > 0 else ("LL" if d < 0 else "EL")
        if hk and lk:
            out[i] = (
                "up"
                if (hk, lk) == ("HH", "HL")
                else ("down" if (hk, lk) == ("LH", "LL") else "range")
            )
    return out


# --------------------------------------------------------------------------- windows
def holds_for(sig: np.ndarray, n: int) -> np.ndarray:
    return np.array([i >= n - 1 and bool(sig[i - n + 1 : i + 1].all()) for i in range(len(sig))])


def occurred_within(sig: np.ndarray, n: int) -> np.ndarray:
    return np.array([i >= n - 1 and bool(sig[i - n + 1 : i + 1].any()) for i in range(len(sig))])


def count_at_least(sig: np.ndarray, n: int, k: int) -> np.ndarray:
    return np.array([i >= n - 1 and int(sig[i - n + 1 : i + 1].sum()) >= k
                     for i in range(len(sig))])  # fmt: skip


def bars_since(sig: np.ndarray) -> np.ndarray:
    """Bars since ``sig`` was last true (0 = now; inf if never)."""
    out = np.full(len(sig), np.inf)
    last = None
    for i, s in enumerate(sig):
        if s:
            last = i
        if last is not None:
            out[i] = i - last
    return out


def rising(x: np.ndarray, n: int) -> np.ndarray:
    return np.array([i >= n and all(x[i - j] > x[i - j - 1] for j in range(n))
                     for i in range(len(x))])  # fmt: skip


def falling(x: np.ndarray, n: int) -> np.ndarray:
    return np.array([i >= n and all(x[i - j] < x[i - j - 1] for j in range(n))
                     for i in range(len(x))])  # fmt: skip


def cross_above(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    bb = np.broadcast_to(np.asarray(b, dtype=float), a.shape)
    with np.errstate(invalid="ignore"):
        return (shift(a, 1) <= shift(bb.copy(), 1)) & (a > bb)


def cross_below(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    bb = np.broadcast_to(np.asarray(b, dtype=float), a.shape)
    with np.errstate(invalid="ignore"):
        return (shift(a, 1) >= shift(bb.copy(), 1)) & (a < bb)


# --------------------------------------------------------------------------- trades
@dataclass
class RefTrade:
    side: str
    qty: float
    entry_bar: int
    entry_price: float
    exit_bar: int
    exit_price: float
    exit_reason: str
    fee_rate: float = TAKER

    @property
    def gross(self) -> float:
        s = 1 if self.side == "long" else -1
        return s * self.qty * (self.exit_price - self.entry_price)

    @property
    def fees(self) -> float:
        return self.fee_rate * self.qty * (self.entry_price + self.exit_price)

    @property
    def net(self) -> float:
        return self.gross - self.fees


@dataclass
class RefOutcome:
    trades: list[RefTrade] = field(default_factory=list)
    open_side: str | None = None
    open_qty: float = 0.0
    open_price: float = 0.0
    open_bar: int = 0
    final_equity: float = START_EQUITY


def slip(price: float, side: str, bps: float) -> float:
    """Market fill price with ``bps`` adverse slippage: a buy pays more, a sell gets less."""
    return price * (1 + bps / 10_000) if side == "buy" else price * (1 - bps / 10_000)


def signal_trades(
    b: Bars,
    *,
    exec_minutes: int = 1,
    first_decision: int,
    entry_long: np.ndarray | None = None,
    entry_short: np.ndarray | None = None,
    exit_long: np.ndarray | None = None,
    exit_short: np.ndarray | None = None,
    qty: float = 1.0,
    fee: float = TAKER,
    slippage_bps: float = 0.0,
) -> RefOutcome:
    """Trades of a market-order signal play. Signal arrays are per exec bar; decisions at
    exec bars ``j >= first_decision`` (exec bar j closes with 1m bar ``j*m + m - 1``); an
    order decided there fills at the open of 1m bar ``j*m + m`` (if it exists)."""
    n_exec = len(b) // exec_minutes
    none = np.zeros(n_exec, bool)
    el = none if entry_long is None else entry_long
    es = none if entry_short is None else entry_short
    xl = none if exit_long is None else exit_long
    xs = none if exit_short is None else exit_short
    out = RefOutcome()
    pos: dict[str, Any] | None = None

    def close(k: int, reason: str) -> None:
        nonlocal pos
        assert pos is not None
        px = slip(b.open[k], "sell" if pos["side"] == "long" else "buy", slippage_bps)
        out.trades.append(RefTrade(pos["side"], qty, pos["bar"], pos["price"], k, px, reason, fee))
        pos = None

    def open_(k: int, side: str) -> None:
        nonlocal pos
        px = slip(b.open[k], "buy" if side == "long" else "sell", slippage_bps)
        pos = {"side": side, "bar": k, "price": px}

    for j in range(first_decision, n_exec):
        k = j * exec_minutes + exec_minutes  # the fill bar
        if k >= len(b):
            break
        side = pos["side"] if pos else None
        closing = False
        if side is not None and (xl if side == "long" else xs)[j]:
            close(k, f"exit.{side}")
            closing = True
        fl, fs = bool(el[j]), bool(es[j])
        if fl and fs:
            continue
        for want, fires in (("long", fl), ("short", fs)):
            if fires and side != want:
                if side is not None and not closing:
                    close(k, f"reverse to {want}")
                open_(k, want)
    eq = START_EQUITY + sum(t.net for t in out.trades)
    if pos is not None:
        s = 1 if pos["side"] == "long" else -1
        eq += s * qty * (b.close[-1] - pos["price"]) - fee * qty * pos["price"]
        out.open_side, out.open_qty, out.open_price = pos["side"], qty, pos["price"]
        out.open_bar = pos["bar"]
    out.final_equity = eq
    return out


def choch_sides(b: Bars, s: Swings) -> dict[str, np.ndarray]:
    """``choch_up`` / ``choch_down``: the change-of-character events by direction."""
    ms = market_structure(b, s)
    bias = ms["bias"]
    n = len(b)
    up, dn = np.zeros(n, bool), np.zeros(n, bool)
    for i in range(n):
        if ms["choch"][i]:
            (up if bias[i] == "bullish" else dn)[i] = True
    return {"choch_up": up, "choch_down": dn}


def rolling_window(b: Bars, bars: int = 20) -> dict[str, np.ndarray]:
    """Highest high / lowest low of the last ``bars`` bars (current included)."""
    mx, mn = talib.MAX(b.high, bars), talib.MIN(b.low, bars)
    rng = mx - mn
    pos = np.where(rng > 0, (b.close - mn) / np.where(rng > 0, rng, 1), np.nan)
    return {"max": mx, "min": mn, "range": rng, "mid": (mx + mn) / 2, "position": pos}


def demand_zone_touch(b: Bars, s: Swings, width_pct: float) -> np.ndarray:
    """``zone.demand_touch`` with ``width_mode: pct``: a demand zone [P, P + w] at each
    confirmed pivot low P (w = width_pct % of P); True on a bar (after the creation bar) where
    a live zone goes active -> touched (low <= top, no close below / low through the bottom)."""
    n = len(b)
    zones: list[dict[str, Any]] = []
    out = np.zeros(n, bool)
    for i in range(n):
        for z in zones:
            if z["state"] not in ("active", "touched") or z["bar"] == i:
                continue
            if b.close[i] < z["bottom"]:
                z["state"] = "invalidated"
            elif b.low[i] < z["bottom"]:
                z["state"] = "mitigated"
            elif b.low[i] <= z["top"] and z["state"] == "active":
                z["state"] = "touched"
                out[i] = True
        if s.new_low[i]:
            p = s.last_low[i]
            zones.append({"bottom": p, "top": p + width_pct / 100 * p, "state": "active", "bar": i})
    return out


def derived_zone_fib(
    b: Bars, s: Swings, fib_a: float = 0.5, fib_b: float = 0.618
) -> dict[str, Any]:
    """``derived_zone`` (method fib): the zone between two retracements of the last leg,
    re-derived on every new pivot; ``touch`` True when it goes active -> touched."""
    n = len(b)
    a_lvl, b_lvl = fibonacci(s, fib_a), fibonacci(s, fib_b)
    z: dict[str, Any] | None = None
    touch = np.zeros(n, bool)
    upper, lower = np.full(n, np.nan), np.full(n, np.nan)
    for i in range(n):
        if z is not None and z["state"] in ("active", "touched"):
            lo_, up_ = z["lower"], z["upper"]
            if z["side"] == "demand":
                if b.close[i] < lo_:
                    z["state"] = "invalidated"
                elif b.low[i] < lo_:
                    z["state"] = "mitigated"
                elif b.low[i] <= up_ and z["state"] == "active":
                    z["state"], touch[i] = "touched", True
            else:
                if b.close[i] > up_:
                    z["state"] = "invalidated"
                elif b.high[i] > up_:
                    z["state"] = "mitigated"
                elif b.high[i] >= lo_ and z["state"] == "active":
                    z["state"], touch[i] = "touched", True
        if (s.new_high[i] or s.new_low[i]) and not math.isnan(a_lvl[i]):
            up = s.last_low_bar[i] < s.last_high_bar[i] or (
                s.last_low_bar[i] == s.last_high_bar[i] and s.last_pivot[i] == "high"
            )
            z = {"upper": max(a_lvl[i], b_lvl[i]), "lower": min(a_lvl[i], b_lvl[i]),
                 "side": "demand" if up else "supply", "state": "active"}  # fmt: skip
        if z is not None:
            upper[i], lower[i] = z["upper"], z["lower"]
    return {"touch": touch, "upper": upper, "lower": lower}
