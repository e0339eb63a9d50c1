"""Incremental technical indicators and their registry (``names``, ``spec``, ``compute``).

Every module in this package registers its indicators on import; ``REGISTRY`` is complete
once this package is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import trade_core.indicators as _pkg
from trade_core.features.base import Feature, FeatureSpec
from trade_core.features.discovery import import_submodules
from trade_core.features.registry import Registry

if TYPE_CHECKING:
    import pandas as pd

REGISTRY = Registry("indicator")


def names() -> list[str]:
    """Every indicator's registry name, sorted."""
    return REGISTRY.names()


def spec(name: str) -> FeatureSpec:
    """Parameters (defaults, bounds), outputs and warm-up of indicator ``name``."""
    return REGISTRY.spec(name)


def create(name: str, **params: Any) -> Feature:
    """A fresh streaming instance of indicator ``name``."""
    return REGISTRY.create(name, None, **params)


def compute(name: str, ohlcv: pd.DataFrame, **params: Any) -> pd.DataFrame:
    """One column per output of ``name`` over ``ohlcv`` (``open high low close volume``)."""
    return REGISTRY.compute(name, ohlcv, **params)


import_submodules(_pkg)
