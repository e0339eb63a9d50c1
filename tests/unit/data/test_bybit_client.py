"""Unit tests of the Bybit client's parts: rate limiter, backoff, retry decorator, parsing.

Everything runs on a fake clock: no test here sleeps.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import requests
from pybit.exceptions import FailedRequestError, InvalidRequestError

from trade_core.config import Settings
from trade_core.data.bybit_client import make_client, rate_limit_wait_s, retry_transient
from trade_core.data.bybit_payloads import (
    KlineRow,
    parse_funding_row,
    parse_kline_row,
    result_list,
)
from trade_core.data.bybit_sync import KLINE_LIMIT, kline_windows, window_candles
from trade_core.errors import BadInputError, ExchangeError
from trade_core.throttle import RateLimiter, RetryPolicy


class FakeClock:
    """Monotonic seconds that only move when someone sleeps (or the test advances them)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


# ---------------------------------------------------------------------------- rate limiter
def test_the_bucket_allows_a_burst_then_spaces_requests_at_the_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(4.0, clock=clock, sleep=clock.sleep)

    waits = [limiter.acquire() for _ in range(7)]

    assert waits[:4] == [0.0] * 4
    assert waits[4:] == pytest.approx([0.25] * 3)
    assert clock.now == pytest.approx(1000.75)


def test_the_bucket_refills_while_idle_but_never_beyond_its_capacity() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2.0, burst=3, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        limiter.acquire()

    clock.now += 60.0  # a long pause earns at most `burst` tokens
    waits = [limiter.acquire() for _ in range(4)]

    assert waits == pytest.approx([0.0, 0.0, 0.0, 0.5])


def test_a_partly_refilled_bucket_waits_only_for_the_remainder() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1.0, clock=clock, sleep=clock.sleep)
    limiter.acquire()

    clock.now += 0.75

    assert limiter.acquire() == pytest.approx(0.25)


def test_a_non_positive_rate_is_bad_input() -> None:
    with pytest.raises(BadInputError):
        RateLimiter(0)


# ---------------------------------------------------------------------------- backoff
def test_backoff_doubles_and_is_capped() -> None:
    policy = RetryPolicy(attempts=7, base_delay_s=0.5, multiplier=2.0, max_delay_s=4.0)

    assert policy.delays() == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert RetryPolicy().delays() == [0.5, 1.0, 2.0]
    with pytest.raises(ValueError, match="start at 1"):
        policy.delay(0)


@pytest.mark.parametrize("kwargs", [{"attempts": 0}, {"base_delay_s": -1.0}, {"multiplier": 0.5}])
def test_nonsense_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(BadInputError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- retries
def failed(status: int, message: str = "HTTP status code is not 200.") -> FailedRequestError:
    return FailedRequestError("GET /x", message, status, "00:00:00", None)


def rejected(code: int, message: str = "params error") -> InvalidRequestError:
    return InvalidRequestError("GET /x", message, code, "00:00:00", None)


def flaky(errors: list[BaseException]):
    """A ``(path, params)`` call that raises ``errors`` in turn, then answers ``"ok"``."""
    calls: list[int] = []

    def call(path: str, params: dict[str, object]) -> str:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return "ok"

    return call, calls


POLICY = RetryPolicy(attempts=4, base_delay_s=0.5, multiplier=2.0, max_delay_s=1.5)
PARAMS = {"symbol": "BTCUSDT"}


@pytest.mark.parametrize(
    "error",
    [
        failed(500),
        failed(503),
        failed(409, "Conflict. Could not decode JSON."),
        requests.exceptions.ConnectionError("refused"),
        requests.exceptions.ReadTimeout("read timed out"),
        rejected(10016, "Service is restarting"),
    ],
)
def test_transient_failures_are_retried_with_the_computed_backoff(error: BaseException) -> None:
    clock = FakeClock()
    call, calls = flaky([error, error, error])

    assert retry_transient(POLICY, sleep=clock.sleep)(call)("/v5/market/kline", PARAMS) == "ok"
    assert clock.sleeps == [0.5, 1.0, 1.5]
    assert len(calls) == 4


def test_exhausted_retries_name_the_endpoint_and_the_attempts() -> None:
    clock = FakeClock()
    call, calls = flaky([failed(502)] * 9)

    with pytest.raises(ExchangeError) as info:
        retry_transient(POLICY, sleep=clock.sleep)(call)("/v5/market/kline", PARAMS)

    assert str(info.value) == (
        "GET /v5/market/kline (symbol=BTCUSDT) failed after 4 attempts: "
        "HTTP 502: HTTP status code is not 200."
    )
    assert (len(calls), clock.sleeps) == (4, [0.5, 1.0, 1.5])


def test_a_rejected_request_is_bad_input_at_once_on_one_line() -> None:
    clock = FakeClock()
    call, calls = flaky([rejected(10001, "params error: Symbol Is Invalid")])

    with pytest.raises(BadInputError) as info:
        retry_transient(POLICY, sleep=clock.sleep)(call)("/v5/market/kline", PARAMS)

    assert str(info.value) == (
        "Bybit rejected GET /v5/market/kline (symbol=BTCUSDT): "
        "params error: Symbol Is Invalid (retCode 10001)"
    )
    assert (len(calls), clock.sleeps) == (1, [])


@pytest.mark.parametrize(
    ("error", "needle"),
    [
        (failed(403, "You have breached the IP rate limit"), "HTTP 403"),
        (failed(400, "Bad Request. Retries exceeded maximum."), "still rate-limited"),
    ],
)
def test_other_http_failures_are_exchange_errors_without_retry(
    error: BaseException, needle: str
) -> None:
    clock = FakeClock()
    call, calls = flaky([error])

    with pytest.raises(ExchangeError, match=needle):
        retry_transient(POLICY, sleep=clock.sleep)(call)("/v5/market/kline", PARAMS)
    assert (len(calls), clock.sleeps) == (1, [])


@pytest.mark.parametrize("error", [ExchangeError("malformed"), ValueError("a bug")])
def test_our_own_errors_and_bugs_pass_through_untouched(error: Exception) -> None:
    call, calls = flaky([error])

    with pytest.raises(type(error)) as info:
        retry_transient(POLICY, sleep=FakeClock().sleep)(call)("/v5/market/kline", PARAMS)
    assert info.value is error and len(calls) == 1


# ---------------------------------------------------------------------------- retCode 10006
@pytest.mark.parametrize(
    ("header", "expected"),
    [("1000250", 0.25), ("999000", 0.0), ("99999999", 2.0), (None, 1.0), ("soon", 1.0)],
)
def test_the_rate_limit_wait_comes_from_the_reset_header_clamped(
    header: str | None, expected: float
) -> None:
    assert rate_limit_wait_s(header, 1_000_000, default_s=1.0, cap_s=2.0) == expected


def test_the_pybit_session_waits_with_our_bounded_sleep() -> None:
    clock = FakeClock()
    settings = Settings(trade_bybit_rest_url="http://127.0.0.1:9/")
    client = make_client(settings, sleep=clock.sleep, max_rate_limit_wait_s=0.2)
    response = SimpleNamespace(
        headers={"X-Bapi-Limit-Reset-Timestamp": "99999999999999"},
        url="http://127.0.0.1:9/v5/market/kline?symbol=BTCUSDT",
    )

    client._http._handle_retryable_error(response, 10006, "Too many visits!", 5000)

    assert client.endpoint == "http://127.0.0.1:9"
    assert clock.sleeps == [0.2]
    assert client._http.api_key is None and client._http.api_secret is None


# ---------------------------------------------------------------------------- parsing
def test_a_kline_row_parses_to_typed_values() -> None:
    row = ["1704067200000", "42283.6", "42300.1", "42270", "42290.5", "12.345", "522012.7"]

    assert parse_kline_row(row, "r") == KlineRow(
        1704067200000, 42283.6, 42300.1, 42270.0, 42290.5, 12.345, 522012.7
    )


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        (["1704067200000", "1", "1", "1", "x", "1", "1"], "field 'close' = 'x' is not a number"),
        (["1704067200000", "1", "1", "1", "1", "-1", "1"], "field 'volume' = '-1' is below 0"),
        (["1704067200000", "1", "1", "1", "1", "1", "inf"], "field 'turnover' = 'inf' is not fin"),
        (["17040672e5", "1", "1", "1", "1", "1", "1"], "'startTime' = '17040672e5' is not an int"),
        (["1704067200000", "1", "1"], "is not a list of 7 fields"),
        ({"open": "1"}, "is not a list of 7 fields"),
        (["1704067200000", None, "1", "1", "1", "1", "1"], "field 'open' = None"),
    ],
)
def test_a_malformed_kline_row_names_the_field(row: object, needle: str) -> None:
    with pytest.raises(ExchangeError, match="malformed Bybit answer: /k row 3") as info:
        parse_kline_row(row, "/k row 3")
    assert needle in str(info.value)


def test_a_funding_row_must_be_of_the_requested_symbol() -> None:
    row = {"symbol": "ETHUSDT", "fundingRate": "0.0001", "fundingRateTimestamp": "1704067200000"}

    assert parse_funding_row(row, "ETHUSDT", "f").rate == 0.0001
    with pytest.raises(ExchangeError, match="not the requested BTCUSDT"):
        parse_funding_row(row, "BTCUSDT", "f")
    with pytest.raises(ExchangeError, match="has no field 'fundingRate'"):
        parse_funding_row({"symbol": "ETHUSDT"}, "ETHUSDT", "f")


@pytest.mark.parametrize(
    "payload",
    [None, {"retCode": 0}, {"result": {"list": {}}}, {"result": {"list": [], "nextPageCursor": 3}}],
)
def test_an_answer_without_a_result_list_is_malformed(payload: object) -> None:
    with pytest.raises(ExchangeError, match="malformed Bybit answer: /p"):
        result_list(payload, "/p")


# ---------------------------------------------------------------------------- windows
def test_windows_hold_at_most_the_limit_and_cover_the_range() -> None:
    windows = list(kline_windows(0, 2500 * 60_000, 60_000))

    assert windows == [(0, 60_000_000), (60_000_000, 120_000_000), (120_000_000, 150_000_000)]
    assert max((b - a) // 60_000 for a, b in windows) == KLINE_LIMIT


def test_window_rows_come_back_ascending_and_must_lie_in_the_window() -> None:
    rows = [KlineRow(t, 1, 2, 0.5, 1.5, 10, 15) for t in (180_000, 120_000, 60_000)]

    candles = window_candles("BTCUSDT", "1m", rows, (60_000, 240_000))

    assert candles.ts.tolist() == [60_000, 120_000, 180_000]
    with pytest.raises(ExchangeError, match="outside the requested window"):
        window_candles("BTCUSDT", "1m", rows, (120_000, 240_000))
    with pytest.raises(ExchangeError, match="returned bar 60000 twice"):
        window_candles("BTCUSDT", "1m", [*rows, rows[-1]], (0, 240_000))
    with pytest.raises(ExchangeError, match="boundary"):
        window_candles("BTCUSDT", "1m", [KlineRow(61_000, 1, 1, 1, 1, 1, 1)], (0, 240_000))
