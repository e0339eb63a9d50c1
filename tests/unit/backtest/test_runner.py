"""The backtest runner, its data inputs and its result object: every data source, clear
errors, byte-identical determinism, the JSON document, order records and exposure."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.plays import EMA_CROSS_ATR, play_text
from trade_core.backtest.inputs import load_data, synthetic_data
from trade_core.backtest.result import order_records
from trade_core.backtest.runner import RunConfig, exposure_ms, run_backtest
from trade_core.data.store import MarketStore
from trade_core.engine.orders import OrderCancelled, OrderFilled, OrderIntent, OrderRejected
from trade_core.errors import BadInputError
from trade_core.play import load_play_text

DAY = 86_400_000
START = 1_704_067_200_000

PLAY = play_text(**EMA_CROSS_ATR)


@pytest.fixture(scope="module")
def play():
    return load_play_text(PLAY, "runner.yml")


@pytest.fixture(scope="module")
def bundled():
    return load_data("AVAXUSDT", "bundled")


@pytest.fixture(scope="module")
def result(play, bundled):
    return run_backtest(play, bundled, RunConfig(audit="off"))


def test_a_backtest_is_byte_identical_when_repeated(play, bundled, result):
    again = run_backtest(play, bundled, RunConfig(audit="off"))
    assert again.to_json() == result.to_json()
    assert again.fingerprint() == result.fingerprint()


def test_the_json_document_has_metrics_audit_and_one_object_per_trade(result):
    doc = json.loads(result.to_json())
    assert doc["metrics"]["trades"] == len(result.trades) == len(doc["trades"]) > 5
    assert doc["metrics"]["final_equity"] == result.final_equity
    assert doc["audit"] == []
    first = doc["trades"][0]
    for key in (
        "entry_ts",
        "entry_price",
        "exit_ts",
        "exit_price",
        "side",
        "qty",
        "entry_fee",
        "exit_fee",
        "funding",
        "gross_pnl",
        "net_pnl",
        "exit_reason",
        "bars_held",
    ):
        assert key in first  # fmt: skip
    assert doc["run"]["bars_1m"] == 43_200 and doc["run"]["exec_bars"] == 43_200 // 15


def test_trades_plus_open_pnl_reconcile_with_the_equity_change(result):
    net = sum(t.net_pnl for t in result.trades)
    assert result.open_fees > 0  # the month ends with a position open
    open_part = result.open_upnl - result.open_fees - result.open_funding
    assert net + open_part == pytest.approx(result.final_equity - 10_000.0, abs=1e-6)
    assert result.equity[-1] == result.final_equity
    assert result.equity_ts[-1] == result.end_ts


def test_trade_records_are_consistent(result):
    for t in result.trades:
        sign = 1 if t.side == "long" else -1
        assert t.gross_pnl == pytest.approx((t.exit_price - t.entry_price) * t.qty * sign)
        assert t.net_pnl == pytest.approx(t.gross_pnl - t.entry_fee - t.exit_fee - t.funding)
        assert t.exit_ts >= t.entry_ts and t.bars_held >= 0


def test_every_data_source(trade_home, bundled):
    syn = synthetic_data("BTCUSDT", start=START, end=START + 2 * DAY)
    assert len(syn.candles) == 2 * 1440 and len(syn.funding_ts) == 6
    assert (
        synthetic_data("BTCUSDT", start=START, end=START + 2 * DAY).fingerprint()
        == syn.fingerprint()
    )
    with MarketStore.open() as store:
        store.upsert_candles(syn.candles)
        store.upsert_funding("BTCUSDT", syn.funding_ts, syn.funding_rate)
    stored = load_data("BTCUSDT", "store", start=START + DAY)
    assert len(stored.candles) == 1440 and stored.source == "store"
    assert stored.funding_ts.tolist() == syn.funding_ts[syn.funding_ts >= START + DAY].tolist()
    path = trade_home.parent / "avax.csv"
    bundled.candles.to_frame().iloc[:600].to_csv(path, index=False)
    from_file = load_data("AVAXUSDT", str(path))
    assert len(from_file.candles) == 600 and from_file.source == str(path)
    window = bundled.window(int(bundled.candles.ts[100]), int(bundled.candles.ts[200]))
    assert len(window.candles) == 100


def test_clear_errors_for_missing_data(trade_home, play, bundled):
    with pytest.raises(BadInputError, match="no market store"):
        load_data("BTCUSDT", "store")
    with pytest.raises(BadInputError, match="no such file"):
        load_data("BTCUSDT", "nope.csv")
    with pytest.raises(BadInputError, match="no bundled 1m sample of BTCUSDT"):
        load_data("BTCUSDT", "bundled")
    with pytest.raises(BadInputError, match="no instrument spec for ZZZUSDT"):
        synthetic_data("ZZZUSDT")
    with pytest.raises(BadInputError, match="no AVAXUSDT 1m bars between"):
        bundled.window(START, START + DAY)
    with pytest.raises(BadInputError, match="trades BTCUSDT, the data is AVAXUSDT"):
        run_backtest(play.with_symbol("BTCUSDT"), bundled, RunConfig(audit="off"))


def test_stream_feed_gives_the_batch_result(play, bundled, result):
    stream = run_backtest(play, bundled, RunConfig(audit="off", feed="stream"))
    assert stream.fingerprint() == result.fingerprint()
    assert stream.feed == "stream"


def test_leverage_never_exceeds_the_system_cap(bundled):
    p = load_play_text(PLAY.replace("leverage: 3", "leverage: 5"), "lev.yml")
    r = run_backtest(p, bundled, RunConfig(audit="off", max_leverage=2.0))
    assert r.settings["leverage"] == 2.0


def test_order_records_give_each_order_its_fate():
    def intent(link):
        return OrderIntent(link, "BTCUSDT", "Buy", 2.0, "Limit", price=100.0, created_ts=5)

    events = [
        OrderFilled("a", 10, "Buy", 2.0, 100.0, 0.04, "maker", False, 0.0),
        OrderFilled("b", 10, "Buy", 0.5, 99.0, 0.01, "maker", False, 1.5),
        OrderFilled("b", 11, "Buy", 0.5, 101.0, 0.01, "maker", False, 1.0),
        OrderCancelled("b", 12, "ttl"),
        OrderCancelled("c", 12, "ttl"),
        OrderRejected("d", 5, 110007, "no money"),
    ]
    recs = order_records([intent(x) for x in "abcde"], events)
    assert [(r.status, r.filled_qty) for r in recs] == [
        ("Filled", 2.0), ("PartiallyFilledCanceled", 1.0), ("Cancelled", 0.0),
        ("Rejected", 0.0), ("New", 0.0),
    ]  # fmt: skip
    assert recs[1].avg_price == pytest.approx(100.0)
    assert recs[3].status_reason == "110007: no money"


class _T:
    def __init__(self, lo, hi):
        self.entry_ts, self.exit_ts = lo, hi


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 100), st.integers(0, 30)), max_size=12),
    st.booleans(),
    st.integers(0, 120),
)
def test_exposure_is_the_union_of_holding_spans(spans, is_open, since):
    trades = [_T(lo, lo + d) for lo, d in spans]
    end = 200
    covered = np.zeros(end, dtype=bool)
    for lo, d in spans:
        covered[lo : lo + d] = True
    if is_open:
        covered[since:end] = True
    assert exposure_ms(trades, is_open, since, end) == int(covered.sum())  # type: ignore[arg-type]


def test_a_volume_cap_splits_fills_and_the_audit_still_passes(play, bundled, result):
    capped = run_backtest(play, bundled, RunConfig(audit="basic", max_participation=0.005))
    assert len(capped.fills) > 3 * len(result.fills)  # orders fill over several bars
    assert capped.settings["max_participation"] == 0.005
    assert capped.audit and capped.audit_passed, [c for c in capped.audit if not c.passed]
    volume = dict(zip(bundled.candles.ts.tolist(), bundled.candles.volume.tolist(), strict=True))
    for f in capped.fills:
        if not f.reduce_only:  # entries are capped; closes never are
            assert f.qty <= 0.005 * volume[f.ts // 60_000 * 60_000] + 1e-9
