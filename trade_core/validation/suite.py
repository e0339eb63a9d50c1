"""The validation suite: every play under ``plays/validation/`` run and compared.

Discovery: each ``<group>/<name>.yml`` (files starting with ``_`` and the ``*.expect.yml``
files themselves excluded) with its sibling ``<name>.expect.yml``. The group is the play's
folder relative to the validation root (``operators``, ``risk``, ``real`` ...). The root is
``plays/validation`` of the source checkout when this module runs from one, else the copy
packaged in the wheel (``trade_core/_resources/plays/validation``).

Each deterministic play is backtested on its scenario with ``RunConfig(audit="full")`` (all
23 audit checks, look-ahead and determinism re-runs included) and, unless the expectation
says otherwise, again through the live-shaped stream feed, which must give the same
fingerprint. Its outcome is compared with the expectation; a mismatch is one precise line
("trade 2 exit_price: expected 101.5, got 101.4").

A real-data play runs on a window of a file in the shared real-data folder
(``$TRADE_SHARED_DATA``, else ``../shared/data/real`` beside the checkout or the working
directory); it must pass the full audit, stream == batch, and trade at least ``min_trades``
times. Where the folder or file is absent it is *skipped* with the reason.
"""

from __future__ import annotations

import math
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from trade_core.backtest.inputs import bundled_instrument
from trade_core.backtest.result import BacktestResult
from trade_core.backtest.runner import BacktestData, RunConfig, run_backtest
from trade_core.engine.bars import MINUTE_MS
from trade_core.errors import BadInputError
from trade_core.play import Play, load_play
from trade_core.progress import ProgressFn, report
from trade_core.validation.expectations import (
    DeterministicExpectation,
    Expectation,
    Outcome,
    RealExpectation,
    load_expectation,
)
from trade_core.validation.scenarios import DEFAULT_START_MS, build_scenario

Status = Literal["passed", "failed", "skipped"]
EXPECT_SUFFIX = ".expect.yml"
MONEY_TOL = 0.005  # USDT: "to the cent"
PRICE_REL_TOL = 1e-9
SHARED_ENV = "TRADE_SHARED_DATA"
_MODULE_DIR = Path(__file__).resolve().parent
_CHECKOUT = _MODULE_DIR.parents[1]


@dataclass(frozen=True, slots=True)
class PlayCase:
    """One validation play: its name, group, play file and expectation file."""

    name: str
    group: str
    play_path: Path
    expect_path: Path

    @property
    def id(self) -> str:
        return f"{self.group}/{self.name}"


@dataclass
class CaseResult:
    """The verdict on one play. ``mismatches`` are the precise differences (empty if it
    passed); ``reason`` says why a play was skipped or could not run."""

    case: PlayCase
    status: Status
    mismatches: list[str] = field(default_factory=list)
    reason: str = ""
    seconds: float = 0.0
    trades: int = 0

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def name(self) -> str:
        return self.case.name

    @property
    def group(self) -> str:
        return self.case.group

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.case.id, "name": self.name, "group": self.group, "status": self.status,
            "mismatches": self.mismatches, "reason": self.reason,
            "seconds": round(self.seconds, 3), "trades": self.trades,
        }  # fmt: skip


@dataclass
class SuiteReport:
    """All verdicts, in discovery order."""

    results: list[CaseResult]

    @property
    def failed(self) -> list[CaseResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed

    def by_group(self) -> dict[str, Counter[str]]:
        """group -> Counter of statuses (``plays`` = the total)."""
        out: dict[str, Counter[str]] = {}
        for r in self.results:
            c = out.setdefault(r.group, Counter())
            c["plays"] += 1
            c[r.status] += 1
        return out

    def to_dict(self) -> dict[str, object]:
        totals = Counter(r.status for r in self.results)
        return {
            "plays": len(self.results),
            "passed": totals["passed"], "failed": totals["failed"], "skipped": totals["skipped"],
            "groups": {g: {k: c[k] for k in ("plays", "passed", "failed", "skipped")}
                       for g, c in sorted(self.by_group().items())},
            "results": [r.to_dict() for r in self.results],
        }  # fmt: skip


# ---------------------------------------------------------------------- discovery
def validation_root() -> Path:
    """``plays/validation`` of the checkout, else the packaged copy in the wheel."""
    checkout = _CHECKOUT / "plays" / "validation"
    if checkout.is_dir():
        return checkout
    packaged = _MODULE_DIR.parent / "_resources" / "plays" / "validation"
    if packaged.is_dir():
        return packaged
    raise BadInputError(
        f"no validation plays found (looked in {checkout} and {packaged}); pass a folder"
    )


def shared_data_dir() -> Path | None:
    """The real-data folder: ``$TRADE_SHARED_DATA``, else ``../shared/data/real`` beside the
    checkout, else beside the working directory; None when none exists."""
    env = os.environ.get(SHARED_ENV)
    if env:
        return Path(env) if Path(env).is_dir() else None
    for base in (_CHECKOUT, Path.cwd()):
        cand = base.parent / "shared" / "data" / "real"
        if cand.is_dir():
            return cand
    return None


def discover(root: Path | None = None, group: str | None = None) -> list[PlayCase]:
    """Every play under ``root`` (a folder, or one play file) with its expectation, sorted
    by group then name; ``group`` keeps one group. A play without an expectation is an
    error: the suite must not silently drop it."""
    root = validation_root() if root is None else root
    if root.is_file():
        return [_case(root, root.parent.name)]
    if not root.is_dir():
        raise BadInputError(f"{root}: no such folder or play file")
    cases = []
    for path in sorted(root.rglob("*.yml")):
        if path.name.endswith(EXPECT_SUFFIX) or path.name.startswith("_"):
            continue
        rel = path.parent.relative_to(root)
        grp = rel.parts[0] if rel.parts else root.name
        if group is not None and grp != group:
            continue
        cases.append(_case(path, grp))
    cases.sort(key=lambda c: (c.group, c.name))
    return cases


def _case(path: Path, group: str) -> PlayCase:
    expect = path.with_name(path.stem + EXPECT_SUFFIX)
    if not expect.exists():
        raise BadInputError(f"{path}: no expectation file {expect.name} beside it")
    return PlayCase(path.stem, group, path, expect)


# ---------------------------------------------------------------------- running
def run_suite(cases: Sequence[PlayCase], on_progress: ProgressFn | None = None) -> SuiteReport:
    """Run every case; ``on_progress(done, total)`` after each."""
    results = []
    for i, case in enumerate(cases):
        results.append(run_case(case))
        report(on_progress, i + 1, len(cases))
    return SuiteReport(results)


def run_case(case: PlayCase) -> CaseResult:
    """Run one play and judge it; a bad play or expectation file fails with its error."""
    t0 = time.perf_counter()
    try:
        expectation = load_expectation(case.expect_path)
        play = load_play(case.play_path)
        if isinstance(expectation, RealExpectation):
            result = _run_real(case, play, expectation)
        else:
            result = _run_deterministic(case, play, expectation)
    except BadInputError as exc:
        result = CaseResult(case, "failed", [str(exc)], reason="bad input")
    except Exception as exc:  # a crash is a failed play, reported like any other mismatch
        result = CaseResult(case, "failed", [f"error: {type(exc).__name__}: {exc}"],
                            reason="error")  # fmt: skip
    result.seconds = time.perf_counter() - t0
    return result


def deterministic_data(
    play: Play, exp: DeterministicExpectation, where: str = "<expectation>"
) -> BacktestData:
    """The scenario of ``exp`` as backtest data for ``play`` (its symbol's bundled spec)."""
    symbol = _symbol(play, exp)
    inst = bundled_instrument(symbol)
    start = exp.start_ms() or DEFAULT_START_MS
    sc = build_scenario(exp.scenario, symbol=symbol, tick=inst.tick_size, start_ms=start,
                        where=where)  # fmt: skip
    return BacktestData(sc.candles, inst, sc.funding_ts, sc.funding_rate, f"scenario:{where}")


def _symbol(play: Play, exp: Expectation) -> str:
    if exp.symbol is not None and exp.symbol != play.symbol:
        raise BadInputError(
            f"expectation symbol {exp.symbol} differs from the play's {play.symbol}"
        )
    return play.symbol


def _run_deterministic(case: PlayCase, play: Play, exp: DeterministicExpectation) -> CaseResult:
    data = deterministic_data(play, exp, str(case.expect_path))
    cfg = RunConfig(audit="full", max_leverage=exp.run.max_leverage, mm_basis=exp.run.mm_basis)
    result = run_backtest(play, data, cfg)
    mismatches = compare_outcome(exp.expect, result, int(data.candles.ts[0]))
    mismatches += audit_mismatches(result, exp.audit_may_fail)
    if exp.expect.stream_equals_batch:
        stream = run_backtest(play, data, RunConfig(feed="stream", audit="off",
                                                    max_leverage=cfg.max_leverage,
                                                    mm_basis=cfg.mm_basis))  # fmt: skip
        mismatches += stream_mismatches(result, stream)
    status: Status = "failed" if mismatches else "passed"
    return CaseResult(case, status, mismatches, trades=len(result.trades))


@lru_cache(maxsize=4)
def _real_file(path: str, symbol: str) -> BacktestData:
    """A whole real-data file, parsed once per process (plays take windows of it)."""
    from trade_core.backtest.inputs import load_data

    return load_data(symbol, path)


def _run_real(case: PlayCase, play: Play, exp: RealExpectation) -> CaseResult:
    folder = shared_data_dir()
    if folder is None:
        return CaseResult(case, "skipped", reason=(
            f"real data folder not found (set {SHARED_ENV} or place ../shared/data/real "
            "beside the checkout)"))  # fmt: skip
    path = folder / exp.data.file
    if not path.exists():
        return CaseResult(case, "skipped", reason=f"real data file {path} not present")
    symbol = exp.symbol or play.symbol
    if symbol != play.symbol:
        play = play.with_symbol(symbol)
    if not exp.data.file.startswith(symbol + "_"):
        raise BadInputError(f"{case.expect_path}: data file {exp.data.file} is not {symbol}")
    lo, hi = exp.data.span_ms()
    data = _real_file(str(path), symbol).window(lo, hi)
    batch = run_backtest(play, data, RunConfig(audit="full"))
    mismatches = audit_mismatches(batch, [])
    stream = run_backtest(play, data, RunConfig(feed="stream", audit="off"))
    mismatches += stream_mismatches(batch, stream)
    if len(batch.trades) < exp.expect.min_trades:
        mismatches.append(
            f"trades: expected at least {exp.expect.min_trades}, got {len(batch.trades)}"
        )
    status: Status = "failed" if mismatches else "passed"
    return CaseResult(case, status, mismatches, trades=len(batch.trades))


# ---------------------------------------------------------------------- comparing
def audit_mismatches(result: BacktestResult, may_fail: Sequence[int]) -> list[str]:
    """One line per audit check that failed (and was not declared as expected to fail),
    and one per check declared to fail that passed."""
    out = []
    if len(result.audit) != 23:
        out.append(f"audit: expected 23 checks, got {len(result.audit)}")
    for c in result.audit:
        if c.skipped:
            out.append(f"audit ({c.number}) {c.name}: skipped, expected it to run")
        elif not c.passed and c.number not in may_fail:
            out.append(f"audit ({c.number}) {c.name} failed: {c.detail}")
        elif c.passed and c.number in may_fail:
            out.append(f"audit ({c.number}) {c.name}: declared to fail, but passed")
    return out


def stream_mismatches(batch: BacktestResult, stream: BacktestResult) -> list[str]:
    """Where the stream feed's result differs from the batch one (empty: identical)."""
    if stream.fingerprint() == batch.fingerprint() and stream.events == batch.events:
        return []
    parts = [name for name, a, b in (
        ("trades", [t.to_dict() for t in batch.trades], [t.to_dict() for t in stream.trades]),
        ("fills", batch.fills, stream.fills), ("events", batch.events, stream.events),
        ("equity", batch.equity.tolist(), stream.equity.tolist()),
    ) if a != b]  # fmt: skip
    return [f"stream != batch: {', '.join(parts) or 'fingerprint'} differ"]


def _fmt(x: object) -> str:
    return f"{x:.10g}" if isinstance(x, float) else str(x)


def _price_ne(expected: float, got: float) -> bool:
    return not math.isclose(got, expected, rel_tol=PRICE_REL_TOL, abs_tol=1e-12)


def _money_ne(expected: float, got: float) -> bool:
    return not abs(got - expected) < MONEY_TOL


def _bar(ts: int, start: int) -> int:
    return (ts - start) // MINUTE_MS


def compare_outcome(exp: Outcome, r: BacktestResult, start: int) -> list[str]:
    """Every difference between the expected outcome and the result, one line each."""
    out: list[str] = []
    if len(r.trades) != exp.trades:
        out.append(f"trades: expected {exp.trades}, got {len(r.trades)}")
    for i, (e, t) in enumerate(zip(exp.trade_list, r.trades, strict=False), start=1):
        got = {
            "side": t.side,
            "entry_bar": _bar(t.entry_ts, start), "exit_bar": _bar(t.exit_ts, start),
            "entry_price": t.entry_price, "exit_price": t.exit_price,
            "exit_reason": t.exit_reason, "qty": t.qty, "net_pnl": t.net_pnl, "funding": t.funding,
        }  # fmt: skip
        for key, want in e.model_dump().items():
            if want is None:
                continue
            have = got[key]
            if key in ("entry_price", "exit_price", "qty"):
                bad = _price_ne(want, have)
            elif key in ("net_pnl", "funding"):
                bad = _money_ne(want, have)
            else:
                bad = want != have
            if bad:
                out.append(f"trade {i} {key}: expected {_fmt(want)}, got {_fmt(have)}")
    if _money_ne(exp.final_equity, r.final_equity):
        out.append(f"final_equity: expected {exp.final_equity:.2f}, got {r.final_equity:.6f}")
    out += _compare_open(exp, r, start)
    if exp.orders is not None:
        out += _compare_orders(exp, r)
    out += _compare_events(exp, r, start)
    if len(r.liquidations) != exp.liquidations:
        out.append(f"liquidations: expected {exp.liquidations}, got {len(r.liquidations)}")
    paid = sum(f.amount for f in r.funding)
    if _money_ne(exp.funding_paid, paid):
        out.append(f"funding_paid: expected {exp.funding_paid:.4f}, got {paid:.6f}")
    return out


def _compare_open(exp: Outcome, r: BacktestResult, start: int) -> list[str]:
    pos, want = r.open_position, exp.open_position
    if want is None:
        if pos.side is not None:
            return [f"open_position: expected flat, got {pos.side} {pos.qty:g} @ {pos.avg_entry:g}"]
        return []
    if pos.side is None:
        return [
            f"open_position: expected {want.side} {want.qty:g} @ {want.entry_price:g}, got flat"
        ]
    out = []
    if pos.side != want.side:
        out.append(f"open_position side: expected {want.side}, got {pos.side}")
    if _price_ne(want.qty, pos.qty):
        out.append(f"open_position qty: expected {want.qty:g}, got {pos.qty:g}")
    if _price_ne(want.entry_price, pos.avg_entry):
        out.append(f"open_position entry_price: expected {want.entry_price:.10g}, "
                   f"got {pos.avg_entry:.10g}")  # fmt: skip
    if want.entry_bar is not None and _bar(pos.opened_ts, start) != want.entry_bar:
        out.append(f"open_position entry_bar: expected {want.entry_bar}, "
                   f"got {_bar(pos.opened_ts, start)}")  # fmt: skip
    return out


def _compare_orders(exp: Outcome, r: BacktestResult) -> list[str]:
    assert exp.orders is not None
    out = []
    if len(r.orders) != len(exp.orders):
        out.append(f"orders: expected {len(exp.orders)}, got {len(r.orders)}")
    for i, (e, o) in enumerate(zip(exp.orders, r.orders, strict=False), start=1):
        if o.status != e.status:
            out.append(f"order {i} status: expected {e.status}, got {o.status} "
                       f"({o.status_reason})")  # fmt: skip
        if e.side is not None and o.side != e.side:
            out.append(f"order {i} side: expected {e.side}, got {o.side}")
        if e.type is not None and o.order_type != e.type:
            out.append(f"order {i} type: expected {e.type}, got {o.order_type}")
        if e.price is not None and (o.price is None or _price_ne(e.price, o.price)):
            out.append(f"order {i} price: expected {_fmt(e.price)}, got {_fmt(o.price)}")
        if e.qty is not None and _price_ne(e.qty, o.qty):
            out.append(f"order {i} qty: expected {_fmt(e.qty)}, got {_fmt(o.qty)}")
        if e.reason is not None and e.reason not in o.status_reason:
            out.append(f"order {i} reason: expected it to contain {e.reason!r}, "
                       f"got {o.status_reason!r}")  # fmt: skip
    return out


def _compare_events(exp: Outcome, r: BacktestResult, start: int) -> list[str]:
    out = []
    for e in exp.events:
        hits = [ev for ev in r.events if ev.kind == e.kind and e.contains in ev.detail]
        label = f"event {e.kind}" + (f" containing {e.contains!r}" if e.contains else "")
        if e.count is None and not hits:
            out.append(f"{label}: expected at least one, got none")
        elif e.count is not None and len(hits) != e.count:
            out.append(f"{label}: expected {e.count}, got {len(hits)}")
        if e.bar is not None and hits:
            got = _bar(hits[0].ts, start) - 1
            if got != e.bar:
                out.append(f"{label}: expected at the close of bar {e.bar}, got bar {got}")
    return out
