"""Raw YAML conditions -> typed AST, with every problem reported at its YAML path.

Grammar (see docs/play.md): ``[lhs, op, rhs]`` (``near`` takes a 4th element ``{pct|abs: x}``),
``{all: [...]}``, ``{any: [...]}``, ``{not: cond}``, ``{setup: name}`` and the six window
blocks. A bare word is a feature (``ema_fast``), a field (``macd.signal``), a price
(``close``, ``close@high``), a past value (``ema_fast[3]``) or an enum value of the other
operand's feature — never silently a string literal.
"""

from __future__ import annotations

import re
from typing import Any

from trade_core.features.registry import did_you_mean
from trade_core.play.conditions.nodes import (
    BLOCKS,
    BOOL,
    COMPARISONS,
    ENUM,
    NUMBER,
    WINDOWS,
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
    VType,
    Window,
)
from trade_core.play.context import PRICE_FIELDS, PlayContext, SeriesKey
from trade_core.play.issues import Path

_REF = re.compile(
    r"^(?P<id>[a-z_][a-z0-9_]*)(?:\.(?P<field>[a-z_][a-z0-9_]*))?"
    r"(?:@(?P<role>[a-z]+))?(?:\[(?P<off>\d+)\])?$"
)
MAX_OFFSET = 1000
MAX_WINDOW = 1000
NUM = VType(NUMBER)
ORDER_OPS = ("gt", "gte", "lt", "lte")
SINCE_OPS = ("gt", "gte", "lt", "lte", "eq", "neq")


class _ReportedError(Exception):
    """Internal: this operand/condition is already reported; stop checking it."""


class ConditionParser:
    """Parses conditions of one Play; setups are parsed once and shared by reference."""

    def __init__(self, ctx: PlayContext, setups: dict[str, Any]) -> None:
        self.ctx = ctx
        self.setups_raw = setups if isinstance(setups, dict) else {}
        self.setups: dict[str, Node | None] = {}
        self._stack: list[str] = []

    # ------------------------------------------------------------------ entry points
    def parse(self, raw: Any, path: Path) -> Node | None:
        try:
            return self._cond(raw, path)
        except _ReportedError:
            return None

    def parse_setup(self, name: str) -> Node | None:
        if name in self.setups:
            return self.setups[name]
        if name in self._stack:
            cycle = " -> ".join([*self._stack[self._stack.index(name) :], name])
            self.ctx.error(("setups", name), f"setup cycle: {cycle}")
            self.setups[name] = None
            raise _ReportedError
        self._stack.append(name)
        try:
            node = self.parse(self.setups_raw[name], ("setups", name))
        finally:
            self._stack.pop()
        self.setups.setdefault(name, node)
        return self.setups[name]

    def series_operand(self, text: Any, path: Path) -> Series | None:
        """One operand that must be a series (risk levels, ``rising.of``)."""
        try:
            op = self._operand(text, path, None)
        except _ReportedError:
            return None
        if not isinstance(op, Series):
            self.ctx.error(path, f"expected a feature or price series, got {text!r}")
            return None
        return op

    # ------------------------------------------------------------------ conditions
    def _fail(self, path: Path, message: str) -> _ReportedError:
        self.ctx.error(path, message)
        return _ReportedError()

    def _cond(self, raw: Any, path: Path) -> Node:
        if isinstance(raw, list):
            return self._compare(raw, path)
        if isinstance(raw, dict):
            if len(raw) != 1:
                keys = ", ".join(map(str, raw)) or "nothing"
                raise self._fail(path, f"a condition block has exactly one key, got {keys}")
            key, value = next(iter(raw.items()))
            kpath = (*path, key)
            if key in ("all", "any"):
                return self._block(key, value, kpath)
            if key == "not":
                return Not(self._cond(value, kpath), kpath)
            if key == "setup":
                return self._setup_ref(value, kpath)
            if key in WINDOWS:
                return self._window(key, value, kpath)
            hint = did_you_mean(str(key), [*BLOCKS, *WINDOWS])
            raise self._fail(path, f"unknown condition block {key!r}{hint}")
        raise self._fail(
            path, f"expected a condition ([lhs, op, rhs] or a block), got {type(raw).__name__}"
        )

    def _block(self, kind: str, value: Any, path: Path) -> Block:
        if not isinstance(value, list) or not value:
            raise self._fail(path, f"{kind} takes a non-empty list of conditions")
        children, bad = [], False
        for i, item in enumerate(value):
            try:
                children.append(self._cond(item, (*path, i)))
            except _ReportedError:
                bad = True
        if bad:
            raise _ReportedError
        return Block(kind, tuple(children), path)

    def _setup_ref(self, name: Any, path: Path) -> SetupRef:
        if not isinstance(name, str) or name not in self.setups_raw:
            hint = did_you_mean(str(name), list(self.setups_raw))
            raise self._fail(path, f"unknown setup {name!r}{hint}")
        body = self.parse_setup(name)
        if body is None:
            raise _ReportedError
        return SetupRef(name, body, path)

    # ------------------------------------------------------------------ windows
    def _window(self, kind: str, spec: Any, path: Path) -> Node:
        keys = {
            "holds_for": ("bars", "cond"),
            "occurred_within": ("bars", "cond"),
            "count_at_least": ("bars", "times", "cond"),
            "bars_since": ("cond", "op", "n"),
            "rising": ("bars", "of"),
            "falling": ("bars", "of"),
        }[kind]
        if not isinstance(spec, dict):
            raise self._fail(path, f"{kind} takes {{{', '.join(keys)}}}")
        unknown = [k for k in spec if k not in keys]
        missing = [k for k in keys if k not in spec]
        if unknown or missing:
            parts = []
            if unknown:
                parts.append(
                    f"unknown key {unknown[0]!r}{did_you_mean(str(unknown[0]), list(keys))}"
                )
            if missing:
                parts.append(f"missing {', '.join(missing)}")
            raise self._fail(path, f"{kind} takes {{{', '.join(keys)}}}: {'; '.join(parts)}")
        if kind in ("rising", "falling"):
            bars = self._count(spec["bars"], (*path, "bars"), 1)
            of = self.series_operand(spec["of"], (*path, "of"))
            if of is None:
                raise _ReportedError
            if of.vtype.kind != NUMBER:
                raise self._fail((*path, "of"), f"{kind} needs a numeric series, got {of.vtype}")
            return Trend(kind, bars, of, path)
        cond = self._cond(spec["cond"], (*path, "cond"))
        if kind == "bars_since":
            op = spec["op"]
            if op not in SINCE_OPS:
                raise self._fail(
                    (*path, "op"), f"bars_since op must be one of {', '.join(SINCE_OPS)}"
                )
            n = self._count(spec["n"], (*path, "n"), 0)
            return BarsSince(cond, op, n, path)
        bars = self._count(spec["bars"], (*path, "bars"), 1)
        times = 1
        if kind == "count_at_least":
            times = self._count(spec["times"], (*path, "times"), 1)
            if times > bars:
                raise self._fail((*path, "times"), f"times ({times}) cannot exceed bars ({bars})")
        return Window(kind, bars, cond, path, times)

    def _count(self, value: Any, path: Path, minimum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(path, f"expected an integer >= {minimum}, got {value!r}")
        if not minimum <= value <= MAX_WINDOW:
            raise self._fail(
                path, f"expected an integer from {minimum} to {MAX_WINDOW}, got {value}"
            )
        return value

    # ------------------------------------------------------------------ comparisons
    def _compare(self, raw: list, path: Path) -> Compare:
        if len(raw) not in (3, 4):
            raise self._fail(path, f"a comparison is [lhs, op, rhs], got {len(raw)} elements")
        lhs_raw, op, rhs_raw = raw[:3]
        if op not in COMPARISONS:
            hint = did_you_mean(str(op), list(COMPARISONS))
            raise self._fail((*path, 1), f"unknown operator {op!r}{hint}")
        if len(raw) == 4 and op != "near":
            raise self._fail((*path, 3), f"only near takes a 4th element (a tolerance), not {op}")
        if op in ("between", "outside"):
            return self._between(op, lhs_raw, rhs_raw, path)
        if op == "in":
            return self._in(lhs_raw, rhs_raw, path)
        lhs, rhs = self._pair(lhs_raw, rhs_raw, path)
        if isinstance(lhs, Literal) and isinstance(rhs, Literal):
            raise self._fail(path, "compares two constants; one side must be a series")
        lt, rt = lhs.vtype, rhs.vtype
        if op in ORDER_OPS or op in ("near", "cross_above", "cross_below"):
            for side, t, i in (("lhs", lt, 0), ("rhs", rt, 2)):
                if t.kind != NUMBER:
                    raise self._fail((*path, i), f"{op} compares numbers; {side} is {t}")
        if op in ("cross_above", "cross_below") and not isinstance(lhs, Series):
            raise self._fail((*path, 0), f"{op} needs a series on the left, got a constant")
        if op in ("eq", "neq"):
            self._same_type(lhs, rhs, path)
        if op == "near":
            kind, tol = self._tolerance(raw, path)
            return Compare(op, lhs, rhs, path, kind, tol)
        return Compare(op, lhs, rhs, path)

    def _same_type(self, lhs: Operand, rhs: Operand, path: Path) -> None:
        lt, rt = lhs.vtype, rhs.vtype
        if lt.kind != rt.kind:
            raise self._fail(path, f"cannot compare {lt} with {rt}")
        both_series = isinstance(lhs, Series) and isinstance(rhs, Series)
        if lt.kind == ENUM and both_series and lt.values != rt.values:
            raise self._fail(path, f"cannot compare {lt} with {rt}: different enums")

    def _tolerance(self, raw: list, path: Path) -> tuple[str, float]:
        if len(raw) != 4 or not isinstance(raw[3], dict) or len(raw[3]) != 1:
            raise self._fail(path, "near needs a tolerance as 4th element: {pct: X} or {abs: X}")
        kind, value = next(iter(raw[3].items()))
        if kind not in ("pct", "abs"):
            raise self._fail((*path, 3), f"near tolerance is pct or abs, got {kind!r}")
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise self._fail((*path, 3, kind), f"tolerance must be a number > 0, got {value!r}")
        return kind, float(value)

    def _between(self, op: str, lhs_raw: Any, rhs_raw: Any, path: Path) -> Compare:
        lhs = self._operand(lhs_raw, (*path, 0), None)
        if lhs.vtype.kind != NUMBER:
            raise self._fail((*path, 0), f"{op} compares numbers; lhs is {lhs.vtype}")
        if not isinstance(rhs_raw, list) or len(rhs_raw) != 2:
            raise self._fail((*path, 2), f"{op} takes [lo, hi], got {rhs_raw!r}")
        lo = self._operand(rhs_raw[0], (*path, 2, 0), None)
        hi = self._operand(rhs_raw[1], (*path, 2, 1), None)
        for b, i in ((lo, 0), (hi, 1)):
            if b.vtype.kind != NUMBER:
                raise self._fail((*path, 2, i), f"{op} bounds are numbers, got {b.vtype}")
        if isinstance(lo, Literal) and isinstance(hi, Literal) and lo.value > hi.value:
            raise self._fail(
                (*path, 2), f"{op} takes [lo, hi] with lo <= hi, got [{lo.value}, {hi.value}]"
            )
        if isinstance(lhs, Literal) and isinstance(lo, Literal) and isinstance(hi, Literal):
            raise self._fail(path, "compares constants only; one side must be a series")
        return Compare(op, lhs, Range(lo, hi), path)

    def _in(self, lhs_raw: Any, rhs_raw: Any, path: Path) -> Compare:
        lhs = self._operand(lhs_raw, (*path, 0), None)
        if not isinstance(lhs, Series):
            raise self._fail((*path, 0), "in needs a series on the left")
        if not isinstance(rhs_raw, list) or not rhs_raw:
            raise self._fail((*path, 2), f"in takes a non-empty list, got {rhs_raw!r}")
        values = []
        for i, item in enumerate(rhs_raw):
            lit = self._literal_for(item, (*path, 2, i), lhs.vtype)
            values.append(lit.value)
        return Compare("in", lhs, Choices(tuple(values)), path)

    def _pair(self, lhs_raw: Any, rhs_raw: Any, path: Path) -> tuple[Operand, Operand]:
        """Resolve both sides; a bare word may be an enum value of the *other* side."""
        lhs = self._try_series(lhs_raw, (*path, 0))
        rhs = self._try_series(rhs_raw, (*path, 2))
        if lhs is None and rhs is None:
            lhs = self._operand(lhs_raw, (*path, 0), None)
            rhs = self._operand(rhs_raw, (*path, 2), None)
        elif lhs is None:
            assert rhs is not None
            lhs = self._literal_for(lhs_raw, (*path, 0), rhs.vtype)
        elif rhs is None:
            rhs = self._literal_for(rhs_raw, (*path, 2), lhs.vtype)
        return lhs, rhs

    # ------------------------------------------------------------------ operands
    def _try_series(self, raw: Any, path: Path) -> Series | None:
        if isinstance(raw, str) and _is_known_ref(raw, self.ctx):
            op = self._operand(raw, path, None)
            return op if isinstance(op, Series) else None
        return None

    def _literal_for(self, raw: Any, path: Path, other: VType) -> Operand:
        """``raw`` as a literal of ``other``'s type (numbers, bools, enum values)."""
        if isinstance(raw, str) and not _is_known_ref(raw, self.ctx):
            if not _REF.match(raw):
                raise self._fail(path, _unreadable(raw))
            if other.kind == ENUM:
                if raw in other.values:
                    return Literal(raw, other)
                hint = did_you_mean(raw, list(other.values))
                raise self._fail(
                    path,
                    f"{raw!r} is not a value of {other.owner} ({', '.join(other.values)}){hint}",
                )
            raise self._fail(path, _unknown_word(raw, self.ctx))
        op = self._operand(raw, path, other)
        if isinstance(op, Series):
            raise self._fail(path, f"expected a constant here, got series {raw!r}")
        if op.vtype.kind != other.kind:
            raise self._fail(path, f"cannot compare {other} with {op.vtype} {op.text}")
        return op

    def _operand(self, raw: Any, path: Path, other: VType | None) -> Operand:
        if isinstance(raw, bool):
            return Literal(raw, VType(BOOL))
        if isinstance(raw, int | float):
            if raw != raw or raw in (float("inf"), float("-inf")):
                raise self._fail(path, f"expected a finite number, got {raw!r}")
            return Literal(float(raw), NUM)
        if not isinstance(raw, str):
            raise self._fail(
                path, f"expected a series or a constant, got {type(raw).__name__} {raw!r}"
            )
        if other is not None and other.kind == ENUM and raw in other.values:
            return Literal(raw, other)
        return self._series(raw, path)

    def _series(self, text: str, path: Path) -> Series:
        m = _REF.match(text)
        if not m:
            raise self._fail(path, _unreadable(text))
        ident, field, role, off = m.group("id", "field", "role", "off")
        offset = int(off) if off else 0
        if offset > MAX_OFFSET:
            raise self._fail(path, f"offset [{offset}] is larger than {MAX_OFFSET}")
        if ident in PRICE_FIELDS:
            return self._price(text, ident, field, role or "exec", offset, path)
        decl = self.ctx.features.get(ident)
        if decl is None and ident in self.ctx.broken:
            raise _ReportedError  # its declaration's error is the one to fix
        if decl is None:
            raise self._fail(path, _unknown_word(text, self.ctx))
        if role is not None and role != decl.role:
            raise self._fail(
                path,
                f"'@{role}' applies to price fields; feature {ident!r} "
                f"is on its declared timeframe ({decl.role})",
            )
        outputs = decl.spec.outputs
        if field is None:
            if len(outputs) != 1:
                names = ", ".join(o.name for o in outputs)
                raise self._fail(
                    path,
                    f"feature {ident!r} ({decl.name}) has outputs {names}: "
                    f"name one, e.g. {ident}.{outputs[0].name}",
                )
            out = outputs[0]
        else:
            names = [o.name for o in outputs]
            if field not in names:
                hint = did_you_mean(field, names)
                raise self._fail(
                    path,
                    f"{decl.name} feature {ident!r} has no field {field!r}"
                    f"{hint}; fields: {', '.join(names)}",
                )
            out = decl.spec.output(field)
        owner = f"{ident}.{out.name}" if field or len(outputs) > 1 else ident
        vtype = VType(out.type, owner, tuple(out.values))
        key = SeriesKey(decl.role, ident, field if field else None, offset)
        return Series(self.ctx.slot(key), vtype, text)

    def _price(
        self, text: str, ident: str, field: Any, role: str, offset: int, path: Path
    ) -> Series:
        if field is not None:
            raise self._fail(path, f"price field {ident!r} has no sub-field {field!r}")
        if role not in self.ctx.roles:
            raise self._fail(
                path,
                f"timeframe role {role!r} is not declared in timeframes "
                f"(declared: {', '.join(self.ctx.roles)})",
            )
        key = SeriesKey(role, ident, None, offset)
        return Series(self.ctx.slot(key), NUM, text)


def _is_known_ref(text: str, ctx: PlayContext) -> bool:
    m = _REF.match(text)
    ident = m.group("id") if m else ""
    return ident in PRICE_FIELDS or ident in ctx.features or ident in ctx.broken


def _unreadable(text: str) -> str:
    return f"cannot read {text!r}: expected id, id.field, price@role or id[n]"


def _unknown_word(text: str, ctx: PlayContext) -> str:
    known = [*ctx.features, *PRICE_FIELDS]
    hint = did_you_mean(text.split(".")[0].split("@")[0].split("[")[0], known)
    return (
        f"unknown id {text!r}: not a feature of this play, a price field "
        f"({' '.join(PRICE_FIELDS)}) or an enum value{hint}"
    )
