"""Integration fixtures: the local Bybit V5 stub and a client and store wired to it."""

from tests.support.bybit_stub import (  # noqa: F401  (pytest fixtures, used by name)
    bybit_client,
    bybit_stub,
    market_store,
)
