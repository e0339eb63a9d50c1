"""Compile the condition AST once into a tree of small closures.

A compiled node is ``f(rings, s) -> code``: ``rings[slot]`` is the exec-bar history of a leaf
series (index 0 = now, 1 = one exec bar ago, ...), ``s`` the exec-bar shift a window applies
to every operand. Codes are small ints so evaluation allocates nothing:

``TRUE`` 1, ``FALSE`` 0, ``NOT_READY`` 2 (warm-up: history too short or the feature not
ready), ``MISSING`` 3 (a defined bar whose value is NaN/empty).

Three-valued logic: ``all`` is FALSE as soon as one child is FALSE (and stops there),
otherwise NOT_READY/MISSING if any child was, else TRUE; ``any`` is TRUE as soon as one child
is TRUE, otherwise NOT_READY/MISSING if any child was, else FALSE; ``not`` flips only
TRUE/FALSE. A rule fires only on TRUE.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

from trade_core.play.conditions.nodes import (
    BarsSince,
    Block,
    Choices,
    Compare,
    Literal,
    Node,
    Not,
    Operand,
    Range,
    Series,
    SetupRef,
    Trend,
    Window,
)

FALSE, TRUE, NOT_READY, MISSING = 0, 1, 2, 3
CODE_NAMES = {TRUE: "TRUE", FALSE: "FALSE", NOT_READY: "NOT_READY", MISSING: "MISSING_VALUE"}

Rings = Sequence[Sequence[Any]]
Compiled = Callable[[Rings, int], int]
Fetch = Callable[[Rings, int], Any]

_NR = object()  # fetch result: not ready


def fetch_of(op: Operand) -> Fetch:
    """``fetch(rings, s)``: the operand's value at shift ``s``; ``_NR`` if not ready."""
    if isinstance(op, Literal):
        value = op.value

        def const(rings: Rings, s: int) -> Any:
            return value

        return const
    slot = op.slot

    def read(rings: Rings, s: int) -> Any:
        ring = rings[slot]
        if s >= len(ring):
            return _NR
        v = ring[s]
        return _NR if v is None else v

    return read


def _missing(v: Any) -> bool:
    return v != v or v == ""  # NaN, or an enum that has no value yet


def _order(op: str) -> Callable[[Any, Any], bool]:
    # the operator module's functions are exactly ``a > b`` etc., without a Python frame
    return {
        "gt": operator.gt,
        "gte": operator.ge,
        "lt": operator.lt,
        "lte": operator.le,
        "eq": operator.eq,
        "neq": operator.ne,
    }[op]


def compile_node(node: Node) -> Compiled:
    if isinstance(node, Compare):
        return _compare(node)
    if isinstance(node, Block):
        return _block(node)
    if isinstance(node, Not):
        return _not(node)
    if isinstance(node, SetupRef):
        return compile_node(node.body)
    if isinstance(node, Window):
        return _window(node)
    if isinstance(node, BarsSince):
        return _bars_since(node)
    if isinstance(node, Trend):
        return _trend(node)
    raise TypeError(f"not a condition node: {node!r}")


# ---------------------------------------------------------------------- comparisons
def _compare(node: Compare) -> Compiled:
    op = node.op
    if op in ("between", "outside"):
        return _between(node)
    if op == "in":
        return _in(node)
    fa = fetch_of(node.lhs)
    assert not isinstance(node.rhs, Range | Choices)
    fb = fetch_of(node.rhs)
    if op in ("cross_above", "cross_below"):
        return _cross(op, fa, fb, node.lhs, node.rhs)
    if op == "near":
        return _near(fa, fb, node.tol_kind, node.tol)
    test = _order(op)
    if isinstance(node.lhs, Series):
        if isinstance(node.rhs, Series):
            return _compare_series(node.lhs.slot, node.rhs.slot, test)
        if isinstance(node.rhs, Literal):
            return _compare_literal(node.lhs.slot, node.rhs.value, test)

    def compare(rings: Rings, s: int) -> int:
        a = fa(rings, s)
        if a is _NR:
            return NOT_READY
        b = fb(rings, s)
        if b is _NR:
            return NOT_READY
        if _missing(a) or _missing(b):
            return MISSING
        return TRUE if test(a, b) else FALSE

    return compare


# The hot comparisons, specialised by operand kind: the same reads, checks and order of
# checks as the generic closures built from :func:`fetch_of` (NOT_READY before MISSING, lhs
# before rhs), with the ring reads inlined. Every rule of a play runs them on every exec bar.
def _compare_series(sa: int, sb: int, test: Callable[[Any, Any], bool]) -> Compiled:
    def compare_series(rings: Rings, s: int) -> int:
        ra = rings[sa]
        if s >= len(ra):
            return NOT_READY
        a = ra[s]
        if a is None:
            return NOT_READY
        rb = rings[sb]
        if s >= len(rb):
            return NOT_READY
        b = rb[s]
        if b is None:
            return NOT_READY
        if a != a or a == "" or b != b or b == "":
            return MISSING
        return TRUE if test(a, b) else FALSE

    return compare_series


def _compare_literal(sa: int, value: Any, test: Callable[[Any, Any], bool]) -> Compiled:
    value_missing = _missing(value)

    def compare_literal(rings: Rings, s: int) -> int:
        ra = rings[sa]
        if s >= len(ra):
            return NOT_READY
        a = ra[s]
        if a is None:
            return NOT_READY
        if a != a or a == "" or value_missing:
            return MISSING
        return TRUE if test(a, value) else FALSE

    return compare_literal


def _cross_series(sa: int, sb: int, above: bool) -> Compiled:
    def cross_series(rings: Rings, s: int) -> int:
        ra, rb = rings[sa], rings[sb]
        s1 = s + 1
        if s1 >= len(ra) or s1 >= len(rb):  # s1 in range implies s in range
            return NOT_READY
        a, b, a1, b1 = ra[s], rb[s], ra[s1], rb[s1]
        if a is None or b is None or a1 is None or b1 is None:
            return NOT_READY
        if (
            a != a or a == "" or b != b or b == ""
            or a1 != a1 or a1 == "" or b1 != b1 or b1 == ""
        ):  # fmt: skip
            return MISSING
        if above:
            return TRUE if a1 <= b1 and a > b else FALSE
        return TRUE if a1 >= b1 and a < b else FALSE

    return cross_series


def _cross(op: str, fa: Fetch, fb: Fetch, lhs: Operand, rhs: Operand) -> Compiled:
    """cross_above: ``lhs[1] <= rhs[1] and lhs > rhs`` (exec-bar history); cross_below mirrors."""
    above = op == "cross_above"
    if isinstance(lhs, Series) and isinstance(rhs, Series):
        return _cross_series(lhs.slot, rhs.slot, above)

    def cross(rings: Rings, s: int) -> int:
        a, b = fa(rings, s), fb(rings, s)
        a1, b1 = fa(rings, s + 1), fb(rings, s + 1)
        if a is _NR or b is _NR or a1 is _NR or b1 is _NR:
            return NOT_READY
        if _missing(a) or _missing(b) or _missing(a1) or _missing(b1):
            return MISSING
        if above:
            return TRUE if a1 <= b1 and a > b else FALSE
        return TRUE if a1 >= b1 and a < b else FALSE

    return cross


def _near(fa: Fetch, fb: Fetch, kind: str, tol: float) -> Compiled:
    """``|lhs - rhs| <= tol`` (abs) or ``<= tol% * |rhs|`` (pct); the edge is inclusive, with
    1e-9 relative slack so that decimal edges (100.2 near 100 within 0.2%) survive float
    rounding."""
    pct = kind == "pct"

    def near(rings: Rings, s: int) -> int:
        a = fa(rings, s)
        if a is _NR:
            return NOT_READY
        b = fb(rings, s)
        if b is _NR:
            return NOT_READY
        if _missing(a) or _missing(b):
            return MISSING
        limit = (tol / 100.0 * abs(b) if pct else tol) * (1.0 + 1e-9)
        return TRUE if abs(a - b) <= limit else FALSE

    return near


def _between(node: Compare) -> Compiled:
    """between: ``lo <= x <= hi``; outside: ``x < lo or x > hi``."""
    rng = node.rhs
    assert isinstance(rng, Range)
    fx, flo, fhi = fetch_of(node.lhs), fetch_of(rng.lo), fetch_of(rng.hi)
    inside = node.op == "between"

    def between(rings: Rings, s: int) -> int:
        x, lo, hi = fx(rings, s), flo(rings, s), fhi(rings, s)
        if x is _NR or lo is _NR or hi is _NR:
            return NOT_READY
        if _missing(x) or _missing(lo) or _missing(hi):
            return MISSING
        hit = lo <= x <= hi
        return TRUE if hit == inside else FALSE

    return between


def _in(node: Compare) -> Compiled:
    choices = node.rhs
    assert isinstance(choices, Choices)
    values = frozenset(choices.values)
    fx = fetch_of(node.lhs)

    def member(rings: Rings, s: int) -> int:
        x = fx(rings, s)
        if x is _NR:
            return NOT_READY
        if _missing(x):
            return MISSING
        return TRUE if x in values else FALSE

    return member


# ---------------------------------------------------------------------- logic
def _quantifier(children: tuple[Compiled, ...], decisive: int, rest: int) -> Compiled:
    """Evaluate ``children`` left to right and stop at the first ``decisive`` result; else
    NOT_READY / MISSING if any child was, else ``rest``. ``all`` is (FALSE, TRUE), ``any`` is
    (TRUE, FALSE); ``holds_for``/``occurred_within`` are the same over shifted bars."""

    def quantified(rings: Rings, s: int) -> int:
        seen = 0
        for child in children:
            r = child(rings, s)
            if r == decisive:
                return decisive
            if r == NOT_READY:
                seen |= 1
            elif r == MISSING:
                seen |= 2
        return NOT_READY if seen & 1 else (MISSING if seen & 2 else rest)

    return quantified


def _block(node: Block) -> Compiled:
    """``all`` stops at the first FALSE, ``any`` at the first TRUE (left to right)."""
    children = tuple(compile_node(c) for c in node.children)
    return _quantifier(children, *((FALSE, TRUE) if node.kind == "all" else (TRUE, FALSE)))


def _not(node: Not) -> Compiled:
    child = compile_node(node.child)

    def negate(rings: Rings, s: int) -> int:
        r = child(rings, s)
        return FALSE if r == TRUE else (TRUE if r == FALSE else r)

    return negate


# ---------------------------------------------------------------------- windows
def _window(node: Window) -> Compiled:
    inner = compile_node(node.cond)
    bars, times, kind = node.bars, node.times, node.kind

    if kind in ("holds_for", "occurred_within"):
        # holds_for is ``all`` over the shifted bars, occurred_within is ``any``.
        shifted = tuple(_shift(inner, k) for k in range(bars))
        kinds = (FALSE, TRUE) if kind == "holds_for" else (TRUE, FALSE)
        return _quantifier(shifted, *kinds)

    def count_at_least(rings: Rings, s: int) -> int:
        hits = unknown = 0
        seen = 0
        for k in range(s, s + bars):
            r = inner(rings, k)
            if r == TRUE:
                hits += 1
                if hits >= times:
                    return TRUE
            elif r != FALSE:
                unknown += 1
                seen |= 1 if r == NOT_READY else 2
        if hits + unknown < times:
            return FALSE
        return NOT_READY if seen & 1 else MISSING

    return count_at_least


def _shift(inner: Compiled, k: int) -> Compiled:
    def shifted(rings: Rings, s: int) -> int:
        return inner(rings, s + k)

    return shifted


def _bars_since(node: BarsSince) -> Compiled:
    """Looks back ``n + 1`` bars at most: enough to decide any comparison with ``n``.

    If the condition was not true in shifts 0..n+1, bars_since is treated as "more than
    n + 1" (also when it was never true), which compares correctly with ``n`` for every op.
    Unknown (not ready / missing) bars before the first TRUE make the result unknown.
    """
    inner = compile_node(node.cond)
    n = node.n
    test = _order(node.op)
    beyond = n + 2  # stands for "more than n + 1"

    def bars_since(rings: Rings, s: int) -> int:
        seen = 0
        for k in range(n + 2):
            r = inner(rings, s + k)
            if r == TRUE:
                if seen:
                    return NOT_READY if seen & 1 else MISSING
                return TRUE if test(k, n) else FALSE
            if r == NOT_READY:
                seen |= 1
            elif r == MISSING:
                seen |= 2
        if seen:
            return NOT_READY if seen & 1 else MISSING
        return TRUE if test(beyond, n) else FALSE

    return bars_since


def _trend(node: Trend) -> Compiled:
    """rising: ``of[k] > of[k+1]`` for each k in 0..bars-1 (exec-bar history), i.e. ``bars``
    strict steps up; falling: steps down. Combined like ``all`` over the steps."""
    f = fetch_of(node.of)
    bars = node.bars
    up = node.kind == "rising"

    def trend(rings: Rings, s: int) -> int:
        seen = 0
        for k in range(s, s + bars):
            cur, prev = f(rings, k), f(rings, k + 1)
            if cur is _NR or prev is _NR:
                seen |= 1
            elif _missing(cur) or _missing(prev):
                seen |= 2
            elif not (cur > prev if up else cur < prev):
                return FALSE
        return NOT_READY if seen & 1 else (MISSING if seen & 2 else TRUE)

    return trend
