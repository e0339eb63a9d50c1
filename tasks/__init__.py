"""Prefect tasks for TRADE (thin wrappers over trade_core)."""
