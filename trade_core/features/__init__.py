"""What indicators and market-structure detectors have in common: the incremental
:class:`Feature` base, parameter/output specs, and the registries Plays are validated against.

``trade_core.indicators`` and ``trade_core.structures`` each hold one :class:`Registry`.
"""

from trade_core.features.base import (
    BOOL,
    ENUM,
    NUMBER,
    Feature,
    FeatureRef,
    FeatureSpec,
    Output,
    Param,
)
from trade_core.features.registry import Registry

__all__ = [
    "BOOL",
    "ENUM",
    "NUMBER",
    "Feature",
    "FeatureRef",
    "FeatureSpec",
    "Output",
    "Param",
    "Registry",
]
