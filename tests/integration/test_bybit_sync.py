"""Kline and funding sync against the local Bybit V5 stub (a real HTTP server)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.bybit_stub import STUB_NOW_MS, BybitStub, run_cli_in_process
from tests.support.cli import run_trade
from trade_core.config import Settings
from trade_core.data.bybit_client import (
    FUNDING_PATH,
    KLINE_PATH,
    PYBIT_MAX_ATTEMPTS,
    BybitPublicClient,
    make_client,
)
from trade_core.data.bybit_sync import FUNDING_LIMIT, KLINE_LIMIT, sync_funding, sync_klines
from trade_core.data.store import MarketStore
from trade_core.data.timeframes import floor_ts
from trade_core.errors import BadInputError, ExchangeError
from trade_core.throttle import RetryPolicy
from trade_core.timestamps import DAY_MS, HOUR_MS, MINUTE_MS, parse_time

pytestmark = pytest.mark.network_stub

JAN1 = parse_time("2024-01-01")
FEB1 = parse_time("2024-02-01")
MAR1 = parse_time("2024-03-01")
DEC1 = parse_time("2023-12-01")


def expected_bars(stub: BybitStub, symbol: str, tf: str, times: list[int]) -> np.ndarray:
    """The stub's bars as floats, columns ts, open, high, low, close, volume, turnover."""
    return np.array([[float(x) for x in stub.bar(symbol, tf, t)] for t in times])


def stored_bars(store: MarketStore, symbol: str, tf: str) -> np.ndarray:
    c = store.read_candles(symbol, tf)
    return np.column_stack([c.ts, c.open, c.high, c.low, c.close, c.volume, c.turnover])


def sync_1m(store: MarketStore, client: BybitPublicClient, bars: int, symbol: str = "BTCUSDT"):
    return sync_klines(
        store, client, symbol, "1m", JAN1, JAN1 + bars * MINUTE_MS, now_ms=STUB_NOW_MS
    )


# ---------------------------------------------------------------------------- klines
def test_more_than_one_window_is_paged_forward_and_round_trips_exactly(
    bybit_stub: BybitStub, bybit_client: BybitPublicClient, market_store: MarketStore
) -> None:
    res = sync_1m(market_store, bybit_client, 2500)

    log = bybit_stub.requests_for(KLINE_PATH)
    assert [int(r.params["start"]) for r in log] == [
        JAN1 + k * KLINE_LIMIT * MINUTE_MS for k in range(3)
    ]
    assert [int(r.params["end"]) for r in log] == [
        JAN1 + 1000 * MINUTE_MS - 1,
        JAN1 + 2000 * MINUTE_MS - 1,
        JAN1 + 2500 * MINUTE_MS - 1,
    ]
    assert {r.params["limit"] for r in log} == {"1000"}
    assert {r.params["interval"] for r in log} == {"1"}
    assert (res.requests, res.bars_fetched, res.inserted, res.updated) == (3, 2500, 2500, 0)
    assert res.ranges == [(JAN1, JAN1 + 2500 * MINUTE_MS)]
    times = [JAN1 + k * MINUTE_MS for k in range(2500)]
    np.testing.assert_array_equal(
        stored_bars(market_store, "BTCUSDT", "1m"),
        expected_bars(bybit_stub, "BTCUSDT", "1m", times),
    )


def test_resync_is_idempotent_and_makes_no_request(
    bybit_stub: BybitStub, bybit_client: BybitPublicClient, market_store: MarketStore
) -> None:
    sync_1m(market_store, bybit_client, 1500)
    bybit_stub.clear_log()

    again = sync_1m(market_store, bybit_client, 1500)

    assert (again.requests, again.inserted, again.updated, again.unchanged) == (0, 0, 0, 0)
    assert bybit_stub.log == []
    assert len(market_store.read_candles("BTCUSDT", "1m")) == 1500


def test_a_hole_is_the_only_range_fetched_again(
    bybit_stub: BybitStub, bybit_client: BybitPublicClient, market_store: MarketStore
) -> None:
    sync_1m(market_store, bybit_client, 1500)
    lo, hi = JAN1 + 700 * MINUTE_MS, JAN1 + 710 * MINUTE_MS
    market_store.con.execute("DELETE FROM candles WHERE ts >= ? AND ts < ?", [lo, hi])
    bybit_stub.clear_log()

    res = sync_1m(market_store, bybit_client, 1500)

    [req] = bybit_stub.requests_for(KLINE_PATH)
    assert (int(req.params["start"]), int(req.params["end"])) == (lo, hi - 1)
    assert (res.inserted, res.ranges) == (10, [(lo, hi)])


def test_an_interrupted_sync_resumes_with_only_the_missing_windows(
    bybit_stub: BybitStub, bybit_client: BybitPublicClient, market_store: MarketStore
) -> None:
    bybit_stub.fail_forever(status=500, path=KLINE_PATH, skip=2)

    with pytest.raises(ExchangeError, match=r"/v5/market/kline.*failed after 3 attempts.*HTTP 500"):
        sync_1m(market_store, bybit_client, 3500)

    assert len(market_store.read_candles("BTCUSDT", "1m")) == 2000  # two whole windows
    assert [r.status for r in bybit_stub.requests_for(KLINE_PATH)] == [200, 200, 500, 500, 500]
    bybit_stub.clear_faults()
    bybit_stub.clear_log()

    res = sync_1m(market_store, bybit_client, 3500)

    starts = [int(r.params["start"]) for r in bybit_stub.requests_for(KLINE_PATH)]
    assert starts == [JAN1 + 2000 * MINUTE_MS, JAN1 + 3000 * MINUTE_MS]
    assert (res.requests, res.inserted) == (2, 1500)
    times = [JAN1 + k * MINUTE_MS for k in range(3500)]
    np.testing.assert_array_equal(
        stored_bars(market_store, "BTCUSDT", "1m"),
        expected_bars(bybit_stub, "BTCUSDT", "1m", times),
    )


def test_a_transient_500_is_retried(
    bybit_stub: BybitStub, bybit_client: BybitPublicClient, market_store: MarketStore
) -> None:
    bybit_stub.fail_next(2, status=503, path=KLINE_PATH)

    res = sync_1m(market_store, bybit_client, 100)

    assert [r.status for r in bybit_stub.requests_for(KLINE_PATH)] == [503, 503, 200]
    assert (res.requests, res.inserted) == (1, 100)


def test_a_connection_failure_is_retried_then_reported(market_store: MarketStore) -> None:
    dead = Settings(trade_bybit_rest_url="http://127.0.0.1:9", trade_bybit_requests_per_s=1000)
    client = make_client(dead, retry=RetryPolicy(attempts=2, base_delay_s=0.001), timeout_s=2)

    with pytest.raises(ExchangeError, match=r"failed after 2 attempts: ConnectionError"):
        sync_1m(market_store, client, 10)


def test_a_rate_limit_answer_waits_for_the_reset_and_retries(
    bybit_stub: BybitStub, bybit_client: BybitPublicClient, market_store: MarketStore
) -> None:
    bybit_stub.rate_limit_next(1, reset_in_ms=30, path=KLINE_PATH)

    res = sync_1m(market_store, bybit_client, 100)

    assert [r.ret_code for r in bybit_stub.requests_for(KLINE_PATH)] == [10006, 0]
    assert res.inserted == 100


def test_a_persistent_rate_limit_gives_up_with_a_clear_error(
    bybit_stub: BybitStub, bybit_client: BybitPublicClient, market_store: MarketStore
) -> None:
    bybit_stub.rate_limit_next(None, reset_in_ms=5, path=KLINE_PATH)

    with pytest.raises(ExchangeError, match="still rate-limited") as info:
        sync_1m(market_store, bybit_client, 100)

    assert "\n" not in str(info.value)
    assert len(bybit_stub.requests_for(KLINE_PATH)) == PYBIT_MAX_ATTEMPTS
    assert market_store.coverage("BTCUSDT", "1m") is None


def test_an_unknown_symbol_is_bad_input_on_one_line(
    bybit_stub: BybitStub, bybit_client: BybitPublicClient, market_store: MarketStore
) -> None:
    with pytest.raises(BadInputError, match=r"NOPEUSDT.*retCode 10001") as info:
        sync_1m(market_store, bybit_client, 10, symbol="NOPEUSDT")
    assert "\n" not in str(info.value)
    assert len(bybit_stub.requests_for(KLINE_PATH)) == 1  # not retried


def test_a_malformed_row_fails_its_window_and_writes_none_of_it(
    bybit_stub: BybitStub, bybit_client: BybitPublicClient, market_store: MarketStore
) -> None:
    bybit_stub.malformed_next(KLINE_PATH, skip=1)

    with pytest.raises(ExchangeError, match=r"/v5/market/kline row \d+ field 'close' = 'n/a'"):
        sync_1m(market_store, bybit_client, 2500)

    stored = market_store.read_candles("BTCUSDT", "1m")
    assert (stored.first_ts, stored.last_ts, len(stored)) == (
        JAN1,
        JAN1 + 999 * MINUTE_MS,
        1000,
    )


@pytest.mark.parametrize(("tf", "step"), [("1m", MINUTE_MS), ("1h", HOUR_MS)])
def test_the_forming_bar_is_never_requested_nor_stored(
    bybit_stub: BybitStub,
    bybit_client: BybitPublicClient,
    market_store: MarketStore,
    tf: str,
    step: int,
) -> None:
    forming = floor_ts(STUB_NOW_MS, tf)

    res = sync_klines(
        market_store, bybit_client, "ETHUSDT", tf, forming - 30 * step, STUB_NOW_MS + DAY_MS,
        now_ms=STUB_NOW_MS,
    )  # fmt: skip

    assert max(int(r.params["end"]) for r in bybit_stub.requests_for(KLINE_PATH)) < forming
    stored = market_store.read_candles("ETHUSDT", tf)
    assert (len(stored), stored.last_ts, res.inserted) == (30, forming - step, 30)


def test_bars_start_at_the_listing_and_progress_reaches_the_total(
    bybit_stub: BybitStub, bybit_client: BybitPublicClient, market_store: MarketStore
) -> None:
    calls: list[tuple[int, int]] = []

    res = sync_klines(
        market_store,
        bybit_client,
        "NEWUSDT",
        "1h",
        JAN1,
        FEB1,
        lambda done, total: calls.append((done, total)),
        now_ms=STUB_NOW_MS,
    )

    listing = bybit_stub.markets["NEWUSDT"].listing_ms
    stored = market_store.read_candles("NEWUSDT", "1h")
    assert (stored.first_ts, stored.last_ts) == (listing, FEB1 - HOUR_MS)
    assert res.inserted == (FEB1 - listing) // HOUR_MS
    assert calls[0] == (0, 744) and calls[-1] == (744, 744)
    assert [int(r.params["interval"]) for r in bybit_stub.requests_for(KLINE_PATH)] == [60]


def test_an_empty_range_is_bad_input(
    bybit_client: BybitPublicClient, market_store: MarketStore
) -> None:
    with pytest.raises(BadInputError, match="empty"):
        sync_klines(market_store, bybit_client, "BTCUSDT", "1m", FEB1, JAN1)


# ---------------------------------------------------------------------------- funding
def test_funding_pages_backwards_and_round_trips(
    bybit_stub: BybitStub, bybit_client: BybitPublicClient, market_store: MarketStore
) -> None:
    res = sync_funding(market_store, bybit_client, "BTCUSDT", DEC1, MAR1)

    expected = bybit_stub.settlements("BTCUSDT", DEC1, MAR1 - 1)
    assert len(expected) == 91 * 3 > FUNDING_LIMIT
    log = bybit_stub.requests_for(FUNDING_PATH)
    assert [int(r.params["endTime"]) for r in log] == [MAR1 - 1, expected[-FUNDING_LIMIT] - 1]
    assert {int(r.params["startTime"]) for r in log} == {DEC1}
    assert (res.requests, res.bars_fetched, res.inserted) == (2, 273, 273)
    ts, rate = market_store.read_funding("BTCUSDT")
    assert ts.tolist() == expected
    assert rate.tolist() == [float(bybit_stub.funding_rate("BTCUSDT", t)) for t in expected]


def test_funding_resumes_after_the_last_stored_settlement(
    bybit_stub: BybitStub, bybit_client: BybitPublicClient, market_store: MarketStore
) -> None:
    sync_funding(market_store, bybit_client, "BTCUSDT", JAN1, FEB1)
    last = market_store.last_funding_ts("BTCUSDT")
    bybit_stub.clear_log()

    res = sync_funding(market_store, bybit_client, "BTCUSDT", JAN1, MAR1)

    [req] = bybit_stub.requests_for(FUNDING_PATH)
    assert int(req.params["startTime"]) == last + 1
    assert res.inserted == 29 * 3
    bybit_stub.clear_log()
    again = sync_funding(market_store, bybit_client, "BTCUSDT", JAN1, MAR1)
    assert (again.inserted, again.updated) == (0, 0)


def test_funding_fills_the_head_and_a_hole_between_separate_syncs(
    bybit_stub: BybitStub, bybit_client: BybitPublicClient, market_store: MarketStore
) -> None:
    sync_funding(market_store, bybit_client, "BTCUSDT", JAN1 + 5 * DAY_MS, JAN1 + 10 * DAY_MS)
    sync_funding(market_store, bybit_client, "BTCUSDT", FEB1, FEB1 + 5 * DAY_MS)
    bybit_stub.clear_log()

    res = sync_funding(market_store, bybit_client, "BTCUSDT", JAN1, FEB1 + 5 * DAY_MS)

    starts = [int(r.params["startTime"]) for r in bybit_stub.requests_for(FUNDING_PATH)]
    assert starts[0] == JAN1
    assert starts[1] == JAN1 + 10 * DAY_MS - 8 * HOUR_MS + 1  # after the last stored in Jan
    ts, _ = market_store.read_funding("BTCUSDT")
    assert ts.tolist() == bybit_stub.settlements("BTCUSDT", JAN1, FEB1 + 5 * DAY_MS - 1)
    assert res.inserted == 5 * 3 + 21 * 3


def test_funding_errors_write_nothing(
    bybit_stub: BybitStub, bybit_client: BybitPublicClient, market_store: MarketStore
) -> None:
    with pytest.raises(BadInputError, match="NOPEUSDT"):
        sync_funding(market_store, bybit_client, "NOPEUSDT", JAN1, FEB1)
    bybit_stub.malformed_next(FUNDING_PATH, skip=1)
    with pytest.raises(ExchangeError, match="fundingRate"):
        sync_funding(market_store, bybit_client, "BTCUSDT", DEC1, MAR1)
    assert market_store.last_funding_ts("BTCUSDT") is None


# ---------------------------------------------------------------------------- CLI
def test_cli_sync_prints_a_summary_and_stores_bars_and_funding(
    bybit_stub: BybitStub, capsys: pytest.CaptureFixture[str]
) -> None:
    res = run_trade("data", "sync", "btcusdt", "--tf", "1h", "--start", "2024-01-01",
                    "--end", "2024-02-01")  # fmt: skip

    assert res.code == 0, res.err
    assert "BTCUSDT 1h: 1 request, 744 bars fetched; 744 new, 0 changed" in res.out
    assert "BTCUSDT funding: 1 request, 93 settlements fetched; 93 new" in res.out
    with MarketStore.open(read_only=True) as store:
        assert len(store.read_candles("BTCUSDT", "1h")) == 744
        assert len(store.read_funding("BTCUSDT")[0]) == 93

    code, out, err = run_cli_in_process(capsys, "data", "sync", "BTCUSDT", "--tf", "1h",
                                        "--start", "2024-01-01", "--end", "2024-02-01",
                                        "--no-funding")  # fmt: skip
    assert code == 0, err
    assert "BTCUSDT 1h: 0 requests, 0 bars fetched; 0 new" in out
    assert "funding" not in out


def test_cli_sync_of_an_unknown_symbol_exits_2_with_one_line(bybit_stub: BybitStub) -> None:
    res = run_trade("data", "sync", "NOPEUSDT", "--start", "2024-01-01", "--end", "2024-01-02")

    assert res.code == 2, (res.out, res.err)
    lines = res.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "retCode 10001" in lines[0]


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (("BTCUSDT", "--start", "yesterday-ish"), 2, "cannot read time"),
        (("BTCUSDT", "--tf", "7m", "--start", "2024-01-01"), 2, "unknown timeframe"),
        (("BTCUSDT", "--start", "2024-01-02", "--end", "2024-01-01"), 2, "is not before"),
        (("BTCUSDT", "--start", "2024-01-01", "--end", "2024-01-02"), 1, "field 'close'"),
    ],
)
def test_cli_sync_errors_are_one_line_with_the_right_exit_code(
    bybit_stub: BybitStub,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    code: int,
    needle: str,
) -> None:
    if code == 1:
        bybit_stub.malformed_next(KLINE_PATH)

    got, _out, err = run_cli_in_process(capsys, "data", "sync", *args)

    assert got == code, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0], err
