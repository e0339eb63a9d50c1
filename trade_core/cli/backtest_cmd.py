"""``trade backtest``: run one Play through the engine and the simulated exchange, audit it,
print the summary, and write the JSON result and the HTML report on request.

Exit codes: 0 the backtest ran and every audit check passed, 1 an audit check failed,
2 bad input (play, data, options).
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from trade_core.backtest.inputs import load_data
from trade_core.backtest.result import BacktestResult, CheckResult
from trade_core.backtest.runner import BacktestData, RunConfig, run_backtest
from trade_core.cli.app import app
from trade_core.cli.console import err, out, progress_bar
from trade_core.config import get_settings
from trade_core.data.instrument_spec import check_symbol
from trade_core.errors import BadInputError, TradeError
from trade_core.play import Play, load_play
from trade_core.timestamps import fmt_ts, parse_time

AUDIT_LEVELS = ("basic", "full")
_SHOW = "show"  # --audit given with no level: print every check of the basic audit


class AuditFailedError(TradeError):
    """The backtest ran but an audit check failed (exit 1)."""

    exit_code = 1


def play_and_data(
    play_path: Path, symbol: str | None, data: str, start: str | None, end: str | None
) -> tuple[Play, BacktestData]:
    """The Play (re-targeted by ``--symbol``) and its data window, or a clear error."""
    play = load_play(play_path)
    if symbol:
        play = play.with_symbol(check_symbol(symbol))
    lo = parse_time(start) if start else None
    hi = parse_time(end) if end else None
    if lo is not None and hi is not None and hi <= lo:
        raise BadInputError(f"--end {fmt_ts(hi)} is not after --start {fmt_ts(lo)}")
    return play, load_data(play.symbol, data, start=lo, end=hi, settings=get_settings())


def optional_audit_value(argv: list[str]) -> list[str]:
    """Let ``--audit`` stand alone or take a level: ``--audit`` -> ``--audit=show``,
    ``--audit full`` -> ``--audit=full`` (click options cannot have an optional value). The
    next word is taken as the level unless it is an option or a play file; a wrong level is
    then refused by :func:`_audit_level` with the reason."""
    out_args: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg != "--audit":
            out_args.append(arg)
            continue
        nxt = argv[i] if i < len(argv) else ""
        if nxt and not nxt.startswith("-") and not nxt.endswith((".yml", ".yaml")):
            out_args.append(f"--audit={nxt}")
            i += 1
        else:
            out_args.append(f"--audit={_SHOW}")
    return out_args


def _audit_level(value: str) -> tuple[str, bool]:
    """``(level, print every check)`` from the ``--audit`` option's value."""
    if value == _SHOW:
        return "basic", True
    if value not in AUDIT_LEVELS:
        raise BadInputError(f"--audit {value!r}: expected basic or full (or --audit alone)")
    return value, value == "full"


# What to run on, shared by every command that backtests a Play (backtest, play lookahead).
PLAY_ARG = typer.Argument(..., metavar="PLAY", help="The Play file (.yml).")
SYMBOL_OPT = typer.Option(None, "--symbol", help="Trade this symbol instead.")
START_OPT = typer.Option(None, "--start", help="First bar (ISO date/time or ms).")
END_OPT = typer.Option(None, "--end", help="End, exclusive (ISO date/time or ms).")
DATA_OPT = typer.Option(
    "store", "--data", help="store, synthetic, bundled, or a candle file (.csv/.parquet)."
)


@app.command("backtest")
def backtest_cmd(
    play_path: Path = PLAY_ARG,
    symbol: str | None = SYMBOL_OPT,
    start: str | None = START_OPT,
    end: str | None = END_OPT,
    data: str = DATA_OPT,
    out_dir: Path | None = typer.Option(None, "--out", help="Write the HTML/PNG report here."),
    json_path: Path | None = typer.Option(None, "--json", help="Write the result as JSON."),
    feed: str = typer.Option("batch", "--feed", help="batch, or stream (live-shaped replay)."),
    participation: float | None = typer.Option(
        None, "--max-participation", help="Cap fills at this fraction of each 1m bar's volume."
    ),
    audit: str = typer.Option(
        "basic",
        "--audit",
        metavar="[full]",
        help="Print every audit check; --audit full also runs 22-23 (look-ahead, determinism).",
    ),
) -> None:
    """Backtest PLAY on the simulated exchange, audit it, print the summary.

    Checks 1-21 run always, 1-23 with --audit full; exit 1 if an audit check fails."""
    level, show_all = _audit_level(audit)
    if feed not in ("batch", "stream"):
        raise BadInputError(f"--feed {feed!r}: expected batch or stream")
    play, bt_data = play_and_data(play_path, symbol, data, start, end)
    if participation is not None and not 0.0 < participation <= 1.0:
        raise BadInputError(f"--max-participation {participation}: expected 0 < f <= 1")
    cfg = RunConfig(feed=feed, audit=level, max_leverage=get_settings().trade_max_leverage,  # type: ignore[arg-type]
                    max_participation=participation)  # fmt: skip
    with progress_bar(f"backtest {play.name}", "1m bars") as bar:
        result = run_backtest(play, bt_data, cfg, on_progress=bar)
    print_summary(result)
    print_audit(result.audit, show_all)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(result.to_json() + "\n")
        out.print(f"JSON written to {json_path}")
    if out_dir is not None:
        from trade_core.backtest.report import write_report

        files = write_report(result, bt_data.candles, out_dir)
        out.print(f"report written to {files.html}")
    failed = [c for c in result.audit if not c.passed]
    if failed:
        raise AuditFailedError(
            f"{len(failed)} audit check(s) failed: "
            + ", ".join(f"({c.number}) {c.name}" for c in failed)
        )


def _num(value: float | int | None, fmt: str = ",.2f", suffix: str = "") -> str:
    return "–" if value is None else f"{value:{fmt}}{suffix}"


def print_summary(r: BacktestResult) -> None:
    m = r.metrics
    days = (r.end_ts - r.start_ts) / 86_400_000
    out.print(
        f"[bold]{r.play_name}[/bold] v{r.play_version} ({r.play_hash[:12]}) on {r.symbol} "
        f"{'/'.join(r.timeframes.values())}, {fmt_ts(r.start_ts)} -> {fmt_ts(r.end_ts)} "
        f"({days:,.1f} days, {r.bars_1m:,} 1m bars, {r.data_source}, feed {r.feed})"
    )
    table = Table(show_header=False, box=None, padding=(0, 2))
    dd_days = m.max_drawdown_duration_ms / 86_400_000
    rows = [
        ("net PnL", _num(m.net_pnl, ",.2f", " USDT")), ("return", _num(m.return_pct, ".2f", " %")),
        ("final equity", _num(r.final_equity, ",.2f", " USDT")),
        ("CAGR", _num(m.cagr_pct, ".2f", " %")), ("Sharpe", _num(m.sharpe, ".2f")),
        ("Sortino", _num(m.sortino, ".2f")), ("Calmar", _num(m.calmar, ".2f")),
        ("max drawdown", f"{m.max_drawdown_pct:.2f} % ({m.max_drawdown_usdt:,.2f} USDT, "
                         f"{dd_days:,.1f} days)"),
        ("trades", f"{len(r.trades):,} ({m.wins} won, {m.losses} lost)"),
        ("win rate", _num(m.win_rate_pct, ".1f", " %")),
        ("profit factor", _num(m.profit_factor, ".2f")),
        ("expectancy", _num(m.expectancy, ",.2f", " USDT")),
        ("avg win / loss", f"{_num(m.avg_win)} / {_num(m.avg_loss)} USDT"),
        ("exposure", _num(m.exposure_pct, ".1f", " %")),
        ("fees paid", _num(m.fees_paid, ",.2f", " USDT")),
        ("funding paid", _num(m.funding_paid, ",.2f", " USDT")),
        ("liquidations", str(m.liquidations)),
    ]  # fmt: skip
    if not r.open_position.is_flat:
        p = r.open_position
        rows.append(("open position", f"{p.side} {p.qty:g} @ {p.avg_entry:g} "
                     f"(uPnL {r.open_upnl:,.2f} USDT)"))  # fmt: skip
    for name, value in rows:
        table.add_row(name, value)
    out.print(table)


def print_audit(checks: list[CheckResult], show_all: bool) -> None:
    if not checks:
        return
    ran = [c for c in checks if not c.skipped]
    failed = [c for c in ran if not c.passed]
    verdict = "[green]passed[/green]" if not failed else f"[red]{len(failed)} failed[/red]"
    out.print(f"audit: {len(ran) - len(failed)}/{len(ran)} checks passed ({verdict})")
    shown = checks if show_all else failed
    if not shown:
        return
    table = Table("#", "check", "result", "numbers")
    for c in shown:
        status = "[green]pass[/green]" if c.passed else "[red]FAIL[/red]"
        status = "skipped" if c.skipped else status
        table.add_row(str(c.number), c.name, status, c.detail)
    out.print(table)
    if not show_all:
        err.print("run with --audit to see every check")
