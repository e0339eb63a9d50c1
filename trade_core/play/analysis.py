"""Static analysis of compiled conditions: how much history each leaf needs, and warm-up.

History is counted in **exec bars** (windows and crosses look back along the exec clock);
offsets ``x[n]`` are counted in bars of the feature's own timeframe. Warm-up combines both
with each feature's own warm-up, per timeframe role, then in 1m bars.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from trade_core.data.timeframes import tf_ms
from trade_core.play.conditions.nodes import (
    BarsSince,
    Block,
    Choices,
    Compare,
    Node,
    Not,
    Range,
    Series,
    SetupRef,
    Trend,
    Window,
)
from trade_core.play.context import FeatureDecl, SeriesKey


def slot_depths(roots: Iterable[Node], n_slots: int, extra: Iterable[int] = ()) -> list[int]:
    """Ring length (exec bars of history, >= 1) each slot needs for every root to evaluate."""
    need = [1] * n_slots
    for slot in extra:
        need[slot] = max(need[slot], 1)
    for root in roots:
        _visit(root, 0, need)
    return need


def _use(op: object, shift: int, need: list[int]) -> None:
    if isinstance(op, Series):
        need[op.slot] = max(need[op.slot], shift + 1)
    elif isinstance(op, Range):
        _use(op.lo, shift, need)
        _use(op.hi, shift, need)


def _visit(node: Node, base: int, need: list[int]) -> None:
    if isinstance(node, Compare):
        shift = base + (1 if node.op.startswith("cross") else 0)
        _use(node.lhs, shift, need)
        if not isinstance(node.rhs, Choices):
            _use(node.rhs, shift, need)
    elif isinstance(node, Block):
        for child in node.children:
            _visit(child, base, need)
    elif isinstance(node, Not):
        _visit(node.child, base, need)
    elif isinstance(node, SetupRef):
        _visit(node.body, base, need)
    elif isinstance(node, Window):
        _visit(node.cond, base + node.bars - 1, need)
    elif isinstance(node, BarsSince):
        _visit(node.cond, base + node.n + 1, need)
    elif isinstance(node, Trend):
        _use(node.of, base + node.bars, need)


def _effective_warmup(fid: str, features: dict[str, FeatureDecl]) -> int:
    """A feature that reads another (``market_structure`` reads ``swing``) is ready no
    sooner than what it reads: the max over the dependency chain."""
    decl = features[fid]
    return max([decl.warmup, *(_effective_warmup(r, features) for r in decl.refs)])


def _leaf_warmup(key: SeriesKey, features: dict[str, FeatureDecl]) -> int:
    """Bars before a leaf's value exists: 1 for a price; the output's own warm-up for a
    feature field (e.g. ADX's +DI before ADX), at least that of what the feature reads."""
    decl = features.get(key.source)
    if decl is None:
        return 1
    deps = [_effective_warmup(r, features) for r in decl.refs]
    return max([decl.output_warmup(key.field), *deps])


@dataclass(frozen=True, slots=True)
class Warmup:
    """Bars each timeframe role needs before every rule can be evaluated, and the same in
    1m bars (``minutes``) — how much history to load before the first decision."""

    bars: dict[str, int]
    minutes: int

    def to_dict(self) -> dict[str, int]:
        return {**self.bars, "1m": self.minutes}


def compute_warmup(
    roles: dict[str, str],
    features: dict[str, FeatureDecl],
    series: dict[SeriesKey, int],
    depths: list[int],
) -> Warmup:
    """Per role: max over the leaves that rules and the risk block read of (their own
    warm-up + offset + exec history converted to the role's bars, rounded up)."""
    exec_ms = tf_ms(roles["exec"])
    bars = dict.fromkeys(roles, 0)
    for key, slot in series.items():
        own = _leaf_warmup(key, features)
        role_ms = tf_ms(roles[key.role])
        history = -(-(depths[slot] - 1) * exec_ms // role_ms)
        bars[key.role] = max(bars[key.role], own + key.offset + history)
    minutes = max(n * tf_ms(roles[r]) // 60_000 for r, n in bars.items())
    return Warmup(bars, minutes)
