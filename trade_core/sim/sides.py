"""Side vocabulary of the simulated exchange, and the argument checks its money math shares.

Two representations, each validated where it enters:

* a **position side** is ``"long"`` or ``"short"`` (:data:`PositionSide`); its sign is +1 / -1.
* an **order side** is ``"buy"`` or ``"sell"`` (:data:`OrderSide`), lower case (Bybit's API
  spells them ``Buy`` / ``Sell``; adapters translate at the boundary); its sign is +1 / -1.

Anything else raises :class:`~trade_core.errors.BadInputError` naming the valid values.
"""

from __future__ import annotations

import math
from typing import Literal

from trade_core.errors import BadInputError

PositionSide = Literal["long", "short"]
OrderSide = Literal["buy", "sell"]

_POSITION_SIGN: dict[str, int] = {"long": 1, "short": -1}
_ORDER_SIGN: dict[str, int] = {"buy": 1, "sell": -1}


def position_sign(side: str) -> int:
    """+1 for ``"long"``, -1 for ``"short"``; anything else is bad input."""
    try:
        return _POSITION_SIGN[side]
    except (KeyError, TypeError):
        raise BadInputError(f"position side {side!r}: expected 'long' or 'short'") from None


def order_sign(side: str) -> int:
    """+1 for ``"buy"``, -1 for ``"sell"``; anything else is bad input."""
    try:
        return _ORDER_SIGN[side]
    except (KeyError, TypeError):
        raise BadInputError(f"order side {side!r}: expected 'buy' or 'sell'") from None


def closing_side(side: str) -> OrderSide:
    """The order side that reduces a position: ``"sell"`` for a long, ``"buy"`` for a short."""
    return "sell" if position_sign(side) > 0 else "buy"


def require_finite(name: str, value: float) -> float:
    """``value`` as a float if it is a finite number, else bad input naming ``name``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadInputError(f"{name}={value!r}: expected a number") from None
    if not math.isfinite(number):
        raise BadInputError(f"{name}={value!r}: expected a finite number")
    return number


def require_positive(name: str, value: float) -> float:
    """``value`` as a float if it is finite and > 0, else bad input naming ``name``."""
    number = require_finite(name, value)
    if number <= 0.0:
        raise BadInputError(f"{name}={value!r}: expected a number > 0")
    return number


def require_non_negative(name: str, value: float) -> float:
    """``value`` as a float if it is finite and >= 0, else bad input naming ``name``."""
    number = require_finite(name, value)
    if number < 0.0:
        raise BadInputError(f"{name}={value!r}: expected a number >= 0")
    return number
