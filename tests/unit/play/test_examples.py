"""The example plays are valid, read like strategies, and between them use the whole language."""

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from trade_core.play import load_play, play_json_schema
from trade_core.play.conditions.nodes import BarsSince, Block, Compare, Not, SetupRef, Trend, Window

EXAMPLES = sorted((Path(__file__).resolve().parents[3] / "plays" / "examples").glob("*.yml"))


def walk(node):
    yield node
    for child in getattr(node, "children", ()):
        yield from walk(child)
    for attr in ("child", "body", "cond"):
        if hasattr(node, attr):
            yield from walk(getattr(node, attr))


def test_at_least_five_examples():
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_is_valid_and_matches_the_schema(path):
    play = load_play(path)
    assert play.rules
    assert path.read_text().startswith("#"), "say what the strategy does in a comment"
    validator = jsonschema.Draft202012Validator(json.loads(json.dumps(play_json_schema())))
    errors = list(validator.iter_errors(yaml.safe_load(path.read_text())))
    assert not errors, [e.message for e in errors]


def test_examples_cover_the_language_between_them():
    ops, kinds, roles, features = set(), set(), set(), set()
    for path in EXAMPLES:
        play = load_play(path)
        roles |= set(play.timeframes)
        features |= {d.kind for d in play.features.values()}
        for rule in play.rules.values():
            for node in walk(rule.node):
                kinds.add(type(node).__name__)
                if isinstance(node, Compare):
                    ops.add(node.op)
                if isinstance(node, Window | Trend):
                    kinds.add(node.kind)
                if isinstance(node, Block):
                    kinds.add(node.kind)
    assert {"cross_above", "cross_below", "between", "near", "eq", "gt", "lt"} <= ops
    assert {
        "holds_for",
        "occurred_within",
        "count_at_least",
        "rising",
        "falling",
        "all",
        "any",
    } <= kinds
    assert {"SetupRef", "Not", "BarsSince"} <= kinds
    assert roles == {"exec", "med", "high"}
    assert features == {"indicator", "structure"}
    _ = (BarsSince, Not, SetupRef)
