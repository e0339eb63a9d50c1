"""The HTML page of the backtest report (see :mod:`trade_core.backtest.report`).

Plain string building: inline CSS, no JavaScript, no network. Every piece of text that comes
from the run (play name, exit reasons, audit details, settings) goes through
:func:`html.escape`; numbers are formatted here (USDT with cents, values already in % with a
``%`` sign, None as "–").
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence

from trade_core.backtest.result import BacktestResult, CheckResult
from trade_core.engine.trades import Trade
from trade_core.timestamps import DAY_MS, HOUR_MS, MINUTE_MS, fmt_ts

DASH = "–"  # an undefined metric (None)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _defined(v: float | None) -> bool:
    return v is not None and math.isfinite(v)


def fmt_money(v: float | None) -> str:
    """USDT with thousands separators and cents: ``-1,234.57``."""
    return f"{v:,.2f}" if _defined(v) else DASH


def fmt_pct(v: float | None) -> str:
    """A value already in %: ``12.35 %``."""
    return f"{v:,.2f} %" if _defined(v) else DASH


def fmt_ratio(v: float | None) -> str:
    return f"{v:,.2f}" if _defined(v) else DASH


def fmt_price(v: float | None) -> str:
    """A price with about six significant digits and at least two decimals."""
    if v is None or not math.isfinite(v):
        return DASH
    digits = int(math.log10(abs(v))) + 1 if abs(v) >= 1 else 0
    return f"{v:,.{max(2, 6 - digits)}f}"


def fmt_qty(v: float | None) -> str:
    return f"{v:,.10g}" if _defined(v) else DASH


def fmt_duration(ms: int) -> str:
    """``3 d 4 h``; ``2 h 15 min`` under a day; ``0 h`` for none."""
    days, rest = divmod(int(ms), DAY_MS)
    hours, rest = divmod(rest, HOUR_MS)
    if days:
        return f"{days} d {hours} h"
    minutes = rest // MINUTE_MS
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _count(n: int) -> str:
    return f"{n:,}"


def render_html(
    result: BacktestResult,
    *,
    equity_png: bytes,
    price_png: bytes,
    equity_note: str,
    price_note: str,
    months: dict[tuple[int, int], float | None],
    years: dict[int, float | None],
    max_trade_rows: int,
) -> str:
    """The whole page. ``months``/``years``: returns in % (see ``monthly_returns``); the
    trade list shows the first ``max_trade_rows`` trades."""
    title = f"Backtest · {result.play_name} · {result.symbol}"
    parts = [
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n",
        f"<h1>{_e(title)}</h1>\n",
        _header(result),
        _metrics_section(result),
        "<h2>Charts</h2>\n",
        _figure(equity_png, "equity and drawdown", equity_note),
        _figure(price_png, "price with trades", price_note),
        _monthly_section(months, years),
        _audit_section(result.audit),
        _open_position_section(result),
        _trades_section(result.trades, max_trade_rows),
        "</body>\n</html>\n",
    ]
    return "".join(parts)


def _kv_table(rows: Sequence[tuple[str, str]], css: str = "kv") -> str:
    """A two-column table; values are already formatted, both columns get escaped here."""
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>\n" for k, v in rows)
    return f'<table class="{css}">\n{body}</table>\n'


def _header(r: BacktestResult) -> str:
    tfs = " · ".join(f"{role} {tf}" for role, tf in r.timeframes.items())
    span = fmt_duration(r.end_ts - r.start_ts)
    settings = ", ".join(f"{k} {v}" for k, v in r.settings.items()) or DASH
    rows = [
        ("Play", f"{r.play_name} v{r.play_version} ({r.play_hash[:12]})"),
        ("Symbol", r.symbol),
        ("Timeframes", tfs),
        ("Period (UTC)", f"{fmt_ts(r.start_ts)} → {fmt_ts(r.end_ts)} ({span})"),
        ("Data", f"{r.data_source}, fingerprint {r.data_fingerprint}"),
        ("Feed", r.feed),
        ("Bars", f"{_count(r.bars_1m)} × 1m, {_count(r.exec_bars)} exec"),
        ("Orders / fills", f"{_count(len(r.orders))} / {_count(len(r.fills))}"),
        ("Settings", settings),
    ]
    return '<section class="run">\n' + _kv_table(rows) + "</section>\n"


def metric_rows(r: BacktestResult) -> list[tuple[str, list[tuple[str, str]]]]:
    """The key metrics, grouped, as (label, formatted value) pairs."""
    m = r.metrics
    dd = f"{fmt_pct(m.max_drawdown_pct)} ({fmt_money(m.max_drawdown_usdt)} USDT)"
    return [
        (
            "Returns",
            [
                ("Net PnL (USDT)", fmt_money(m.net_pnl)),
                ("Return", fmt_pct(m.return_pct)),
                ("CAGR", fmt_pct(m.cagr_pct)),
                ("Starting equity (USDT)", fmt_money(m.start_equity)),
                ("Final equity (USDT)", fmt_money(r.final_equity)),
            ],
        ),
        (
            "Risk",
            [
                ("Sharpe", fmt_ratio(m.sharpe)),
                ("Sortino", fmt_ratio(m.sortino)),
                ("Calmar", fmt_ratio(m.calmar)),
                ("Max drawdown", dd),
                ("Max drawdown duration", fmt_duration(m.max_drawdown_duration_ms)),
                ("Exposure", fmt_pct(m.exposure_pct)),
            ],
        ),
        (
            "Trades",
            [
                ("Trades", _count(m.trades)),
                ("Win rate", fmt_pct(m.win_rate_pct)),
                ("Wins / losses / even", f"{m.wins} / {m.losses} / {m.breakeven}"),
                ("Profit factor", fmt_ratio(m.profit_factor)),
                ("Expectancy (USDT)", fmt_money(m.expectancy)),
                ("Average win (USDT)", fmt_money(m.avg_win)),
                ("Average loss (USDT)", fmt_money(m.avg_loss)),
            ],
        ),
        (
            "Costs",
            [
                ("Fees paid (USDT)", fmt_money(m.fees_paid)),
                ("Funding paid (USDT)", fmt_money(m.funding_paid)),
                ("Liquidations", _count(m.liquidations)),
            ],
        ),
    ]


def _metrics_section(r: BacktestResult) -> str:
    groups = "".join(
        f'<div class="group"><h3>{_e(name)}</h3>\n{_kv_table(rows)}</div>\n'
        for name, rows in metric_rows(r)
    )
    return f'<h2>Key metrics</h2>\n<section class="metrics">\n{groups}</section>\n'


def _figure(png: bytes, alt: str, caption: str) -> str:
    """The PNG inline as a base64 ``data:`` URI, so the page needs no other file."""
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img alt="{_e(alt)}" src="data:image/png;base64,{data}">'
        f'<figcaption class="note">{_e(caption)}</figcaption></figure>\n'
    )


def equity_caption(points: int, max_points: int) -> str:
    """The equity chart's caption; ``points`` on the curve (with the starting point)."""
    note = "Equity in USDT at each exec close; drawdown in % of the running peak."
    if points > max_points:
        note += (
            f" Drawn from at most {_count(max_points)} of {_count(points)} points"
            " (the minimum and maximum of each time bucket)."
        )
    return note


def price_caption(exec_tf: str, bars: int, trades: int, marked: int, max_points: int) -> str:
    """The price chart's caption: what is drawn and what was thinned out."""
    note = (
        f"Close of each {exec_tf} bar at its close time; ▲ long entry, ▼ short entry,"
        " × exit (green win, red loss, grey break-even) at fill time and price."
    )
    if bars > max_points:
        note += f" Price drawn from at most {_count(max_points)} of {_count(bars)} bars."
    if marked < trades:
        note += (
            f" Markers for {_count(marked)} of {_count(trades)} trades, evenly spread by"
            " trade number; every trade is in trades.csv."
        )
    return note


def _return_cell(v: float | None, scale: float) -> str:
    """A % cell tinted green/red, stronger for bigger moves (relative to ``scale``)."""
    if v is None or not math.isfinite(v):
        return f"<td>{DASH}</td>"
    alpha = 0.12 + 0.5 * min(abs(v) / scale, 1.0) if scale > 0 else 0.12
    rgb = "22,163,74" if v > 0 else "220,38,38" if v < 0 else "107,114,128"
    return f'<td style="background:rgba({rgb},{alpha:.2f})">{v:+.2f}</td>'


def monthly_table_html(
    months: dict[tuple[int, int], float | None], years: dict[int, float | None]
) -> str:
    """Rows = years, columns = months then the year's total; % values, blank = no data."""
    values = [abs(v) for v in months.values() if v is not None and math.isfinite(v)]
    scale = max(values, default=0.0)
    head = "".join(f"<th>{m}</th>" for m in MONTHS)
    rows = []
    for year in sorted(years):
        cells = "".join(
            _return_cell(months[(year, m)], scale) if (year, m) in months else "<td></td>"
            for m in range(1, 13)
        )
        total = _return_cell(years[year], scale).replace("<td", '<td class="total"', 1)
        rows.append(f"<tr><th>{year}</th>{cells}{total}</tr>\n")
    return (
        f'<table class="monthly">\n<tr><th></th>{head}<th>Year</th></tr>\n{"".join(rows)}</table>\n'
    )


def _monthly_section(
    months: dict[tuple[int, int], float | None], years: dict[int, float | None]
) -> str:
    note = (
        "Return in % of each UTC calendar month: month-end equity vs the previous"
        " month-end (the first month vs the starting equity); the year column is the"
        " year-end equity vs the previous year-end."
    )
    table = monthly_table_html(months, years)
    return f'<h2>Monthly returns (%)</h2>\n{table}<p class="note">{_e(note)}</p>\n'


def _verdict(c: CheckResult) -> tuple[str, str]:
    if c.skipped:
        return "SKIPPED", "skip"
    return ("PASS", "pass") if c.passed else ("FAIL", "fail")


def _audit_section(audit: Sequence[CheckResult]) -> str:
    if not audit:
        return ""
    rows = []
    for c in audit:
        word, css = _verdict(c)
        rows.append(
            f'<tr><td class="num">{c.number}</td><td>{_e(c.name)}</td>'
            f'<td class="{css}">{word}</td><td>{_e(c.detail)}</td></tr>\n'
        )
    failed = sum(1 for c in audit if not c.passed and not c.skipped)
    summary = f"{len(audit)} checks, {failed} failed"
    return (
        f'<h2>Audit</h2>\n<p class="note">{_e(summary)}</p>\n<table class="list">\n'
        "<tr><th>#</th><th>Check</th><th>Verdict</th><th>Detail</th></tr>\n"
        f"{''.join(rows)}</table>\n"
    )


def _open_position_section(r: BacktestResult) -> str:
    p = r.open_position
    if p.is_flat:
        return ""
    rows = [
        ("Side", str(p.side)),
        ("Quantity", fmt_qty(p.qty)),
        ("Average entry", fmt_price(p.avg_entry)),
        ("Opened (UTC)", fmt_ts(p.opened_ts) if p.opened_ts else DASH),
        ("Liquidation price", fmt_price(p.liq_price)),
        ("Stop loss", fmt_price(p.stop_loss)),
        ("Take profit", fmt_price(p.take_profit)),
        ("Unrealised PnL at the last close (USDT)", fmt_money(r.open_upnl)),
    ]
    return "<h2>Open position at the end</h2>\n" + _kv_table(rows)


_TRADE_HEAD = (
    "#",
    "Side",
    "Entry (UTC)",
    "Entry price",
    "Exit (UTC)",
    "Exit price",
    "Qty",
    "Fees",
    "Funding",
    "Net PnL",
    "Exit reason",
    "Bars",
)


def _trade_row(t: Trade) -> str:
    css = "win" if t.net_pnl > 0 else "loss" if t.net_pnl < 0 else "even"
    cells = (
        ("num", str(t.trade_id)),
        ("", t.side),
        ("", fmt_ts(t.entry_ts)),
        ("num", fmt_price(t.entry_price)),
        ("", fmt_ts(t.exit_ts)),
        ("num", fmt_price(t.exit_price)),
        ("num", fmt_qty(t.qty)),
        ("num", fmt_money(t.fees)),
        ("num", fmt_money(t.funding)),
        ("num pnl", fmt_money(t.net_pnl)),
        ("", t.exit_reason),
        ("num", str(t.bars_held)),
    )
    tds = "".join(f'<td class="{c}">{_e(v)}</td>' if c else f"<td>{_e(v)}</td>" for c, v in cells)
    return f'<tr class="{css}">{tds}</tr>\n'


def _trades_section(trades: Sequence[Trade], max_rows: int) -> str:
    n = len(trades)
    if n == 0:
        return '<h2>Trades</h2>\n<p class="note">No closed trades.</p>\n'
    shown = trades[: max(max_rows, 0)]
    note = "Amounts in USDT; fees and funding paid-positive; times UTC."
    if len(shown) < n:
        note += (
            f" Showing the first {_count(len(shown))} of {_count(n)} trades;"
            f" {_count(n - len(shown))} more are left out here and are all in trades.csv."
        )
    head = "".join(f"<th>{_e(h)}</th>" for h in _TRADE_HEAD)
    rows = "".join(_trade_row(t) for t in shown)
    return (
        f'<h2>Trades ({_count(n)})</h2>\n<p class="note">{_e(note)}</p>\n'
        f'<table class="list trades">\n<tr>{head}</tr>\n{rows}</table>\n'
    )


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;
max-width:1240px;padding:0 16px;color:#111827;font-size:14px;line-height:1.4}
h1{font-size:22px;margin:0 0 12px}h2{font-size:17px;margin:28px 0 8px;
border-bottom:1px solid #e5e7eb;padding-bottom:4px}h3{font-size:14px;margin:0 0 6px}
table{border-collapse:collapse}th,td{padding:3px 8px;text-align:left;vertical-align:top}
table.kv th{font-weight:600;color:#374151;white-space:nowrap}
table.kv td{font-variant-numeric:tabular-nums}
.metrics{display:flex;flex-wrap:wrap;gap:16px}
.group{border:1px solid #e5e7eb;border-radius:6px;padding:8px 10px;flex:1 1 260px}
.group td{text-align:right}
table.list,table.monthly{font-variant-numeric:tabular-nums;font-size:13px}
table.list th,table.monthly th{background:#f3f4f6;border-bottom:1px solid #d1d5db}
table.list td{border-bottom:1px solid #f3f4f6}
td.num{text-align:right;white-space:nowrap}
table.monthly td{text-align:right;min-width:52px;border:1px solid #fff}
table.monthly td.total{font-weight:600}
tr.win td.pnl{color:#15803d}tr.loss td.pnl{color:#b91c1c}
td.pass{color:#15803d;font-weight:600}td.fail{color:#b91c1c;font-weight:600}
td.skip{color:#6b7280;font-weight:600}
figure{margin:12px 0}figure img{max-width:100%;height:auto;border:1px solid #e5e7eb}
.note{color:#6b7280;font-size:12px}
"""
