"""Shared terminal output for the CLI: result console, error console, progress bars."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from trade_core.progress import ProgressFn

# Piped output (logs, CI, files) gets a wide fixed width instead of rich's 80-column default,
# so tables stay one row per line; a terminal uses its own width.
_PIPE_WIDTH = 160
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else _PIPE_WIDTH)
err = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else _PIPE_WIDTH)


@contextmanager
def progress_bar(description: str, unit: str = "") -> Iterator[ProgressFn]:
    """A rich progress bar on stderr; yields ``on_progress(done, total)`` for kernel calls.

    Only drawn on a terminal: in logs and pipes a bar is noise, so the callback does nothing.
    """
    if not err.is_terminal:
        yield lambda done, total: None
        return
    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=err, transient=False) as progress:
        task = progress.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total or None)

        yield update
