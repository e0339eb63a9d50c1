"""The main job (README command 1) end to end, in a fresh TRADE_HOME, offline."""

import numpy as np

from tests.support.cli import run_trade
from trade_core.data.candles import Candles
from trade_core.data.store import MarketStore


def test_quickstart_loads_checks_and_is_idempotent(trade_home):
    first = run_trade("quickstart", "--no-validate")
    assert first.code == 0, first.err
    assert str(trade_home / "trade.duckdb") in first.out
    for row in ("AVAXUSDT  │ 1m  │ bundled   │ 43,200", "SYNTHUSDT │ 1m  │ synthetic │ 43,200",
                "AVAXUSDT  │ 4h  │ resampled │ 180"):  # fmt: skip
        assert row in first.out
    assert first.out.count("ok 26/26") == 8
    assert "instruments: 7" in first.out
    with MarketStore(trade_home / "trade.duckdb", read_only=True) as store:
        assert len(store.read_funding("SYNTHUSDT")[0]) == 90
        assert store.instrument("AVAXUSDT").symbol == "AVAXUSDT"
    again = run_trade("quickstart", "--no-validate")
    assert again.code == 0, again.err
    assert "│ 43,200 │ 2026-06-01 00:00 → 2026-06-30 23:59 │ 0   │" in again.out


def test_quickstart_fails_on_bad_data(trade_home):
    assert run_trade("quickstart", "--no-validate").code == 0
    t = np.array([1783209600000], dtype=np.int64)  # 2026-07-05, after the bundled month
    bad = Candles("AVAXUSDT", "1m", t, *(np.array([v]) for v in (6.0, 5.0, 7.0, 6.0, 1.0, 6.0)))
    with MarketStore(trade_home / "trade.duckdb") as store:
        store.upsert_candles(bad)  # high below low, and a 4-day hole before it
    res = run_trade("quickstart", "--no-validate")
    assert res.code == 1
    assert "FAILED" in res.out
    assert "data-quality checks failed for AVAXUSDT 1m" in res.err
