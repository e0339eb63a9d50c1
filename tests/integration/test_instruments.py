"""Instrument specs: the bundled snapshot, and a fetch from the local Bybit V5 stub."""

from __future__ import annotations

import itertools

import pytest

from tests.support.bybit_stub import BybitStub, run_cli_in_process
from tests.support.cli import run_trade
from trade_core.data.bybit_client import INSTRUMENTS_PATH, RISK_LIMIT_PATH, BybitPublicClient
from trade_core.data.instrument_spec import Instrument
from trade_core.data.instruments import (
    REQUIRED_SYMBOLS,
    bundled_metadata,
    fetch_instruments,
    load_bundled_instruments,
    parse_risk_tiers,
)
from trade_core.data.store import MarketStore
from trade_core.errors import BadInputError, ExchangeError

pytestmark = pytest.mark.network_stub

SPEC_FIELDS = (
    "symbol", "category", "tick_size", "qty_step", "min_qty", "max_qty", "max_mkt_qty",
    "min_notional", "max_leverage", "funding_interval_min", "risk_tiers",
)  # fmt: skip


def spec(i: Instrument) -> dict[str, object]:
    """The exchange-given part of a spec (not when or where it was taken)."""
    return {name: getattr(i, name) for name in SPEC_FIELDS}


# ---------------------------------------------------------------------------- bundled
def test_the_bundled_snapshot_has_every_required_symbol_with_sane_tiers() -> None:
    instruments = {i.symbol: i for i in load_bundled_instruments()}

    assert set(REQUIRED_SYMBOLS) <= set(instruments)
    for ins in instruments.values():
        tiers = ins.risk_tiers
        limits = [t.risk_limit_value for t in tiers]
        assert limits == sorted(limits) and len(set(limits)) == len(limits), ins.symbol
        assert tiers[0].max_leverage == ins.max_leverage, ins.symbol
        assert tiers[0].mm_deduction == 0
        for prev, tier in itertools.pairwise(tiers):
            # Bybit's published formula, and IMR = 1 / max leverage.
            expected = prev.mm_deduction + prev.risk_limit_value * (
                tier.maintenance_margin - prev.maintenance_margin
            )
            assert tier.mm_deduction == pytest.approx(expected, abs=1e-6), ins.symbol
            assert tier.maintenance_margin > prev.maintenance_margin
        for tier in tiers:
            assert tier.initial_margin * tier.max_leverage == pytest.approx(1, rel=1e-3)
            assert tier.maintenance_margin < tier.initial_margin
        assert ins.source == "bundled" and ins.min_notional > 0 and ins.funding_interval_min


def test_the_bundled_snapshot_states_its_date_and_sources() -> None:
    meta = bundled_metadata()
    btc = {i.symbol: i for i in load_bundled_instruments()}["BTCUSDT"]

    assert meta["as_of"] == "2025-05-01" and btc.as_of == meta["as_of_ms"]
    assert "best estimate" in meta["source"]
    assert {"BTCUSDT", "ETHUSDT"} <= set(meta["provenance"]["verified"])
    estimated = " ".join(meta["provenance"]["estimated"])
    for symbol in ("SOLUSDT", "FILUSDT", "AVAXUSDT", "NEARUSDT", "LINKUSDT"):
        assert symbol in estimated
    # The values verified against Bybit's documented example (BYBIT_RULES.md agrees).
    assert (btc.tick_size, btc.qty_step, btc.min_qty, btc.min_notional) == (0.1, 0.001, 0.001, 5)
    assert (btc.max_leverage, btc.funding_interval_min) == (100, 480)
    assert btc.risk_tiers[0].maintenance_margin == 0.005


def test_the_bundled_snapshot_round_trips_through_the_store(trade_home: object) -> None:
    bundled = load_bundled_instruments()
    with MarketStore.open() as store:
        first = store.upsert_instruments(bundled)
        again = store.upsert_instruments(bundled)
        stored = store.instruments()

    assert (first.inserted, again.unchanged) == (len(bundled), len(bundled))
    assert stored == bundled


# ---------------------------------------------------------------------------- fetch
def test_fetch_follows_both_cursors_and_matches_the_spec(
    bybit_stub: BybitStub, bybit_client: BybitPublicClient
) -> None:
    bybit_stub.instruments_page_cap = 3
    bybit_stub.risk_page_cap = 4

    fetched = fetch_instruments(bybit_client, as_of_ms=123)

    bundled = load_bundled_instruments()
    assert [spec(i) for i in fetched] == [spec(i) for i in bundled]  # BTCPERP, BTC-27DEC24 skipped
    assert {(i.as_of, i.source) for i in fetched} == {(123, bybit_stub.url)}
    pages = bybit_stub.requests_for(INSTRUMENTS_PATH)
    assert len(pages) == 3  # 9 rows, 3 a page
    assert "cursor" not in pages[0].params
    assert [p.params["cursor"] for p in pages[1:]] == ["3,instruments", "6,instruments"]
    risk = bybit_stub.requests_for(RISK_LIMIT_PATH)
    assert len(risk) == 9  # 35 tiers, 4 a page
    assert all("symbol" not in r.params for r in risk)


def test_fetch_of_named_symbols_reads_their_tiers_only(
    bybit_stub: BybitStub, bybit_client: BybitPublicClient
) -> None:
    bybit_stub.risk_page_cap = 2

    fetched = fetch_instruments(bybit_client, ["ethusdt", "BTCUSDT"])

    assert [i.symbol for i in fetched] == ["ETHUSDT", "BTCUSDT"]
    risk = bybit_stub.requests_for(RISK_LIMIT_PATH)
    assert [r.params["symbol"] for r in risk] == ["ETHUSDT"] * 3 + ["BTCUSDT"] * 3
    assert len(fetched[1].risk_tiers) == 5


def test_fetch_of_an_unlisted_symbol_is_bad_input(
    bybit_stub: BybitStub, bybit_client: BybitPublicClient
) -> None:
    with pytest.raises(BadInputError, match="no USDT perpetual NOPEUSDT"):
        fetch_instruments(bybit_client, ["BTCUSDT", "NOPEUSDT"])
    with pytest.raises(BadInputError, match="no USDT perpetual BTCPERP"):
        fetch_instruments(bybit_client, ["BTCPERP"])  # a USDC perpetual


@pytest.mark.parametrize(
    ("path", "needle"),
    [
        (INSTRUMENTS_PATH, "field 'priceFilter.tickSize' = 'abc'"),
        (RISK_LIMIT_PATH, "field 'maintenanceMargin' = 'abc'"),
    ],
)
def test_a_malformed_spec_names_the_field(
    bybit_stub: BybitStub, bybit_client: BybitPublicClient, path: str, needle: str
) -> None:
    bybit_stub.malformed_next(path)

    with pytest.raises(ExchangeError, match=needle):
        fetch_instruments(bybit_client, ["AVAXUSDT"])


def test_tiers_in_percent_are_rejected_not_stored_as_fractions() -> None:
    row = {"riskLimitValue": "150", "maintenanceMargin": "0.5", "initialMargin": "1",
           "maxLeverage": "100.00", "mmDeduction": ""}  # fmt: skip
    fraction = row | {"maintenanceMargin": "0.005", "initialMargin": "0.01"}

    with pytest.raises(ExchangeError, match="fractions"):
        parse_risk_tiers([row], "BTCUSDT")
    [tier] = parse_risk_tiers([fraction], "BTCUSDT")
    assert (tier.maintenance_margin, tier.mm_deduction) == (0.005, 0.0)


# ---------------------------------------------------------------------------- CLI
def test_cli_instruments_loads_the_bundled_snapshot(trade_home: object) -> None:
    res = run_trade("data", "instruments")

    assert res.code == 0, res.err
    for symbol in REQUIRED_SYMBOLS:
        assert symbol in res.out
    assert "bundled snapshot as of 2025-05-01" in res.out
    with MarketStore.open(read_only=True) as store:
        assert [i.symbol for i in store.instruments()] == sorted(
            i.symbol for i in load_bundled_instruments()
        )


def test_cli_instruments_fetch_stores_what_the_exchange_says(
    bybit_stub: BybitStub, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli_in_process(
        capsys, "data", "instruments", "--fetch", "--symbol", "SOLUSDT", "-s", "BTCUSDT"
    )

    assert code == 0, err
    assert f"from {bybit_stub.url}" in out and "2 new" in out
    with MarketStore.open(read_only=True) as store:
        assert store.instrument("SOLUSDT").source == bybit_stub.url
        assert [i.symbol for i in store.instruments()] == ["BTCUSDT", "SOLUSDT"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--symbol", "NOPEUSDT"), "no instrument spec for NOPEUSDT"),
        (("--fetch", "--symbol", "NOPEUSDT"), "no USDT perpetual NOPEUSDT"),
        (("--symbol", "bad symbol!"), "expected letters and digits"),
    ],
)
def test_cli_instruments_errors_exit_2_on_one_line(
    bybit_stub: BybitStub, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], needle: str
) -> None:
    code, _out, err = run_cli_in_process(capsys, "data", "instruments", *args)

    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0], err
