"""The independent backtest audit: 23 numbered checks of a :class:`BacktestResult`.

Checks 1-21 recompute what the result claims from the fills, the candles, the funding arrays,
the Play and the instrument, never from the venue's ledger or the engine's running totals
(the shared replay is :mod:`trade_core.backtest.audit_replay`). Checks 22-23 re-run the
engine, so they run only with ``cfg.audit == "full"``; otherwise they come back skipped (and
passed) with ``detail="runs with --audit full"``.

Each check gives a :class:`CheckResult` whose ``detail`` states the numbers behind the verdict
and, on failure, names the first offender. A check that cannot even be evaluated (e.g. a
result too inconsistent to replay) fails with the error as its detail; the audit itself never
raises on bad results.

==  ==========================================================================================
 1  fill price inside its 1m bar [low, high], widened only by the adverse slippage
 2  fee per fill = qty * price * (taker | maker rate); liquidation fills 0
 3  trade gross = (exit - entry) * qty * side, entry/exit as the fills give them
 4  net = gross - fees - funding; trade fees = their shares of the fill fees
 5  sum(net) + open uPnL - unallotted fees/funding = final - starting equity
 6  equity curve ends at the final equity at the data's end
 7  no entry order before the Play's warm-up is complete
 8  stop-loss fills never better than the stop in effect
 9  bar reaching both SL and TP closes at the SL (unless already beyond the TP)
10  entry notional <= min(leverages) x equity at the decision
11  order/fill qty on qtyStep, >= minQty
12  limit and TP/SL prices on tickSize
13  funding at funding times with a position, s * qty * mark * rate
14  replayed wallet balance never negative without a liquidation
15  liquidation iff the mark proxy reached the recomputed liquidation price, at bankruptcy
16  halts when the curve says so; no entries after them
17  max drawdown (% , USDT, duration) recomputed
18  Sharpe, profit factor, win rate recomputed
19  opened qty = closed qty + open qty
20  one net position at a time
21  reduce-only fills never grew a position
22  no look-ahead: truncated re-runs decide identically
23  determinism: a re-run has the same fingerprint
==  ==========================================================================================
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from trade_core.backtest.audit_account import check_balance, check_funding, check_liquidations
from trade_core.backtest.audit_context import AuditContext, Outcome, when
from trade_core.backtest.audit_curve import check_curve_end, check_drawdown, check_ratios
from trade_core.backtest.audit_fills import (
    check_fees,
    check_fill_prices,
    check_prices_on_tick,
    check_quantities,
)
from trade_core.backtest.audit_rules import (
    check_halts,
    check_leverage_cap,
    check_same_bar,
    check_stop_fills,
    check_warmup,
)
from trade_core.backtest.audit_trades import (
    check_equity_change,
    check_gross,
    check_net_and_fees,
    check_one_position,
    check_quantity_conservation,
    check_reduce_only,
)
from trade_core.backtest.lookahead import compare_cuts, cut_times
from trade_core.backtest.result import BacktestResult, CheckResult
from trade_core.backtest.runner import BacktestData, RunConfig, package, run_engine
from trade_core.play import Play

LOOKAHEAD_POINTS = 5
"""Cut times of the audit's look-ahead check (the standalone check defaults to 12)."""
SKIPPED = "runs with --audit full"

Check = Callable[[AuditContext], Outcome]


def check_lookahead_cuts(ctx: AuditContext) -> Outcome:
    """(22) The engine re-run on data cut at a few exec closes after warm-up decides
    exactly as the audited run did up to each cut."""
    r = ctx.result
    cuts = cut_times(r.equity_ts, ctx.warmup_ts, r.end_ts, LOOKAHEAD_POINTS)
    rep = compare_cuts(ctx.play, ctx.data, ctx.cfg, r.events, r.fills, cuts)
    if not rep.ok:
        return (
            False,
            f"{len(rep.mismatches)} of {len(cuts)} cuts differ; {rep.mismatches[0].describe()}",
        )
    if not cuts:
        return True, "no exec close after warm-up to cut at"
    return True, (
        f"{len(cuts)} truncated re-runs ({when(cuts[0])} .. {when(cuts[-1])}): "
        f"{rep.compared:,} decisions and fills identical"
    )


def check_determinism(ctx: AuditContext) -> Outcome:
    """(23) Re-running the engine on the same inputs gives the same fingerprint (trades,
    fills, equity curve and metrics)."""
    raw, venue = run_engine(ctx.play, ctx.data, ctx.cfg)
    again = package(ctx.play, ctx.data, ctx.cfg, raw, venue).fingerprint()
    mine = ctx.result.fingerprint()
    if again != mine:
        return False, f"re-run fingerprint {again[:16]} differs from the result's {mine[:16]}"
    return True, f"re-run fingerprint {mine[:16]} identical"


CHECKS: tuple[tuple[int, str, Check], ...] = (
    (1, "fill prices inside their 1m bar", check_fill_prices),
    (2, "fee of every fill", check_fees),
    (3, "trade gross PnL", check_gross),
    (4, "trade net PnL and fee reconciliation", check_net_and_fees),
    (5, "trades + open position = equity change", check_equity_change),
    (6, "equity curve ends at the final equity", check_curve_end),
    (7, "no entry before warm-up", check_warmup),
    (8, "stop fills never better than the trigger", check_stop_fills),
    (9, "same-bar stop/target resolved conservatively", check_same_bar),
    (10, "notional within the leverage cap", check_leverage_cap),
    (11, "quantities on qtyStep and >= minQty", check_quantities),
    (12, "prices on tickSize", check_prices_on_tick),
    (13, "funding settlements", check_funding),
    (14, "wallet balance never negative", check_balance),
    (15, "liquidations iff the mark reached the liquidation price", check_liquidations),
    (16, "no entries after a risk halt", check_halts),
    (17, "max drawdown recomputed", check_drawdown),
    (18, "Sharpe, profit factor, win rate recomputed", check_ratios),
    (19, "quantity conservation", check_quantity_conservation),
    (20, "one net position at a time", check_one_position),
    (21, "reduce-only fills never grow a position", check_reduce_only),
    (22, "no look-ahead (truncated re-runs)", check_lookahead_cuts),
    (23, "determinism (re-run fingerprint)", check_determinism),
)
RERUN_CHECKS = frozenset({22, 23})


def run_audit(
    result: BacktestResult, play: Play, data: BacktestData, cfg: RunConfig
) -> list[CheckResult]:
    """The 23 checks of ``result`` (module docstring), numbered 1..23 in order."""
    ctx = AuditContext(result, play, data, cfg)
    with _gc_paused():
        out = [_run(n, name, check, ctx) for n, name, check in CHECKS if n not in RERUN_CHECKS]
    for number, name, check in CHECKS:
        if number not in RERUN_CHECKS:
            continue
        if cfg.audit == "full":
            out.append(_run(number, name, check, ctx))
        else:
            out.append(CheckResult(number, name, True, SKIPPED, skipped=True))
    return out


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while the audit builds its short-lived tables: a full
    collection would walk every object of the (large) result for nothing. Restored after."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _run(number: int, name: str, check: Check, ctx: AuditContext) -> CheckResult:
    try:
        passed, detail = check(ctx)
    except Exception as exc:  # an unreadable result fails its check, never the backtest
        return CheckResult(number, name, False, f"audit error: {type(exc).__name__}: {exc}")
    return CheckResult(number, name, bool(passed), detail)
