"""Never log a secret: every param, tag, run name and artifact file is checked before a run
is written, and a hit refuses the whole run (nothing is sent).

The secrets are the values of the ``SecretStr`` settings (the Bybit demo/live API keys and
secrets) and, in case settings were read before they were set, the same variables in the
process environment. A value *equal* to a secret is refused whatever its length; a value or a
file *containing* one is refused for secrets of at least :data:`MIN_SCAN_LEN` characters
(shorter strings would match ordinary text; real Bybit keys are 18+ characters). Errors
name the field or file, never the secret.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from pydantic import SecretStr

from trade_core.config import Settings, get_settings
from trade_core.errors import TradeError

MIN_SCAN_LEN = 8


class SecretLeakError(TradeError):
    """A value about to be logged holds a configured secret; nothing was logged."""


def configured_secrets(settings: Settings | None = None) -> frozenset[str]:
    """The non-empty values of every ``SecretStr`` setting and of its environment variable."""
    s = settings or get_settings()
    found: set[str] = set()
    for name, spec in type(s).model_fields.items():
        value = getattr(s, name)
        if isinstance(value, SecretStr):
            found.add(value.get_secret_value())
        if "SecretStr" in str(spec.annotation):
            found.add(os.environ.get(name.upper(), ""))
    found.discard("")
    return frozenset(found)


def _holds_secret(text: str, secrets: frozenset[str]) -> bool:
    return text in secrets or any(len(x) >= MIN_SCAN_LEN and x in text for x in secrets)


def check_values(kind: str, values: Mapping[str, object], secrets: frozenset[str]) -> None:
    """Raise :class:`SecretLeakError` if a key or value of ``values`` holds a secret.
    ``kind`` names what they are (``param``, ``tag``, ...) in the message."""
    for key, value in values.items():
        if _holds_secret(str(key), secrets) or _holds_secret(str(value), secrets):
            raise SecretLeakError(
                f"refusing to log {kind} {_safe_name(str(key), secrets)}: it holds a "
                "configured secret (a BYBIT_* key); nothing was logged"
            )


def check_files(paths: Iterable[Path], secrets: frozenset[str]) -> None:
    """Raise :class:`SecretLeakError` if a file (or a file under a folder) in ``paths``
    contains a secret of at least :data:`MIN_SCAN_LEN` characters, as UTF-8 bytes."""
    needles = [x.encode() for x in secrets if len(x) >= MIN_SCAN_LEN]
    if not needles:
        return
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for f in files:
            data = f.read_bytes()
            if any(n in data for n in needles) or any(n in str(f).encode() for n in needles):
                raise SecretLeakError(
                    f"refusing to log artifact {_safe_name(f.name, secrets)}: it contains a "
                    "configured secret (a BYBIT_* key); nothing was logged"
                )


def _safe_name(name: str, secrets: frozenset[str]) -> str:
    return "<redacted>" if _holds_secret(name, secrets) else repr(name)
