"""The engine is mode-agnostic: bars delivered as a live WebSocket would (1m klines and
confirmed higher-timeframe klines as separate messages, one at a time) give trade-for-trade
the batch result, on all three months of real FILUSDT 1m data, for every example play."""

from pathlib import Path

import pytest

from tests.conftest import SHARED_REAL
from trade_core.backtest.inputs import load_data
from trade_core.backtest.runner import RunConfig, run_backtest
from trade_core.play import load_play

EXAMPLES = sorted((Path(__file__).parents[2] / "plays" / "examples").glob("*.yml"))
FIL = "FILUSDT_1m_2023-04_2023-06.csv.gz"


@pytest.fixture(scope="module")
def fil_data():
    real = SHARED_REAL / FIL
    if not real.exists():
        pytest.skip(f"real FILUSDT data not present at {real} (only beside a dev checkout)")
    return load_data("FILUSDT", str(real))


def test_there_are_example_plays():
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_stream_equals_batch_trade_for_trade(path, fil_data):
    play = load_play(path).with_symbol("FILUSDT")
    batch = run_backtest(play, fil_data, RunConfig(audit="off", feed="batch"))
    stream = run_backtest(play, fil_data, RunConfig(audit="off", feed="stream"))
    assert batch.bars_1m == stream.bars_1m == 131_040
    assert len(batch.trades) > 0, "every example play trades on three months of FILUSDT"
    assert [t.to_dict() for t in stream.trades] == [t.to_dict() for t in batch.trades]
    assert stream.fills == batch.fills
    assert stream.venue_events == batch.venue_events
    assert stream.events == batch.events
    assert stream.equity.tolist() == batch.equity.tolist()
    assert stream.metrics == batch.metrics
    assert stream.fingerprint() == batch.fingerprint()
