"""``trade data synth``: store writes, file output, resampled timeframes, exit codes."""

import numpy as np
import pandas as pd
import pytest
import typer
from click.testing import CliRunner

from tests.support.cli import run_trade
from trade_core.cli.app import _register, app, main
from trade_core.data.candles import CANDLE_COLUMNS, Candles
from trade_core.data.resample import resample
from trade_core.data.store import MarketStore
from trade_core.data.synth import generate
from trade_core.timestamps import parse_time

START = "2024-03-01"


def invoke(*args: str):
    _register()
    result = CliRunner().invoke(typer.main.get_command(app), ["data", "synth", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def assert_same_bars(got: Candles, want: Candles) -> None:
    for name in CANDLE_COLUMNS:
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)


def test_store_write_counts_back_bars_and_funding(trade_home):
    res = invoke("synusdt", "--days", "2", "--seed", "11", "--start", START, "--price", "250")
    assert res.exit_code == 0, res.output
    assert "SYNUSDT 1m: 2,880 synthetic bars 2024-03-01 00:00 -> 2024-03-02 23:59" in res.output
    assert "2,880 new, 0 changed, 0 unchanged; funding 6 new" in res.output
    want = generate("SYNUSDT", days=2, seed=11, start_ms=parse_time(START), start_price=250.0)
    with MarketStore.open(read_only=True) as store:
        assert_same_bars(store.read_candles("SYNUSDT", "1m"), want.candles)
        f_ts, f_rate = store.read_funding("SYNUSDT")
    np.testing.assert_array_equal(f_ts, want.funding_ts)
    np.testing.assert_array_equal(f_rate, want.funding_rate)
    again = invoke("SYNUSDT", "--days", "2", "--seed", "11", "--start", START, "--price", "250")
    assert "0 new, 0 changed, 2,880 unchanged; funding 0 new, 0 changed" in again.output


def test_higher_timeframe_stores_only_complete_resampled_bars(trade_home):
    res = invoke("SYNUSDT", "--tf", "1h", "--days", "1", "--seed", "3", "--start", f"{START}T00:30")
    assert res.exit_code == 0, res.output
    assert "SYNUSDT 1h: 23 synthetic bars 2024-03-01 01:00 -> 2024-03-01 23:00" in res.output
    one_minute = generate("SYNUSDT", days=1, seed=3, start_ms=parse_time(f"{START}T00:30"))
    with MarketStore.open(read_only=True) as store:
        assert_same_bars(
            store.read_candles("SYNUSDT", "1h"), resample(one_minute.candles, "1h").complete_only()
        )
        assert store.coverage("SYNUSDT", "1m") is None
        assert len(store.read_funding("SYNUSDT")[0]) == 3


@pytest.mark.parametrize("name", ["synth.parquet", "synth.csv", "sub/dir/synth.csv.gz"])
def test_out_file_round_trips(trade_home, tmp_path, name):
    path = tmp_path / name
    res = invoke("ETHUSDT", "--days", "0.5", "--seed", "2", "--out", str(path))
    assert res.exit_code == 0, res.output
    assert f"written to {path}" in res.output
    frame = pd.read_parquet(path) if name.endswith(".parquet") else pd.read_csv(path)
    assert list(frame.columns) == list(CANDLE_COLUMNS)
    assert_same_bars(
        Candles.from_frame("ETHUSDT", "1m", frame), generate("ETHUSDT", days=0.5, seed=2).candles
    )
    assert not (trade_home / "trade.duckdb").exists()  # --out never touches the store


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--days", "0", "--seed", "1"], "days must be > 0"),
        (["--days", "1", "--seed", "1", "--tf", "7m"], "unknown timeframe '7m'"),
        (["--days", "1", "--seed", "1", "--out", "bars.txt"], "expected a .parquet"),
        (["--days", "0.02", "--seed", "1", "--tf", "1h"], "no complete 1h bar"),
        (["--days", "1", "--seed", "1", "--start", "yesterday"], "cannot read time"),
        (["--days", "1"], "Missing option '--seed'"),
    ],
)
def test_bad_arguments_exit_2(trade_home, capsys, args, message):
    with pytest.raises(SystemExit) as exc:
        main(["data", "synth", "SYNUSDT", *args])
    assert exc.value.code == 2
    captured = capsys.readouterr()
    assert message in captured.err + captured.out
    assert not (trade_home / "trade.duckdb").exists()


def test_real_process_exit_codes(trade_home):
    bad = run_trade("data", "synth", "SYNUSDT", "--days", "0", "--seed", "1")
    assert bad.code == 2 and "days must be > 0" in bad.err
    ok = run_trade("data", "synth", "SYNUSDT", "--days", "0.25", "--seed", "1")
    assert ok.code == 0, ok.err
    assert "SYNUSDT 1m: 360 synthetic bars" in ok.out
