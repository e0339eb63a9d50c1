"""TA-Lib 0.8 parity of the momentum indicators: every real file, several parameter sets,
the batch and the streaming path, and the edge cases (flat markets, tiny prices)."""

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
import talib

from tests.support.features import assert_close_to_reference, real_frames
from trade_core import indicators

Ref = Callable[[pd.DataFrame], tuple[np.ndarray, ...]]


def _c(f: pd.DataFrame) -> np.ndarray:
    return f["close"].to_numpy(dtype=float)


def _hlc(f: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (f["high"].to_numpy(dtype=float), f["low"].to_numpy(dtype=float), _c(f))


def _hl2(f: pd.DataFrame) -> np.ndarray:
    return (f["high"].to_numpy(dtype=float) + f["low"].to_numpy(dtype=float)) / 2.0


# (registry name, params, TA-Lib oracle returning the outputs in spec order)
CASES: list[tuple[str, dict, Ref]] = [
    ("rsi", {"length": 2}, lambda f: (talib.RSI(_c(f), 2),)),
    ("rsi", {}, lambda f: (talib.RSI(_c(f), 14),)),
    ("rsi", {"length": 50, "source": "hl2"}, lambda f: (talib.RSI(_hl2(f), 50),)),
    ("cmo", {"length": 2}, lambda f: (talib.CMO(_c(f), 2),)),
    ("cmo", {}, lambda f: (talib.CMO(_c(f), 14),)),
    ("cmo", {"length": 50}, lambda f: (talib.CMO(_c(f), 50),)),
    ("stochrsi", {}, lambda f: talib.STOCHRSI(_c(f), 14, 5, 3, 0)),
    ("stochrsi", {"fastk": 14, "fastd": 1}, lambda f: talib.STOCHRSI(_c(f), 14, 14, 1, 0)),
    ("stochrsi", {"length": 7, "fastk": 3, "fastd": 5}, lambda f: talib.STOCHRSI(_c(f), 7, 3, 5)),
    ("stochrsi", {"length": 2, "fastk": 1, "fastd": 1}, lambda f: talib.STOCHRSI(_c(f), 2, 1, 1)),
    ("stoch", {}, lambda f: talib.STOCH(*_hlc(f), 14, 3, 0, 3, 0)),
    ("stoch", {"fastk": 5}, lambda f: talib.STOCH(*_hlc(f), 5, 3, 0, 3, 0)),
    ("stoch", {"fastk": 21, "slowk": 5, "slowd": 7}, lambda f: talib.STOCH(*_hlc(f), 21, 5, 0, 7)),
    ("stoch", {"fastk": 1, "slowk": 1, "slowd": 1}, lambda f: talib.STOCH(*_hlc(f), 1, 1, 0, 1)),
    ("stoch", {"fastk": 2, "slowk": 2, "slowd": 1}, lambda f: talib.STOCH(*_hlc(f), 2, 2, 0, 1)),
    ("willr", {"length": 2}, lambda f: (talib.WILLR(*_hlc(f), 2),)),
    ("willr", {}, lambda f: (talib.WILLR(*_hlc(f), 14),)),
    ("willr", {"length": 50}, lambda f: (talib.WILLR(*_hlc(f), 50),)),
    ("macd", {}, lambda f: talib.MACD(_c(f), 12, 26, 9)),
    ("macd", {"fast": 5, "slow": 35, "signal": 5}, lambda f: talib.MACD(_c(f), 5, 35, 5)),
    ("macd", {"fast": 26, "slow": 12}, lambda f: talib.MACD(_c(f), 26, 12, 9)),
    ("macd", {"fast": 2, "slow": 2, "signal": 1}, lambda f: talib.MACD(_c(f), 2, 2, 1)),
    ("macd", {"fast": 3, "slow": 10, "signal": 16}, lambda f: talib.MACD(_c(f), 3, 10, 16)),
    ("ppo", {}, lambda f: (talib.PPO(_c(f), 12, 26, 1),)),
    ("ppo", {"ma": "sma"}, lambda f: (talib.PPO(_c(f), 12, 26, 0),)),
    ("ppo", {"fast": 5, "slow": 35}, lambda f: (talib.PPO(_c(f), 5, 35, 1),)),
    ("ppo", {"fast": 26, "slow": 12}, lambda f: (talib.PPO(_c(f), 26, 12, 1),)),
    ("ppo", {"fast": 2, "slow": 3, "ma": "sma"}, lambda f: (talib.PPO(_c(f), 2, 3, 0),)),
    ("roc", {"length": 1}, lambda f: (talib.ROC(_c(f), 1),)),
    ("roc", {}, lambda f: (talib.ROC(_c(f), 10),)),
    ("roc", {"length": 50, "source": "hlc3"}, lambda f: (talib.ROC(sum(_hlc(f)) / 3.0, 50),)),
    ("mom", {"length": 1}, lambda f: (talib.MOM(_c(f), 1),)),
    ("mom", {}, lambda f: (talib.MOM(_c(f), 10),)),
    ("mom", {"length": 50}, lambda f: (talib.MOM(_c(f), 50),)),
    ("cci", {"length": 2}, lambda f: (talib.CCI(*_hlc(f), 2),)),
    ("cci", {}, lambda f: (talib.CCI(*_hlc(f), 14),)),
    ("cci", {"length": 50}, lambda f: (talib.CCI(*_hlc(f), 50),)),
    ("trix", {"length": 1}, lambda f: (talib.TRIX(_c(f), 1),)),
    ("trix", {"length": 9}, lambda f: (talib.TRIX(_c(f), 9),)),
    ("trix", {}, lambda f: (talib.TRIX(_c(f), 30),)),
    ("ultosc", {}, lambda f: (talib.ULTOSC(*_hlc(f), 7, 14, 28),)),
    ("ultosc", {"length1": 28, "length3": 7}, lambda f: (talib.ULTOSC(*_hlc(f), 28, 14, 7),)),
    ("ultosc", {"length1": 1, "length2": 2, "length3": 3}, lambda f: (talib.ULTOSC(*_hlc(f), 1, 2, 3),)),
    ("ultosc", {"length1": 5, "length2": 5, "length3": 5}, lambda f: (talib.ULTOSC(*_hlc(f), 5, 5, 5),)),
]  # fmt: skip

TALIB_NAMES = sorted({name for name, _, _ in CASES})


def _case_id(case: tuple[str, dict, Ref]) -> str:
    name, params, _ = case
    return name + "".join(f"-{k}={v}" for k, v in params.items())


@pytest.fixture(scope="module")
def frames() -> list[tuple[str, pd.DataFrame]]:
    return list(real_frames())


def _assert_matches(name: str, params: dict, ref: Ref, frame: pd.DataFrame, label: str, **kw):
    got = indicators.REGISTRY.compute(name, frame, **kw, **params)
    outputs = indicators.spec(name).output_names
    expected = ref(frame)
    assert len(expected) == len(outputs)
    for out, want in zip(outputs, expected, strict=True):
        assert_close_to_reference(got[out].to_numpy(), np.asarray(want), label=f"{label} {out}")


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_batch_matches_talib_on_every_real_file(case, frames):
    name, params, ref = case
    for label, frame in frames:
        _assert_matches(name, params, ref, frame, label)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_stream_matches_talib_on_hourly_btc(case, frames):
    """The live path itself (``update`` bar by bar) against TA-Lib, on the file with flat
    and zero-volume bars."""
    label, frame = frames[-1]
    _assert_matches(*case, frame.iloc[:6000], label, mode="stream")


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_first_value_is_at_warmup(case, frames):
    name, params, _ = case
    frame = frames[0][1].iloc[:400]
    got = indicators.compute(name, frame, **params)
    warmup = indicators.spec(name).warmup_bars(params)
    for out in got.columns:
        col = got[out].to_numpy()
        assert np.isnan(col[: warmup - 1]).all(), out
        assert not np.isnan(col[warmup - 1 :]).any(), out


def _frame(close: np.ndarray, spread: np.ndarray | float = 0.0) -> pd.DataFrame:
    close = np.asarray(close, dtype=float)
    return pd.DataFrame({"open": close, "high": close + spread, "low": close - spread,
                         "close": close, "volume": 0.0})  # fmt: skip


def _edge_frames() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(7)
    walk = 100 + np.cumsum(rng.normal(0, 0.5, 300))
    flat_runs = walk.copy()
    flat_runs[60:140] = flat_runs[60]  # 80 bars with o = h = l = c and no change at all
    flat_runs[200:230] = flat_runs[200]
    residue = np.tile([0.1, 0.2, 0.3, 0.1 + 0.2, 0.3, 0.30000000000000004], 50)
    # Decimal bars, then 40 null bars (h == l == previous close): ULTOSC's running totals
    # keep a rounding residue of either sign unless reset, as TA-Lib 0.8 does.
    close = np.r_[[90.49, 89.95, 85.93, 91.33, 89.89, 90.3, 86.05, 83.5, 83.44, 76.02, 77.52,
                   76.99], np.full(40, 76.99)]  # fmt: skip
    up = np.r_[[12.89, 14.67, 29.29, 23.27, 9.27, 8.1, 25.89, 26.44, 15.32, 10.33, 29.85, 9.48],
               np.zeros(40)]  # fmt: skip
    down = np.r_[[5.48, 26.4, 24.37, 20.04, 28.75, 27.77, 22.45, 25.82, 7.41, 4.24, 20.1, 21.44],
                 np.zeros(40)]  # fmt: skip
    null_run = _frame(close).assign(high=close + up, low=close - down)
    return {
        "null run": null_run,
        "flat runs": _frame(flat_runs, np.where(np.arange(300) % 97 < 50, 0.0, 0.2)),
        "all flat": _frame(np.full(300, 42.0)),
        "last-bit residue": _frame(residue),
        "tiny prices": _frame(walk * 1e-9, 1e-10),
        "step": _frame(np.r_[np.full(150, 10.0), np.full(150, 11.0)]),
    }


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_edge_cases_match_talib(case):
    """Flat windows (h == l, no change), last-bit residue, micro-priced coins and a step:
    the zero-denominator rules (0 for a flat window, the relative flatness test) as TA-Lib."""
    for label, frame in _edge_frames().items():
        _assert_matches(*case, frame, label)
        _assert_matches(*case, frame, label, mode="stream")


@pytest.mark.parametrize("name", ["rsi", "cmo", "stoch", "willr", "cci", "ultosc", "mom", "roc"])
def test_flat_market_reads_zero(name):
    out = indicators.compute(name, _edge_frames()["all flat"])
    for col in out.columns:
        values = out[col].to_numpy()
        assert (values[~np.isnan(values)] == 0.0).all(), col
