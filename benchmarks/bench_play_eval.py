"""Evaluation cost of Play rules per bar (issue 3): the compiled closures over a snapshot.

Run: ``uv run python benchmarks/bench_play_eval.py [PLAY ...]`` (default: plays/examples).
For each play, every leaf series gets a random history (numbers; enum fields cycle through
their values; events alternate), then each rule is evaluated on many distinct snapshots and
the median and the slowest (longest path through the tree) cost per evaluation are printed,
next to the cost of building the explain trace.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

from trade_core.play import load_play
from trade_core.play.conditions.nodes import BOOL, ENUM
from trade_core.play.snapshot import Snapshot

ROOT = Path(__file__).resolve().parents[1]


def fill(play, rng: random.Random, bars: int) -> Snapshot:
    """A snapshot with ``bars`` exec bars of random values for every leaf."""
    snap = play.new_snapshot()
    kinds = {}
    for key in play.series:
        out = None
        if key.source in play.features:
            spec = play.features[key.source].spec
            out = spec.output(key.field) if key.field else spec.outputs[0]
        kinds[(key.role, key.value_key)] = out
    for _ in range(bars):
        for role in play.timeframes:
            values = {}
            for vkey in snap.keys(role):
                out = kinds.get((role, vkey))
                if out is not None and out.type == ENUM:
                    values[vkey] = rng.choice(out.values)
                elif out is not None and out.type == BOOL:
                    values[vkey] = rng.random() < 0.2
                else:
                    values[vkey] = 100 + rng.gauss(0, 5)
            snap.push_role(role, values)
        snap.close_exec()
    return snap


def bench(path: Path) -> list[tuple[str, str, float, float, float]]:
    play = load_play(path)
    rng = random.Random(7)
    rows = []
    snaps = [fill(play, rng, max(play.depths) + 5) for _ in range(50)]
    for name, rule in play.rules.items():
        fn = rule.fn
        per_call = []
        for snap in snaps:
            rings = snap.rings
            n = 2000
            t0 = time.perf_counter_ns()
            for _ in range(n):
                fn(rings, 0)
            per_call.append((time.perf_counter_ns() - t0) / n / 1000)
        t0 = time.perf_counter_ns()
        for snap in snaps:
            play.evaluate(name, snap, explain=True)
        explain_us = (time.perf_counter_ns() - t0) / len(snaps) / 1000
        rows.append((play.name, name, statistics.median(per_call), max(per_call), explain_us))
    return rows


def main() -> None:
    paths = [Path(p) for p in sys.argv[1:]] or sorted((ROOT / "plays" / "examples").glob("*.yml"))
    print(f"{'play':28} {'rule':12} {'median us/eval':>15} {'slowest us':>11} {'explain us':>11}")
    for path in paths:
        for play, rule, us, worst, ex in bench(path):
            print(f"{play:28} {rule:12} {us:15.2f} {worst:11.2f} {ex:11.1f}")


if __name__ == "__main__":
    main()
