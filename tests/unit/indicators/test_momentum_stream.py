"""Momentum indicators as live state machines: causality, stream == batch, no drift over a
year of 1m bars, and speed (streaming ``update`` and the batch path)."""

import math

import numpy as np
import pandas as pd
import pytest
import talib
from numpy.lib.stride_tricks import sliding_window_view

from tests.support.features import assert_causal_and_batch_equal, real_frames
from trade_core import indicators
from trade_core.data.synth import generate

NAMES = ["rsi", "stoch", "stochrsi", "macd", "ppo", "roc", "mom", "cci", "cmo", "willr", "trix",
         "ultosc", "fisher", "ao"]  # fmt: skip

OTHER_PARAMS = {
    "rsi": {"length": 5, "source": "ohlc4"},
    "stoch": {"fastk": 5, "slowk": 1, "slowd": 4},
    "stochrsi": {"length": 9, "fastk": 9, "fastd": 2},
    "macd": {"fast": 30, "slow": 7, "signal": 4, "source": "hl2"},
    "ppo": {"fast": 3, "slow": 8, "ma": "sma"},
    "roc": {"length": 1, "source": "open"},
    "mom": {"length": 3, "source": "low"},
    "cci": {"length": 40},
    "cmo": {"length": 2},
    "willr": {"length": 3},
    "trix": {"length": 4},
    "ultosc": {"length1": 3, "length2": 2, "length3": 6},
    "fisher": {"length": 4, "source": "close"},
    "ao": {"fast": 3, "slow": 8},
}


@pytest.fixture(scope="module")
def frames() -> list[tuple[str, pd.DataFrame]]:
    return list(real_frames())


@pytest.fixture(scope="module")
def year() -> pd.DataFrame:
    """525,600 synthetic 1m bars."""
    return generate("X", days=365, seed=1).candles.to_frame()


@pytest.mark.parametrize("name", NAMES)
def test_causal_and_stream_equals_batch_on_real_bars(name, frames):
    for _, frame in frames:
        assert_causal_and_batch_equal(indicators.REGISTRY, name, frame.iloc[:3000])
        part = frame.iloc[5000:7000].reset_index(drop=True)
        assert_causal_and_batch_equal(indicators.REGISTRY, name, part, **OTHER_PARAMS[name])


@pytest.mark.parametrize("name", NAMES)
def test_causal_and_stream_equals_batch_on_flat_bars(name):
    rng = np.random.default_rng(3)
    close = 50 + np.cumsum(rng.normal(0, 0.3, 400))
    close[100:220] = close[100]
    spread = np.where((np.arange(400) // 30) % 2 == 0, 0.0, 0.25)
    frame = pd.DataFrame({"open": close, "high": close + spread, "low": close - spread,
                          "close": close, "volume": 0.0})  # fmt: skip
    assert_causal_and_batch_equal(indicators.REGISTRY, name, frame)
    assert_causal_and_batch_equal(indicators.REGISTRY, name, frame, **OTHER_PARAMS[name])


def test_short_inputs_give_all_nan():
    frame = next(real_frames())[1].iloc[:5]
    for name in NAMES:
        out = indicators.compute(name, frame)
        assert out.shape[0] == 5 and out.isna().all().all(), name
        assert indicators.compute(name, frame.iloc[:0]).shape[0] == 0, name


# ---------------------------------------------------------------- a year of 1m bars

YEAR_ORACLES = {
    "rsi": lambda h, lo, c: (talib.RSI(c, 14),),
    "cmo": lambda h, lo, c: (talib.CMO(c, 14),),
    "stochrsi": lambda h, lo, c: talib.STOCHRSI(c, 14, 5, 3, 0),
    "stoch": lambda h, lo, c: talib.STOCH(h, lo, c, 14, 3, 0, 3, 0),
    "willr": lambda h, lo, c: (talib.WILLR(h, lo, c, 14),),
    "macd": lambda h, lo, c: talib.MACD(c, 12, 26, 9),
    "ppo": lambda h, lo, c: (talib.PPO(c, 12, 26, 1),),
    "roc": lambda h, lo, c: (talib.ROC(c, 10),),
    "mom": lambda h, lo, c: (talib.MOM(c, 10),),
    "cci": lambda h, lo, c: (talib.CCI(h, lo, c, 14),),
    "trix": lambda h, lo, c: (talib.TRIX(c, 30),),
    "ultosc": lambda h, lo, c: (talib.ULTOSC(h, lo, c, 7, 14, 28),),
    "ao": lambda h, lo, c: (talib.SMA((h + lo) / 2.0, 5) - talib.SMA((h + lo) / 2.0, 34),),
}


@pytest.mark.slow
def test_no_drift_from_talib_over_a_year(year):
    """Recursions and running totals over 525,600 bars stay on TA-Lib's values (which use
    the same recurrences): bit for bit in practice, asserted to 1e-9."""
    h, lo, c = (year[k].to_numpy() for k in ("high", "low", "close"))
    for name, oracle in YEAR_ORACLES.items():
        got = indicators.compute(name, year)
        for out, want in zip(got.columns, oracle(h, lo, c), strict=True):
            ok = ~np.isnan(want)
            assert np.array_equal(np.isnan(got[out].to_numpy()), ~ok), name
            diff = np.abs(got[out].to_numpy()[ok] - want[ok])
            assert diff.max() <= 1e-9 * max(np.median(np.abs(want[ok])), 1e-6), (name, out)


@pytest.mark.slow
def test_running_sums_do_not_drift_from_exact_windows(year):
    """``ao``'s running totals against an exact recomputation of every window (math.fsum):
    after a year the error stays below 1e-12 of the price."""
    hl2 = ((year["high"] + year["low"]) / 2.0).to_numpy()
    got = indicators.compute("ao", year)["value"].to_numpy()[33:]
    fast = np.array([math.fsum(w) for w in sliding_window_view(hl2, 5)[29:]]) / 5
    slow = np.array([math.fsum(w) for w in sliding_window_view(hl2, 34)]) / 34
    assert np.max(np.abs(got - (fast - slow)) / hl2[33:]) < 1e-12


@pytest.mark.slow
def test_fisher_recursion_forgets_its_start(year):
    """The Fisher recursion contracts (0.67 and 0.5 per bar): restarted on the last 2,000
    bars it agrees with the full-year run to 1e-12 after 200 bars, so nothing accumulates."""
    full = indicators.compute("fisher", year)["fisher"].to_numpy()[-1800:]
    tail = indicators.compute("fisher", year.iloc[-2000:])["fisher"].to_numpy()[-1800:]
    assert np.max(np.abs(full - tail)) < 1e-12
