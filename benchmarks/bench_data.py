"""Data-layer benchmark: import, read, resample and check one year of 1m bars (525,600).

Run: ``uv run python benchmarks/bench_data.py [--repeat N]``. Prints the median of N runs per
step next to its target (issue 2, on a 2-core machine). Nothing here is a test: targets are
reported, not asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from trade_core.data.ingest import import_file
from trade_core.data.resample import resample
from trade_core.data.store import MarketStore
from trade_core.data.synth import generate

SYMBOL = "BENCHUSDT"
BARS = 525_600


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median wall time (s) of ``repeat`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows: list[tuple[str, float, float | None]] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        t_gen, data = timed(lambda: generate(SYMBOL, days=365, seed=1), args.repeat)
        candles = data.candles
        assert len(candles) == BARS
        rows.append(("synth: generate 1 year of 1m", t_gen, None))
        frame = candles.to_frame()
        csv_path, pq_path = tmpdir / "year.csv.gz", tmpdir / "year.parquet"
        frame.to_csv(csv_path, index=False, compression="gzip")
        frame.to_parquet(pq_path, index=False)

        counter = iter(range(10_000))

        def fresh_import(path: Path) -> Callable[[], object]:
            def run() -> object:
                with MarketStore(tmpdir / f"import{next(counter)}.duckdb") as store:
                    return import_file(store, path, SYMBOL, "1m")

            return run

        t_csv, _ = timed(fresh_import(csv_path), args.repeat)
        rows.append(("import 525,600 x 1m from .csv.gz (new store)", t_csv, 2.0))
        t_pq, _ = timed(fresh_import(pq_path), args.repeat)
        rows.append(("import 525,600 x 1m from .parquet (new store)", t_pq, 2.0))

        db = tmpdir / "main.duckdb"
        with MarketStore(db) as store:
            import_file(store, pq_path, SYMBOL, "1m")
            t_re, res = timed(lambda: import_file(store, pq_path, SYMBOL, "1m"), args.repeat)
            assert res.upsert.unchanged == BARS
        rows.append(("re-import the same file (no change)", t_re, None))

        def read() -> object:
            with MarketStore(db, read_only=True) as store:
                return store.read_candles(SYMBOL, "1m", candles.first_ts, candles.last_ts + 1)

        t_read, got = timed(read, args.repeat)
        assert len(got) == BARS
        rows.append(("read 1 year of 1m back (open + query)", t_read, 0.3))

        t_rs, _ = timed(lambda: [resample(got, tf) for tf in ("15m", "1h", "4h")], args.repeat)
        rows.append(("resample to 15m, 1h and 4h", t_rs, 0.5))

        from trade_core.data.quality import check_store

        t0 = time.perf_counter()
        import great_expectations  # noqa: F401  (the one-off cost the CLI pays per process)

        t_gx = time.perf_counter() - t0

        def check() -> object:
            with MarketStore(db, read_only=True) as store:
                return check_store(store, SYMBOL, "1m")

        t_check, report = timed(check, args.repeat)
        assert report.success, [o.name for o in report.failed]
        rows.append(("data check of 1 year of 1m (read + GX suite)", t_check, 3.0))
        rows.append(("  (one-off: importing great_expectations)", t_gx, None))

    print(f"{'step':52} {'median s':>9} {'target s':>9}  verdict")
    for name, secs, target in rows:
        verdict = "" if target is None else ("ok" if secs <= target else "OVER")
        tgt = "" if target is None else f"{target:.2f}"
        print(f"{name:52} {secs:9.3f} {tgt:>9}  {verdict}")


if __name__ == "__main__":
    main()
