"""The PlayEngine end to end on real bundled data, through the simulated venue: it trades, it
is deterministic, and a live-shaped replay feed gives exactly the batch result."""

import pandas as pd
import pytest

from tests.support.plays import avax_trend_text
from trade_core.data.candles import Candles
from trade_core.data.instruments import load_bundled_instruments
from trade_core.data.samples import BUNDLED_SAMPLES
from trade_core.engine.engine import PlayEngine
from trade_core.engine.feeds import HistoricalFeed, ReplayFeed
from trade_core.engine.orders import OrderFilled
from trade_core.play import load_play_text
from trade_core.sim.models import FixedRateFees, FixedSlippage
from trade_core.sim.venue import SimVenue

PLAY = avax_trend_text()


@pytest.fixture(scope="module")
def candles():
    sample = BUNDLED_SAMPLES[0]
    return Candles.from_frame(sample.symbol, "1m", pd.read_csv(sample.path))


def run(candles, feed_cls):
    play = load_play_text(PLAY, "engine.yml")
    instrument = next(i for i in load_bundled_instruments() if i.symbol == "AVAXUSDT")
    venue = SimVenue(instrument, starting_balance=10_000.0, leverage=3,
                     fee_model=FixedRateFees(), slippage_model=FixedSlippage(2.0))  # fmt: skip
    engine = PlayEngine(play, venue, instrument)
    result = engine.run(feed_cls(candles, play.timeframes))
    return result, venue


def test_the_engine_trades_and_keeps_the_ledger(candles):
    result, venue = run(candles, HistoricalFeed)
    fills = [e for e in result.venue_events if isinstance(e, OrderFilled)]
    assert len(fills) >= 10
    assert result.decisions > 2000
    assert len(result.equity) == len(candles) // 15
    assert abs(venue.ledger_drift()) < 1e-6
    kinds = {e.kind for e in result.events}
    assert {"submit", "state"} <= kinds
    first_submit = next(e for e in result.events if e.kind == "submit")
    # nothing before warm-up: 50 x 1h of the trend EMA
    assert first_submit.ts >= candles.ts[0] + 50 * 3_600_000


def test_replay_feed_gives_exactly_the_batch_result(candles):
    batch, _ = run(candles, HistoricalFeed)
    replay, _ = run(candles, ReplayFeed)
    assert replay.venue_events == batch.venue_events
    assert replay.equity == batch.equity
    assert replay.events == batch.events


def test_deterministic(candles):
    a, _ = run(candles, HistoricalFeed)
    b, _ = run(candles, HistoricalFeed)
    assert a.venue_events == b.venue_events
    assert a.events == b.events
