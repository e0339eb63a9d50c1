"""Causal market-structure detectors (swings, trend, BOS/CHoCH, zones, ...) and their registry.

Same contract as indicators: one ``update`` per closed bar, outputs in ``out``; an output for
bar i never changes after bar i has been processed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import trade_core.structures as _pkg
from trade_core.features.base import Feature, FeatureSpec
from trade_core.features.discovery import import_submodules
from trade_core.features.registry import Registry

if TYPE_CHECKING:
    import pandas as pd

REGISTRY = Registry("structure")


def names() -> list[str]:
    """Every structure detector's registry name, sorted."""
    return REGISTRY.names()


def spec(name: str) -> FeatureSpec:
    """Parameters, outputs (with enum values) and warm-up of detector ``name``."""
    return REGISTRY.spec(name)


def create(name: str, deps: dict[str, Feature] | None = None, **params: Any) -> Feature:
    """A fresh streaming instance of detector ``name`` (``deps``: referenced features)."""
    return REGISTRY.create(name, deps, **params)


def compute(name: str, ohlcv: pd.DataFrame, **params: Any) -> pd.DataFrame:
    """One column per output of ``name`` over ``ohlcv``."""
    return REGISTRY.compute(name, ohlcv, **params)


import_submodules(_pkg)
