"""Instrument specs: a bundled, dated snapshot for offline use, and a fetch from Bybit.

The snapshot (``bundled/instruments.json``, package data) says in its metadata which values
were verified against Bybit's documentation or a recorded Bybit answer and which are best
estimates; ``trade data instruments --fetch`` replaces them with Bybit's current values.

A fetch reads ``/v5/market/instruments-info`` (tick size, lot-size filter, leverage, funding
interval) and ``/v5/market/risk-limit`` (tiers), both cursor-paginated. Units follow
:mod:`trade_core.data.instrument_spec`: prices USDT, quantities base coin, rates fractions.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from trade_core.data.bybit_payloads import (
    INSTRUMENTS_PATH,
    RISK_LIMIT_PATH,
    field_at,
    parse_int,
    parse_number,
)
from trade_core.data.instrument_spec import Instrument, RiskTier
from trade_core.errors import BadInputError, ExchangeError, TradeError
from trade_core.timestamps import now_ms

if TYPE_CHECKING:  # pybit + requests cost ~0.25 s to import; only fetching needs them
    from trade_core.data.bybit_client import BybitPublicClient

_log = logging.getLogger(__name__)

BUNDLED_PACKAGE = "trade_core.data"
BUNDLED_RESOURCE = "bundled/instruments.json"
REQUIRED_SYMBOLS: tuple[str, ...] = (
    "BTCUSDT",
    "ETHUSDT",
    "SOLUSDT",
    "FILUSDT",
    "AVAXUSDT",
    "NEARUSDT",
    "LINKUSDT",
)
MAX_PAGES = 1000
"""Safety stop for cursor loops: a server that keeps returning a cursor is broken."""
IM_LEVERAGE_TOLERANCE = 0.05
"""Bybit's tier initial margin is ``1 / maxLeverage``; a tier off by more than 5 % means the
answer is in other units (e.g. percent) and must not be stored as fractions."""


# ---------------------------------------------------------------------------- bundled
@lru_cache(maxsize=1)
def _bundled_document() -> dict[str, Any]:
    text = resources.files(BUNDLED_PACKAGE).joinpath(BUNDLED_RESOURCE).read_text("utf-8")
    return json.loads(text)


def bundled_metadata() -> dict[str, Any]:
    """The snapshot's metadata: ``as_of`` (date), ``as_of_ms``, ``source``, ``provenance``."""
    doc = _bundled_document()
    return {key: value for key, value in doc.items() if key != "instruments"}


def load_bundled_instruments() -> list[Instrument]:
    """Every instrument of the bundled snapshot, ordered by symbol."""
    doc = _bundled_document()
    try:
        items = [Instrument.model_validate(item) for item in doc["instruments"]]
    except (KeyError, TypeError, ValidationError) as exc:
        raise TradeError(f"the bundled {BUNDLED_RESOURCE} is invalid: {exc}") from exc
    return sorted(items, key=lambda i: i.symbol)


def select_instruments(instruments: list[Instrument], symbols: Iterable[str]) -> list[Instrument]:
    """The instruments named by ``symbols`` (all if empty); unknown names are bad input."""
    wanted = [s.strip().upper() for s in symbols if s.strip()]
    if not wanted:
        return instruments
    by_symbol = {i.symbol: i for i in instruments}
    missing = [s for s in wanted if s not in by_symbol]
    if missing:
        raise BadInputError(
            f"no instrument spec for {', '.join(missing)} in the snapshot "
            f"(has: {', '.join(sorted(by_symbol))}); use --fetch to get it from Bybit"
        )
    return [by_symbol[s] for s in dict.fromkeys(wanted)]


# ---------------------------------------------------------------------------- parsing
def _optional_number(row: Mapping[str, Any], path: str, where: str) -> float | None:
    """A positive number, or None when Bybit leaves the field out or empty."""
    try:
        value = field_at(row, path, where)
    except ExchangeError:
        return None
    if value in ("", None):
        return None
    number = parse_number(value, path, where, minimum=0.0)
    return number if number > 0 else None


def parse_risk_tiers(rows: list[Any], symbol: str) -> tuple[RiskTier, ...]:
    """Bybit risk-limit rows of one symbol -> tiers in ascending ``risk_limit_value``.

    ``mmDeduction`` is empty on the first tier and means 0. Rates are checked to be
    fractions (initial margin = 1 / max leverage), since a percent value would still pass
    the model's range checks and silently inflate margins a hundredfold.
    """
    tiers: list[RiskTier] = []
    for i, row in enumerate(rows):
        where = f"{RISK_LIMIT_PATH} {symbol} tier {i}"
        if not isinstance(row, Mapping):
            raise ExchangeError(f"malformed Bybit answer: {where} is not an object")
        limit = parse_number(field_at(row, "riskLimitValue", where), "riskLimitValue", where)
        mmr = parse_number(field_at(row, "maintenanceMargin", where), "maintenanceMargin", where)
        imr = parse_number(field_at(row, "initialMargin", where), "initialMargin", where)
        lev = parse_number(field_at(row, "maxLeverage", where), "maxLeverage", where)
        raw_ded = row.get("mmDeduction", "")
        ded = 0.0 if raw_ded in ("", None) else parse_number(raw_ded, "mmDeduction", where)
        if lev <= 0 or abs(imr * lev - 1.0) > IM_LEVERAGE_TOLERANCE:
            raise ExchangeError(
                f"malformed Bybit answer: {where} initialMargin {imr:g} is not 1/maxLeverage "
                f"({lev:g}); rates are expected as fractions (0.01 = 1 %)"
            )
        try:
            tier = RiskTier(
                risk_limit_value=limit,
                maintenance_margin=mmr,
                initial_margin=imr,
                max_leverage=lev,
                mm_deduction=ded,
            )
        except ValidationError as exc:
            raise ExchangeError(f"malformed Bybit answer: {where}: {_first_error(exc)}") from None
        tiers.append(tier)
    tiers.sort(key=lambda t: t.risk_limit_value)
    if not tiers:
        raise ExchangeError(f"Bybit {RISK_LIMIT_PATH} returned no risk tiers for {symbol}")
    return tuple(tiers)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"


def parse_instrument(
    row: Mapping[str, Any], tiers: tuple[RiskTier, ...], *, as_of: int, source: str
) -> Instrument:
    """One ``instruments-info`` linear row plus its tiers -> :class:`Instrument`."""
    symbol = str(row.get("symbol", "?"))
    where = f"{INSTRUMENTS_PATH} {symbol}"

    def number(path: str, minimum: float = 0.0) -> float:
        return parse_number(field_at(row, path, where), path, where, minimum=minimum)

    funding = row.get("fundingInterval")
    try:
        return Instrument(
            symbol=symbol,
            category="linear",
            tick_size=number("priceFilter.tickSize"),
            qty_step=number("lotSizeFilter.qtyStep"),
            min_qty=number("lotSizeFilter.minOrderQty"),
            max_qty=_optional_number(row, "lotSizeFilter.maxOrderQty", where),
            max_mkt_qty=_optional_number(row, "lotSizeFilter.maxMktOrderQty", where),
            min_notional=number("lotSizeFilter.minNotionalValue"),
            max_leverage=number("leverageFilter.maxLeverage"),
            funding_interval_min=(
                parse_int(funding, "fundingInterval", where) if funding not in ("", None) else None
            ),
            risk_tiers=tiers,
            as_of=as_of,
            source=source,
        )
    except ValidationError as exc:
        raise ExchangeError(f"malformed Bybit answer: {where}: {_first_error(exc)}") from None


# ---------------------------------------------------------------------------- fetching
def _usdt_perpetual(row: Any) -> bool:
    return (
        isinstance(row, Mapping)
        and row.get("contractType") == "LinearPerpetual"
        and row.get("settleCoin", row.get("quoteCoin")) == "USDT"
    )


def _instrument_rows(client: BybitPublicClient) -> dict[str, Mapping[str, Any]]:
    """Every USDT-perpetual row of ``instruments-info``, following the cursor."""
    rows: dict[str, Mapping[str, Any]] = {}
    cursor = ""
    for _ in range(MAX_PAGES):
        page, cursor = client.instruments_page(cursor=cursor)
        rows.update((str(r["symbol"]), r) for r in page if _usdt_perpetual(r) and "symbol" in r)
        if not cursor:
            return rows
    raise ExchangeError(f"Bybit {INSTRUMENTS_PATH} kept paginating past {MAX_PAGES} pages")


def _risk_rows(client: BybitPublicClient, symbol: str | None) -> dict[str, list[Any]]:
    """Risk-limit rows by symbol (of one symbol, or all), following the cursor."""
    rows: dict[str, list[Any]] = {}
    cursor = ""
    for _ in range(MAX_PAGES):
        page, cursor = client.risk_limit_page(symbol=symbol, cursor=cursor)
        for row in page:
            if isinstance(row, Mapping) and "symbol" in row:
                rows.setdefault(str(row["symbol"]), []).append(row)
        if not cursor:
            return rows
    raise ExchangeError(f"Bybit {RISK_LIMIT_PATH} kept paginating past {MAX_PAGES} pages")


def fetch_instruments(
    client: BybitPublicClient, symbols: Iterable[str] | None = None, *, as_of_ms: int | None = None
) -> list[Instrument]:
    """Current specs of ``symbols`` (default: every USDT perpetual) from Bybit, by symbol.

    Instruments-info is read whole (one or two pages of 1000); risk tiers per symbol when
    symbols are named (Bybit pages the full linear list 15-30 symbols at a time), else whole.
    Each spec records ``as_of`` (epoch ms, default now) and the REST base URL as ``source``.
    """
    wanted = list(dict.fromkeys(s.strip().upper() for s in symbols or [] if s.strip()))
    specs = _instrument_rows(client)
    missing = [s for s in wanted if s not in specs]
    if missing:
        raise BadInputError(
            f"Bybit lists no USDT perpetual {', '.join(missing)} (at {client.endpoint})"
        )
    names = wanted or sorted(specs)
    tiers: dict[str, list[Any]] = {}
    if wanted:
        for name in names:
            tiers.update(_risk_rows(client, name))
    else:
        tiers = _risk_rows(client, None)
    as_of = now_ms() if as_of_ms is None else as_of_ms
    out = []
    for name in names:
        if not tiers.get(name):
            if not wanted:  # one odd listing must not sink a fetch of hundreds
                _log.warning("Bybit returned no risk tiers for %s; skipped", name)
                continue
            raise ExchangeError(f"Bybit {RISK_LIMIT_PATH} returned no risk tiers for {name}")
        parsed = parse_risk_tiers(tiers[name], name)
        out.append(parse_instrument(specs[name], parsed, as_of=as_of, source=client.endpoint))
    return out
