"""Prefect flows for TRADE (thin wrappers over trade_core)."""
