"""``features:`` entries -> :class:`FeatureDecl`, checked against the registries.

Each entry is ``{indicator: NAME | structure: NAME, tf: ROLE, **params}``. Unknown names,
unknown or out-of-range parameters, undeclared roles and references to missing or wrong-kind
features are located errors.
"""

from __future__ import annotations

from typing import Any

from trade_core.errors import BadInputError
from trade_core.features.base import FeatureRef
from trade_core.features.catalog import registries
from trade_core.features.registry import did_you_mean
from trade_core.play.context import PRICE_FIELDS, FeatureDecl, PlayContext

KINDS = ("indicator", "structure")


def resolve_features(raw: Any, ctx: PlayContext) -> None:
    """Fill ``ctx.features`` from the raw ``features`` mapping, recording every problem."""
    if not isinstance(raw, dict):
        return  # the model check already reported the wrong type
    regs = registries()
    ctx.broken.update(k for k in raw if isinstance(k, str))
    for fid, decl in raw.items():
        path = ("features", fid)
        if not isinstance(decl, dict) or not isinstance(fid, str):
            continue
        if fid in PRICE_FIELDS:
            ctx.error(path, f"feature id {fid!r} is a price field name; pick another id")
            continue
        kinds = [k for k in KINDS if k in decl]
        if len(kinds) != 1:
            ctx.error(path, "expected exactly one of 'indicator: NAME' or 'structure: NAME'")
            continue
        kind = kinds[0]
        name = decl[kind]
        reg = regs[kind]
        if not isinstance(name, str) or reg.get(name) is None:
            hint = did_you_mean(str(name), reg.names())
            ctx.error((*path, kind), f"unknown {kind} {name!r}{hint}")
            continue
        spec = reg.spec(name)
        role = decl.get("tf", "exec")
        if role not in ctx.roles:
            ctx.error(
                (*path, "tf"),
                f"timeframe role {role!r} is not declared in timeframes "
                f"(declared: {', '.join(ctx.roles)})",
            )
            continue
        params = {k: v for k, v in decl.items() if k not in (kind, "tf")}
        resolved = _resolve_params(spec, params, path, ctx)
        if resolved is None:
            continue
        refs = tuple(resolved[p.name] for p in spec.params if isinstance(p.type, FeatureRef))
        ctx.features[fid] = FeatureDecl(fid, kind, name, role, resolved, spec, refs)
    _check_references(raw, ctx)
    ctx.broken.difference_update(ctx.features)


def _resolve_params(spec: Any, params: dict, path: tuple, ctx: PlayContext) -> dict | None:
    known = [p.name for p in spec.params]
    ok = True
    for key in params:
        if key not in known:
            hint = did_you_mean(str(key), [*known, "tf"])
            allowed = ", ".join(known) or "none"
            ctx.error(
                (*path, key),
                f"unknown parameter {key!r} for {spec.name}{hint}; parameters: {allowed}, tf",
            )
            ok = False
    if not ok:
        return None
    try:
        return spec.resolve(params)
    except ValueError as exc:
        name, _, message = str(exc).partition(": ")
        ctx.error((*path, name), f"{spec.name} {name}: {message}")
    except (KeyError, BadInputError) as exc:
        ctx.error(path, str(exc))
    return None


def _check_references(raw: dict, ctx: PlayContext) -> None:
    for fid, decl in list(ctx.features.items()):
        problems = []
        for p in decl.spec.params:
            if not isinstance(p.type, FeatureRef):
                continue
            target = decl.params[p.name]
            other = ctx.features.get(target)
            kinds = "/".join(p.type.kinds)
            if other is None:
                hint = did_you_mean(str(target), list(raw))
                problems.append(
                    (
                        p.name,
                        f"{p.name} must name a {kinds} feature of this play; "
                        f"{target!r} is not one{hint}",
                    )
                )
            elif other.name not in p.type.kinds:
                problems.append(
                    (p.name, f"{p.name}: feature {target!r} is a {other.name}, expected {kinds}")
                )
            elif other.role != decl.role:
                problems.append(
                    (
                        p.name,
                        f"{p.name}: feature {target!r} is on {other.role}, "
                        f"but {fid!r} is on {decl.role}; both must share a timeframe",
                    )
                )
        for name, message in problems:
            ctx.error(("features", fid, name), message)
        if problems:
            del ctx.features[fid]
