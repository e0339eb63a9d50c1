"""Causality of every structure detector, tested on every real file.

Three independent checks per detector configuration:

1. streamed outputs recorded as each bar closes == the whole-frame ``compute`` (no output for
   bar i changes after bar i), over each whole real file;
2. truncation: ``compute`` on the first k bars == the first k rows of ``compute`` on all bars;
3. future perturbation: replacing every bar after k by different prices leaves rows <= k
   unchanged.
"""

import numpy as np
import pandas as pd
import pytest

from tests.support.features import assert_causal_and_batch_equal, real_frames
from trade_core import structures

FRAMES = dict(real_frames())
CONFIGS = [
    ("swing", {}),
    ("swing", {"left": 3, "right": 2, "alternate": True}),
    ("trend", {}),
    ("trend", {"swings": {"left": 2, "right": 3, "alternate": True}, "equal_pct": 0.05}),
    ("market_structure", {}),
    ("market_structure", {"swings": {"left": 3, "right": 1}}),
    ("zone", {}),
    ("zone", {"swings": {"left": 3, "right": 3}, "width_mode": "pct", "max_zones": 2}),
    ("fibonacci", {}),
    ("fibonacci", {"swings": {"left": 2, "right": 2, "alternate": True}}),
    ("derived_zone", {}),
    ("derived_zone", {"method": "swing_atr", "swings": {"left": 4, "right": 2}}),
    ("rolling_window", {}),
    ("rolling_window", {"minutes": 45, "source": "close"}),
]
IDS = [f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)]


def test_every_detector_is_covered():
    assert {n for n, _ in CONFIGS} == set(structures.names())
    assert min(len(f) for f in FRAMES.values()) >= 20_000


@pytest.mark.slow
@pytest.mark.parametrize("file", list(FRAMES))
@pytest.mark.parametrize(("name", "params"), CONFIGS, ids=IDS)
def test_streamed_as_closed_equals_compute_on_whole_real_file(name, params, file):
    assert_causal_and_batch_equal(structures.REGISTRY, name, FRAMES[file], **params)


@pytest.mark.parametrize("file", list(FRAMES))
@pytest.mark.parametrize(("name", "params"), CONFIGS, ids=IDS)
def test_truncated_input_gives_the_same_prefix(name, params, file):
    df = FRAMES[file].iloc[:20_000]
    full = structures.compute(name, df, **params)
    for k in (1, 2, 10, 11, 12, 15, 16, 997, 5_000, 19_999):
        part = structures.compute(name, df.iloc[:k], **params)
        pd.testing.assert_frame_equal(part, full.iloc[:k], check_exact=True, obj=f"k={k}")


def mirrored_future(df: pd.DataFrame, k: int) -> pd.DataFrame:
    """``df`` with every bar after k replaced by its price mirror around close[k]."""
    out = df.copy()
    pivot = df["close"].iloc[k]
    tail = df.iloc[k + 1 :]
    for col, src in (("open", "open"), ("close", "close"), ("high", "low"), ("low", "high")):
        out.loc[tail.index, col] = (2 * pivot - tail[src]).clip(lower=pivot * 0.01)
    out.loc[tail.index, "high"] = out.loc[tail.index, ["open", "high", "low", "close"]].max(axis=1)
    out.loc[tail.index, "low"] = out.loc[tail.index, ["open", "high", "low", "close"]].min(axis=1)
    return out


@pytest.mark.parametrize("file", list(FRAMES))
@pytest.mark.parametrize(("name", "params"), CONFIGS, ids=IDS)
def test_changing_the_future_never_changes_the_past(name, params, file):
    df = FRAMES[file].iloc[:12_000]
    base = structures.compute(name, df, **params)
    for k in (100, 6_000):
        other = structures.compute(name, mirrored_future(df, k), **params)
        pd.testing.assert_frame_equal(other.iloc[: k + 1], base.iloc[: k + 1], check_exact=True)
        # ... and the future did change (the check is not vacuous)
        numeric = [o.name for o in structures.spec(name).outputs if o.type == "number"]
        a, b = base[numeric].iloc[k + 1 :].to_numpy(), other[numeric].iloc[k + 1 :].to_numpy()
        assert not np.array_equal(a, b, equal_nan=True)
