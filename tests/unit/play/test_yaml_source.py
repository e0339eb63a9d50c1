import pytest

from trade_core.play.yaml_source import YamlSyntaxError, parse_yaml


def test_lines_come_from_the_parser():
    src = parse_yaml("a: 1\nb:\n  c: [1,\n      2]\n  d:\n    - {e: 3}\n", "f.yml")
    assert src.line_of(("b", "c", 1)) == 4
    assert src.line_of(("b", "d", 0, "e")) == 6
    assert src.line_of(("b", "missing", "deeper")) == 2  # deepest existing parent


def test_numbers_are_read_as_people_mean_them():
    data = parse_yaml("a: [1e-3, 5e0, 1_000, .5, 12:30]\n", "f").data["a"]
    assert data == [0.001, 5.0, 1000, 0.5, "12:30"]


def test_duplicate_keys_are_an_error_with_both_lines():
    with pytest.raises(YamlSyntaxError) as info:
        parse_yaml("x: 1\ny: 2\nx: 3\n", "f")
    assert info.value.line == 3
    assert "duplicate key 'x' (first on line 1)" in info.value.message
