"""The DuckDB market-data store: candles, funding rates, instruments.

DuckDB allows one read-write process per file (or any number of read-only ones). So:
- writers open, write one transaction per batch, and close — never hold the file idle;
- readers open ``read_only=True``;
- while another process holds the lock we retry for ``lock_timeout_s`` and then fail with a
  :class:`StoreLockedError` naming the file and the process that holds it.

Ranges are half-open ``[start, end)`` in epoch ms; reads are ascending by ``ts``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from trade_core.config import Settings, get_settings
from trade_core.data.candles import CANDLE_COLUMNS, OHLCV_COLUMNS, Candles
from trade_core.data.instrument_spec import Instrument, RiskTier
from trade_core.data.schema import LATEST_VERSION, migrate, schema_version
from trade_core.data.timeframes import tf_ms
from trade_core.errors import (
    BadInputError,
    SchemaVersionError,
    StoreLockedError,
    StoreMissingError,
)

_LOCK_RE = re.compile(r"Conflicting lock is held in (?P<exe>.*?) \(PID (?P<pid>\d+)\)")
_BIG = 2**62


@dataclass(frozen=True, slots=True)
class UpsertResult:
    """Rows of one upsert batch: new, changed (replaced) and identical (untouched)."""

    inserted: int
    updated: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.unchanged

    def summary(self) -> str:
        """``"12 new, 1 changed, 3 unchanged"``: the one wording every command uses."""
        return f"{self.inserted:,} new, {self.updated:,} changed, {self.unchanged:,} unchanged"


@dataclass(frozen=True, slots=True)
class Gap:
    """Missing bars ``[start, end)``; ``end - start == bars * tf_ms``."""

    start: int
    end: int
    bars: int


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    symbol: str
    tf: str
    first_ts: int
    last_ts: int
    bars: int


def _bounds(start: int | None, end: int | None) -> tuple[int, int]:
    """Half-open range bounds as plain ints (DuckDB refuses numpy integers as parameters)."""
    return (-_BIG if start is None else int(start), _BIG if end is None else int(end))


def _holder_description(message: str) -> str:
    """Describe the process named in DuckDB's lock error (with its command line if visible)."""
    m = _LOCK_RE.search(message)
    if not m:
        return "another process"
    pid = m.group("pid")
    cmdline = ""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        cmdline = raw.replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        pass
    return f"PID {pid} ({cmdline or m.group('exe')})"


def _connect(path: Path, read_only: bool, lock_timeout_s: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + lock_timeout_s
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            msg = str(exc)
            if "lock" not in msg.lower():
                raise
            if time.monotonic() >= deadline:
                mode = "read" if read_only else "write to"
                raise StoreLockedError(
                    f"cannot {mode} {path}: it is locked by {_holder_description(msg)}; "
                    f"waited {lock_timeout_s:g}s (DuckDB allows one writer per file — "
                    "wait for that process or stop it)"
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


class MarketStore:
    """One open connection to the store file. Use as a context manager; close promptly."""

    def __init__(
        self, path: Path | str, *, read_only: bool = False, lock_timeout_s: float = 10.0
    ) -> None:
        self.path = Path(path)
        self.read_only = read_only
        if read_only and not self.path.exists():
            raise StoreMissingError(
                f"no market-data store at {self.path}: import data first "
                "(trade data import FILE ..., trade data sync SYMBOL ..., or trade quickstart)"
            )
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.con = _connect(self.path, read_only, lock_timeout_s)
        if read_only:
            version = schema_version(self.con)
            if version != LATEST_VERSION:
                self.con.close()
                raise SchemaVersionError(
                    f"{self.path} has schema version {version}, this TRADE expects "
                    f"{LATEST_VERSION}; open it once for writing (any trade data command) "
                    "to migrate it"
                )
        else:
            migrate(self.con, str(self.path))

    @classmethod
    def open(cls, settings: Settings | None = None, *, read_only: bool = False) -> MarketStore:
        """Open the store configured by ``settings`` (default: the process settings)."""
        s = settings or get_settings()
        return cls(s.db_path, read_only=read_only, lock_timeout_s=s.trade_lock_timeout_s)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> MarketStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All-or-nothing: a crash or exception inside leaves the store as it was."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    # ------------------------------------------------------------------ candles
    def upsert_candles(self, candles: Candles) -> UpsertResult:
        """Insert new bars and replace changed ones, in one transaction.

        ``candles.ts`` must be strictly increasing and aligned to ``candles.tf``; identical
        rows are left untouched, so re-importing the same file changes nothing.
        """
        step = tf_ms(candles.tf)
        ts = candles.ts
        if len(ts) == 0:
            return UpsertResult(0, 0, 0)
        if np.any(np.diff(ts) <= 0):
            raise BadInputError("candles to store must have strictly increasing ts")
        if np.any(ts % step):
            bad = int(ts[np.argmax(ts % step != 0)])
            raise BadInputError(f"ts {bad} is not aligned to {candles.tf} bars")
        table = pa.table({name: getattr(candles, name) for name in CANDLE_COLUMNS})
        with self.transaction() as con:
            con.register("incoming", table)
            try:
                con.execute(
                    """
                    CREATE OR REPLACE TEMP TABLE delta AS
                    SELECT i.*, c.ts IS NULL AS is_new
                    FROM incoming i
                    LEFT JOIN (SELECT * FROM candles WHERE symbol = $sym AND tf = $tf
                               AND ts BETWEEN $lo AND $hi) c ON c.ts = i.ts
                    WHERE c.ts IS NULL
                       OR c.open IS DISTINCT FROM i.open OR c.high IS DISTINCT FROM i.high
                       OR c.low IS DISTINCT FROM i.low OR c.close IS DISTINCT FROM i.close
                       OR c.volume IS DISTINCT FROM i.volume
                       OR c.turnover IS DISTINCT FROM (CASE WHEN isnan(i.turnover)
                                                       THEN NULL ELSE i.turnover END)
                    """,
                    {"sym": candles.symbol, "tf": candles.tf, "lo": int(ts[0]), "hi": int(ts[-1])},
                )
                con.execute(
                    """
                    INSERT OR REPLACE INTO candles
                    SELECT $sym, $tf, ts, open, high, low, close, volume,
                           CASE WHEN isnan(turnover) THEN NULL ELSE turnover END
                    FROM delta
                    """,
                    {"sym": candles.symbol, "tf": candles.tf},
                )
                row = con.execute(
                    "SELECT count(*) FILTER (WHERE is_new), count(*) FILTER (WHERE NOT is_new) "
                    "FROM delta"
                ).fetchone()
                con.execute("DROP TABLE delta")
            finally:
                con.unregister("incoming")
        inserted, updated = (int(row[0]), int(row[1])) if row else (0, 0)
        return UpsertResult(inserted, updated, len(ts) - inserted - updated)

    def read_candles(
        self, symbol: str, tf: str, start: int | None = None, end: int | None = None
    ) -> Candles:
        """Bars of ``symbol``/``tf`` with ``start <= ts < end``, ascending, as numpy arrays."""
        tf_ms(tf)
        nan_turnover = "coalesce(turnover, 'nan'::DOUBLE) AS turnover"
        cols = ", ".join(CANDLE_COLUMNS).replace("turnover", nan_turnover)
        res = self.con.execute(
            f"SELECT {cols} FROM candles WHERE symbol = ? AND tf = ? AND ts >= ? AND ts < ? "
            "ORDER BY ts",
            [symbol, tf, *_bounds(start, end)],
        ).fetchnumpy()
        arrays = {"ts": np.ascontiguousarray(res["ts"], dtype=np.int64)}
        for name in OHLCV_COLUMNS:
            arrays[name] = np.ascontiguousarray(res[name], dtype=np.float64)
        return Candles(symbol, tf, **arrays)

    def read_frame(
        self, symbol: str, tf: str, start: int | None = None, end: int | None = None
    ) -> pd.DataFrame:
        """Like :meth:`read_candles`, as a DataFrame (``ts`` stays int ms)."""
        return self.read_candles(symbol, tf, start, end).to_frame()

    def series(self) -> list[SeriesInfo]:
        """Every stored symbol/timeframe with its span and bar count."""
        rows = self.con.execute(
            "SELECT symbol, tf, min(ts), max(ts), count(*) FROM candles "
            "GROUP BY symbol, tf ORDER BY symbol, tf"
        ).fetchall()
        return [SeriesInfo(r[0], r[1], int(r[2]), int(r[3]), int(r[4])) for r in rows]

    def coverage(self, symbol: str, tf: str) -> SeriesInfo | None:
        row = self.con.execute(
            "SELECT min(ts), max(ts), count(*) FROM candles WHERE symbol = ? AND tf = ?",
            [symbol, tf],
        ).fetchone()
        if not row or not row[2]:
            return None
        return SeriesInfo(symbol, tf, int(row[0]), int(row[1]), int(row[2]))

    def gaps(
        self, symbol: str, tf: str, start: int | None = None, end: int | None = None
    ) -> list[Gap]:
        """Missing bar ranges of a series within ``[start, end)``.

        Without ``start``/``end`` the span is the stored one (first to last bar), so only
        holes inside it are reported; with them, missing bars at either edge count too.
        """
        step = tf_ms(tf)
        cov = self.coverage(symbol, tf)
        lo = int(start) if start is not None else (cov.first_ts if cov else 0)
        hi = int(end) if end is not None else (cov.last_ts + step if cov else 0)
        lo = -(-lo // step) * step
        if hi <= lo:
            return []
        rows = self.con.execute(
            """
            WITH s AS (
                SELECT ts FROM candles WHERE symbol = $sym AND tf = $tf
                AND ts >= $lo AND ts < $hi
                UNION ALL SELECT $lo - $step UNION ALL SELECT $hi_edge
            ), d AS (SELECT ts, lag(ts) OVER (ORDER BY ts) AS prev FROM s)
            SELECT prev + $step AS gap_start, ts AS gap_end FROM d
            WHERE prev IS NOT NULL AND ts - prev > $step ORDER BY gap_start
            """,
            {
                "sym": symbol,
                "tf": tf,
                "lo": lo,
                "hi": hi,
                "step": step,
                "hi_edge": -(-hi // step) * step,
            },
        ).fetchall()
        return [Gap(int(a), int(b), (int(b) - int(a)) // step) for a, b in rows]

    def delete_series(self, symbol: str, tf: str) -> int:
        """Remove one series; returns the number of bars deleted."""
        with self.transaction() as con:
            row = con.execute(
                "SELECT count(*) FROM candles WHERE symbol = ? AND tf = ?", [symbol, tf]
            ).fetchone()
            con.execute("DELETE FROM candles WHERE symbol = ? AND tf = ?", [symbol, tf])
        return int(row[0]) if row else 0

    # ------------------------------------------------------------------ funding
    def upsert_funding(self, symbol: str, ts: np.ndarray, rate: np.ndarray) -> UpsertResult:
        """Store funding-rate settlements (``rate`` as a fraction), one transaction."""
        ts = np.asarray(ts, dtype=np.int64)
        rate = np.asarray(rate, dtype=np.float64)
        if len(ts) != len(rate):
            raise BadInputError("funding ts and rate differ in length")
        if len(ts) == 0:
            return UpsertResult(0, 0, 0)
        if np.isnan(rate).any():
            raise BadInputError("funding rates must not be NaN")
        if len(np.unique(ts)) != len(ts):
            raise BadInputError("funding timestamps must be unique")
        table = pa.table({"ts": ts, "rate": rate})
        with self.transaction() as con:
            con.register("incoming_funding", table)
            try:
                row = con.execute(
                    """
                    SELECT count(*) FILTER (WHERE f.ts IS NULL),
                           count(*) FILTER (WHERE f.ts IS NOT NULL AND f.rate <> i.rate)
                    FROM incoming_funding i
                    LEFT JOIN funding_rates f ON f.symbol = ? AND f.ts = i.ts
                    """,
                    [symbol],
                ).fetchone()
                con.execute(
                    "INSERT OR REPLACE INTO funding_rates SELECT ?, ts, rate FROM incoming_funding",
                    [symbol],
                )
            finally:
                con.unregister("incoming_funding")
        inserted, updated = (int(row[0]), int(row[1])) if row else (0, 0)
        return UpsertResult(inserted, updated, len(ts) - inserted - updated)

    def read_funding(
        self, symbol: str, start: int | None = None, end: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Funding settlements ``(ts, rate)`` of ``symbol`` with ``start <= ts < end``."""
        res = self.con.execute(
            "SELECT ts, rate FROM funding_rates WHERE symbol = ? AND ts >= ? AND ts < ? "
            "ORDER BY ts",
            [symbol, *_bounds(start, end)],
        ).fetchnumpy()
        return (
            np.asarray(res["ts"], dtype=np.int64),
            np.asarray(res["rate"], dtype=np.float64),
        )

    def last_funding_ts(self, symbol: str) -> int | None:
        row = self.con.execute(
            "SELECT max(ts) FROM funding_rates WHERE symbol = ?", [symbol]
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else None

    # ------------------------------------------------------------------ instruments
    def upsert_instruments(self, instruments: list[Instrument]) -> UpsertResult:
        """Store instrument specs (replacing older specs of the same symbol), one transaction."""
        inserted = updated = unchanged = 0
        with self.transaction() as con:
            for ins in instruments:
                current = self._instrument_row(ins.symbol)
                row = self._row_of(ins)
                if current is None:
                    inserted += 1
                elif current == row:
                    unchanged += 1
                    continue
                else:
                    updated += 1
                con.execute(
                    "INSERT OR REPLACE INTO instruments VALUES "
                    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    list(row),
                )
        return UpsertResult(inserted, updated, unchanged)

    @staticmethod
    def _row_of(ins: Instrument) -> tuple:
        return (
            ins.symbol,
            ins.category,
            ins.tick_size,
            ins.qty_step,
            ins.min_qty,
            ins.max_qty,
            ins.max_mkt_qty,
            ins.min_notional,
            ins.max_leverage,
            ins.funding_interval_min,
            ins.risk_tiers_json(),
            ins.as_of,
            ins.source,
        )

    def _instrument_row(self, symbol: str) -> tuple | None:
        return self.con.execute("SELECT * FROM instruments WHERE symbol = ?", [symbol]).fetchone()

    def instrument(self, symbol: str) -> Instrument:
        """The stored spec of ``symbol``; a clear error naming what is stored otherwise."""
        row = self._instrument_row(symbol)
        if row is None:
            known = [i.symbol for i in self.instruments()]
            raise BadInputError(
                f"no instrument spec for {symbol!r} in {self.path} "
                f"(stored: {', '.join(known) or 'none'}); run: trade data instruments"
            )
        return self._instrument_of(row)

    def instruments(self) -> list[Instrument]:
        rows = self.con.execute("SELECT * FROM instruments ORDER BY symbol").fetchall()
        return [self._instrument_of(r) for r in rows]

    @staticmethod
    def _instrument_of(row: tuple) -> Instrument:
        (sym, cat, tick, step, min_qty, max_qty, max_mkt, min_notional, max_lev, fund_min,
         tiers, as_of, source) = row  # fmt: skip
        return Instrument(
            symbol=sym,
            category=cat,
            tick_size=tick,
            qty_step=step,
            min_qty=min_qty,
            max_qty=max_qty,
            max_mkt_qty=max_mkt,
            min_notional=min_notional,
            max_leverage=max_lev,
            funding_interval_min=fund_min,
            risk_tiers=tuple(RiskTier(**t) for t in json.loads(tiers)),
            as_of=as_of,
            source=source,
        )
