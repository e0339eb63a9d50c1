"""Resampling is checked against pandas' own resampler (an independent implementation)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trade_core.data.candles import Candles
from trade_core.data.resample import resample
from trade_core.data.timeframes import TIMEFRAMES, tf_ms
from trade_core.errors import BadInputError

T0 = 1704067200000  # 2024-01-01 00:00 UTC


def make_1m(n: int, seed: int = 1, start: int = T0, drop: list[int] | None = None) -> Candles:
    rng = np.random.default_rng(seed)
    close = 100 + np.cumsum(rng.normal(0, 0.2, n))
    open_ = np.r_[100.0, close[:-1]]
    high = np.maximum(open_, close) + rng.uniform(0, 0.3, n)
    low = np.minimum(open_, close) - rng.uniform(0, 0.3, n)
    vol = rng.uniform(0, 10, n)
    ts = start + np.arange(n, dtype=np.int64) * 60_000
    keep = np.ones(n, bool)
    if drop:
        keep[drop] = False
    return Candles(
        "X", "1m", ts[keep], open_[keep], high[keep], low[keep], close[keep], vol[keep],
        (vol * close)[keep],
    )  # fmt: skip


def pandas_oracle(c: Candles, tf: str) -> pd.DataFrame:
    idx = pd.to_datetime(c.ts, unit="ms")  # naive = UTC; origin="epoch" aligns like Bybit
    df = c.to_frame().drop(columns="ts").set_index(idx)
    rule = {"m": "min", "h": "h", "d": "D"}[tf[-1]]
    out = df.resample(f"{tf[:-1]}{rule}", origin="epoch", label="left", closed="left").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum",
         "turnover": "sum"}
    )  # fmt: skip
    out["n"] = df["open"].resample(f"{tf[:-1]}{rule}", origin="epoch").count()
    out = out[out["n"] > 0]
    out.index = (out.index - pd.Timestamp(0)) // pd.Timedelta(milliseconds=1)
    return out


@pytest.mark.parametrize("tf", [t for t in TIMEFRAMES if t != "1m"])
def test_matches_pandas_on_every_timeframe(tf):
    c = make_1m(3 * 1440 + 37, start=T0 + 13 * 60_000)
    res = resample(c, tf)
    ref = pandas_oracle(c, tf)
    np.testing.assert_array_equal(res.candles.ts, ref.index.to_numpy())
    for col in ("open", "high", "low", "close"):
        np.testing.assert_array_equal(getattr(res.candles, col), ref[col].to_numpy())
    np.testing.assert_allclose(res.candles.volume, ref["volume"].to_numpy(), rtol=1e-12)
    np.testing.assert_array_equal(res.source_bars, ref["n"].to_numpy())
    # bars open on UTC boundaries
    assert np.all(res.candles.ts % tf_ms(tf) == 0)


def test_partial_bars_are_flagged_and_never_passed_off():
    c = make_1m(240, drop=[70])  # 4 hours of 1m, one bar missing in the second hour
    res = resample(c, "1h")
    assert res.complete.tolist() == [True, False, True, True]
    assert res.source_bars.tolist() == [60, 59, 60, 60]
    assert res.incomplete_count == 1
    kept = res.complete_only()
    assert kept.ts.tolist() == [T0, T0 + 2 * 3_600_000, T0 + 3 * 3_600_000]


def test_edges_of_a_range_that_cut_a_bar_are_incomplete():
    c = make_1m(120, start=T0 + 30 * 60_000)  # 00:30 .. 02:29
    res = resample(c, "1h")
    assert res.candles.ts.tolist() == [T0, T0 + 3_600_000, T0 + 7_200_000]
    assert res.complete.tolist() == [False, True, False]


def test_bad_requests():
    c = make_1m(10)
    with pytest.raises(BadInputError):
        resample(c, "1m")
    unsorted = Candles("X", "1m", c.ts[::-1], c.open, c.high, c.low, c.close, c.volume, c.turnover)
    with pytest.raises(BadInputError, match="increasing"):
        resample(unsorted, "5m")
    assert len(resample(c.slice(0, 0), "5m").candles) == 0


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 600),
    offset=st.integers(0, 59),
    drops=st.lists(st.integers(0, 599), max_size=20),
    tf=st.sampled_from(["3m", "5m", "15m", "30m", "1h"]),
)
def test_resample_invariants(n, offset, drops, tf):
    c = make_1m(n, seed=n, start=T0 + offset * 60_000, drop=[d for d in drops if d < n])
    if len(c) == 0:
        return
    res = resample(c, tf).candles
    assert res.volume.sum() == pytest.approx(c.volume.sum(), rel=1e-12)
    assert np.all(res.high >= np.maximum(res.open, res.close))
    assert np.all(res.low <= np.minimum(res.open, res.close))
    assert res.high.max() == c.high.max()
    assert res.low.min() == c.low.min()
    assert res.open[0] == c.open[0] and res.close[-1] == c.close[-1]
