"""The backtest-stage gates of a Play, evaluated on plain data: the data-quality verdict, the
23-check audit of both backtests, and the Play's ``promotion.backtest`` thresholds.

**The thresholds apply to the out-of-sample result only.** In-sample is the period a play's
author could have tuned it on, so beating a bar there proves little; out-of-sample is the
closest a backtest gets to the future. In-sample figures are reported beside them (a large
gap between the two is itself a sign of over-fitting) but never gate. ``min_trades`` counts
out-of-sample trades too, so a 70/30 split of a short history needs a play that trades often
enough in the last 30 %.

Each gate is ``{gate, passed, value, threshold, reason}``; the reason names the gate and the
numbers, e.g. ``out-of-sample max drawdown 31.2 % > 25 %``. An undefined metric fails its gate
with the reason (a Sharpe ratio needs two daily returns and some variation; a profit factor
needs a trade), except a profit factor with trades but no losing trade, which is unbounded and
passes. Never retried: the same inputs give the same verdict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from prefect.cache_policies import NO_CACHE

from tasks.data_tasks import QualitySummary
from tasks.play_tasks import BacktestThresholds
from tasks.task_decorator import trade_task

AUDIT_CHECKS = 23  # docs/backtest.md: checks 1-21 always, 22-23 with audit="full"
MAX_NAMED_CHECKS = 3
MAX_DETAIL_CHARS = 160


class GateResult(TypedDict):
    """One gate's verdict. ``value`` and ``threshold`` are in the gate's unit (trades, %,
    ratio, count of failures); ``value`` is None when the metric is undefined."""

    gate: str
    passed: bool
    value: float | None
    threshold: float | None
    reason: str


def num(x: float | None) -> str:
    """A number for a reason: at most 2 decimals, no trailing zeros (``31.2``, ``25``)."""
    if x is None:
        return "undefined"
    r = round(float(x), 2)
    return f"{r:,.2f}".rstrip("0").rstrip(".") if r != int(r) else f"{int(r):,}"


def quality_gate(quality: QualitySummary) -> GateResult:
    """``data-quality``: every expectation of the suite passes on the candles used."""
    return GateResult(
        gate="data-quality",
        passed=quality["passed"],
        value=float(len(quality["failed"])),
        threshold=0.0,
        reason=quality["reason"],
    )


def audit_gate(audits: Mapping[str, Sequence[Mapping[str, Any]]]) -> GateResult:
    """``audit``: all 23 checks ran and passed in every backtest (``audits``: part name ->
    the result's audit list). A skipped check counts as not passed."""
    bad: list[str] = []
    total = 0
    for part, checks in audits.items():
        total += len(checks)
        if len(checks) != AUDIT_CHECKS:
            bad.append(f"{part}: {len(checks)} checks ran, not {AUDIT_CHECKS}")
        for c in checks:
            if c.get("skipped"):
                bad.append(f"{part} ({c['number']}) {c['name']} skipped")
            elif not c.get("passed"):
                detail = str(c.get("detail", ""))[:MAX_DETAIL_CHARS]
                bad.append(f"{part} ({c['number']}) {c['name']} failed: {detail}")
    parts = " and ".join(audits)
    if not bad:
        reason = f"audit: all {AUDIT_CHECKS} checks pass in the {parts} backtests"
    else:
        more = f"; and {len(bad) - MAX_NAMED_CHECKS} more" if len(bad) > MAX_NAMED_CHECKS else ""
        reason = (
            f"audit: {len(bad)} problem(s) in {total} checks: "
            + "; ".join(bad[:MAX_NAMED_CHECKS])
            + more
        )
    return GateResult(
        gate="audit", passed=not bad, value=float(len(bad)), threshold=0.0, reason=reason
    )


def threshold_gates(
    metrics: Mapping[str, Any], thresholds: BacktestThresholds, scope: str = "out-of-sample"
) -> list[GateResult]:
    """``min-trades``, ``max-drawdown``, ``min-profit-factor``, ``min-sharpe`` on ``metrics``
    (a ``result.summary()``)."""
    trades = int(metrics.get("trades") or 0)
    t = thresholds
    out = [
        _at_least("min-trades", f"{scope} trades", trades, t["min_trades"]),
        _at_most(
            "max-drawdown",
            f"{scope} max drawdown",
            metrics.get("max_drawdown_pct"),
            t["max_drawdown_pct"],
            " %",
        ),
    ]
    pf = metrics.get("profit_factor")
    if pf is None and trades > 0:  # winners only: unbounded
        out.append(
            GateResult(
                gate="min-profit-factor",
                passed=True,
                value=None,
                threshold=float(t["min_profit_factor"]),
                reason=f"{scope} profit factor unbounded (no losing trade in {trades}) "
                f">= {num(t['min_profit_factor'])}",
            )
        )
    else:
        why = "no trades" if trades == 0 else ""
        out.append(
            _at_least(
                "min-profit-factor",
                f"{scope} profit factor",
                pf,
                t["min_profit_factor"],
                undefined=why,
            )
        )
    out.append(
        _at_least(
            "min-sharpe",
            f"{scope} Sharpe",
            metrics.get("sharpe"),
            t["min_sharpe"],
            undefined="fewer than 2 daily returns or flat equity",
        )
    )
    return out


def _at_least(
    gate: str,
    what: str,
    value: float | None,
    threshold: float,
    unit: str = "",
    undefined: str = "",
) -> GateResult:
    """A gate that passes when ``value >= threshold``."""
    return _threshold_gate(gate, what, value, threshold, unit, undefined, at_least=True)


def _at_most(
    gate: str, what: str, value: float | None, threshold: float, unit: str = ""
) -> GateResult:
    """A gate that passes when ``value <= threshold``."""
    return _threshold_gate(gate, what, value, threshold, unit, "", at_least=False)


def _threshold_gate(
    gate: str,
    what: str,
    value: float | None,
    threshold: float,
    unit: str,
    undefined: str,
    *,
    at_least: bool,
) -> GateResult:
    """The verdict on ``value`` against ``threshold``; an undefined value (None) fails, the
    reason saying why when ``undefined`` is given."""
    bound = ">=" if at_least else "<="
    if value is None:
        why = f" ({undefined})" if undefined else ""
        return GateResult(
            gate=gate,
            passed=False,
            value=None,
            threshold=float(threshold),
            reason=f"{what} undefined{why}; needs {bound} {num(threshold)}{unit}",
        )
    ok = value >= threshold if at_least else value <= threshold
    sign = bound if ok else ("<" if at_least else ">")
    return GateResult(
        gate=gate,
        passed=ok,
        value=float(value),
        threshold=float(threshold),
        reason=f"{what} {num(value)}{unit} {sign} {num(threshold)}{unit}",
    )


def evaluate_gates(
    quality: QualitySummary,
    audits: Mapping[str, Sequence[Mapping[str, Any]]],
    oos_metrics: Mapping[str, Any],
    thresholds: BacktestThresholds,
) -> list[GateResult]:
    """Every backtest-stage gate, in a fixed order: data quality, audit, then the Play's
    thresholds on the out-of-sample metrics (module docstring)."""
    return [quality_gate(quality), audit_gate(audits), *threshold_gates(oos_metrics, thresholds)]


@trade_task(name="evaluate-gates", cache_policy=NO_CACHE, retries=0)
def evaluate_gates_task(
    quality: QualitySummary,
    audits: dict[str, list[dict[str, Any]]],
    oos_metrics: dict[str, Any],
    thresholds: BacktestThresholds,
) -> list[GateResult]:
    """:func:`evaluate_gates` as a Prefect task (never retried)."""
    return evaluate_gates(quality, audits, oos_metrics, thresholds)
