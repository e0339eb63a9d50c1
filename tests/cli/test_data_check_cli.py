"""``trade data check``: the report, exit codes 0/1/2, overrides, --file and --json.

Most runs go through ``trade_core.cli.app.main`` in-process (GX is imported once per session);
one runs the real command in a subprocess to prove the wiring end to end.
"""

from __future__ import annotations

import json
from pathlib import Path

import great_expectations  # noqa: F401  (imported once per session: it costs seconds)
import numpy as np
import pandas as pd
import pytest

from tests.support.cli import CliResult, run_trade
from trade_core.cli.app import main
from trade_core.data.candles import Candles
from trade_core.data.store import MarketStore

T0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC
MIN = 60_000


def bars(n: int = 300) -> pd.DataFrame:
    """A clean 1m random walk starting 2024-01-01 00:00 UTC."""
    rng = np.random.default_rng(11)
    close = 50.0 * np.exp(np.cumsum(rng.normal(0.0, 5e-4, n)))
    open_ = np.r_[50.0, close[:-1]]
    return pd.DataFrame(
        {
            "ts": T0 + np.arange(n, dtype=np.int64) * MIN,
            "open": open_,
            "high": np.maximum(open_, close) * 1.0004,
            "low": np.minimum(open_, close) * 0.9996,
            "close": close,
            "volume": rng.random(n),
        }
    )


def run(capsys: pytest.CaptureFixture[str], *args: str) -> CliResult:
    """``trade ARGS`` in this process, with its exit code and output."""
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    captured = capsys.readouterr()
    return CliResult(int(exc.value.code or 0), captured.out, captured.err)


def store_bars(frame: pd.DataFrame, symbol: str = "ETHUSDT") -> None:
    with MarketStore.open() as store:
        store.upsert_candles(Candles.from_frame(symbol, "1m", frame))


@pytest.fixture
def stored(trade_home: Path) -> pd.DataFrame:
    """A clean series stored as ETHUSDT 1m; a spiked copy as SPIKEUSDT; a gappy one GAPUSDT."""
    clean = bars()
    store_bars(clean)
    spiked = clean.copy()
    spiked.loc[120, ["high", "close"]] = spiked.loc[119, "close"] * 2
    store_bars(spiked, "SPIKEUSDT")
    store_bars(clean.drop(index=range(200, 207)), "GAPUSDT")
    return clean


def test_clean_store_passes_with_exit_0(capsys, stored):
    res = run(capsys, "data", "check", "ethusdt", "1m")
    assert res.code == 0, res.err
    assert "data check ETHUSDT 1m" in res.out and "300 bars" in res.out
    assert "2024-01-01 00:00 -> 2024-01-01 04:59" in res.out
    assert "max_gap_bars=5 max_jump_multiple=100" in res.out
    assert "PASSED: all 26 checks met on 300 bars" in res.out
    assert "FAIL" not in res.out and res.err == ""


def test_failure_prints_the_report_and_exits_1(capsys, stored, tmp_path):
    report_file = tmp_path / "report.json"
    res = run(capsys, "data", "check", "SPIKEUSDT", "1m", "--json", str(report_file))
    assert res.code == 1
    assert "FAIL jump_within_limit" in res.out
    assert "2 bars" in res.out
    assert "e.g. 2024-01-01 02:00, 2024-01-01 02:01" in res.out
    assert "FAILED: 1 of 26 checks not met (jump_within_limit)" in res.out
    assert "data check of SPIKEUSDT 1m failed: 1 of 26 checks failed" in res.err
    data = json.loads(report_file.read_text())
    assert data["success"] is False and data["rows"] == 300 and data["symbol"] == "SPIKEUSDT"
    jump = next(o for o in data["outcomes"] if o["name"] == "jump_within_limit")
    assert jump["sample_ts"] == [T0 + 120 * MIN, T0 + 121 * MIN]


def test_overrides_and_range(capsys, stored):
    gap = run(capsys, "data", "check", "GAPUSDT", "1m")
    assert gap.code == 1 and "FAIL gap_within_limit" in gap.out
    assert "e.g. 2024-01-01 03:27" in gap.out
    assert run(capsys, "data", "check", "GAPUSDT", "1m", "--max-gap-bars", "7").code == 0
    assert run(capsys, "data", "check", "GAPUSDT", "1m", "--end", "2024-01-01T03:00").code == 0
    spike = run(capsys, "data", "check", "SPIKEUSDT", "1m", "--jump-multiple", "100000")
    assert spike.code == 0 and "max_jump_multiple=100000" in spike.out
    end = str(T0 + 100 * MIN)
    head = run(capsys, "data", "check", "SPIKEUSDT", "1m", "--start", "2024-01-01", "--end", end)
    assert head.code == 0 and "100 bars" in head.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ETHUSDT", "7m"), "unknown timeframe '7m'"),
        (("BTCUSDT", "1m"), "no BTCUSDT 1m bars"),
        (("ETHUSDT", "1m", "--max-gap-bars", "-1"), "max_gap_bars must be at least 0"),
        (("ETHUSDT", "1m", "--jump-multiple", "0"), "max_jump_multiple must be at least 1"),
        (("ETHUSDT", "1m", "--start", "yesterday"), "cannot read time 'yesterday'"),
        (("ETHUSDT", "1m", "--file", "nope.csv"), "no such file"),
    ],
)
def test_bad_input_exits_2(capsys, stored, args, message):
    res = run(capsys, "data", "check", *args)
    assert res.code == 2
    assert message in res.err
    assert "Traceback" not in res.err


def test_missing_store_exits_2(capsys, trade_home):
    res = run(capsys, "data", "check", "ETHUSDT", "1m")
    assert res.code == 2 and "no market-data store" in res.err


def _write_csv(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False)
    return path


def test_file_check_sees_the_raw_rows(capsys, trade_home, tmp_path):
    clean = bars(120)
    ok = run(
        capsys,
        "data",
        "check",
        "ETHUSDT",
        "1m",
        "--file",
        str(_write_csv(tmp_path / "ok.csv", clean)),
    )
    assert ok.code == 0, ok.out + ok.err
    assert "PASSED" in ok.out and str(tmp_path / "ok.csv") in ok.out
    raw = pd.concat([clean.iloc[:50], clean.iloc[49:50], clean.iloc[50:]], ignore_index=True)
    raw.loc[80, "ts"] += 30_500  # misaligned by 30.5 s
    bad = run(
        capsys,
        "data",
        "check",
        "ETHUSDT",
        "1m",
        "--file",
        str(_write_csv(tmp_path / "bad.csv", raw)),
    )
    assert bad.code == 1
    assert "FAIL ts_unique" in bad.out and "e.g. 2024-01-01 00:49, 2024-01-01 00:49" in bad.out
    assert "FAIL ts_increasing" in bad.out
    assert "FAIL ts_aligned" in bad.out and "2024-01-01 01:19:30.500" in bad.out
    assert "(ts_unique, ts_increasing, ts_aligned)" in bad.out


def test_file_without_a_column_reports_it(capsys, trade_home, tmp_path):
    path = _write_csv(tmp_path / "novol.csv", bars(30).drop(columns=["volume"]))
    res = run(capsys, "data", "check", "ETHUSDT", "1m", "--file", str(path))
    assert res.code == 1
    assert "FAIL volume_present" in res.out
    assert "SKIP volume_not_null" in res.out and "not checked: column(s) volume missing" in res.out
    assert "2 could not run" in res.err


def test_real_entry_point_exit_codes(trade_home, tmp_path):
    path = _write_csv(tmp_path / "spike.csv", bars(100).assign(volume=-1.0))
    res = run_trade("data", "check", "ETHUSDT", "1m", "--file", str(path))
    assert res.code == 1, res.err
    assert "FAIL volume_not_negative" in res.out and "100 bars (100%)" in res.out
    assert "Calculating Metrics" not in res.err and "INFO" not in res.err
    assert "check" in run_trade("data", "--help").out
