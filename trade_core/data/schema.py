"""The store's schema as an ordered list of migrations.

A migration is applied once, in order, inside its own transaction; ``meta.schema_version``
records the last applied one and ``schema_migrations`` logs when each ran. To change the
schema, append a migration — never edit one that has shipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from trade_core.errors import SchemaVersionError
from trade_core.timestamps import now_ms


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "candles, funding_rates, instruments",
        """
        CREATE TABLE candles (
            symbol   VARCHAR NOT NULL,
            tf       VARCHAR NOT NULL,
            ts       BIGINT  NOT NULL,   -- bar open time, epoch ms UTC
            open     DOUBLE  NOT NULL,
            high     DOUBLE  NOT NULL,
            low      DOUBLE  NOT NULL,
            close    DOUBLE  NOT NULL,
            volume   DOUBLE  NOT NULL,   -- base currency
            turnover DOUBLE,             -- quote currency (USDT); NULL when the source lacks it
            PRIMARY KEY (symbol, tf, ts)
        );
        CREATE TABLE funding_rates (
            symbol VARCHAR NOT NULL,
            ts     BIGINT  NOT NULL,     -- settlement instant, epoch ms UTC
            rate   DOUBLE  NOT NULL,     -- fraction, e.g. 0.0001 = 0.01 %
            PRIMARY KEY (symbol, ts)
        );
        CREATE TABLE instruments (
            symbol               VARCHAR PRIMARY KEY,
            category             VARCHAR NOT NULL,
            tick_size            DOUBLE  NOT NULL,
            qty_step             DOUBLE  NOT NULL,
            min_qty              DOUBLE  NOT NULL,
            max_qty              DOUBLE,
            max_mkt_qty          DOUBLE,
            min_notional         DOUBLE  NOT NULL,  -- USDT
            max_leverage         DOUBLE  NOT NULL,
            funding_interval_min INTEGER,
            risk_tiers           VARCHAR NOT NULL,  -- JSON tiers, ascending risk_limit_value
            as_of                BIGINT  NOT NULL,  -- when the spec was taken, epoch ms UTC
            source               VARCHAR NOT NULL   -- 'bundled' or the REST base URL
        );
        """,
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The store's applied schema version (0 for an empty file)."""
    has_meta = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'"
    ).fetchone()
    if not has_meta or not has_meta[0]:
        return 0
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def migrate(con: duckdb.DuckDBPyConnection, path: str) -> list[int]:
    """Apply pending migrations in order; return the versions applied."""
    con.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name VARCHAR, applied_at BIGINT)"
    )
    current = schema_version(con)
    if current > LATEST_VERSION:
        raise SchemaVersionError(
            f"{path} has schema version {current}, newer than this TRADE knows "
            f"({LATEST_VERSION}); upgrade TRADE to use it"
        )
    applied = []
    for m in MIGRATIONS:
        if m.version <= current:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(m.sql)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)", [m.version, m.name, now_ms()]
            )
            con.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(m.version)]
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(m.version)
    return applied
