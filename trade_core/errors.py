"""The exception tree of TRADE, in one place.

Every error a user can cause or meet derives from :class:`TradeError` and carries the process
exit code the CLI uses for it: 2 for bad input (the user can fix the command or the file),
1 for a failure of the work itself (a lock held by another process, a failed data check,
an exchange that kept failing).

    TradeError (exit 1)
    ├── BadInputError (exit 2)            bad arguments, malformed files, unknown symbols
    │   └── ImportFormatError             a data file whose columns/values cannot be imported
    ├── StoreError                        the DuckDB market-data store
    │   ├── StoreLockedError              another process holds the single writer lock
    │   ├── StoreMissingError             a read of a store that does not exist yet
    │   └── SchemaVersionError            a store written by a newer TRADE
    ├── DataQualityError                  a data-quality suite failed
    └── ExchangeError                     Bybit (or a stub of it) kept failing or answered nonsense
"""

from __future__ import annotations


class TradeError(Exception):
    """Base of every TRADE error; ``exit_code`` is what the CLI exits with."""

    exit_code: int = 1


class BadInputError(TradeError):
    """The user's input (arguments, file, configuration) is wrong; fixable by the user."""

    exit_code = 2


class ImportFormatError(BadInputError):
    """A data file cannot be imported as candles (unknown columns, unparsable values)."""


class StoreError(TradeError):
    """A failure of the DuckDB market-data store."""


class StoreLockedError(StoreError):
    """Another process holds the DuckDB write lock on the store file."""


class StoreMissingError(StoreError):
    """The store file does not exist and the caller asked to read it."""

    exit_code = 2


class SchemaVersionError(StoreError):
    """The store was written by a newer schema than this code knows."""


class DataQualityError(TradeError):
    """A data-quality suite found violations."""


class ExchangeError(TradeError):
    """The exchange (or an emulator/stub of it) failed after retries or answered malformed data."""
