"""The loaded, compiled Play: what the engine runs in every mode."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, Literal, overload

from trade_core.features.base import Feature, FeatureRef
from trade_core.play.analysis import Warmup, compute_warmup, slot_depths
from trade_core.play.canonical import canonical_hash, canonical_json
from trade_core.play.conditions.compile import TRUE, Compiled, compile_node
from trade_core.play.conditions.explain import Trace, explain
from trade_core.play.conditions.nodes import Node
from trade_core.play.conditions.parse import ConditionParser
from trade_core.play.context import FeatureDecl, PlayContext, SeriesKey
from trade_core.play.model import PlayModel
from trade_core.play.snapshot import Snapshot
from trade_core.play.yaml_source import YamlSource

RULE_NAMES = ("entry.long", "entry.short", "exit.long", "exit.short")


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    node: Node
    fn: Compiled


@dataclass(frozen=True)
class Play:
    """A validated Play with its features resolved, rules compiled and warm-up computed."""

    model: PlayModel
    file: str
    features: dict[str, FeatureDecl]
    series: dict[SeriesKey, int]
    depths: tuple[int, ...]
    rules: dict[str, Rule]
    risk_slots: dict[str, int]
    warmup: Warmup
    canonical: str
    hash: str

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def version(self) -> int:
        return self.model.version

    @property
    def symbol(self) -> str:
        return self.model.market.symbol

    @property
    def timeframes(self) -> dict[str, str]:
        """Declared role -> timeframe, e.g. ``{"exec": "15m", "high": "4h"}``."""
        return self.model.timeframes.declared()

    def new_snapshot(self) -> Snapshot:
        return Snapshot(self.series, list(self.depths))

    def build_features(self) -> dict[str, Feature]:
        """Fresh feature instances, dependencies first (dict order = update order)."""
        built: dict[str, Feature] = {}
        pending = dict(self.features)
        while pending:
            ready = [fid for fid, d in pending.items() if all(r in built for r in d.refs)]
            if not ready:  # the loader refuses such plays; never loop forever on one
                raise ValueError(f"features reference each other in a cycle: {sorted(pending)}")
            for fid, decl in list(pending.items()):
                if all(r in built for r in decl.refs):
                    deps = {
                        p.name: built[decl.params[p.name]]
                        for p in decl.spec.params
                        if isinstance(p.type, FeatureRef)
                    }
                    built[fid] = decl.spec.cls(deps, **decl.params)
                    del pending[fid]
        return built

    @overload
    def evaluate(self, rule: str, snapshot: Snapshot, explain: Literal[False] = ...) -> bool: ...
    @overload
    def evaluate(self, rule: str, snapshot: Snapshot, explain: Literal[True]) -> Trace: ...

    def evaluate(self, rule: str, snapshot: Snapshot, explain: bool = False) -> bool | Trace:
        """Whether ``rule`` (``entry.long``, ``exit.short``, ...) fires now; with
        ``explain=True`` the full trace (``trace.code == TRUE`` iff it fires)."""
        r = self.rules.get(rule)
        if r is None:
            raise KeyError(f"play {self.name} has no rule {rule!r} (has {', '.join(self.rules)})")
        if explain:
            return _explain(r.node, snapshot.rings)
        return r.fn(snapshot.rings, 0) == TRUE

    def evaluate_code(self, rule: str, snapshot: Snapshot) -> int:
        """The rule's raw result code (TRUE/FALSE/NOT_READY/MISSING)."""
        return self.rules[rule].fn(snapshot.rings, 0)

    def with_symbol(self, symbol: str) -> Play:
        """The same Play trading ``symbol`` (``trade backtest --symbol``). Its canonical form
        and hash change with the symbol, so runs on different markets never share a hash."""
        if symbol == self.symbol:
            return self
        market = self.model.market.model_copy(update={"symbol": symbol})
        model = self.model.model_copy(update={"market": market})
        data = json.loads(self.canonical)
        data["market"]["symbol"] = symbol
        return replace(self, model=model, canonical=canonical_json(data),
                       hash=canonical_hash(data))  # fmt: skip

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "hash": self.hash,
            "symbol": self.symbol,
            "timeframes": self.timeframes,
            "warmup": self.warmup.to_dict(),
            "features": {f: f"{d.kind} {d.name} on {d.role}" for f, d in self.features.items()},
            "rules": list(self.rules),
        }


def _explain(node: Node, rings: Any) -> Trace:
    return explain(node, rings, 0)


def build_play(
    model: PlayModel, ctx: PlayContext, parser: ConditionParser, src: YamlSource
) -> Play:
    """Compile a Play whose checks all passed (``ctx`` holds no issues)."""
    rules: dict[str, Rule] = {}
    for section, name in (("entries", "entry"), ("exits", "exit")):
        sides = getattr(model, section)
        for side in ("long", "short"):
            if getattr(sides, side) is None:
                continue
            node = parser.parse(src.data[section][side], (section, side))
            assert node is not None
            rules[f"{name}.{side}"] = Rule(f"{name}.{side}", node, compile_node(node))
    risk_slots: dict[str, int] = {}
    risk = src.data.get("risk", {})
    for block, key in (
        ("stop_loss", "atr"),
        ("stop_loss", "level"),
        ("take_profit", "atr"),
        ("trailing", "atr"),
    ):
        part = risk.get(block)
        if isinstance(part, dict) and isinstance(part.get(key), str):
            op = parser.series_operand(part[key], ("risk", block, key))
            assert op is not None
            risk_slots[f"{block}.{key}"] = op.slot
    depths = slot_depths([r.node for r in rules.values()], len(ctx.series))
    warmup = compute_warmup(ctx.roles, ctx.features, ctx.series, depths)
    data = model.model_dump(mode="python")
    data["features"] = {
        fid: {d.kind: d.name, "tf": d.role, **d.params} for fid, d in ctx.features.items()
    }
    canonical = canonical_json(data)
    return Play(
        model=model,
        file=src.file,
        features=dict(ctx.features),
        series=dict(ctx.series),
        depths=tuple(depths),
        rules=rules,
        risk_slots=risk_slots,
        warmup=warmup,
        canonical=canonical,
        hash=canonical_hash(data),
    )
