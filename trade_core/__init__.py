"""TRADE kernel: Play model, indicators, data store, engine and simulated exchange.

The kernel knows nothing of Prefect or MLflow; `tasks/` and `flows/` wrap it.
"""

__version__ = "0.1.0"
