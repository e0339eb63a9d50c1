"""The canonical form of a Play and its hash: key order, number formatting and comments
do not change it; anything that changes behaviour does."""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any


def normalise(value: Any) -> Any:
    """Plain JSON data with sorted keys implied and numbers in one form (2 == 2.0 == 2e0)."""
    if isinstance(value, dict):
        return {str(k): normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalise(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        f = float(value)
        if math.isfinite(f) and f.is_integer() and abs(f) < 2**53:
            return int(f)
        return f
    return str(value)


def canonical_json(data: Any) -> str:
    return json.dumps(normalise(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_hash(data: Any) -> str:
    """sha256 hex of :func:`canonical_json`."""
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()
