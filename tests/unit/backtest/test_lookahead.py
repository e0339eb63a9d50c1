"""The exact look-ahead check: clean plays pass at every cut; a feed that leaks the next exec
bar's close into the snapshot (a real look-ahead bug) is caught, by the standalone check and
by audit check 22, naming the cut and both decisions."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
import pytest

from tests.support.plays import play_text
from trade_core.backtest import runner
from trade_core.backtest.inputs import load_data
from trade_core.backtest.lookahead import LookaheadReport, check_lookahead, cut_times
from trade_core.backtest.runner import BacktestData, RunConfig, run_backtest
from trade_core.data.candles import Candles
from trade_core.data.timeframes import tf_ms
from trade_core.engine.bars import MINUTE_MS, BarClosed, Step
from trade_core.engine.feeds import HistoricalFeed, MarketFeed
from trade_core.play import Play, load_play_text

PLAY = play_text(
    market={"symbol": "AVAXUSDT"},
    timeframes={"exec": "15m", "high": "1h"},
    features={
        "fast": {"indicator": "ema", "length": 9},
        "slow": {"indicator": "ema", "length": 21},
        "trend": {"indicator": "ema", "length": 50, "tf": "high"},
        "atr": {"indicator": "atr", "length": 14},
    },
    entries={"long": ["close", "gt", "open"], "short": ["close", "lt", "open"]},
    exits={"long": ["fast", "cross_below", "slow"], "short": ["fast", "cross_above", "slow"]},
    risk={
        "stop_loss": {"atr": "atr", "mult": 2.0},
        "take_profit": {"rr": 2.0},
        "trailing": {"activate_rr": 1.0, "atr": "atr", "mult": 1.5},
        "sizing": {"risk_pct": 0.5},
        "leverage": 3,
    },
)


class PeekingFeed:
    """A deliberately broken feed: each exec bar carries the close of the 1m bar ``lead_ms``
    after its own close (when the data has it) - the future leaks into features, rules and
    sizing, as a batch-computed indicator indexed one bar off would."""

    def __init__(self, candles: Candles, roles: Mapping[str, str], lead_ms: int) -> None:
        self._inner = HistoricalFeed(candles, roles)
        self._closes = dict(zip(candles.ts.tolist(), candles.close.tolist(), strict=True))
        self._exec_ms, self._lead = tf_ms(roles["exec"]), lead_ms

    @property
    def roles(self) -> dict[str, str]:
        return self._inner.roles

    def __iter__(self) -> Iterator[Step]:
        for step in self._inner:
            if step.closed:
                step = step._replace(closed=tuple(self._peek(e) for e in step.closed))
            yield step

    def _peek(self, event: BarClosed) -> BarClosed:
        if event.role != "exec":
            return event
        bar = event.bar
        future = self._closes.get(bar.ts + self._exec_ms + self._lead - MINUTE_MS)
        if future is None:  # the end of the (possibly truncated) data: nothing to peek at
            return event
        peeked = bar._replace(close=future, high=max(bar.high, future), low=min(bar.low, future))
        return event._replace(bar=peeked)


@pytest.fixture(scope="module")
def play() -> Play:
    return load_play_text(PLAY, "lookahead.yml")


@pytest.fixture(scope="module")
def data() -> BacktestData:
    return load_data("AVAXUSDT", "bundled")


@pytest.fixture
def peeking(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every engine run (full, truncated, audit re-runs) goes through the peeking feed."""

    def make_feed(play: Play, candles: Candles, feed: str) -> MarketFeed:
        return PeekingFeed(candles, play.timeframes, lead_ms=15 * MINUTE_MS)

    monkeypatch.setattr(runner, "make_feed", make_feed)


def test_a_clean_play_decides_identically_at_every_cut(play: Play, data: BacktestData) -> None:
    seen: list[tuple[int, int]] = []
    report = check_lookahead(
        play, data, RunConfig(), points=8, on_progress=lambda d, t: seen.append((d, t))
    )
    assert report.ok, report.mismatches
    assert len(report.cuts) == 8 and report.compared > 100
    assert seen[-1] == (9, 9)
    doc = report.to_dict()
    assert doc["ok"] is True and doc["cuts"] == report.cuts and doc["mismatches"] == []


def test_the_stream_feed_is_clean_too(play: Play, data: BacktestData) -> None:
    assert check_lookahead(play, data, RunConfig(feed="stream"), points=3).ok


@pytest.mark.usefixtures("peeking")
def test_a_feed_that_leaks_the_next_bar_is_caught(play: Play, data: BacktestData) -> None:
    report = check_lookahead(play, data, RunConfig(), points=8)
    assert isinstance(report, LookaheadReport)
    assert not report.ok
    first = report.mismatches[0]
    assert first.cut in report.cuts and first.ts <= first.cut
    assert first.full != first.truncated
    assert "cut " in first.describe() and "without the future" in first.describe()
    assert report.to_dict()["mismatches"][0]["cut"] == first.cut


@pytest.mark.usefixtures("peeking")
def test_audit_check_22_fails_on_the_leak_and_only_it(play: Play, data: BacktestData) -> None:
    result = run_backtest(play, data, RunConfig(audit="full"))
    failed = {c.number for c in result.audit if not c.passed}
    assert failed == {22}
    assert "the run without the future did" in result.audit[21].detail


def test_cut_times_are_evenly_spread_exec_closes_after_warm_up() -> None:
    closes = np.arange(0, 100 * 900_000, 900_000, dtype=np.int64) + 900_000
    cuts = cut_times(closes, ready_ts=int(closes[10]), end_ts=int(closes[-1]), points=4)
    assert cuts == [int(closes[i]) for i in (10, 39, 69, 98)]
    assert cut_times(closes, int(closes[10]), int(closes[-1]), 4) == cuts  # deterministic
    assert cut_times(closes, int(closes[-1]), int(closes[-1]), 4) == []
    assert len(cut_times(closes, int(closes[95]), int(closes[-1]), 12)) == 4
