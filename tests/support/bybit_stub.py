"""A real local HTTP server that answers like Bybit V5's public market endpoints.

It serves ``/v5/market/kline``, ``/v5/market/funding/history``, ``/v5/market/instruments-info``
and ``/v5/market/risk-limit`` from deterministic data and honours their paging rules the way
Bybit documents them: klines and funding newest-first, the newest ``limit`` rows of the
requested range; instruments and risk tiers cursor-paginated. A bar at ``floor(now, tf)`` is
served too (Bybit serves the forming bar), so the client's clamp is really tested.

Deterministic data: every bar and funding rate is a pure function of (symbol, tf, time), so
any request returns the same strings again; nothing exists before a market's listing time;
funding settles every ``funding_interval_h`` hours (UTC-aligned). Instrument specs are the
bundled snapshot, re-encoded the way Bybit encodes them (decimal strings, nested filters),
plus a USDC perpetual and a dated future that a USDT-perpetual fetch must skip.

Faults (each matches a path, or every path, after ``skip`` matching requests, ``times`` times
or forever): an HTTP status, a retCode (10006 comes with ``X-Bapi-Limit-Reset-Timestamp``),
or a malformed field in an otherwise good answer. Every request is logged.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from trade_core.config import get_settings
from trade_core.data.bybit_client import (
    FUNDING_PATH,
    INSTRUMENTS_PATH,
    KLINE_PATH,
    RISK_LIMIT_PATH,
    BybitPublicClient,
    make_client,
)
from trade_core.data.instrument_spec import Instrument
from trade_core.data.instruments import load_bundled_instruments
from trade_core.data.store import MarketStore
from trade_core.data.timeframes import BYBIT_INTERVALS, ceil_ts, floor_ts, tf_ms
from trade_core.throttle import RetryPolicy
from trade_core.timestamps import DAY_MS, HOUR_MS, parse_time

STUB_NOW_MS = parse_time("2024-03-01T12:34:56")
"""The stub's "now": the newest bar it serves is the one forming at this instant."""
TF_OF_INTERVAL = {code: tf for tf, code in BYBIT_INTERVALS.items()}
FAST_RETRY = RetryPolicy(attempts=3, base_delay_s=0.001, multiplier=2.0, max_delay_s=0.004)


@dataclass(frozen=True)
class Market:
    """One listed symbol of the stub: listing instant (ms), price level, funding interval."""

    symbol: str
    listing_ms: int
    base_price: float
    price_decimals: int = 2
    funding_interval_h: int = 8


DEFAULT_MARKETS: tuple[Market, ...] = (
    Market("BTCUSDT", parse_time("2020-03-25"), 40_000.0, 1),
    Market("ETHUSDT", parse_time("2021-03-15"), 2_500.0, 2),
    Market("SOLUSDT", parse_time("2021-10-15"), 100.0, 3),
    Market("NEWUSDT", parse_time("2024-01-10T06:00"), 1.25, 4, funding_interval_h=4),
)


@dataclass
class Fault:
    """An injected failure; ``kind`` is ``http``, ``ret_code`` or ``malformed``."""

    kind: str
    path: str | None = None
    skip: int = 0
    times: int | None = 1
    status: int = 500
    ret_code: int = 0
    reset_in_ms: int = 30


@dataclass(frozen=True)
class LoggedRequest:
    path: str
    params: dict[str, str]
    status: int
    ret_code: int | None


def _num(x: float) -> str:
    """A decimal string the way Bybit writes numbers (no exponent, no trailing zeros)."""
    return np.format_float_positional(float(x), trim="-")


class StubError(Exception):
    """A Bybit error answer (HTTP 200, non-zero retCode)."""

    def __init__(self, ret_code: int, message: str) -> None:
        super().__init__(message)
        self.ret_code = ret_code
        self.message = message


def _limit(q: dict[str, str], default: int, maximum: int) -> int:
    try:
        limit = int(q.get("limit", default))
    except ValueError:
        raise StubError(10001, "params error: limit") from None
    if not 1 <= limit <= maximum:
        raise StubError(10001, f"params error: limit must be in [1, {maximum}]")
    return limit


def _offset(cursor: str) -> int:
    if not cursor:
        return 0
    head = cursor.split(",", 1)[0]  # "%2C" in the cursor arrives URL-decoded
    if not head.isdigit():
        raise StubError(10001, "params error: invalid cursor")
    return int(head)


def _page(rows: list[Any], cursor: str, size: int, token: str) -> dict[str, Any]:
    start = _offset(cursor)
    chunk = rows[start : start + size]
    more = start + size < len(rows)
    # Bybit's cursors are already percent-encoded ("...%2C..."); pybit sends them verbatim.
    return {"list": chunk, "nextPageCursor": f"{start + size}%2C{token}" if more else ""}


class BybitStub:
    """The server, its data, its faults and its request log (thread-safe)."""

    def __init__(
        self,
        *,
        now_ms: int = STUB_NOW_MS,
        markets: tuple[Market, ...] = DEFAULT_MARKETS,
        instruments: list[Instrument] | None = None,
        instruments_page_cap: int = 1000,
        risk_page_cap: int = 1000,
    ) -> None:
        self.now_ms = now_ms
        self.markets = {m.symbol: m for m in markets}
        self.instruments = instruments if instruments is not None else load_bundled_instruments()
        self.instruments_page_cap = instruments_page_cap
        self.risk_page_cap = risk_page_cap
        self.log: list[LoggedRequest] = []
        self.faults: list[Fault] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> BybitStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                stub._serve(self)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None, "stub not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # ------------------------------------------------------------------ faults and log
    def add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def fail_next(self, n: int = 1, *, status: int = 500, path: str | None = None, skip: int = 0):
        return self.add_fault(Fault("http", path, skip=skip, times=n, status=status))

    def fail_forever(self, *, status: int = 500, path: str | None = None, skip: int = 0):
        return self.add_fault(Fault("http", path, skip=skip, times=None, status=status))

    def rate_limit_next(self, n: int | None = 1, *, reset_in_ms: int = 30, path: str | None = None):
        return self.add_fault(
            Fault("ret_code", path, times=n, ret_code=10006, reset_in_ms=reset_in_ms)
        )

    def malformed_next(self, path: str, *, skip: int = 0, n: int = 1) -> Fault:
        return self.add_fault(Fault("malformed", path, skip=skip, times=n))

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    def requests_for(self, path: str) -> list[LoggedRequest]:
        with self._lock:
            return [r for r in self.log if r.path == path]

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.path not in (None, path) or fault.times == 0:
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                if fault.times is not None:
                    fault.times -= 1
                return fault
        return None

    # ------------------------------------------------------------------ HTTP
    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        fault = self._take_fault(parts.path)
        headers: dict[str, str] = {}
        if fault is not None and fault.kind == "http":
            self._record(parts.path, params, fault.status, None)
            return self._send(handler, fault.status, b"stub: injected failure", headers)
        try:
            if fault is not None and fault.kind == "ret_code":
                if fault.ret_code == 10006:
                    reset = int(time.time() * 1000) + fault.reset_in_ms
                    headers["X-Bapi-Limit-Reset-Timestamp"] = str(reset)
                raise StubError(fault.ret_code, "Too many visits!")
            result = self._route(parts.path, params)
            if fault is not None and fault.kind == "malformed":
                self._corrupt(parts.path, result)
            body = {"retCode": 0, "retMsg": "OK", "result": result}
        except StubError as exc:
            body = {"retCode": exc.ret_code, "retMsg": exc.message, "result": {}}
        body |= {"retExtInfo": {}, "time": int(time.time() * 1000)}
        self._record(parts.path, params, 200, int(body["retCode"]))
        self._send(handler, 200, json.dumps(body).encode(), headers)

    def _record(self, path: str, params: dict[str, str], status: int, code: int | None) -> None:
        with self._lock:
            self.log.append(LoggedRequest(path, params, status, code))

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            h.send_header(key, value)
        h.end_headers()
        h.wfile.write(body)

    def _route(self, path: str, q: dict[str, str]) -> dict[str, Any]:
        if q.get("category") != "linear":
            raise StubError(10001, "params error: category only supports linear here")
        routes = {
            KLINE_PATH: self._kline,
            FUNDING_PATH: self._funding,
            INSTRUMENTS_PATH: self._instruments,
            RISK_LIMIT_PATH: self._risk_limit,
        }
        if path not in routes:
            raise StubError(10001, f"unknown path {path}")
        return routes[path](q)

    @staticmethod
    def _corrupt(path: str, result: dict[str, Any]) -> None:
        rows = result.get("list") or []
        if not rows:
            return
        if path == KLINE_PATH:
            rows[len(rows) // 2][4] = "n/a"  # close
        elif path == FUNDING_PATH:
            rows[0]["fundingRate"] = "n/a"
        elif path == INSTRUMENTS_PATH:
            rows[0]["priceFilter"]["tickSize"] = "abc"
        else:
            rows[0]["maintenanceMargin"] = "abc"

    # ------------------------------------------------------------------ data
    def market(self, symbol: str | None) -> Market:
        if symbol not in self.markets:
            raise StubError(10001, f"params error: Symbol Is Invalid ({symbol})")
        return self.markets[symbol]

    def bar(self, symbol: str, tf: str, ts: int) -> list[str]:
        """The kline row Bybit would send for ``symbol``/``tf`` at open time ``ts``."""
        m = self.markets[symbol]
        rng = random.Random(f"{symbol}|{tf}|{ts}")
        mid = m.base_price * (1.0 + 0.2 * math.sin(ts / (10 * DAY_MS)))
        o = mid * (1 + rng.uniform(-0.002, 0.002))
        c = mid * (1 + rng.uniform(-0.002, 0.002))
        h = max(o, c) * (1 + rng.uniform(0, 0.001))
        lo = min(o, c) * (1 - rng.uniform(0, 0.001))
        vol = rng.uniform(1, 100)
        d = m.price_decimals
        return [str(ts), *(f"{x:.{d}f}" for x in (o, h, lo, c)), f"{vol:.3f}", f"{vol * mid:.4f}"]

    def bar_times(self, symbol: str, tf: str, start: int, end: int) -> list[int]:
        """Open times (ascending) of the bars served for ``[start, end]`` (forming bar too)."""
        step = tf_ms(tf)
        lo = max(ceil_ts(start, tf), ceil_ts(self.markets[symbol].listing_ms, tf))
        hi = min(floor_ts(end, tf), floor_ts(self.now_ms, tf))
        return list(range(lo, hi + 1, step)) if hi >= lo else []

    def settlements(self, symbol: str, start: int, end: int) -> list[int]:
        """Funding instants (ascending) in ``[start, end]``, from listing up to now."""
        m = self.markets[symbol]
        step = m.funding_interval_h * HOUR_MS
        lo = -(-max(start, m.listing_ms) // step) * step
        hi = min(end, self.now_ms)
        return list(range(lo, hi + 1, step)) if hi >= lo else []

    def funding_rate(self, symbol: str, ts: int) -> str:
        return f"{random.Random(f'{symbol}|funding|{ts}').uniform(-0.0003, 0.0006):.8f}"

    def _kline(self, q: dict[str, str]) -> dict[str, Any]:
        m = self.market(q.get("symbol"))
        tf = TF_OF_INTERVAL.get(q.get("interval", ""))
        if tf is None:
            raise StubError(10001, "Invalid period!")
        limit = _limit(q, 200, 1000)
        end = int(q.get("end", self.now_ms))
        start = int(q["start"]) if "start" in q else end - limit * tf_ms(tf)
        times = self.bar_times(m.symbol, tf, start, end)[-limit:]
        rows = [self.bar(m.symbol, tf, t) for t in reversed(times)]
        return {"symbol": m.symbol, "category": "linear", "list": rows}

    def _funding(self, q: dict[str, str]) -> dict[str, Any]:
        m = self.market(q.get("symbol"))
        if "startTime" in q and "endTime" not in q:
            raise StubError(10001, "params error: endTime is required with startTime")
        limit = _limit(q, 200, 200)
        start = int(q.get("startTime", 0))
        end = int(q.get("endTime", self.now_ms))
        times = self.settlements(m.symbol, start, end)[-limit:]
        rows = [
            {"symbol": m.symbol, "fundingRate": self.funding_rate(m.symbol, t),
             "fundingRateTimestamp": str(t)}
            for t in reversed(times)
        ]  # fmt: skip
        return {"category": "linear", "list": rows}

    def instrument_rows(self) -> list[dict[str, Any]]:
        """instruments-info rows: the bundled specs, a USDC perpetual and a dated future."""
        rows = [_instrument_row(i) for i in self.instruments]
        btc = next((r for r in rows if r["symbol"] == "BTCUSDT"), None)
        if btc is not None:
            rows.append(btc | {"symbol": "BTCPERP", "quoteCoin": "USDC", "settleCoin": "USDC"})
            rows.append(btc | {"symbol": "BTC-27DEC24", "contractType": "LinearFutures"})
        return sorted(rows, key=lambda r: r["symbol"])

    def _instruments(self, q: dict[str, str]) -> dict[str, Any]:
        limit = _limit(q, 500, 1000)
        rows = self.instrument_rows()
        if q.get("symbol"):
            rows = [r for r in rows if r["symbol"] == q["symbol"]]
        size = min(limit, self.instruments_page_cap)
        return {"category": "linear"} | _page(rows, q.get("cursor", ""), size, "instruments")

    def _risk_limit(self, q: dict[str, str]) -> dict[str, Any]:
        rows = [row for i in self.instruments for row in _risk_rows(i)]
        if q.get("symbol"):
            rows = [r for r in rows if r["symbol"] == q["symbol"]]
            if not rows:
                raise StubError(10001, f"params error: symbol invalid ({q['symbol']})")
        page = _page(rows, q.get("cursor", ""), self.risk_page_cap, "risk")
        return {"category": "linear"} | page


def _instrument_row(i: Instrument) -> dict[str, Any]:
    return {
        "symbol": i.symbol,
        "contractType": "LinearPerpetual",
        "status": "Trading",
        "baseCoin": i.symbol.removesuffix("USDT"),
        "quoteCoin": "USDT",
        "settleCoin": "USDT",
        "launchTime": "1585526400000",
        "deliveryTime": "0",
        "leverageFilter": {
            "minLeverage": "1",
            "maxLeverage": f"{i.max_leverage:.2f}",
            "leverageStep": "0.01",
        },
        "priceFilter": {
            "minPrice": _num(i.tick_size),
            "maxPrice": "1999999.80",
            "tickSize": _num(i.tick_size),
        },
        "lotSizeFilter": {
            "maxOrderQty": _num(i.max_qty) if i.max_qty else "",
            "minOrderQty": _num(i.min_qty),
            "qtyStep": _num(i.qty_step),
            "postOnlyMaxOrderQty": _num(i.max_qty) if i.max_qty else "",
            "maxMktOrderQty": _num(i.max_mkt_qty) if i.max_mkt_qty else "",
            "minNotionalValue": _num(i.min_notional),
        },
        "unifiedMarginTrade": True,
        "fundingInterval": i.funding_interval_min,
        "copyTrading": "both",
    }


def _risk_rows(i: Instrument) -> list[dict[str, Any]]:
    return [
        {
            "id": n + 1,
            "symbol": i.symbol,
            "riskLimitValue": _num(t.risk_limit_value),
            "maintenanceMargin": _num(t.maintenance_margin),
            "initialMargin": _num(t.initial_margin),
            "isLowestRisk": 1 if n == 0 else 0,
            "maxLeverage": f"{t.max_leverage:.2f}",
            "mmDeduction": "" if n == 0 else _num(t.mm_deduction),
        }
        for n, t in enumerate(i.risk_tiers)
    ]


def run_cli_in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``trade ARGS...`` through the real ``main()`` in this process: ``(code, out, err)``.

    Same entry point, error handling and exit codes as the console script, without the
    two seconds a subprocess spends importing; end-to-end subprocess runs are kept few.
    """
    from trade_core.cli.app import main

    with pytest.raises(SystemExit) as info:
        main(list(args))
    captured = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 1 if code else 0), captured.out, captured.err


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture
def bybit_stub(trade_home: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[BybitStub]:
    """A running stub; ``TRADE_BYBIT_REST_URL`` points at it (and the client rate is high)."""
    stub = BybitStub().start()
    monkeypatch.setenv("TRADE_BYBIT_REST_URL", stub.url)
    monkeypatch.setenv("TRADE_BYBIT_REQUESTS_PER_S", "1000")
    get_settings.cache_clear()
    try:
        yield stub
    finally:
        stub.stop()
        get_settings.cache_clear()


@pytest.fixture
def bybit_client(bybit_stub: BybitStub) -> BybitPublicClient:
    """A client of the stub with millisecond retry backoff."""
    return make_client(retry=FAST_RETRY, max_rate_limit_wait_s=0.5)


@pytest.fixture
def market_store(trade_home: Any) -> Iterator[MarketStore]:
    """The test's store, open for writing."""
    with MarketStore.open() as store:
        yield store


__all__ = [
    "DEFAULT_MARKETS",
    "FAST_RETRY",
    "STUB_NOW_MS",
    "BybitStub",
    "Fault",
    "LoggedRequest",
    "Market",
    "bybit_client",
    "bybit_stub",
    "market_store",
    "run_cli_in_process",
]
