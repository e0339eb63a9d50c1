"""Import every public module of a feature package so that its classes register."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def import_submodules(package: ModuleType) -> list[str]:
    """Import each non-private submodule of ``package``; returns their names, sorted."""
    names = sorted(
        m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")
    )
    for name in names:
        importlib.import_module(f"{package.__name__}.{name}")
    return names
