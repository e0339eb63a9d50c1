"""The snapshot: current and past values of every leaf series a compiled Play reads.

The engine (any mode) feeds it: ``push_role(role, values)`` when a bar of that timeframe role
closes — ``values`` maps ``close``/``ema_fast``/``macd.signal`` to the value, or ``None`` while
the feature is not ready — then ``close_exec()`` once per exec bar, after every role that
closed at that instant. Memory is bounded: each ring holds only the history the Play needs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from trade_core.play.context import SeriesKey


class Snapshot:
    def __init__(self, series: Mapping[SeriesKey, int], depths: list[int]) -> None:
        self.rings: list[deque[Any]] = [deque(maxlen=d) for d in depths]
        own_depth: dict[tuple[str, str], int] = {}
        for key in series:
            k = (key.role, key.value_key)
            own_depth[k] = max(own_depth.get(k, 1), key.offset + 1)
        self._own: dict[tuple[str, str], deque[Any]] = {
            k: deque(maxlen=d) for k, d in own_depth.items()
        }
        self._by_role: dict[str, list[tuple[str, deque[Any]]]] = {}
        for (role, vkey), ring in self._own.items():
            self._by_role.setdefault(role, []).append((vkey, ring))
        self._leaves = [
            (self._own[(key.role, key.value_key)], key.offset, self.rings[slot].appendleft)
            for key, slot in series.items()
        ]
        self.exec_bars = 0

    def keys(self, role: str) -> list[str]:
        """The value keys the engine must push for ``role``."""
        return [k for k, _ in self._by_role.get(role, [])]

    def role_pushers(self, role: str) -> list[tuple[str, Callable[[Any], None]]]:
        """``(value key, push)`` for ``role``, in :meth:`keys` order: ``push(value)`` records
        one key's value of a closed ``role`` bar. Calling every push once is exactly
        ``push_role(role, values)``; the engine's hot loop binds them once instead of building
        a dict per bar."""
        return [(k, ring.appendleft) for k, ring in self._by_role.get(role, [])]

    def push_role(self, role: str, values: Mapping[str, Any]) -> None:
        """A bar of ``role`` closed; ``values`` holds each key's value (None: not ready)."""
        for vkey, ring in self._by_role.get(role, ()):
            ring.appendleft(values.get(vkey))

    def close_exec(self) -> None:
        """An exec bar closed: sample every leaf into its exec-bar history."""
        for own, offset, push in self._leaves:
            push(own[offset] if offset < len(own) else None)
        self.exec_bars += 1
