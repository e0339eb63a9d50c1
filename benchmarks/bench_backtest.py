"""Backtest benchmark: the whole process, its parts, streaming vs batch, memory, cost per bar.

Run: ``uv run python benchmarks/bench_backtest.py [--days N] [--repeat N] [--quick]``.

Two plays on the deterministic synthetic BTCUSDT market (seed 7, with funding), one year of
1m bars (525,600) by default:

* **reference**: EMA(20)/EMA(50) cross on exec 1m, long on a cross up, short on a cross down
  (an entry against an open position reverses it), 1 % stop, 2 % target, qty 1 on a
  1,000,000 USDT account (so every trade is 1 unit all year), taker
  0.055 %, no slippage;
* **mtf8**: exec 15m, med 1h, high 4h with 8 features (EMA, RSI, ATR, Bollinger on exec;
  MACD, Donchian on med; ADX, swing structure on high).

Printed (medians of ``--repeat`` runs; nothing here is a test, targets are reported):

(a) each play's whole process as a child ``python -c`` (interpreter start, imports, data
    generation, backtest with ``RunConfig(audit="basic")``: audit checks 1-21), and the
    in-process split the child measured (imports, data, engine, package + metrics, audit).
    If ``trade_core.backtest.audit`` cannot be imported the child runs ``audit="off"`` and
    the output says so;
(b) the same for the 3-timeframe play;
(c) streaming replay (``RunConfig(feed="stream")``) / batch, both plays, for the whole
    process (the target, as the issue states its targets) and for engine + package alone;
(d) peak RSS of each child (``resource.getrusage``);
(e) engine cost per 1m bar of the reference on 36 days and on ``--days``: flat when the
    per-bar work does not grow with history.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DAY_MS = 86_400_000
START_MS = 1_704_067_200_000  # the synthetic market's start, 2024-01-01 UTC

REFERENCE = {  # the reproduction: tests/support/plays.py BASE with these overrides
    "name": "t",
    "version": 1,
    "market": {"symbol": "BTCUSDT"},
    "timeframes": {"exec": "1m"},
    "features": {
        "fast": {"indicator": "ema", "length": 20},
        "slow": {"indicator": "ema", "length": 50},
    },
    "entries": {"long": ["fast", "cross_above", "slow"], "short": ["fast", "cross_below", "slow"]},
    "risk": {
        "stop_loss": {"pct": 1.0},
        "take_profit": {"pct": 2.0},
        "sizing": {"qty": 1.0},
    },
    "execution": {"fees": {"taker": 0.00055, "maker": 0.0002}},
    # 1 unit on every trade for the whole year: the strategy pays ~0.11 % per round trip,
    # which would exhaust a 10,000 USDT account within weeks and stop the trading
    "account": {"starting_equity": 1_000_000},
}

MTF8 = """
name: bench_mtf8
version: 1
market: {symbol: BTCUSDT}
timeframes: {exec: 15m, med: 1h, high: 4h}
features:
  ema:    {indicator: ema, length: 50}
  rsi:    {indicator: rsi, length: 14}
  atr:    {indicator: atr, length: 14}
  bb:     {indicator: bbands, length: 20, mult: 2.0}
  macd:   {indicator: macd, fast: 12, slow: 26, signal: 9, tf: med}
  dc:     {indicator: donchian, length: 20, tf: med}
  adx:    {indicator: adx, length: 14, tf: high}
  swings: {structure: swing, left: 3, right: 3, tf: high}
entries:
  long:
    all:
      - [close, gt, ema]
      - [macd.hist, gt, 0]
      - [adx.adx, gt, 20]
      - [rsi, between, [45, 70]]
      - [close, gt, swings.last_low]
  short:
    all:
      - [close, lt, ema]
      - [macd.hist, lt, 0]
      - [adx.adx, gt, 20]
      - [rsi, between, [30, 55]]
      - [close, lt, swings.last_high]
exits:
  long:  {any: [[close, lt, bb.lower], [close, lt, dc.lower]]}
  short: {any: [[close, gt, bb.upper], [close, gt, dc.upper]]}
risk:
  stop_loss:   {atr: atr, mult: 2.0}
  take_profit: {rr: 2.0}
  sizing:      {risk_pct: 1.0}
  leverage: 3
execution: {slippage_bps: 2}
account: {starting_equity: 10000}
"""

# The child: everything a user's `trade backtest` process does, timed in parts. Only the
# modules the backtest needs are imported, so the parent's wall time is the real cost.
CHILD = r"""
import time
t0 = time.perf_counter()
import json, resource, sys
from trade_core.backtest.inputs import synthetic_data
from trade_core.backtest.runner import RunConfig, package, run_engine
from trade_core.play import load_play_text
audit_note = ""
try:
    from trade_core.backtest.audit import run_audit
except ImportError as exc:
    run_audit, audit_note = None, f"trade_core.backtest.audit not importable ({exc})"
t1 = time.perf_counter()
text, feed, days = sys.argv[1], sys.argv[2], float(sys.argv[3])
play = load_play_text(text, "bench.yml")
end = None if days >= 365 else %(start)d + int(days * %(day)d)
data = synthetic_data(play.symbol, end=end)
t2 = time.perf_counter()
cfg = RunConfig(feed=feed, audit="basic" if run_audit else "off")
raw, venue = run_engine(play, data, cfg)
t3 = time.perf_counter()
result = package(play, data, cfg, raw, venue)
t4 = time.perf_counter()
passed = None
if run_audit is not None:
    result.audit = run_audit(result, play, data, cfg)
    passed = result.audit_passed
t5 = time.perf_counter()
print(json.dumps({
    "imports": t1 - t0, "data": t2 - t1, "engine": t3 - t2, "package": t4 - t3,
    "audit": t5 - t4, "bars": len(data.candles), "trades": len(result.trades),
    "fingerprint": result.fingerprint()[:16], "audit_passed": passed,
    "audit_note": audit_note,
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
""" % {"start": START_MS, "day": DAY_MS}  # noqa: UP031


def reference_text() -> str:
    import yaml

    return yaml.safe_dump(REFERENCE, sort_keys=False)


def child_env() -> dict[str, str]:
    """The children's environment: this one, but bytecode is cached as on a user's machine.

    A sandbox or CI image may set ``PYTHONDONTWRITEBYTECODE=1`` (this one does): then every
    process compiles every imported module from source again, ~0.4 s of the reference's
    whole process on this machine. A user's Python writes ``__pycache__`` on the first run
    and reads it on every later one, which is what the figures here are for; ``main`` runs
    one unmeasured child first so that the cache exists."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def child(text: str, feed: str, days: float) -> tuple[float, dict]:
    """Run one whole backtest process; its wall time (s) and what it measured."""
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, text, feed, str(days)],
        capture_output=True, text=True, check=True, cwd=ROOT, env=child_env(),
    )  # fmt: skip
    wall = time.perf_counter() - t0
    return wall, json.loads(out.stdout.strip().splitlines()[-1])


def median_child(text: str, feed: str, days: float, repeat: int) -> tuple[float, dict]:
    """Median wall time of ``repeat`` processes, and the parts of the median run."""
    runs = sorted((child(text, feed, days) for _ in range(repeat)), key=lambda r: r[0])
    return runs[len(runs) // 2]


def per_bar_us(days_list: list[float], repeat: int) -> list[tuple[float, int, float, int]]:
    """Engine µs per 1m bar of the reference on each span (best of ``repeat``), with the
    trades made (an order costs far more than a quiet bar: compare per-bar costs at equal
    trade density)."""
    from trade_core.backtest.inputs import synthetic_data
    from trade_core.backtest.runner import RunConfig, run_engine
    from trade_core.play import load_play_text

    play = load_play_text(reference_text(), "bench.yml")
    rows = []
    for days in days_list:
        end = None if days >= 365 else START_MS + int(days * DAY_MS)
        data = synthetic_data("BTCUSDT", end=end)
        best, trades = float("inf"), 0
        for _ in range(repeat):
            t0 = time.perf_counter()
            raw, _ = run_engine(play, data, RunConfig(audit="off"))
            best = min(best, time.perf_counter() - t0)
            trades = len(raw.trades)
        rows.append((days, len(data.candles), best / len(data.candles) * 1e6, trades))
    return rows


def verdict(value: float, target: float | None) -> str:
    if target is None:
        return ""
    return "ok" if value <= target else "OVER"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=float, default=365.0, help="span of the runs (days)")
    parser.add_argument("--repeat", type=int, default=3, help="processes per figure (median)")
    parser.add_argument("--quick", action="store_true", help="one run per figure")
    args = parser.parse_args()
    repeat = 1 if args.quick else args.repeat
    plays = {"reference": (reference_text(), 1.5), "mtf8": (MTF8, 3.0)}
    print(f"synthetic BTCUSDT, {args.days:g} days, median of {repeat} process(es)")
    print()
    child(plays["reference"][0], "batch", 1.0)  # unmeasured: writes the bytecode caches
    rows: list[tuple[str, float, float | None, str]] = []
    parts_rows = []
    notes = set()
    for name, (text, target) in plays.items():
        wall, parts = median_child(text, "batch", args.days, repeat)
        swall, sparts = median_child(text, "stream", args.days, repeat)
        if parts["audit_note"]:
            notes.add(parts["audit_note"])
        audit = {None: "audit off", True: "audit 1-21 passed", False: "audit 1-21 FAILED"}[
            parts["audit_passed"]
        ]
        rows.append((f"{name}: whole process, batch ({audit})", wall, target, "s"))
        rows.append((f"{name}: whole process, stream", swall, None, "s"))
        bt = parts["engine"] + parts["package"]
        sbt = sparts["engine"] + sparts["package"]
        # the issue states every target for the whole process, this one included
        rows.append((f"{name}: stream / batch (whole process)", swall / wall, 1.2, "x"))
        rows.append((f"{name}: stream / batch (engine + package only)", sbt / bt, None, "x"))
        rows.append((f"{name}: peak RSS, batch", parts["rss_mb"], 500.0, "MB"))
        rows.append((f"{name}: peak RSS, stream", sparts["rss_mb"], 500.0, "MB"))
        parts_rows.append((name, parts))
    print(f"{'figure':56} {'value':>9} {'target':>8}  verdict")
    for label, value, target, unit in rows:
        tgt = "" if target is None else f"{target:g}"
        print(f"{label:56} {value:8.2f}{unit:<2} {tgt:>7}  {verdict(value, target)}")
    print(f"\n{'in-process split (s)':22} {'imports':>8} {'data':>7} {'engine':>7} "
          f"{'package':>8} {'audit':>7}  bars / trades / fingerprint")  # fmt: skip
    for name, p in parts_rows:
        print(f"{name:22} {p['imports']:8.3f} {p['data']:7.3f} {p['engine']:7.3f} "
              f"{p['package']:8.3f} {p['audit']:7.3f}  {p['bars']} / {p['trades']} / "
              f"{p['fingerprint']}")  # fmt: skip
    spans = [min(36.0, args.days), args.days] if args.days > 36 else [args.days]
    print("\nreference engine cost per 1m bar (best of runs):")
    costs = per_bar_us(spans, repeat)
    for days, bars, us, trades in costs:
        print(f"  {days:6g} days ({bars:>7} bars): {us:6.2f} µs/bar "
              f"({trades / bars * 1000:.1f} trades per 1,000 bars)")  # fmt: skip
    if len(costs) == 2:
        print(f"  ratio long / short: {costs[1][2] / costs[0][2]:.2f} (flat is 1.00)")
    for note in sorted(notes):
        print(f"\nnote: {note}; the whole-process figures ran with audit='off'")


if __name__ == "__main__":
    main()
