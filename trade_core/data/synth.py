"""Deterministic synthetic market: 1m candles and funding rates, for benchmarks and tests.

Model, per 1-minute bar ``i`` (returns are simple price returns, fractions):

- ``regime_i``: a Markov chain over calm / normal / turbulent, one step per minute
  (:attr:`SynthParams.regime_transition`), starting from ``initial_regime``.
- ``s_i = annual_vol / sqrt(525_600) * regime_vol[regime_i] * hour_vol[UTC hour]``: the bar's
  volatility (525,600 minutes in a 365-day year; crypto trades around the clock).
- ``r_i = drift + s_i**2 / 2 + s_i * t_i``: the open -> close return, ``t_i`` Student-t with
  ``tail_dof`` degrees of freedom scaled to unit variance and clipped to ``max_shock``. The
  ``s**2 / 2`` term makes the *log* price driftless, so the median price stays near the start.
- Price gap: with probability ``gap_prob`` a bar opens ``s_i * gap_sigmas * (1 + Exp(1))``
  away from the previous close (up or down, even odds). Otherwise the path is continuous, but
  with probability ``open_jitter_prob`` the printed open is one tick off the previous close
  (the first trade of a minute on the other side of the spread, as in real exports).
- High/low: the extremes of a Brownian bridge from open to close with volatility
  ``b_i = range_scale * s_i`` (exact bridge-maximum law ``(r + sqrt(r**2 + b**2 * chi2_2)) / 2``;
  max and min drawn independently). All four prices are then rounded to the tick, the open
  jitter applied, high/low widened to cover open and close, and everything floored at one
  tick, so ``low <= min(open, close) <= max(open, close) <= high`` holds exactly.
- Volume (base currency): lognormal around ``base_turnover`` USDT, elastic in ``s_i`` and in
  the bar's range measured in its own sigmas; turnover = volume * typical price
  ``(high + low + close) / 3`` (USDT).
- Funding every ``funding_interval_h`` hours on UTC multiples: an AR(1) around
  ``funding_mean``, clamped to ``+-funding_cap`` and rounded to 1e-6.

Determinism: day ``b`` of the span (bars ``1440*b .. 1440*b+1439``) draws its random numbers,
always a full day's worth in a fixed order, from ``Generator(PCG64(seed))`` advanced by
``b * 2**64`` — disjoint substreams of the one seeded stream. The only state carried from day
to day (last unrounded close, regime, funding deviation) is propagated with the same
floating-point operations whichever way the span is chunked, so chunked generation, one-shot
generation and a shorter span (a prefix) agree bit for bit. Outside numpy's samplers only
correctly rounded IEEE operations (+ - * / sqrt, sequential cumprod) feed prices; the one
transcendental (``exp`` for volume) is rounded to ``volume_step`` afterwards. No BLAS, no threads.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from trade_core.data.candles import Candles
from trade_core.data.synth_params import REGIMES, SynthParams
from trade_core.errors import BadInputError
from trade_core.progress import ProgressFn, report
from trade_core.timestamps import DAY_MS, HOUR_MS, MINUTE_MS

DEFAULT_START_MS = 1_704_067_200_000  # 2024-01-01 00:00 UTC
MAX_DAYS = 3660.0  # ten years of 1m bars is ~300 MB of columns; refuse more
_BLOCK = 1440  # bars per random-number block (one day)
_STRIDE = 1 << 64  # PCG64 draws reserved per block
_MINUTES_PER_YEAR = 525_600
_TYPICAL_RANGE_SIGMAS = 1.45  # median bar range in bridge sigmas (defaults): volume centring
_MAX_DOWN, _MAX_UP = -0.5, 1.0  # clip of one minute's return/gap: the price stays > 0

__all__ = [
    "DEFAULT_START_MS",
    "MAX_DAYS",
    "REGIMES",
    "SynthData",
    "SynthParams",
    "default_tick_size",
    "generate",
    "iter_generate",
]


@dataclass(frozen=True, slots=True)
class SynthData:
    """Generated 1m candles plus funding settlements (``funding_rate`` as a fraction)."""

    candles: Candles
    funding_ts: np.ndarray
    funding_rate: np.ndarray

    @classmethod
    def concat(cls, parts: Sequence[SynthData]) -> SynthData:
        """Join consecutive pieces (as yielded by :func:`iter_generate`) into one."""
        if not parts:
            raise ValueError("nothing to concatenate")
        first = parts[0].candles
        cols = {
            name: np.concatenate([getattr(p.candles, name) for p in parts])
            for name in ("ts", "open", "high", "low", "close", "volume", "turnover")
        }
        return cls(
            Candles(first.symbol, first.tf, **cols),
            np.concatenate([p.funding_ts for p in parts]),
            np.concatenate([p.funding_rate for p in parts]),
        )


@dataclass(frozen=True, slots=True)
class _State:
    """What one day hands to the next: unrounded close, regime, funding AR deviation."""

    close: float
    regime: int
    funding_dev: float


@dataclass(frozen=True, slots=True)
class _Grid:
    """A price or quantity grid; ``scale`` = 1/step when that is an integer (exact decimals)."""

    step: float
    scale: int

    @classmethod
    def of(cls, step: float) -> _Grid:
        inv = 1.0 / step
        scale = round(inv)
        return cls(step, scale if scale >= 1 and abs(inv - scale) <= 1e-9 * inv else 0)

    def units(self, x: np.ndarray) -> np.ndarray:
        return np.rint(x * self.scale) if self.scale else np.rint(x / self.step)

    def values(self, k: np.ndarray) -> np.ndarray:
        return k / self.scale if self.scale else k * self.step


@dataclass(frozen=True, slots=True)
class _Ctx:
    """Everything fixed for one generation run, precomputed once."""

    symbol: str
    seed: int
    start_ms: int
    n: int
    p: SynthParams
    tick: _Grid
    qty: _Grid
    sigma: np.ndarray  # (3, 24) per-minute sigma by regime and UTC hour
    log_level: np.ndarray  # (3, 24) log median turnover by regime and UTC hour
    leave: tuple[float, ...]  # per-minute probability of leaving each regime
    drift: float  # per-minute log drift
    t_scale: float  # makes Student-t(nu) unit-variance


def default_tick_size(price: float) -> float:
    """About 1e-4 of ``price``, rounded to a power of ten (100 -> 0.01, 60,000 -> 10)."""
    if not (math.isfinite(price) and price > 0):
        raise BadInputError(f"price must be a positive number, got {price}")
    return float(f"1e{round(math.log10(price * 1e-4))}")


def _bar_count(days: float) -> int:
    if not (math.isfinite(days) and 0 < days <= MAX_DAYS):
        raise BadInputError(f"days must be > 0 and <= {MAX_DAYS:g}, got {days}")
    n = round(days * _BLOCK)
    if n < 1:
        raise BadInputError(f"days={days} is less than one 1m bar")
    return n


def _context(
    symbol: str, days: float, seed: int, start_ms: int, start_price: float, tick: float | None,
    params: SynthParams | None,
) -> _Ctx:  # fmt: skip
    p = params or SynthParams()
    n = _bar_count(days)
    if start_ms % MINUTE_MS:
        raise BadInputError(f"start {start_ms} is not aligned to a minute")
    if seed < 0:
        raise BadInputError(f"seed must be >= 0, got {seed}")
    tick = default_tick_size(start_price) if tick is None else tick
    if not (math.isfinite(tick) and tick > 0 and start_price / tick <= 1e12):
        raise BadInputError(f"tick size {tick} does not fit price {start_price}")
    if start_price < tick:
        raise BadInputError(f"start price {start_price} is below one tick ({tick})")
    hours = np.asarray(p.hour_vol, dtype=np.float64)
    hours = hours / math.sqrt(math.fsum(h * h for h in p.hour_vol) / 24.0)
    level = np.outer(np.asarray(p.regime_vol, dtype=np.float64), hours)
    nu = p.tail_dof
    return _Ctx(
        symbol=symbol,
        seed=seed,
        start_ms=start_ms,
        n=n,
        p=p,
        tick=_Grid.of(tick),
        qty=_Grid.of(p.volume_step),
        sigma=level * (p.annual_vol / math.sqrt(_MINUTES_PER_YEAR)),
        log_level=math.log(p.base_turnover) + p.volume_vol_elasticity * np.log(level),
        leave=tuple(1.0 - row[i] for i, row in enumerate(p.regime_transition)),
        drift=p.drift_annual / _MINUTES_PER_YEAR,
        t_scale=math.sqrt((nu - 2) / nu),
    )


@dataclass(frozen=True, slots=True)
class _Draws:
    z: np.ndarray  # (tail_dof + 6, bars) standard normals
    u: np.ndarray  # (4, bars) uniforms: regime leave, regime next, gap, jitter
    gap_z: np.ndarray  # (2, gaps) normals for gap sizes, in bar order
    funding_z: np.ndarray  # (settlements,) normals, in time order


def _draw(ctx: _Ctx, b0: int, b1: int) -> _Draws:
    """Random numbers of days ``b0 .. b1-1``, each day from its own substream."""
    rows, nb = ctx.p.tail_dof + 6, b1 - b0
    per_day = 24 // ctx.p.funding_interval_h
    z = np.empty((rows, nb, _BLOCK))
    u = np.empty((4, nb, _BLOCK))
    fz = np.empty((nb, per_day))
    gap_z: list[np.ndarray] = []
    for j in range(nb):
        bitgen = np.random.PCG64(ctx.seed)
        bitgen.advance((b0 + j) * _STRIDE)
        rng = np.random.Generator(bitgen)
        for r in range(rows):
            rng.standard_normal(out=z[r, j])
        for r in range(4):
            rng.random(out=u[r, j])
        rng.standard_normal(out=fz[j])
        gap_z.append(rng.standard_normal((2, int(np.count_nonzero(u[2, j] < ctx.p.gap_prob)))))
    m = min(b1 * _BLOCK, ctx.n) - b0 * _BLOCK
    keep = int(np.count_nonzero(u[2].reshape(-1)[:m] < ctx.p.gap_prob))
    return _Draws(
        z.reshape(rows, -1)[:, :m],
        u.reshape(4, -1)[:, :m],
        np.concatenate(gap_z, axis=1)[:, :keep],
        fz.reshape(-1),
    )


def _regimes(ctx: _Ctx, u_leave: np.ndarray, u_next: np.ndarray, start: int) -> np.ndarray:
    """Regime per bar: bar j leaves regime s when ``u_leave[j] < leave[s]`` (one step/minute)."""
    n = len(u_leave)
    out = np.empty(n, dtype=np.intp)
    hits = [np.flatnonzero(u_leave < q) for q in ctx.leave]
    pos, cur = 0, start
    while pos < n:
        cand = hits[cur]
        k = int(np.searchsorted(cand, pos))
        j = int(cand[k]) if k < len(cand) else n
        out[pos:j] = cur
        if j == n:
            break
        cur = _next_regime(ctx, cur, float(u_next[j]))
        out[j] = cur
        pos = j + 1
    return out


def _next_regime(ctx: _Ctx, cur: int, u: float) -> int:
    """The regime entered from ``cur``, chosen by ``u`` among the off-diagonal probabilities."""
    row = ctx.p.regime_transition[cur]
    acc, last = 0.0, cur
    for k, prob in enumerate(row):
        if k == cur or prob == 0:
            continue
        acc += prob / ctx.leave[cur]
        last = k
        if u < acc:
            return k
    return last


def _returns(ctx: _Ctx, d: _Draws, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Open->close returns ``r`` and gaps (previous close -> open) ``g``, as fractions."""
    nu = ctx.p.tail_dof
    chi = np.square(d.z[1])
    for k in range(2, nu + 1):
        chi += np.square(d.z[k])
    t = d.z[0] / np.sqrt(np.maximum(chi, 1e-300) / nu) * ctx.t_scale
    np.clip(t, -ctx.p.max_shock, ctx.p.max_shock, out=t)
    r = np.clip(ctx.drift + 0.5 * s * s + s * t, _MAX_DOWN, _MAX_UP)
    g = np.zeros_like(r)
    ug = d.u[2]
    is_gap = ug < ctx.p.gap_prob
    if is_gap.any():
        sign = np.where(ug[is_gap] < 0.5 * ctx.p.gap_prob, -1.0, 1.0)
        size = ctx.p.gap_sigmas * s[is_gap] * (1.0 + 0.5 * (d.gap_z[0] ** 2 + d.gap_z[1] ** 2))
        g[is_gap] = np.clip(sign * size, _MAX_DOWN, _MAX_UP)
    return r, g


def _ohlc(
    ctx: _Ctx, d: _Draws, s: np.ndarray, r: np.ndarray, g: np.ndarray, prev_close: float
) -> tuple[np.ndarray, ...]:
    """Rounded open/high/low/close and the unrounded last close (to carry to the next day)."""
    path = np.cumprod(np.concatenate(([prev_close], (1.0 + g) * (1.0 + r))))
    open_ = path[:-1] * (1.0 + g)
    k = 1 + ctx.p.tail_dof
    b = ctx.p.range_scale * s  # volatility of the intrabar bridge
    ext_hi = np.sqrt(r * r + b * b * (d.z[k] ** 2 + d.z[k + 1] ** 2))
    ext_lo = np.sqrt(r * r + b * b * (d.z[k + 2] ** 2 + d.z[k + 3] ** 2))
    ko, kc = ctx.tick.units(open_), ctx.tick.units(path[1:])
    kh = ctx.tick.units(open_ * (1.0 + 0.5 * (r + ext_hi)))
    kl = ctx.tick.units(open_ * (1.0 + 0.5 * (r - ext_lo)))
    uj, pj = d.u[3], ctx.p.open_jitter_prob
    ko += np.where(uj < 0.5 * pj, -1.0, np.where(uj < pj, 1.0, 0.0))
    for arr in (ko, kc, kh, kl):
        np.maximum(arr, 1.0, out=arr)  # never below one tick: prices stay > 0
    kh = np.maximum(kh, np.maximum(ko, kc))
    kl = np.minimum(kl, np.minimum(ko, kc))
    v = ctx.tick.values
    range_sigmas = (ext_hi + ext_lo) / (2.0 * b)
    return v(ko), v(kh), v(kl), v(kc), range_sigmas, float(path[-1])


def _funding(ctx: _Ctx, fz: np.ndarray, b0: int, b1: int, dev: float) -> tuple[np.ndarray, ...]:
    """Settlements of days ``b0 .. b1-1`` inside the span: ts, rate, and the AR state after."""
    p = ctx.p
    step = p.funding_interval_h * HOUR_MS
    day0 = ctx.start_ms + np.arange(b0, b1, dtype=np.int64) * DAY_MS
    first = -(-day0 // step) * step
    ts = (first[:, None] + np.arange(24 // p.funding_interval_h, dtype=np.int64) * step).ravel()
    keep = int(np.count_nonzero(ts < ctx.start_ms + ctx.n * MINUTE_MS))
    devs = np.empty(keep)
    for j in range(keep):
        dev = p.funding_phi * dev + p.funding_noise * float(fz[j])
        devs[j] = dev
    rate = np.clip(p.funding_mean + devs, -p.funding_cap, p.funding_cap)
    return ts[:keep], np.rint(rate * 1e6) / 1e6 + 0.0, dev


def _chunk(ctx: _Ctx, state: _State, b0: int, b1: int) -> tuple[SynthData, _State]:
    """Days ``b0 .. b1-1`` (the last one possibly cut at the span's end), given the state."""
    d = _draw(ctx, b0, b1)
    m = d.z.shape[1]
    ts = ctx.start_ms + (b0 * _BLOCK + np.arange(m, dtype=np.int64)) * MINUTE_MS
    hour = (ts // HOUR_MS) % 24
    regime = _regimes(ctx, d.u[0], d.u[1], state.regime)
    s = ctx.sigma[regime, hour]
    r, g = _returns(ctx, d, s)
    o, h, lo, c, range_sigmas, last_close = _ohlc(ctx, d, s, r, g, state.close)
    typical = (h + lo + c) / 3.0
    log_turnover = (
        ctx.log_level[regime, hour]
        + ctx.p.volume_range_elasticity * np.log(range_sigmas * (1.0 / _TYPICAL_RANGE_SIGMAS))
        + ctx.p.volume_noise * d.z[ctx.p.tail_dof + 5]
    )
    volume = ctx.qty.values(ctx.qty.units(np.exp(log_turnover) / typical))
    f_ts, f_rate, dev = _funding(ctx, d.funding_z, b0, b1, state.funding_dev)
    candles = Candles(ctx.symbol, "1m", ts, o, h, lo, c, volume, volume * typical)
    return SynthData(candles, f_ts, f_rate), _State(last_close, int(regime[-1]), dev)


def iter_generate(
    symbol: str,
    *,
    days: float,
    seed: int,
    start_ms: int = DEFAULT_START_MS,
    start_price: float = 100.0,
    tick_size: float | None = None,
    params: SynthParams | None = None,
    chunk_days: int = 30,
) -> Iterator[SynthData]:
    """Like :func:`generate`, as consecutive pieces of ``chunk_days`` days each.

    ``SynthData.concat(list(iter_generate(...)))`` equals ``generate(...)`` bit for bit,
    whatever ``chunk_days``; pieces keep memory bounded and allow progress reporting.
    """
    if chunk_days < 1:
        raise BadInputError(f"chunk_days must be >= 1, got {chunk_days}")
    ctx = _context(symbol, days, seed, start_ms, start_price, tick_size, params)
    state = _State(float(start_price), ctx.p.initial_regime, 0.0)
    n_blocks = -(-ctx.n // _BLOCK)
    for b0 in range(0, n_blocks, chunk_days):
        piece, state = _chunk(ctx, state, b0, min(b0 + chunk_days, n_blocks))
        yield piece


def generate(
    symbol: str,
    *,
    days: float,
    seed: int,
    start_ms: int = DEFAULT_START_MS,
    start_price: float = 100.0,
    tick_size: float | None = None,
    params: SynthParams | None = None,
    on_progress: ProgressFn | None = None,
) -> SynthData:
    """``days`` of synthetic 1m bars (``round(days * 1440)`` of them) from ``start_ms``.

    Bars are gap-free in time (``ts = start_ms + i * 60_000``), prices are on ``tick_size``
    (default :func:`default_tick_size` of ``start_price``), volume in base currency, turnover
    in USDT, funding rates as fractions. Same arguments give bit-identical arrays; a shorter
    ``days`` gives a prefix of a longer one. ``on_progress(bars_done, bars_total)``.
    """
    total = _bar_count(days)
    parts: list[SynthData] = []
    done = 0
    for part in iter_generate(
        symbol, days=days, seed=seed, start_ms=start_ms, start_price=start_price,
        tick_size=tick_size, params=params,
    ):  # fmt: skip
        parts.append(part)
        done += len(part.candles)
        report(on_progress, done, total)
    return SynthData.concat(parts)
