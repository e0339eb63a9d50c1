"""The DuckDB store with real files: upserts, ranges, gaps, funding, instruments, schema."""

import subprocess
import sys
import textwrap

import duckdb
import numpy as np
import pytest

from trade_core.data.candles import Candles
from trade_core.data.instrument_spec import Instrument, RiskTier
from trade_core.data.schema import LATEST_VERSION
from trade_core.data.store import Gap, MarketStore
from trade_core.errors import (
    BadInputError,
    SchemaVersionError,
    StoreLockedError,
    StoreMissingError,
)

T0 = 1704067200000
M = 60_000


def bars(n: int, start: int = T0, price: float = 100.0, turnover: bool = True) -> Candles:
    ts = start + np.arange(n, dtype=np.int64) * M
    close = price + np.arange(n, dtype=float)
    tv = close * 2 if turnover else np.full(n, np.nan)
    return Candles("BTCUSDT", "1m", ts, close, close + 1, close - 1, close, np.ones(n), tv)


@pytest.fixture
def store(tmp_path):
    with MarketStore(tmp_path / "t.duckdb", lock_timeout_s=0.2) as s:
        yield s


def test_upsert_is_idempotent_and_counts_changes(store):
    assert store.upsert_candles(bars(100)).inserted == 100
    again = store.upsert_candles(bars(100))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 100)
    # an overlapping batch at another price: 5 bars replaced, 15 new
    res = store.upsert_candles(bars(20, start=T0 + 95 * M, price=500.0))
    assert (res.inserted, res.updated, res.unchanged) == (15, 5, 0)
    changed = bars(100)
    changed.close[10] += 0.5
    res = store.upsert_candles(changed)
    assert (res.inserted, res.updated, res.unchanged) == (0, 6, 94)
    got = store.read_candles("BTCUSDT", "1m")
    assert len(got) == 115
    assert got.close[10] == changed.close[10]


def test_exact_counts_on_update(store):
    store.upsert_candles(bars(10))
    new = bars(12)
    new.high[3] += 1
    res = store.upsert_candles(new)
    assert (res.inserted, res.updated, res.unchanged) == (2, 1, 9)


def test_read_is_ascending_half_open_and_typed(store):
    store.upsert_candles(bars(50, start=T0 + 25 * M))
    store.upsert_candles(bars(25))
    got = store.read_candles("BTCUSDT", "1m", T0 + 10 * M, T0 + 20 * M)
    assert got.ts.dtype == np.int64 and got.close.dtype == np.float64
    assert got.ts.tolist() == [T0 + i * M for i in range(10, 20)]
    full = store.read_candles("BTCUSDT", "1m")
    assert np.all(np.diff(full.ts) == M) and len(full) == 75
    frame = store.read_frame("BTCUSDT", "1m", end=T0 + 3 * M)
    assert list(frame.columns) == ["ts", "open", "high", "low", "close", "volume", "turnover"]
    assert frame["ts"].dtype == np.int64 and len(frame) == 3
    assert len(store.read_candles("ETHUSDT", "1m")) == 0


def test_missing_turnover_round_trips_as_nan(store):
    store.upsert_candles(bars(5, turnover=False))
    got = store.read_candles("BTCUSDT", "1m")
    assert np.isnan(got.turnover).all()
    assert store.upsert_candles(bars(5, turnover=False)).unchanged == 5
    null_count = store.con.execute("SELECT count(*) FROM candles WHERE turnover IS NULL")
    assert null_count.fetchone()[0] == 5


def test_rejects_unsorted_and_misaligned(store):
    b = bars(5)
    with pytest.raises(BadInputError, match="increasing"):
        store.upsert_candles(b.slice(0, 5).__class__("X", "1m", b.ts[::-1], *([b.close] * 6)))
    with pytest.raises(BadInputError, match="not aligned"):
        store.upsert_candles(Candles("X", "1m", b.ts + 1, *([b.close] * 6)))


def test_gaps_inside_and_at_edges(store):
    b = bars(100)
    keep = np.ones(100, bool)
    keep[[10, 11, 12, 50]] = False
    store.upsert_candles(
        Candles("BTCUSDT", "1m", *(getattr(b, c)[keep] for c in
                ("ts", "open", "high", "low", "close", "volume", "turnover")))
    )  # fmt: skip
    assert store.gaps("BTCUSDT", "1m") == [
        Gap(T0 + 10 * M, T0 + 13 * M, 3),
        Gap(T0 + 50 * M, T0 + 51 * M, 1),
    ]
    edges = store.gaps("BTCUSDT", "1m", T0 - 5 * M, T0 + 103 * M)
    assert edges[0] == Gap(T0 - 5 * M, T0, 5)
    assert edges[-1] == Gap(T0 + 100 * M, T0 + 103 * M, 3)
    assert store.gaps("BTCUSDT", "1m", T0 + 20 * M, T0 + 40 * M) == []
    assert store.gaps("ETHUSDT", "1m", T0, T0 + 10 * M) == [Gap(T0, T0 + 10 * M, 10)]


def test_series_and_coverage(store):
    store.upsert_candles(bars(30))
    info = store.coverage("BTCUSDT", "1m")
    assert (info.first_ts, info.last_ts, info.bars) == (T0, T0 + 29 * M, 30)
    assert [(s.symbol, s.tf, s.bars) for s in store.series()] == [("BTCUSDT", "1m", 30)]
    assert store.coverage("BTCUSDT", "5m") is None
    assert store.delete_series("BTCUSDT", "1m") == 30
    assert store.series() == []


def test_funding_round_trip(store):
    ts = np.array([T0, T0 + 8 * 3_600_000], dtype=np.int64)
    res = store.upsert_funding("BTCUSDT", ts, np.array([0.0001, -0.00025]))
    assert res.inserted == 2
    assert store.upsert_funding("BTCUSDT", ts, np.array([0.0001, -0.0003])).updated == 1
    got_ts, got_rate = store.read_funding("BTCUSDT")
    assert got_ts.tolist() == ts.tolist() and got_rate.tolist() == [0.0001, -0.0003]
    assert store.last_funding_ts("BTCUSDT") == ts[-1]
    assert store.last_funding_ts("ETHUSDT") is None
    with pytest.raises(BadInputError):
        store.upsert_funding("BTCUSDT", ts, np.array([np.nan, 0.0]))


def test_instruments_round_trip(store):
    ins = Instrument(
        symbol="BTCUSDT", tick_size=0.1, qty_step=0.001, min_qty=0.001, min_notional=5,
        max_leverage=100, risk_tiers=(RiskTier(risk_limit_value=2e6, maintenance_margin=0.005,
        initial_margin=0.01, max_leverage=100),), as_of=T0,
    )  # fmt: skip
    assert store.upsert_instruments([ins]).inserted == 1
    assert store.upsert_instruments([ins]).unchanged == 1
    assert store.instrument("BTCUSDT") == ins
    with pytest.raises(BadInputError, match=r"no instrument spec for 'DOGEUSDT'.*BTCUSDT"):
        store.instrument("DOGEUSDT")


def test_transaction_rolls_back_everything(store):
    def crash() -> None:
        with store.transaction() as con:
            con.execute("INSERT INTO funding_rates VALUES ('BTCUSDT', 1, 0.1)")
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        crash()
    assert store.read_funding("BTCUSDT")[0].size == 0


def test_a_killed_writer_leaves_nothing_half_written(tmp_path):
    path = tmp_path / "crash.duckdb"
    with MarketStore(path) as s:
        s.upsert_candles(bars(10))
    code = textwrap.dedent(f"""
        import os, duckdb
        con = duckdb.connect({str(path)!r})
        con.execute("BEGIN TRANSACTION")
        con.execute("INSERT INTO candles SELECT 'BTCUSDT', '1m', {T0} + i * 60000 + 600000, "
                    "1, 1, 1, 1, 1, NULL FROM range(100000) t(i)")
        os._exit(9)  # die mid-transaction, no commit, no close
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True)
    assert proc.returncode == 9
    with MarketStore(path, read_only=True) as s:
        assert len(s.read_candles("BTCUSDT", "1m")) == 10


def test_schema_is_versioned_and_migrations_logged(store):
    assert store.con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == (
        str(LATEST_VERSION),
    )
    log = store.con.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    assert [v for (v,) in log] == list(range(1, LATEST_VERSION + 1))


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "new.duckdb"
    MarketStore(path).close()
    con = duckdb.connect(str(path))
    con.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(SchemaVersionError, match="schema version 999"):
        MarketStore(path)


def test_read_only_needs_an_existing_store(tmp_path):
    with pytest.raises(StoreMissingError, match="no market-data store"):
        MarketStore(tmp_path / "none.duckdb", read_only=True)
    assert not (tmp_path / "none.duckdb").exists()


HOLDER = """
import sys, time
from trade_core.data.store import MarketStore
s = MarketStore(sys.argv[1])
print("ready", flush=True)
time.sleep(30)
"""


def test_second_writer_gets_a_clear_message_naming_the_holder(tmp_path):
    path = tmp_path / "locked.duckdb"
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        with pytest.raises(StoreLockedError) as info:
            MarketStore(path, lock_timeout_s=0.3)
        msg = str(info.value)
        assert str(path) in msg and f"PID {proc.pid}" in msg and "one writer" in msg
        with pytest.raises(StoreLockedError, match="cannot read"):
            MarketStore(path, read_only=True, lock_timeout_s=0.1)
    finally:
        proc.kill()
        proc.wait()
    # once the holder is gone the store opens again, read-only and read-write
    MarketStore(path, read_only=True).close()
    MarketStore(path).close()


def test_many_readers_at_once(tmp_path):
    path = tmp_path / "shared.duckdb"
    with MarketStore(path) as s:
        s.upsert_candles(bars(5))
    a = MarketStore(path, read_only=True)
    b = MarketStore(path, read_only=True)
    assert len(a.read_candles("BTCUSDT", "1m")) == len(b.read_candles("BTCUSDT", "1m")) == 5
    a.close()
    b.close()
