"""A Bybit V5 client for the PUBLIC market endpoints, built on pybit.

Why the wrapping around ``pybit.unified_trading.HTTP``:

- **No secrets.** Only public endpoints are used; the client is built without keys and never
  reads the key settings, so nothing here can log or leak one.
- **Where it points.** ``Settings.trade_bybit_rest_url`` (env ``TRADE_BYBIT_REST_URL``)
  replaces pybit's ``endpoint``: that is how tests and the local emulator stand in for Bybit.
- **Rate limit.** A client-side token bucket (``trade_bybit_requests_per_s`` requests/s) keeps
  us well under Bybit's IP limit. If Bybit still answers retCode 10006, pybit waits until the
  ``X-Bapi-Limit-Reset-Timestamp`` header (epoch ms) and retries, ``PYBIT_MAX_ATTEMPTS`` times
  in all; :class:`_PublicHTTP` only bounds that wait to ``[0, max_rate_limit_wait_s]`` (pybit's
  own ``time.sleep`` raises on a negative wait when our clock is ahead of Bybit's).
- **Retries in one place.** :func:`retry_transient` retries transient failures (connection
  errors, timeouts, HTTP 5xx, Bybit's "server busy" retCodes) with exponential backoff and a
  cap; callers never loop. Bad requests (e.g. retCode 10001, unknown symbol) become a one-line
  :class:`BadInputError`; exhausted retries or malformed answers become :class:`ExchangeError`.
- **Typed answers.** Every list row is parsed into a typed record; a missing or non-numeric
  field raises :class:`ExchangeError` naming the endpoint, the row and the field.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

import requests
from pybit.exceptions import FailedRequestError, InvalidRequestError
from pybit.unified_trading import HTTP

from trade_core.config import Settings, get_settings
from trade_core.data.bybit_payloads import (
    INSTRUMENTS_PATH,
    RISK_LIMIT_PATH,
    FundingRow,
    KlineRow,
    parse_funding_row,
    parse_kline_row,
    result_list,
)
from trade_core.errors import BadInputError, ExchangeError, TradeError
from trade_core.throttle import Clock, RateLimiter, RetryPolicy, Sleep

_log = logging.getLogger(__name__)

KLINE_PATH = "/v5/market/kline"
FUNDING_PATH = "/v5/market/funding/history"

RATE_LIMIT_RET_CODE = 10006
# Bybit retCodes that mean "server busy / try again", not "your request is wrong":
# 10000 server timeout, 10016 internal error or service restarting, 10429 system-level
# frequency protection.
TRANSIENT_RET_CODES = frozenset({10000, 10016, 10429})
# pybit's loop for retCode 10006 counts attempts, not retries: 4 = the first try + 3 waits.
PYBIT_MAX_ATTEMPTS = 4
DEFAULT_TIMEOUT_S = 10.0

P = ParamSpec("P")
R = TypeVar("R")


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def is_transient(exc: BaseException) -> bool:
    """Whether trying the same request again later can succeed."""
    if isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout):
        return True
    if isinstance(exc, FailedRequestError):
        # 5xx: Bybit (or a proxy) failed; 409: pybit could not decode the body (truncated).
        status = int(exc.status_code or 0)
        return status >= 500 or status == 409
    if isinstance(exc, InvalidRequestError):
        return int(exc.status_code or 0) in TRANSIENT_RET_CODES
    return False


def describe_error(exc: BaseException) -> str:
    """A short one-line description of a failed call (pybit's and requests' texts are long)."""
    if isinstance(exc, FailedRequestError):
        return f"HTTP {exc.status_code}: {_one_line(exc.message)}"
    if isinstance(exc, InvalidRequestError):
        return f"{_one_line(exc.message)} (retCode {exc.status_code})"
    text = _one_line(exc)
    if isinstance(exc, requests.exceptions.RequestException):
        errno = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
        if errno:
            text = errno.group(1).strip()
        elif "timed out" in text.lower():
            text = "timed out"
    return f"{type(exc).__name__}: {text[:200]}"


def translate_error(exc: BaseException, label: str) -> TradeError | None:
    """The TRADE error for a non-transient pybit failure (None: not a pybit error)."""
    if isinstance(exc, InvalidRequestError):
        return BadInputError(f"Bybit rejected {label}: {describe_error(exc)}")
    if isinstance(exc, FailedRequestError):
        if "retries exceeded" in str(exc.message).lower():
            return ExchangeError(
                f"{label} still rate-limited (retCode {RATE_LIMIT_RET_CODE}) after "
                f"{PYBIT_MAX_ATTEMPTS} attempts; lower TRADE_BYBIT_REQUESTS_PER_S or retry later"
            )
        return ExchangeError(f"{label} failed: {describe_error(exc)}")
    return None


def _describe_call(*args: object, **kwargs: object) -> str:
    """``GET /path (symbol=...)`` from a ``(path, params)`` call, for error messages."""
    path = str(args[0]) if args else str(kwargs.get("path", "request"))
    params = args[1] if len(args) > 1 else kwargs.get("params")
    symbol = params.get("symbol") if isinstance(params, Mapping) else None
    return f"GET {path}" + (f" (symbol={symbol})" if symbol else "")


def retry_transient(
    policy: RetryPolicy,
    *,
    sleep: Sleep = time.sleep,
    describe: Callable[..., str] = _describe_call,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: retry transient failures per ``policy``; translate the rest to TRADE errors.

    Transient (see :func:`is_transient`): wait ``policy.delay(n)`` and try again, up to
    ``policy.attempts`` tries, then raise :class:`ExchangeError` naming the call and the
    number of attempts. A pybit rejection becomes :class:`BadInputError` (retCode) or
    :class:`ExchangeError` (HTTP status) at once; TRADE errors and others pass through.
    """

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            label = describe(*args, **kwargs)
            last: BaseException | None = None
            for attempt in range(1, policy.attempts + 1):
                try:
                    return fn(*args, **kwargs)
                except TradeError:
                    raise
                except Exception as exc:
                    if not is_transient(exc):
                        translated = translate_error(exc, label)
                        if translated is None:
                            raise
                        raise translated from exc
                    last = exc
                    if attempt < policy.attempts:
                        delay = policy.delay(attempt)
                        _log.info(
                            "%s: %s; retry %d/%d in %.2fs",
                            label,
                            describe_error(exc),
                            attempt,
                            policy.attempts - 1,
                            delay,
                        )
                        sleep(delay)
            raise ExchangeError(
                f"{label} failed after {policy.attempts} attempts: "
                f"{describe_error(last) if last else 'no answer'}"
            ) from last

        return wrapper

    return decorate


def rate_limit_wait_s(
    reset_header: str | None, now_ms: int, *, default_s: float, cap_s: float
) -> float:
    """Seconds to wait after a retCode 10006, from ``X-Bapi-Limit-Reset-Timestamp`` (ms).

    Clamped to ``[0, cap_s]``: a reset time in the past (clock skew) means "now", a bogus
    far-future one must not hang the process. Without a readable header: ``default_s``.
    """
    try:
        reset_ms = int(str(reset_header).strip())
    except ValueError:
        return min(max(default_s, 0.0), cap_s)
    return min(max((reset_ms - now_ms) / 1000.0, 0.0), cap_s)


class _PublicHTTP(HTTP):
    """pybit's HTTP with a bounded, skew-safe wait on retCode 10006 (see module docstring)."""

    max_rate_limit_wait_s: float = 10.0
    rate_limit_sleep: Sleep = staticmethod(time.sleep)

    def _handle_retryable_error(
        self, response: requests.Response, error_code: int, error_msg: str, recv_window: int
    ) -> int:
        if error_code != RATE_LIMIT_RET_CODE:
            return super()._handle_retryable_error(response, error_code, error_msg, recv_window)
        wait = rate_limit_wait_s(
            response.headers.get("X-Bapi-Limit-Reset-Timestamp"),
            int(time.time() * 1000),
            default_s=float(self.retry_delay),
            cap_s=self.max_rate_limit_wait_s,
        )
        _log.info(
            "Bybit rate limit (retCode %d) on %s; waiting %.3fs for the reset",
            error_code,
            urlsplit(response.url).path,
            wait,
        )
        self.rate_limit_sleep(wait)
        return recv_window


# ---------------------------------------------------------------------------- the client
class BybitPublicClient:
    """Public V5 market data through pybit: rate-limited, retried, typed. No keys, ever."""

    def __init__(
        self,
        http: HTTP,
        *,
        rate_limiter: RateLimiter,
        retry: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        self._http = http
        self._limiter = rate_limiter
        self.retry = retry or RetryPolicy()
        self._methods: dict[str, Callable[..., Any]] = {
            KLINE_PATH: http.get_kline,
            FUNDING_PATH: http.get_funding_rate_history,
            INSTRUMENTS_PATH: http.get_instruments_info,
            RISK_LIMIT_PATH: http.get_risk_limit,
        }
        self._get = retry_transient(self.retry, sleep=sleep, describe=self._describe)(
            self._get_once
        )

    def _describe(self, path: str, params: Mapping[str, object]) -> str:
        return _describe_call(f"{self.endpoint}{path}", params)

    @property
    def endpoint(self) -> str:
        """The REST base URL in use (Bybit, or the emulator/stub it was pointed at)."""
        return str(self._http.endpoint)

    def get(self, path: str, params: Mapping[str, object]) -> tuple[list[Any], str]:
        """One GET of a public endpoint: ``(result.list, nextPageCursor)``."""
        return self._get(path, dict(params))

    def _get_once(self, path: str, params: dict[str, object]) -> tuple[list[Any], str]:
        method = self._methods.get(path)
        if method is None:
            raise BadInputError(f"unsupported Bybit endpoint {path!r}")
        self._limiter.acquire()
        return result_list(method(**params), path)

    def klines(
        self, symbol: str, interval: str, start_ms: int, end_ms: int, limit: int
    ) -> list[KlineRow]:
        """Linear klines with open time in ``[start_ms, end_ms]``, as Bybit orders them
        (newest first); Bybit returns the newest ``limit`` when more match."""
        params = {"category": "linear", "symbol": symbol, "interval": interval}
        params |= {"start": start_ms, "end": end_ms, "limit": limit}
        rows, _ = self.get(KLINE_PATH, params)
        return [parse_kline_row(r, f"{KLINE_PATH} row {i}") for i, r in enumerate(rows)]

    def funding_history(
        self, symbol: str, start_ms: int, end_ms: int, limit: int
    ) -> list[FundingRow]:
        """Funding settlements in ``[start_ms, end_ms]``, newest first, the newest ``limit``."""
        params = {"category": "linear", "symbol": symbol, "startTime": start_ms}
        params |= {"endTime": end_ms, "limit": limit}
        rows, _ = self.get(FUNDING_PATH, params)
        return [parse_funding_row(r, symbol, f"{FUNDING_PATH} row {i}") for i, r in enumerate(rows)]

    def instruments_page(
        self, *, symbol: str | None = None, cursor: str = "", limit: int = 1000
    ) -> tuple[list[Any], str]:
        """One page of linear instrument specs (raw objects) and the next cursor ('' = last)."""
        params: dict[str, object] = {"category": "linear", "limit": limit}
        params |= {"symbol": symbol} if symbol else {}
        params |= {"cursor": cursor} if cursor else {}
        return self.get(INSTRUMENTS_PATH, params)

    def risk_limit_page(
        self, *, symbol: str | None = None, cursor: str = ""
    ) -> tuple[list[Any], str]:
        """One page of linear risk-limit tiers (raw objects) and the next cursor ('' = last)."""
        params: dict[str, object] = {"category": "linear"}
        params |= {"symbol": symbol} if symbol else {}
        params |= {"cursor": cursor} if cursor else {}
        return self.get(RISK_LIMIT_PATH, params)


def make_client(
    settings: Settings | None = None,
    *,
    retry: RetryPolicy | None = None,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_rate_limit_wait_s: float = 10.0,
) -> BybitPublicClient:
    """A public client for ``settings`` (default: the process settings); no keys are used."""
    s = settings or get_settings()
    http = _PublicHTTP(
        testnet=False,
        timeout=timeout_s,
        max_retries=PYBIT_MAX_ATTEMPTS,
        retry_delay=1,
        logging_level=logging.WARNING,
    )
    http.max_rate_limit_wait_s = max_rate_limit_wait_s
    http.rate_limit_sleep = sleep
    if s.trade_bybit_rest_url:
        http.endpoint = s.trade_bybit_rest_url.rstrip("/")
    limiter = RateLimiter(s.trade_bybit_requests_per_s, clock=clock, sleep=sleep)
    return BybitPublicClient(http, rate_limiter=limiter, retry=retry, sleep=sleep)
