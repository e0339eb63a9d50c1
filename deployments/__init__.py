"""Prefect deployments for TRADE (thin wrappers over trade_core)."""
