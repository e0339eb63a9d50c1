"""Located problems in a Play file, and the error that carries all of them at once.

Every problem names the file, the line (from the YAML parser's marks, never guessed), the
YAML path (``entries.long.all[2]``) and what was expected. The loader collects them all
before raising, so a user fixes a file in one pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trade_core.errors import BadInputError

Path = tuple[str | int, ...]


def format_path(path: Path) -> str:
    """``("entries", "long", "all", 2)`` -> ``entries.long.all[2]``; ``()`` -> ``(top)``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top)"


@dataclass(frozen=True, slots=True)
class PlayIssue:
    file: str
    line: int
    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {format_path(self.path)}: {self.message}"


class PlayValidationError(BadInputError):
    """A Play file with one or more problems; ``issues`` lists every one, in file order."""

    def __init__(self, issues: Sequence[PlayIssue]) -> None:
        self.issues = sorted(issues, key=lambda i: (i.file, i.line, format_path(i.path)))
        n = len(self.issues)
        head = f"{n} problem{'s' if n != 1 else ''} in play"
        super().__init__(head + ":\n" + "\n".join(str(i) for i in self.issues))
