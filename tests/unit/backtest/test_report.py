"""The backtest report: a real month of AVAXUSDT backtested, written as HTML + PNGs + CSV,
and checked against the result it came from (counts, formatted metrics, escaping, monthly
returns computed independently, caps and their notes, byte-reproducible files)."""

from __future__ import annotations

import base64
import csv
import dataclasses
import re
from datetime import UTC, datetime

import numpy as np
import pytest

from tests.support.plays import avax_trend_text, play_text
from trade_core.backtest.inputs import load_data
from trade_core.backtest.report import (
    ReportFiles,
    monthly_returns,
    trade_columns,
    write_report,
    yearly_returns,
)
from trade_core.backtest.report_charts import envelope_indices, sample_indices
from trade_core.backtest.result import BacktestResult, CheckResult
from trade_core.backtest.runner import BacktestData, RunConfig, run_backtest
from trade_core.play import load_play_text

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TRADE_ROW = re.compile(r'<tr class="(?:win|loss|even)">')

TRADING = avax_trend_text(name="report_test")
IDLE = play_text(name="idle", market={"symbol": "AVAXUSDT"}, entries={"long": ["close", "lt", 0]})


def ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)


@pytest.fixture(scope="module")
def data() -> BacktestData:
    return load_data("AVAXUSDT", "bundled")


@pytest.fixture(scope="module")
def result(data: BacktestData) -> BacktestResult:
    res = run_backtest(load_play_text(TRADING, "t.yml"), data, RunConfig(audit="off"))
    assert len(res.trades) >= 20  # the report has something to show
    return res


@pytest.fixture(scope="module")
def files(result: BacktestResult, data: BacktestData, tmp_path_factory) -> ReportFiles:
    return write_report(result, data.candles, tmp_path_factory.mktemp("report") / "out")


@pytest.fixture(scope="module")
def page(files: ReportFiles) -> str:
    return files.html.read_text(encoding="utf-8")


def test_writes_every_file_into_a_new_directory(files: ReportFiles):
    assert files.html.parent.name == "out"
    for path in (files.html, files.equity_png, files.price_png, files.trades_csv):
        assert path.is_file() and path.stat().st_size > 0
    assert files.equity_png.read_bytes().startswith(PNG_SIGNATURE)
    assert files.price_png.read_bytes().startswith(PNG_SIGNATURE)


def test_same_result_gives_byte_identical_files(result, data, files: ReportFiles, tmp_path):
    again = write_report(result, data.candles, tmp_path)
    for a, b in zip(dataclasses.astuple(files), dataclasses.astuple(again), strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_page_is_self_contained(page: str, files: ReportFiles):
    assert "<script" not in page.lower()
    assert "http://" not in page and "https://" not in page
    uris = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert [base64.b64decode(u) for u in uris] == [
        files.equity_png.read_bytes(),
        files.price_png.read_bytes(),
    ]


def test_header_names_the_run(result: BacktestResult, page: str):
    for text in (result.play_name, result.play_hash[:12], result.symbol, result.data_fingerprint,
                 "exec 15m", "2026-06-01 00:00", "2026-07-01 00:00", "batch"):  # fmt: skip
        assert text in page, text


def test_key_metrics_are_formatted(result: BacktestResult, page: str):
    m = result.metrics
    assert f"<th>Net PnL (USDT)</th><td>{m.net_pnl:,.2f}</td>" in page
    assert f"<th>Return</th><td>{m.return_pct:,.2f} %</td>" in page
    assert f"<th>Sharpe</th><td>{m.sharpe:,.2f}</td>" in page
    assert f"<th>Win rate</th><td>{m.win_rate_pct:,.2f} %</td>" in page
    assert f"<th>Profit factor</th><td>{m.profit_factor:,.2f}</td>" in page
    assert f"<th>Fees paid (USDT)</th><td>{m.fees_paid:,.2f}</td>" in page
    assert f"<th>Trades</th><td>{len(result.trades)}</td>" in page
    assert f"<th>Final equity (USDT)</th><td>{result.final_equity:,.2f}</td>" in page
    assert f"<td>{m.max_drawdown_pct:,.2f} % ({m.max_drawdown_usdt:,.2f} USDT)</td>" in page
    days, rest = divmod(m.max_drawdown_duration_ms, 86_400_000)
    assert f"<th>Max drawdown duration</th><td>{days} d {rest // 3_600_000} h</td>" in page


def test_one_trade_row_per_trade(result: BacktestResult, page: str):
    assert len(TRADE_ROW.findall(page)) == len(result.trades)
    for t in result.trades:
        assert f'<td class="num pnl">{t.net_pnl:,.2f}</td>' in page
    assert "left out" not in page and "Markers for" not in page  # no cap reached


def test_open_position_is_shown(result: BacktestResult, page: str):
    assert not result.open_position.is_flat  # the month ends in a position
    assert "Open position at the end" in page
    assert f"<td>{result.open_upnl:,.2f}</td>" in page


def test_monthly_table_matches_an_independent_computation(result: BacktestResult, page: str):
    # the whole run is June 2026: its last point (2026-07-01 00:00, June's last close) vs start
    june = (result.equity[-1] / result.starting_equity - 1) * 100
    cells = re.findall(r"<tr><th>2026</th>(.*?)</tr>", page)
    assert len(cells) == 1
    values = re.findall(r"<td[^>]*>([^<]*)</td>", cells[0])
    assert values == [""] * 5 + [f"{june:+.2f}"] + [""] * 6 + [f"{june:+.2f}"]


def test_trades_csv_holds_every_trade_exactly(result: BacktestResult, files: ReportFiles):
    with files.trades_csv.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == trade_columns()
    assert len(rows) == len(result.trades)
    names = {f.name for f in dataclasses.fields(result.trades[0])}
    assert names < set(trade_columns())
    for row, t in zip(rows, result.trades, strict=True):
        assert int(row["trade_id"]) == t.trade_id and row["exit_reason"] == t.exit_reason
        assert float(row["net_pnl"]) == t.net_pnl and int(row["entry_ts"]) == t.entry_ts
        iso = datetime.fromisoformat(row["exit_time_utc"].replace("Z", "+00:00"))
        assert round(iso.timestamp() * 1000) == t.exit_ts


def test_text_from_the_run_is_escaped(result: BacktestResult, data: BacktestData, tmp_path):
    evil = "<script>alert('x')</script>"
    trades = [dataclasses.replace(result.trades[0], exit_reason="<b>stop & go</b>"),
              *result.trades[1:]]  # fmt: skip
    audit = [
        CheckResult(1, "ledger <balances>", True, "drift 0.0 USDT"),
        CheckResult(2, "fees", False, "off by 1 & more"),
        CheckResult(3, "stream feed", True, "not run", skipped=True),
    ]
    res = dataclasses.replace(result, play_name=evil, trades=trades, audit=audit)
    page = write_report(res, data.candles, tmp_path).html.read_text(encoding="utf-8")
    assert "<script" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<td>&lt;b&gt;stop &amp; go&lt;/b&gt;</td>" in page
    assert '<td>ledger &lt;balances&gt;</td><td class="pass">PASS</td>' in page
    assert '<td class="fail">FAIL</td><td>off by 1 &amp; more</td>' in page
    assert '<td class="skip">SKIPPED</td>' in page


def test_undefined_metrics_show_a_dash(result: BacktestResult, data: BacktestData, tmp_path):
    m = dataclasses.replace(result.metrics, sharpe=None, cagr_pct=None, profit_factor=None)
    page = write_report(dataclasses.replace(result, metrics=m), data.candles,
                        tmp_path).html.read_text(encoding="utf-8")  # fmt: skip
    for label in ("Sharpe", "CAGR", "Profit factor"):
        assert f"<th>{label}</th><td>–</td>" in page


def test_caps_leave_notes_and_keep_every_trade_in_the_csv(result, data, tmp_path):
    n = len(result.trades)
    f = write_report(result, data.candles, tmp_path, max_trade_rows=5, max_markers=7,
                     max_points=100)  # fmt: skip
    page = f.html.read_text(encoding="utf-8")
    assert len(TRADE_ROW.findall(page)) == 5
    assert f"Showing the first 5 of {n} trades; {n - 5} more are left out" in page
    assert f"Markers for 7 of {n} trades" in page
    assert f"Drawn from at most 100 of {result.equity.size + 1:,} points" in page
    assert "Price drawn from at most 100 of 2,880 bars" in page
    with f.trades_csv.open(encoding="utf-8") as fh:
        assert sum(1 for _ in fh) == n + 1


def test_a_run_without_trades_still_gets_a_report(data: BacktestData, tmp_path):
    res = run_backtest(load_play_text(IDLE, "idle.yml"), data, RunConfig(audit="off"))
    assert res.trades == []
    f = write_report(res, data.candles, tmp_path)
    page = f.html.read_text(encoding="utf-8")
    assert "No closed trades." in page and not TRADE_ROW.findall(page)
    assert "<th>Win rate</th><td>–</td>" in page
    assert "<tr><th>2026</th>" in page
    assert f.price_png.read_bytes().startswith(PNG_SIGNATURE)
    assert f.trades_csv.read_text(encoding="utf-8") == ",".join(trade_columns()) + "\n"


def test_monthly_returns_by_hand():
    ts = np.array([ms(2024, 1, 15), ms(2024, 2, 1),  # a close at 00:00 on the 1st ends January
                   ms(2024, 2, 20), ms(2024, 3, 1), ms(2024, 3, 10)])  # fmt: skip
    equity = np.array([105.0, 110.0, 120.0, 99.0, 103.95])
    got = monthly_returns(ts, equity, 100.0)
    assert list(got) == [(2024, 1), (2024, 2), (2024, 3)]
    assert got[(2024, 1)] == pytest.approx(10.0)
    assert got[(2024, 2)] == pytest.approx(-10.0)
    assert got[(2024, 3)] == pytest.approx(5.0)
    assert yearly_returns(ts, equity, 100.0) == {2024: pytest.approx(3.95)}


def test_yearly_returns_span_new_year_and_missing_months():
    ts = np.array([ms(2023, 12, 31, 12), ms(2024, 1, 1), ms(2024, 3, 5)])
    equity = np.array([90.0, 120.0, 60.0])
    assert monthly_returns(ts, equity, 100.0) == {
        (2023, 12): pytest.approx(20.0),
        (2024, 3): pytest.approx(-50.0),  # vs December's end: February had no point
    }
    assert yearly_returns(ts, equity, 100.0) == {
        2023: pytest.approx(20.0),
        2024: pytest.approx(-50.0),
    }


def test_a_month_after_equity_at_or_below_zero_has_no_return():
    ts = np.array([ms(2024, 1, 15), ms(2024, 2, 15)])
    got = monthly_returns(ts, np.array([-5.0, 1.0]), 100.0)
    assert got == {(2024, 1): pytest.approx(-105.0), (2024, 2): None}


def test_envelope_keeps_a_one_point_spike():
    values = np.zeros(525_600)
    values[123_457] = -40.0
    values[400_001] = 7.0
    idx = envelope_indices(values, 4000)
    assert idx.size <= 4000 and idx[0] == 0 and idx[-1] == values.size - 1
    assert {123_457, 400_001} <= set(idx.tolist())
    assert np.all(np.diff(idx) > 0)
    assert envelope_indices(values[:10], 4000).tolist() == list(range(10))


def test_sample_indices_spread_evenly():
    assert sample_indices(5, 10).tolist() == [0, 1, 2, 3, 4]
    picked = sample_indices(20_000, 2000)
    assert picked.size == 2000 and picked[0] == 0 and picked[-1] == 19_999
    assert sample_indices(3, 0).size == 0
