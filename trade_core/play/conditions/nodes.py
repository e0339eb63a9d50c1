"""The condition AST: small frozen nodes, each knowing its YAML path.

Operands are either a :class:`Series` (a slot of the snapshot, read at an exec-bar shift) or
a :class:`Literal`. ``between``/``outside`` take a :class:`Range`, ``in`` a :class:`Choices`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trade_core.play.issues import Path

NUMBER, ENUM, BOOL = "number", "enum", "bool"

COMPARISONS = (
    "gt",
    "gte",
    "lt",
    "lte",
    "eq",
    "neq",
    "between",
    "outside",
    "near",
    "in",
    "cross_above",
    "cross_below",
)
WINDOWS = ("holds_for", "occurred_within", "count_at_least", "bars_since", "rising", "falling")
BLOCKS = ("all", "any", "not", "setup")


@dataclass(frozen=True, slots=True)
class VType:
    """The type of a value: a number, an enum (of one feature field, with its values), a bool."""

    kind: str
    owner: str = ""  # for enums: "ms.bias"
    values: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"enum {self.owner}" if self.kind == ENUM else self.kind


@dataclass(frozen=True, slots=True)
class Series:
    slot: int
    vtype: VType
    text: str  # as written, e.g. "ema_fast[1]"


@dataclass(frozen=True, slots=True)
class Literal:
    value: Any
    vtype: VType

    @property
    def text(self) -> str:
        v = self.value
        if isinstance(v, str):
            return repr(v)
        if isinstance(v, float):
            return f"{v:g}"
        return str(v).lower() if isinstance(v, bool) else str(v)


Operand = Series | Literal


@dataclass(frozen=True, slots=True)
class Range:
    lo: Operand
    hi: Operand


@dataclass(frozen=True, slots=True)
class Choices:
    values: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Compare:
    op: str
    lhs: Operand
    rhs: Operand | Range | Choices
    path: Path
    tol_kind: str = ""  # near: "pct" or "abs"
    tol: float = 0.0


@dataclass(frozen=True, slots=True)
class Block:
    kind: str  # "all" | "any"
    children: tuple[Node, ...]
    path: Path


@dataclass(frozen=True, slots=True)
class Not:
    child: Node
    path: Path


@dataclass(frozen=True, slots=True)
class SetupRef:
    name: str
    body: Node
    path: Path


@dataclass(frozen=True, slots=True)
class Window:
    """``holds_for`` / ``occurred_within`` / ``count_at_least`` over the last ``bars`` exec bars."""

    kind: str
    bars: int
    cond: Node
    path: Path
    times: int = 1


@dataclass(frozen=True, slots=True)
class BarsSince:
    """Exec bars since ``cond`` was last true (0 = now), compared with ``n`` by ``op``."""

    cond: Node
    op: str
    n: int
    path: Path


@dataclass(frozen=True, slots=True)
class Trend:
    """``rising``/``falling``: ``of`` strictly up/down on each of the last ``bars`` steps."""

    kind: str
    bars: int
    of: Series
    path: Path


Node = Compare | Block | Not | SetupRef | Window | BarsSince | Trend
