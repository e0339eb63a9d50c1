"""Run the real ``trade`` command in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


def run_trade(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> CliResult:
    """``trade ARGS...`` with the current environment plus ``env``; wide, plain output."""
    full_env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb", **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "trade_core.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)
