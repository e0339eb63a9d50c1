"""Indicator benchmark: streaming ``update`` cost and whole-year ``compute`` time, per indicator.

Run: ``uv run python benchmarks/bench_indicators.py [--bars 20000] [--repeat 1] [--only a,b]``.

For every name in ``trade_core.indicators.names()`` (whatever is registered when it runs):

- **update**: a fresh ``indicators.create(name)`` is fed ``--bars`` synthetic 1m bars one at a
  time; the calls are timed with ``perf_counter_ns`` in batches of 100 and the median per-call
  time (µs) over the batches is reported. It includes the harness loop (shown as
  ``harness`` below: the same loop calling a no-op), so it slightly overstates the cost.
- **compute**: ``indicators.compute(name, frame)`` over one year of synthetic 1m bars
  (525,600, ``generate("BENCH", days=365, seed=1)``) — the batch path where a class has one.
  With ``--repeat N`` the median of N runs.

Targets (issue: indicator speed): median update <= 3 µs for ema, sma, rsi, atr; the whole set
<= 10 s for the year. Nothing here is a test: targets are reported, not asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import pandas as pd

from trade_core import indicators
from trade_core.data.synth import generate

UPDATE_TARGET_US = 3.0
UPDATE_TARGETS = ("ema", "sma", "rsi", "atr")
TOTAL_TARGET_S = 10.0
BATCH = 100


def bar_lists(frame: pd.DataFrame, bars: int) -> list[list]:
    """The first ``bars`` rows as Python lists: ts, open, high, low, close, volume."""
    head = frame.iloc[:bars]
    return [head[c].tolist() for c in ("ts", "open", "high", "low", "close", "volume")]


def median_call_us(update: Callable[..., None], cols: list[list]) -> float:
    """Median µs per ``update`` call, timed in batches of ``BATCH`` calls."""
    ts, o, h, lo, c, v = cols
    clock = time.perf_counter_ns
    per_call = []
    for start in range(0, len(ts) - BATCH + 1, BATCH):
        t0 = clock()
        for i in range(start, start + BATCH):
            update(ts[i], o[i], h[i], lo[i], c[i], v[i])
        per_call.append((clock() - t0) / BATCH / 1000.0)
    return statistics.median(per_call)


def time_compute(name: str, frame: pd.DataFrame, repeat: int) -> float:
    """Median wall time (s) of ``indicators.compute(name, frame)``."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        indicators.compute(name, frame)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure(name: str, cols: list[list], year: pd.DataFrame, repeat: int) -> tuple:
    """``(update µs, compute s, has batch)`` for one indicator (``None`` when it failed)."""
    try:
        feature = indicators.create(name)
    except Exception as exc:  # e.g. a required parameter: report, do not stop the run
        print(f"  {name}: cannot create with defaults ({exc})")
        return None, None, False
    update_us = median_call_us(feature.update, cols)
    has_batch = getattr(indicators.spec(name).cls, "batch", None) is not None
    return update_us, time_compute(name, year, repeat), has_batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bars", type=int, default=20_000, help="bars fed to update")
    parser.add_argument("--repeat", type=int, default=1, help="compute runs per indicator")
    parser.add_argument("--only", default="", help="comma-separated names (default: all)")
    args = parser.parse_args()
    t0 = time.perf_counter()
    year = generate("BENCH", days=365, seed=1).candles.to_frame()
    print(f"synthetic year: {len(year):,} bars in {time.perf_counter() - t0:.2f} s")
    cols = bar_lists(year, args.bars)
    harness = median_call_us(lambda *bar: None, cols)
    names = [n for n in indicators.names() if not args.only or n in args.only.split(",")]
    rows = [(name, *measure(name, cols, year, args.repeat)) for name in names]
    print_table(rows, harness, len(year), args.bars)


def print_table(rows: list[tuple], harness: float, year_bars: int, bars: int) -> None:
    print(f"\nupdate: median µs/call over {bars:,} bars (harness loop alone: {harness:.2f} µs)")
    print(f"compute: seconds over {year_bars:,} bars (batch = class has a batch classmethod)\n")
    header = "indicator         update µs   target  compute s  batch  verdict"
    print(header)
    print("-" * len(header))
    total, failures = 0.0, 0
    for name, update_us, compute_s, has_batch in rows:
        if update_us is None:
            print(f"{name:<16} {'-':>10} {'':>8} {'-':>10} {'':>6}  SKIPPED")
            continue
        total += compute_s
        target = UPDATE_TARGET_US if name in UPDATE_TARGETS else None
        ok = target is None or update_us <= target
        failures += not ok
        verdict = ("ok" if ok else "SLOW") if target is not None else "-"
        print(
            f"{name:<16} {update_us:>10.2f} {f'<= {target:g}' if target else '':>8} "
            f"{compute_s:>10.3f} {'yes' if has_batch else 'no':>6}  {verdict}"
        )
    print("-" * len(header))
    total_ok = total <= TOTAL_TARGET_S
    print(
        f"{'whole set':<16} {'':>10} {'':>8} {total:>10.3f} {'':>6}  "
        f"{'ok' if total_ok else 'SLOW'} (target <= {TOTAL_TARGET_S:g} s, {len(rows)} indicators)"
    )
    print(f"\nverdict: {'PASS' if total_ok and not failures else 'FAIL'}")


if __name__ == "__main__":
    main()
