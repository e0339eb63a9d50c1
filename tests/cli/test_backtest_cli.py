"""``trade backtest`` and ``trade play lookahead`` as a user runs them: summary, audit table,
JSON and report files, exit codes, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import run_trade
from tests.support.plays import play_text

PLAY = play_text(
    name="cli_cross",
    market={"symbol": "AVAXUSDT"},
    timeframes={"exec": "15m"},
    features={
        "fast": {"indicator": "ema", "length": 9},
        "slow": {"indicator": "ema", "length": 21},
    },
    entries={"long": ["fast", "cross_above", "slow"], "short": ["fast", "cross_below", "slow"]},
    risk={"stop_loss": {"pct": 2.0}, "take_profit": {"pct": 4.0}, "sizing": {"equity_pct": 50}},
)


@pytest.fixture
def play_file(tmp_path: Path) -> Path:
    path = tmp_path / "cli_cross.yml"
    path.write_text(PLAY)
    return path


def test_backtest_prints_summary_writes_json_and_report(trade_home, play_file, tmp_path):
    out_dir, json_path = tmp_path / "report", tmp_path / "result.json"
    r = run_trade("backtest", str(play_file), "--data", "bundled", "--end", "2026-06-15",
                  "--json", str(json_path), "--out", str(out_dir), "--audit")  # fmt: skip
    assert r.code == 0, r.err
    assert "cli_cross v1" in r.out and "AVAXUSDT" in r.out
    assert "audit: 21/21 checks passed" in r.out
    for n in range(1, 22):
        assert f"\n{n} " in r.out or f"│ {n} " in r.out or f" {n} " in r.out
    doc = json.loads(json_path.read_text())
    assert doc["metrics"]["trades"] == len(doc["trades"])
    assert {"final_equity", "sharpe", "max_drawdown_pct", "profit_factor"} <= set(doc["metrics"])
    assert len(doc["audit"]) == 23 and all(c["passed"] for c in doc["audit"])
    assert (out_dir / "report.html").exists()


def test_stream_feed_and_full_audit(trade_home, play_file, tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    r1 = run_trade("backtest", str(play_file), "--data", "bundled", "--end", "2026-06-08",
                   "--json", str(a))  # fmt: skip
    r2 = run_trade("backtest", str(play_file), "--data", "bundled", "--end", "2026-06-08",
                   "--json", str(b), "--feed", "stream", "--audit", "full")  # fmt: skip
    assert r1.code == 0 and r2.code == 0, r2.err
    assert "audit: 23/23 checks passed" in r2.out
    da, db = json.loads(a.read_text()), json.loads(b.read_text())
    assert da["trades"] == db["trades"] and da["metrics"] == db["metrics"]


def test_bad_input_exits_2_with_a_clear_message(trade_home, play_file, tmp_path):
    r = run_trade("backtest", str(play_file), "--data", "bundled", "--feed", "fast")
    assert r.code == 2 and "--feed 'fast': expected batch or stream" in r.err
    r = run_trade("backtest", str(play_file))  # default: the store, which is empty here
    assert r.code == 2 and "no market store" in r.err and "trade quickstart" in r.err
    r = run_trade("backtest", str(tmp_path / "missing.yml"), "--data", "bundled")
    assert r.code == 2 and "missing.yml" in r.err
    r = run_trade("backtest", str(play_file), "--data", "bundled", "--audit", "everything")
    assert r.code == 2 and "expected basic or full" in r.err


def test_symbol_override_and_synthetic_data(trade_home, play_file):
    r = run_trade("backtest", str(play_file), "--data", "synthetic", "--symbol", "ETHUSDT",
                  "--start", "2024-01-01", "--end", "2024-01-08")  # fmt: skip
    assert r.code == 0, r.err
    assert "ETHUSDT" in r.out and "synthetic" in r.out


def test_lookahead_command_reports_a_clean_play(trade_home, play_file):
    r = run_trade("play", "lookahead", str(play_file), "--data", "bundled", "--end",
                  "2026-06-08", "--points", "4")  # fmt: skip
    assert r.code == 0, r.err
    assert "4 truncated re-runs" in r.out and "no look-ahead" in r.out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["backtest", "p.yml", "--audit"], ["backtest", "p.yml", "--audit=show"]),
        (["backtest", "--audit", "p.yml"], ["backtest", "--audit=show", "p.yml"]),
        (["backtest", "p.yml", "--audit", "full"], ["backtest", "p.yml", "--audit=full"]),
        (
            ["backtest", "p.yml", "--audit", "--json", "a"],
            ["backtest", "p.yml", "--audit=show", "--json", "a"],
        ),
        (["backtest", "p.yml", "--audit", "x"], ["backtest", "p.yml", "--audit=x"]),
    ],
)
def test_audit_takes_an_optional_level(argv, expected):
    from trade_core.cli.backtest_cmd import optional_audit_value

    assert optional_audit_value(argv) == expected
