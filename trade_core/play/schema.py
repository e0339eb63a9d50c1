"""JSON Schema of the Play format, so editors can autocomplete and validate Play files.

The fixed structure comes from the pydantic models; feature declarations are generated from
the indicator and structure registries (one alternative per feature, with its parameters,
types, bounds and defaults); conditions are a recursive definition of the condition language.
"""

from __future__ import annotations

from typing import Any

from trade_core.features.base import FeatureRef, FeatureSpec
from trade_core.features.catalog import registries
from trade_core.play.conditions.nodes import COMPARISONS
from trade_core.play.model import ROLES, PlayModel

_TYPES = {int: "integer", float: "number", str: "string", bool: "boolean"}


def _feature_schema(kind: str, spec: FeatureSpec) -> dict[str, Any]:
    props: dict[str, Any] = {kind: {"const": spec.name}, "tf": {"enum": list(ROLES)}}
    for p in spec.params:
        t = p.type
        prop: dict[str, Any] = {"description": p.doc}
        if isinstance(t, FeatureRef):
            prop["type"] = "string"
            prop["description"] = f"id of a {'/'.join(t.kinds)} feature of this play"
        else:
            prop["type"] = _TYPES[t]
            if p.minimum is not None:
                prop["minimum"] = p.minimum
            if p.maximum is not None:
                prop["maximum"] = p.maximum
            if p.choices:
                prop["enum"] = list(p.choices)
            if not p.required:
                prop["default"] = p.default
        props[p.name] = prop
    required = [kind] + [p.name for p in spec.params if p.required]
    return {
        "type": "object",
        "title": f"{kind} {spec.name}",
        "description": spec.doc.split("\n")[0],
        "properties": props,
        "required": required,
        "additionalProperties": False,
    }


def _condition_schema() -> dict[str, Any]:
    ref = {"$ref": "#/$defs/Condition"}
    count = {"type": "integer", "minimum": 1}

    def block(key: str, value: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {key: value},
            "required": [key],
            "additionalProperties": False,
        }

    def window(key: str, props: dict[str, Any]) -> dict[str, Any]:
        body = {
            "type": "object",
            "properties": props,
            "required": list(props),
            "additionalProperties": False,
        }
        return block(key, body)

    return {
        "description": "[lhs, op, rhs] or a block (all/any/not/setup/window)",
        "oneOf": [
            {
                "type": "array",
                "minItems": 3,
                "maxItems": 4,
                "prefixItems": [{}, {"enum": list(COMPARISONS)}, {}, {"type": "object"}],
            },
            block("all", {"type": "array", "items": ref, "minItems": 1}),
            block("any", {"type": "array", "items": ref, "minItems": 1}),
            block("not", ref),
            block("setup", {"type": "string"}),
            window("holds_for", {"bars": count, "cond": ref}),
            window("occurred_within", {"bars": count, "cond": ref}),
            window("count_at_least", {"bars": count, "times": count, "cond": ref}),
            window(
                "bars_since",
                {
                    "cond": ref,
                    "op": {"enum": ["gt", "gte", "lt", "lte", "eq", "neq"]},
                    "n": {"type": "integer", "minimum": 0},
                },
            ),
            window("rising", {"bars": count, "of": {"type": "string"}}),
            window("falling", {"bars": count, "of": {"type": "string"}}),
        ],
    }


def play_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a Play file."""
    schema = PlayModel.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "TRADE Play"
    defs = schema.setdefault("$defs", {})
    defs["Condition"] = _condition_schema()
    features = [
        _feature_schema(kind, reg.spec(name))
        for kind, reg in registries().items()
        for name in reg.names()
    ]
    props = schema["properties"]
    props["features"] = {"type": "object", "additionalProperties": {"oneOf": features}}
    props["setups"] = {"type": "object", "additionalProperties": {"$ref": "#/$defs/Condition"}}
    for side_model in ("SideRules", "EntryRules"):
        side = defs[side_model]["properties"]
        for k in ("long", "short"):
            side[k] = {"anyOf": [{"$ref": "#/$defs/Condition"}, {"type": "null"}]}
    return schema
