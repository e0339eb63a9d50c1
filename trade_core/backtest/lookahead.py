"""The exact look-ahead check: a decision may not change when the future is cut away.

The engine runs once on all the data, then again on the data truncated at ``points`` cut
times (exec-bar closes after warm-up, spread evenly, deterministic). A truncated run has
seen exactly the past of its cut, so every decision it made by the cut - engine log events
of kinds ``submit``, ``skip``, ``halt``, ``cancel`` and ``trail`` with ``ts <= cut``, and the
venue's fills with ``ts < cut`` - must equal, in order and field for field, what the full
run did in the same window. Any difference means something in the full run saw data newer
than its decision time. Exact equality, never a tolerance.

Times are epoch ms UTC; a cut ``c`` keeps the 1m bars with ``ts < c`` (the last one closes at
``c``, so the exec bar closing at ``c`` and its decision are in both runs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from trade_core.backtest.audit_context import warmup_ready_ts
from trade_core.backtest.runner import BacktestData, RunConfig, run_engine
from trade_core.engine.engine import EngineEvent
from trade_core.engine.orders import OrderFilled
from trade_core.play import Play
from trade_core.progress import ProgressFn, report
from trade_core.timestamps import fmt_ts

DECISION_KINDS = frozenset({"submit", "skip", "halt", "cancel", "trail"})
"""Engine log kinds that are decisions (state changes and trades are their consequences)."""

Decision = EngineEvent | OrderFilled


@dataclass(frozen=True, slots=True)
class Mismatch:
    """The first difference found at one cut: when, and what each run decided there."""

    cut: int  # ms: the truncated run's data end
    ts: int  # ms: time of the first differing decision or fill
    full: str  # what the full run did ("(nothing)" if it did nothing more)
    truncated: str  # what the truncated run did

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        return (
            f"cut {fmt_ts(self.cut)}: at {fmt_ts(self.ts)} the full run did {self.full}, the "
            f"run without the future did {self.truncated}"
        )


@dataclass(frozen=True)
class LookaheadReport:
    """Cut times checked (ms), decisions + fills compared, and the mismatches found."""

    cuts: list[int]
    compared: int
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "cuts": list(self.cuts),
            "compared": self.compared,
            "mismatches": [m.to_dict() for m in self.mismatches],
        }


def cut_times(
    exec_closes: Sequence[int] | np.ndarray, ready_ts: int, end_ts: int, points: int
) -> list[int]:
    """``points`` exec-bar closes (ms) from the first at or after warm-up (``ready_ts``) to
    the last before the data's end, evenly spread by index; fewer if there are fewer."""
    closes = np.asarray(exec_closes, np.int64)
    candidates = closes[(closes >= ready_ts) & (closes < end_ts)]
    if candidates.size == 0 or points <= 0:
        return []
    picks = np.unique(np.rint(np.linspace(0, candidates.size - 1, points)).astype(np.int64))
    return [int(t) for t in candidates[picks]]


def _window(
    events: Sequence[EngineEvent], fills: Sequence[OrderFilled], cut: int
) -> tuple[list[EngineEvent], list[OrderFilled]]:
    decisions = [e for e in events if e.kind in DECISION_KINDS and e.ts <= cut]
    return decisions, [f for f in fills if f.ts < cut]


def _first_difference(cut: int, full: list[Decision], truncated: list[Decision]) -> Mismatch | None:
    for k in range(max(len(full), len(truncated))):
        a = full[k] if k < len(full) else None
        b = truncated[k] if k < len(truncated) else None
        if a != b:
            ts = min(x.ts for x in (a, b) if x is not None)
            return Mismatch(cut, ts, _say(a), _say(b))
    return None


def _say(x: Decision | None) -> str:
    if x is None:
        return "(nothing)"
    if isinstance(x, EngineEvent):
        return f"{x.kind}: {x.detail}"
    return f"fill {x.link_id} {x.side} {x.qty:g} @ {x.price!r}"


def compare_cuts(
    play: Play,
    data: BacktestData,
    cfg: RunConfig,
    full_events: Sequence[EngineEvent],
    full_fills: Sequence[OrderFilled],
    cuts: Sequence[int],
    on_progress: ProgressFn | None = None,
) -> LookaheadReport:
    """Re-run the engine on ``data`` cut at each of ``cuts`` and compare with the full run's
    ``full_events`` and ``full_fills`` (see the module docstring)."""
    mismatches: list[Mismatch] = []
    compared = 0
    for done, cut in enumerate(cuts, start=1):
        raw, _ = run_engine(play, data.window(None, cut), cfg)
        fills = [e for e in raw.venue_events if isinstance(e, OrderFilled)]
        mine_dec, mine_fills = _window(raw.events, fills, cut)
        full_dec, ref_fills = _window(full_events, full_fills, cut)
        compared += len(full_dec) + len(ref_fills)
        found = [
            m
            for m in (
                _first_difference(cut, list(full_dec), list(mine_dec)),
                _first_difference(cut, list(ref_fills), list(mine_fills)),
            )
            if m is not None
        ]
        if found:
            mismatches.append(min(found, key=lambda m: m.ts))
        report(on_progress, done + 1, len(cuts) + 1)
    return LookaheadReport(list(cuts), compared, mismatches)


def check_lookahead(
    play: Play,
    data: BacktestData,
    cfg: RunConfig,
    *,
    points: int = 12,
    on_progress: ProgressFn | None = None,
) -> LookaheadReport:
    """Run ``play`` on all of ``data``, then on ``data`` cut at ``points`` exec closes after
    warm-up, and report every cut where a decision differs (module docstring)."""
    raw, _ = run_engine(play, data, cfg)
    report(on_progress, 1, points + 1)
    fills = [e for e in raw.venue_events if isinstance(e, OrderFilled)]
    end = int(data.candles.ts[-1]) + 60_000
    cuts = cut_times(raw.equity_ts, warmup_ready_ts(play, data.candles), end, points)
    return compare_cuts(play, data, cfg, raw.events, fills, cuts, on_progress)
