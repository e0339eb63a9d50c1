"""Market data: the DuckDB store, timeframes and resampling, importers, Bybit sync,
instrument specs, bundled sample data, the synthetic generator and data-quality checks."""
