"""Progress reporting for long work, without tying the kernel to a terminal.

Long-running kernel functions take ``on_progress: ProgressFn | None``; the CLI passes a
callback that drives a rich progress bar, flows pass one that logs, tests pass nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

ProgressFn = Callable[[int, int], None]
"""``on_progress(done, total)``; ``total`` may grow while work is discovered."""


def report(on_progress: ProgressFn | None, done: int, total: int) -> None:
    """Call ``on_progress`` if given; a failing callback must never break the work."""
    if on_progress is None:
        return
    # Progress display is cosmetic: it must never abort the work it reports on.
    with contextlib.suppress(Exception):
        on_progress(done, total)
