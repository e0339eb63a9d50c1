"""The synthetic market generator: determinism, OHLC/tick/time invariants, funding, statistics.

Statistical assertions use fixed seeds and bounds of at least 5 standard deviations (or, for
volatility ratios, the measured value with a wide margin), so they cannot flake: the same
seed always produces the same bars.
"""

import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from trade_core.data.synth import (
    DEFAULT_START_MS,
    SynthData,
    SynthParams,
    default_tick_size,
    generate,
    iter_generate,
)
from trade_core.errors import BadInputError
from trade_core.timestamps import HOUR_MS, MINUTE_MS

T0 = DEFAULT_START_MS  # 2024-01-01 00:00 UTC
COLUMNS = ("ts", "open", "high", "low", "close", "volume", "turnover")


def arrays(d: SynthData) -> dict[str, np.ndarray]:
    cols = {name: getattr(d.candles, name) for name in COLUMNS}
    return {**cols, "funding_ts": d.funding_ts, "funding_rate": d.funding_rate}


def assert_identical(a: SynthData, b: SynthData) -> None:
    """Bit-identical, not merely close: compares raw bytes and dtypes."""
    for name, x in arrays(a).items():
        y = arrays(b)[name]
        assert x.dtype == y.dtype, name
        assert x.tobytes() == y.tobytes(), name


def fingerprint(d: SynthData) -> str:
    h = hashlib.sha256()
    for x in arrays(d).values():
        h.update(np.ascontiguousarray(x).tobytes())
    return h.hexdigest()[:16]


def on_tick(prices: np.ndarray, tick: float) -> bool:
    units = prices / tick
    return bool(np.all(np.abs(units - np.rint(units)) < 1e-6))


def assert_invariants(d: SynthData, start_ms: int, n: int, tick: float, cap: float) -> None:
    c = d.candles
    assert c.tf == "1m" and len(c) == n
    assert c.ts.dtype == np.int64
    np.testing.assert_array_equal(c.ts, start_ms + np.arange(n, dtype=np.int64) * MINUTE_MS)
    for name in ("open", "high", "low", "close"):
        x = getattr(c, name)
        assert x.dtype == np.float64 and np.all(np.isfinite(x)) and np.all(x > 0), name
        assert on_tick(x, tick), name
    assert np.all(c.high >= np.maximum(c.open, c.close))
    assert np.all(c.low <= np.minimum(c.open, c.close))
    assert np.all(c.high >= c.low)
    assert np.all(c.volume >= 0) and np.all(np.isfinite(c.volume))
    np.testing.assert_array_equal(c.turnover, c.volume * ((c.high + c.low + c.close) / 3.0))
    assert_funding(d, start_ms, start_ms + n * MINUTE_MS, cap)


def assert_funding(d: SynthData, start_ms: int, end_ms: int, cap: float) -> None:
    ts, rate = d.funding_ts, d.funding_rate
    expected = [t for t in range(start_ms, end_ms, MINUTE_MS) if t % (8 * HOUR_MS) == 0]
    assert ts.tolist() == expected
    assert np.all(np.abs(rate) <= cap)
    assert np.all(np.abs(rate * 1e6 - np.rint(rate * 1e6)) < 1e-6)


# ------------------------------------------------------------------ determinism


def test_same_seed_is_bit_identical_and_seeds_differ():
    a = generate("SYN", days=2, seed=42)
    assert_identical(a, generate("SYN", days=2, seed=42))
    b = generate("SYN", days=2, seed=43)
    for name in ("open", "high", "low", "close", "volume"):
        assert not np.array_equal(getattr(a.candles, name), getattr(b.candles, name)), name
    assert not np.array_equal(a.funding_rate, b.funding_rate)


@pytest.mark.parametrize("chunk_days", [1, 2, 7, 30])
def test_chunked_generation_equals_one_shot(chunk_days):
    kw = {"days": 10.3, "seed": 5, "start_ms": T0 + 7 * MINUTE_MS}
    whole = generate("SYN", **kw)
    parts = list(iter_generate("SYN", chunk_days=chunk_days, **kw))
    assert len(parts) == -(-11 // chunk_days)
    assert_identical(SynthData.concat(parts), whole)


def test_progress_reporting_does_not_change_the_result():
    seen: list[tuple[int, int]] = []
    a = generate("SYN", days=65, seed=9, on_progress=lambda done, total: seen.append((done, total)))
    assert seen == [(43_200, 93_600), (86_400, 93_600), (93_600, 93_600)]
    assert_identical(a, generate("SYN", days=65, seed=9))


def test_shorter_span_is_a_prefix_of_a_longer_one():
    short = generate("SYN", days=1.75, seed=3)
    long = generate("SYN", days=40, seed=3)
    n, k = len(short.candles), len(short.funding_ts)
    for name, x in arrays(short).items():
        y = arrays(long)[name]
        assert x.tobytes() == y[: (k if name.startswith("funding") else n)].tobytes(), name


def test_fingerprint_is_pinned():
    """A pinned digest of one small market: it changes only if the generator (or numpy's
    random stream, which NumPy may change between feature releases) changes. If you change
    the model on purpose, update the digest; benchmarks built on old seeds will move."""
    assert fingerprint(generate("SYN", days=1, seed=1)) == "3f64f271a9211db4"


# ------------------------------------------------------------------ invariants


@st.composite
def synth_cases(draw):
    n = draw(st.integers(1, 3 * 1440))
    price = draw(st.floats(1e-3, 1e5))
    tick_mult = draw(st.sampled_from([None, 1.0, 10.0, 100.0, 2.5, "coarse"]))
    if tick_mult == "coarse":  # a price a few ticks above zero: exercises the one-tick floor
        tick = price / draw(st.integers(1, 4))
    else:
        tick = None if tick_mult is None else default_tick_size(price) * tick_mult
    params = SynthParams(
        annual_vol=draw(st.floats(0.05, 5.0)),
        tail_dof=draw(st.integers(3, 8)),
        range_scale=draw(st.floats(0.1, 3.0)),
        gap_prob=draw(st.sampled_from([0.0, 1e-3, 0.05, 1.0])),
        gap_sigmas=draw(st.floats(0.5, 20.0)),
        open_jitter_prob=draw(st.floats(0.0, 1.0)),
        initial_regime=draw(st.integers(0, 2)),
        funding_noise=draw(st.sampled_from([0.0, 5e-5, 5e-3])),
        funding_cap=draw(st.sampled_from([0.0075, 0.0003])),
    )
    return {
        "days": n / 1440,
        "seed": draw(st.integers(0, 2**63)),
        "start_ms": T0 + draw(st.integers(-50_000, 50_000)) * MINUTE_MS,
        "start_price": price,
        "tick_size": tick,
        "params": params,
    }, n


@settings(max_examples=150, deadline=None)
@given(synth_cases())
def test_invariants_hold_for_any_seed_params_and_span(case):
    kw, n = case
    d = generate("SYN", **kw)
    tick = kw["tick_size"] or default_tick_size(kw["start_price"])
    assert_invariants(d, kw["start_ms"], n, tick, kw["params"].funding_cap)


def test_prices_are_exact_decimals_on_the_default_tick():
    d = generate("SYN", days=3, seed=2)
    assert default_tick_size(100.0) == 0.01
    for name in ("open", "high", "low", "close"):
        x = getattr(d.candles, name)
        np.testing.assert_array_equal(x, np.round(x, 2))  # 123.45, never 123.45000000000002


@pytest.mark.parametrize("tick", [0.05, 0.0025, 0.5, 5.0, 0.3])
def test_custom_tick_sizes_are_respected(tick):
    d = generate("SYN", days=1, seed=4, start_price=250.0, tick_size=tick)
    assert_invariants(d, T0, 1440, tick, 0.0075)


@pytest.mark.parametrize(
    ("price", "tick"), [(100.0, 0.01), (60_000.0, 10.0), (5.7, 0.001), (0.0123, 1e-6)]
)
def test_default_tick_is_about_1e4_of_price_as_a_power_of_ten(price, tick):
    assert default_tick_size(price) == tick


# ------------------------------------------------------------------ funding


def test_funding_settles_on_8h_utc_boundaries_inside_the_span():
    start = T0 + 5 * HOUR_MS + 17 * MINUTE_MS  # 05:17 UTC
    d = generate("SYN", days=2.5, seed=1, start_ms=start)
    assert_funding(d, start, start + 3600 * MINUTE_MS, 0.0075)
    assert d.funding_ts[0] == T0 + 8 * HOUR_MS
    assert np.all(d.funding_ts % (8 * HOUR_MS) == 0)
    assert np.all(np.diff(d.funding_ts) == 8 * HOUR_MS)


def test_funding_mean_reverts_around_one_basis_point_and_respects_the_cap():
    year = generate("SYN", days=365, seed=5)
    assert len(year.funding_ts) == 3 * 365
    # AR(1) sd = 5e-5 / sqrt(1 - 0.81) = 1.15e-4; the mean of 1095 correlated draws has sd ~1.7e-5
    assert abs(year.funding_rate.mean() - 1e-4) < 8.5e-5
    assert 0.5e-4 < year.funding_rate.std() < 2e-4
    capped = generate("SYN", days=30, seed=5, params=SynthParams(funding_noise=5e-3))
    assert np.abs(capped.funding_rate).max() == 0.0075  # the clamp is reached and holds


# ------------------------------------------------------------------ statistics


def big_moves(c, tick: float) -> np.ndarray:
    """Bars whose open is more than one tick away from the previous close (price gaps)."""
    return np.abs(c.open[1:] - c.close[:-1]) > 1.5 * tick


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_price_gaps_occur_at_the_configured_rate(seed):
    params = SynthParams(gap_prob=0.01)
    c = generate("SYN", days=20, seed=seed, params=params).candles
    expected, sd = 0.01 * 28_799, (0.01 * 0.99 * 28_799) ** 0.5
    assert abs(int(big_moves(c, 0.01).sum()) - expected) < 5 * sd


def test_without_gaps_the_open_is_at_most_one_tick_off_the_previous_close():
    c = generate("SYN", days=20, seed=1, params=SynthParams(gap_prob=0.0)).candles
    assert not big_moves(c, 0.01).any()
    jittered = np.mean(c.open[1:] != c.close[:-1])  # default 0.48; binomial sd 0.003
    assert 0.46 < jittered < 0.50


def four_hour_vol(c) -> np.ndarray:
    r = np.diff(np.log(c.close))
    k = len(r) // 240
    return r[: k * 240].reshape(k, 240).std(axis=1)


@pytest.mark.parametrize("seed", [1, 2])
def test_regimes_make_realised_vol_vary_by_a_big_factor(seed):
    c = generate("SYN", days=60, seed=seed).candles
    flat = SynthParams(regime_vol=(1.0, 1.0, 1.0), hour_vol=(1.0,) * 24)
    f = generate("SYN", days=60, seed=seed, params=flat).candles
    v, vf = four_hour_vol(c), four_hour_vol(f)
    ratio = np.quantile(v, 0.95) / np.quantile(v, 0.05)
    flat_ratio = np.quantile(vf, 0.95) / np.quantile(vf, 0.05)
    assert ratio > 2.5  # measured 3.1-3.6
    assert flat_ratio < 1.6  # measured 1.27-1.36: sampling noise only


def test_intraday_seasonality_shows_in_returns():
    params = SynthParams(regime_vol=(1.0, 1.0, 1.0))
    c = generate("SYN", days=60, seed=8, params=params).candles
    r = np.diff(np.log(c.close))
    hour = (c.ts[1:] // HOUR_MS) % 24
    busy, quiet = r[(hour >= 13) & (hour < 17)].std(), r[(hour >= 8) & (hour < 12)].std()
    assert busy / quiet > 1.3  # configured ~1.45


def test_volume_follows_moves_and_turnover_is_volume_times_price():
    c = generate("SYN", days=20, seed=6).candles
    r = np.abs(np.diff(np.log(c.close)))
    assert np.all(c.volume > 0)
    assert np.corrcoef(np.log(c.volume[1:]), r)[0, 1] > 0.35  # real files: 0.41-0.49
    assert np.all(c.turnover >= c.volume * c.low * (1 - 1e-12))
    assert np.all(c.turnover <= c.volume * c.high * (1 + 1e-12))
    assert 20_000 < np.median(c.turnover) < 120_000  # base_turnover 50,000 USDT


def test_one_year_is_gap_free_with_sane_prices():
    c = generate("SYN", days=365, seed=7).candles
    assert len(c) == 525_600
    assert np.all(np.diff(c.ts) == MINUTE_MS)
    assert 0.05 < c.close[-1] / c.close[0] < 20
    rel_range = np.median((c.high - c.low) / c.close)
    assert 4e-4 < rel_range < 2e-3  # real 1m files: 8.9e-4 and 9.4e-4


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "kw",
    [
        {"days": 0},
        {"days": -1},
        {"days": float("nan")},
        {"days": 1e-5},
        {"days": 4000},
        {"days": 1, "start_ms": T0 + 1},
        {"days": 1, "seed": -1},
        {"days": 1, "start_price": 0.0},
        {"days": 1, "start_price": 100.0, "tick_size": 1000.0},
        {"days": 1, "start_price": 100.0, "tick_size": -0.01},
    ],
)
def test_bad_arguments_are_bad_input(kw):
    kw = {"seed": 1, **kw}
    with pytest.raises(BadInputError):
        generate("SYN", **kw)


def test_bad_chunk_size_is_bad_input():
    with pytest.raises(BadInputError):
        next(iter_generate("SYN", days=1, seed=1, chunk_days=0))


@pytest.mark.parametrize(
    "kw",
    [
        {"surprise": 1},
        {"regime_transition": ((0.5, 0.5, 0.5), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))},
        {"hour_vol": (1.0,) * 23},
        {"tail_dof": 2},
        {"funding_interval_h": 5},
        {"gap_prob": 1.5},
    ],
)
def test_params_are_validated(kw):
    with pytest.raises(ValidationError):
        SynthParams(**kw)


def test_params_are_frozen():
    with pytest.raises(ValidationError):
        SynthParams().annual_vol = 1.0  # type: ignore[misc]
