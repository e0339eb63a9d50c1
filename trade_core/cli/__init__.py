"""The ``trade`` command."""

from trade_core.cli.app import main

__all__ = ["main"]
