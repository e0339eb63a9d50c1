"""YAML text -> plain data plus the line of every node, from the parser's own marks.

PyYAML's composer gives each node a ``start_mark``; walking the node tree alongside the
constructed data yields a map from YAML path to 1-based line. A path that does not exist in
the file (a missing key) resolves to the line of its deepest existing parent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from trade_core.play.issues import Path


@dataclass
class YamlSource:
    """A parsed YAML document: ``data`` and the line of each path within it."""

    file: str
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int:
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return 1


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (YAML would silently keep the last)."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False):
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first on line {seen[key]})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


# YAML 1.1 (PyYAML) reads 1e-3 as a string; Play files are written by people who mean a
# number, so resolve floats the YAML 1.2 way (exponent without a dot or sign allowed).
_FLOAT_12 = re.compile(
    r"^[-+]?(?:[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|\.[0-9_]+(?:[eE][-+]?[0-9]+)?"
    r"|[0-9][0-9_]*[eE][-+]?[0-9]+|\.(?:inf|Inf|INF)|[-+]\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
# Likewise no sexagesimal integers (12:30 is not 750).
_INT_12 = re.compile(r"^(?:[-+]?[0-9][0-9_]*|0x[0-9a-fA-F_]+|0o[0-7_]+)$")
_REPLACED = ("tag:yaml.org,2002:float", "tag:yaml.org,2002:int")
_UniqueKeyLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag not in _REPLACED]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_UniqueKeyLoader.add_implicit_resolver("tag:yaml.org,2002:int", _INT_12, list("-+0123456789"))
_UniqueKeyLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_12, list("-+0123456789."))

_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


_UNQUOTED_OFFSET = re.compile(r"\[[^\]\"']*\b[a-z_][a-z0-9_.@]*\[\d+\]")


class YamlSyntaxError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def parse_yaml(text: str, file: str) -> YamlSource:
    """Parse one YAML document; :class:`YamlSyntaxError` carries the line of a syntax error."""
    try:
        node = yaml.compose(text, Loader=_UniqueKeyLoader)
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        message = f"invalid YAML: {exc.problem or exc}"
        source_line = text.splitlines()[line - 1] if 0 < line <= len(text.splitlines()) else ""
        if _UNQUOTED_OFFSET.search(source_line):
            message += (
                '; past values such as ema_fast[1] must be quoted inside [...] lists: "ema_fast[1]"'
            )
        raise YamlSyntaxError(line, message) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(1, f"invalid YAML: {exc}") from None
    src = YamlSource(file, data)
    if node is not None:
        _walk(node, (), src.lines)
    return src


def _walk(node: yaml.Node, path: Path, lines: dict[Path, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            child = (*path, key)
            lines[child] = key_node.start_mark.line + 1
            _walk(value_node, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), lines)
