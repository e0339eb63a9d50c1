"""Every malformed play under malformed/ must fail with the exact line, YAML path and message
its first line promises: ``# expect: LINE PATH :: MESSAGE``."""

import re
from pathlib import Path

import pytest

from trade_core.play import PlayValidationError, load_play
from trade_core.play.issues import format_path

HERE = Path(__file__).parent / "malformed"
HEADER = re.compile(r"^# expect: (?P<line>\d+) (?P<path>\S+) :: (?P<msg>.+)$")
FILES = sorted(HERE.glob("*.yml"))


def test_there_are_at_least_fifty():
    assert len(FILES) >= 50


@pytest.mark.parametrize("file", FILES, ids=lambda f: f.stem)
def test_malformed_play_is_reported_exactly(file):
    m = HEADER.match(file.read_text().splitlines()[0])
    assert m, f"{file.name}: bad expect header"
    with pytest.raises(PlayValidationError) as info:
        load_play(file)
    found = [(i.line, format_path(i.path), i.message) for i in info.value.issues]
    want = (int(m["line"]), m["path"], m["msg"])
    assert any(
        line == want[0] and path == want[1] and want[2] in msg for line, path, msg in found
    ), f"expected {want} in {found}"
    for issue in info.value.issues:  # every issue names this file
        assert str(issue).startswith(f"{file}:")
