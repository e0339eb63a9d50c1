"""Explain: evaluate a condition recursively and return a trace tree.

The trace answers "why did it (not) enter at 14:15?": every node with its result and a reason
code (``TRUE``, ``FALSE``, ``NOT_READY``, ``MISSING_VALUE``, or ``SKIPPED`` for a child that
short-circuiting never evaluated), every leaf with its operands' values. It follows exactly
the semantics of :mod:`compile` (tests prove both agree); a failed ``any`` is FALSE, never OK.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trade_core.play.conditions.compile import (
    CODE_NAMES,
    FALSE,
    MISSING,
    NOT_READY,
    TRUE,
    Rings,
    compile_node,
    fetch_of,
)
from trade_core.play.conditions.nodes import (
    BarsSince,
    Block,
    Choices,
    Compare,
    Node,
    Not,
    Operand,
    Range,
    SetupRef,
    Trend,
    Window,
)
from trade_core.play.issues import format_path


@dataclass
class Trace:
    kind: str
    text: str
    path: str
    code: int
    shift: int = 0
    values: dict[str, Any] = field(default_factory=dict)
    children: list[Trace] = field(default_factory=list)
    skipped: bool = False

    @property
    def result(self) -> str:
        return "SKIPPED" if self.skipped else CODE_NAMES[self.code]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "path": self.path,
            "result": self.result,
            "shift": self.shift,
            "values": {k: _jsonable(v) for k, v in self.values.items()},
            "children": [c.to_dict() for c in self.children],
        }

    def render(self, indent: int = 0) -> str:
        """A readable tree, one node per line."""
        vals = ", ".join(f"{k}={_show(v)}" for k, v in self.values.items())
        at = f" @bar-{self.shift}" if self.shift else ""
        line = f"{'  ' * indent}{self.result:<13} {self.text}{at}" + (f"  [{vals}]" if vals else "")
        return "\n".join([line, *(c.render(indent + 1) for c in self.children)])


def _show(v: Any) -> str:
    if v is None:
        return "not ready"
    if isinstance(v, float):
        return f"{v:.10g}"
    return repr(v) if isinstance(v, str) else str(v)


def _jsonable(v: Any) -> Any:
    if isinstance(v, float) and v != v:
        return "NaN"
    return v


def _value(op: Operand, rings: Rings, s: int) -> Any:
    v = fetch_of(op)(rings, s)
    return None if v.__class__ is object else v


def explain(node: Node, rings: Rings, s: int = 0) -> Trace:
    """Evaluate ``node`` at exec shift ``s`` and return its trace."""
    p = format_path(node.path)
    if isinstance(node, Compare):
        return _compare(node, rings, s, p)
    if isinstance(node, Block):
        return _block(node, rings, s, p)
    if isinstance(node, Not):
        child = explain(node.child, rings, s)
        code = FALSE if child.code == TRUE else (TRUE if child.code == FALSE else child.code)
        return Trace("not", "not", p, code, s, children=[child])
    if isinstance(node, SetupRef):
        body = explain(node.body, rings, s)
        return Trace("setup", f"setup {node.name}", p, body.code, s, children=[body])
    if isinstance(node, Window):
        return _window(node, rings, s, p)
    if isinstance(node, BarsSince):
        return _bars_since(node, rings, s, p)
    if isinstance(node, Trend):
        return _trend(node, rings, s, p)
    raise TypeError(f"not a condition node: {node!r}")


def _compare(node: Compare, rings: Rings, s: int, p: str) -> Trace:
    code = compile_node(node)(rings, s)
    values: dict[str, Any] = {node.lhs.text: _value(node.lhs, rings, s)}
    rhs = node.rhs
    if isinstance(rhs, Range):
        values[rhs.lo.text] = _value(rhs.lo, rings, s)
        values[rhs.hi.text] = _value(rhs.hi, rings, s)
        text = f"{node.lhs.text} {node.op} [{rhs.lo.text}, {rhs.hi.text}]"
    elif isinstance(rhs, Choices):
        text = f"{node.lhs.text} in {list(rhs.values)}"
    else:
        values[rhs.text] = _value(rhs, rings, s)
        text = f"{node.lhs.text} {node.op} {rhs.text}"
        if node.op.startswith("cross"):
            values[f"{node.lhs.text}[prev]"] = _value(node.lhs, rings, s + 1)
            values[f"{rhs.text}[prev]"] = _value(rhs, rings, s + 1)
        if node.op == "near":
            text += f" within {node.tol:g}{'%' if node.tol_kind == 'pct' else ''}"
    return Trace("compare", text, p, code, s, values)


def _fold(children: list[Trace], decisive: int, rest: int) -> int:
    seen = 0
    for c in children:
        if c.code == decisive:
            return decisive
        if c.code == NOT_READY:
            seen |= 1
        elif c.code == MISSING:
            seen |= 2
    return NOT_READY if seen & 1 else (MISSING if seen & 2 else rest)


def _block(node: Block, rings: Rings, s: int, p: str) -> Trace:
    decisive, rest = (FALSE, TRUE) if node.kind == "all" else (TRUE, FALSE)
    children: list[Trace] = []
    decided = False
    for child in node.children:
        if decided:
            children.append(Trace("skipped", _label(child), format_path(child.path), FALSE, s,
                                  skipped=True))  # fmt: skip
            continue
        t = explain(child, rings, s)
        children.append(t)
        decided = t.code == decisive
    evaluated = [c for c in children if not c.skipped]
    return Trace(node.kind, node.kind, p, _fold(evaluated, decisive, rest), s, children=children)


def _label(node: Node) -> str:
    if isinstance(node, Compare):
        rhs = node.rhs
        r = "[..]" if isinstance(rhs, Range | Choices) else rhs.text
        return f"{node.lhs.text} {node.op} {r}"
    return type(node).__name__.lower()


def _window(node: Window, rings: Rings, s: int, p: str) -> Trace:
    children: list[Trace] = []
    text = f"{node.kind} {node.bars} bars" + (
        f" (>= {node.times} times)" if node.kind == "count_at_least" else ""
    )
    code = compile_node(node)(rings, s)
    for k in range(s, s + node.bars):
        t = explain(node.cond, rings, k)
        children.append(t)
        if node.kind == "holds_for" and t.code == FALSE:
            break
        if node.kind == "occurred_within" and t.code == TRUE:
            break
        if node.kind == "count_at_least" and sum(c.code == TRUE for c in children) >= node.times:
            break
    hits = sum(c.code == TRUE for c in children)
    return Trace(node.kind, text, p, code, s, {"true_bars": hits}, children)


def _bars_since(node: BarsSince, rings: Rings, s: int, p: str) -> Trace:
    code = compile_node(node)(rings, s)
    children: list[Trace] = []
    since: Any = f"> {node.n + 1}"
    for k in range(node.n + 2):
        t = explain(node.cond, rings, s + k)
        children.append(t)
        if t.code == TRUE:
            since = k
            break
    text = f"bars_since {node.op} {node.n}"
    return Trace("bars_since", text, p, code, s, {"bars_since": since}, children)


def _trend(node: Trend, rings: Rings, s: int, p: str) -> Trace:
    code = compile_node(node)(rings, s)
    values = {f"{node.of.text}[-{k}]": _value(node.of, rings, s + k) for k in range(node.bars + 1)}
    return Trace(node.kind, f"{node.kind} {node.bars} bars of {node.of.text}", p, code, s, values)
