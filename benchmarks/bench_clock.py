"""Engine time-layer benchmark: one year of 1m bars (525,600) through the feeds, 3 roles.

Run: ``uv run python benchmarks/bench_clock.py [--repeat N]``. Prints the median of N runs of
iterating every step (the consumer does nothing) next to its target. Nothing here is a test:
targets are reported, not asserted.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Iterable

from trade_core.data.synth import generate
from trade_core.engine.feeds import HistoricalFeed, ReplayFeed

ROLES = {"exec": "15m", "med": "1h", "high": "4h"}


def drain(feed: Iterable[object]) -> int:
    n = 0
    for _ in feed:
        n += 1
    return n


def timed(feed: Iterable[object], repeat: int) -> float:
    """Median wall time (s) of iterating ``feed`` to the end."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        drain(feed)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    candles = generate("BENCHUSDT", days=365, seed=1).candles
    streamed = HistoricalFeed(candles, ROLES, precompute=False)
    rows = [
        ("HistoricalFeed (numpy precompute)", HistoricalFeed(candles, ROLES), 1.0),
        ("HistoricalFeed(precompute=False): clock.on_1m", streamed, None),
        ("ReplayFeed: klines through the clock's live path", ReplayFeed(candles, ROLES), None),
    ]
    print(f"{len(candles):,} x 1m, roles {ROLES}")
    print(f"{'feed':52} {'median s':>9} {'target s':>9}  verdict")
    for name, feed, target in rows:
        secs = timed(feed, args.repeat)
        verdict = "" if target is None else ("ok" if secs <= target else "OVER")
        tgt = "" if target is None else f"{target:.2f}"
        print(f"{name:52} {secs:9.3f} {tgt:>9}  {verdict}")


if __name__ == "__main__":
    main()
