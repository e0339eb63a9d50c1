"""Both registries together: look a feature up by kind and name, or by name alone."""

from __future__ import annotations

from trade_core.errors import BadInputError
from trade_core.features.base import FeatureSpec
from trade_core.features.registry import Registry


def registries() -> dict[str, Registry]:
    """``{"indicator": ..., "structure": ...}`` with every module registered."""
    from trade_core.indicators import REGISTRY as INDICATORS
    from trade_core.structures import REGISTRY as STRUCTURES

    return {"indicator": INDICATORS, "structure": STRUCTURES}


def spec_of(name: str, kind: str | None = None) -> FeatureSpec:
    """The spec registered as ``name`` (in registry ``kind`` if given)."""
    regs = registries()
    if kind is not None:
        return regs[kind].spec(name)
    for reg in regs.values():
        spec = reg.get(name)
        if spec is not None:
            return spec
    raise BadInputError(f"unknown feature {name!r}")
