"""Backtest runner, result, metrics, audit and reports."""
