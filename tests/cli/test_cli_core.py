"""The ``trade`` command end to end: help, config, import, list, gaps, resample, exit codes."""

import gzip

import pytest

from tests.support.cli import run_trade


def _commands(help_text: str) -> dict[str, str]:
    """Command name -> its one-line help, from the 'Commands' box of a help screen."""
    box = help_text.split("Commands")[1]
    rows = [line.strip("│ ").split(None, 1) for line in box.splitlines() if line.startswith("│")]
    return {r[0]: (r[1].strip(" │") if len(r) > 1 else "") for r in rows}


def test_help_lists_every_command_with_one_line_help():
    root = _commands(run_trade("--help").out)
    assert set(root) == {
        "quickstart", "config", "data", "play", "features", "backtest", "validate-suite",
        "validate",
    }  # fmt: skip
    data = _commands(run_trade("data", "--help").out)
    assert set(data) == {
        "list", "import", "gaps", "resample", "check", "sync", "instruments", "synth"
    }  # fmt: skip
    for name, line in {**root, **data}.items():
        assert len(line) > 15, f"{name} has no one-line help"


def test_config_show_masks_secrets(trade_home, tmp_path):
    env = {"BYBIT_DEMO_API_KEY": "demo-key-123", "BYBIT_LIVE_API_SECRET": "live-secret-456"}
    res = run_trade("config", "show", env=env)
    assert res.code == 0, res.err
    assert "demo-key-123" not in res.out and "live-secret-456" not in res.out
    assert "******** (set)" in res.out
    assert str(trade_home / "trade.duckdb") in res.out


def test_env_file_is_read(trade_home, tmp_path):
    (tmp_path / ".env").write_text("TRADE_DB_PATH=/somewhere/else.duckdb\nBYBIT_LIVE_API_KEY=zzz\n")
    res = run_trade("config", "show")
    assert "/somewhere/else.duckdb" in res.out and "zzz" not in res.out


@pytest.fixture
def small_file(tmp_path):
    rows = ["ts,open,high,low,close,volume"]
    t0 = 1704067200000
    for i in range(180):
        if 60 <= i < 63:  # a 3-bar hole
            continue
        rows.append(f"{t0 + i * 60000},10,11,9,10.5,1")
    path = tmp_path / "ETHUSDT_1m_sample.csv.gz"
    path.write_bytes(gzip.compress("\n".join(rows).encode()))
    return path


def test_import_list_gaps_resample(trade_home, small_file):
    res = run_trade("data", "import", str(small_file))
    assert res.code == 0, res.err
    assert "ETHUSDT 1m: 177 rows read, 177 new, 0 changed, 0 unchanged" in res.out
    again = run_trade("data", "import", str(small_file), "--symbol", "ethusdt", "--tf", "1m")
    assert "0 new, 0 changed, 177 unchanged" in again.out
    listed = run_trade("data", "list")
    assert "ETHUSDT" in listed.out and "177" in listed.out
    gaps = run_trade("data", "gaps", "ETHUSDT", "1m")
    assert "2024-01-01 01:00" in gaps.out and "2024-01-01 01:03" in gaps.out
    assert "1 gaps, 3 missing bars" in gaps.out
    resampled = run_trade("data", "resample", "ETHUSDT", "--to", "1h")
    assert "ETHUSDT 1h: 2 complete bars" in resampled.out
    assert "1 incomplete bars not stored" in resampled.out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("data", "import", "nope.csv", "--symbol", "X1", "--tf", "1m"), 2, "no such file"),
        (("data", "import", "{file}", "--tf", "7m"), 2, "unknown timeframe '7m'"),
        (("data", "gaps", "BTCUSDT", "1m"), 2, "no market-data store"),
        (("data", "import", "{file}", "--map", "close"), 2, "expected TARGET=SOURCE"),
        (("data", "nonsense"), 2, "No such command"),
    ],
)
def test_errors_are_one_line_with_the_right_exit_code(trade_home, small_file, args, code, message):
    res = run_trade(*(a.replace("{file}", str(small_file)) for a in args))
    assert res.code == code
    assert message in res.err
    if "No such command" not in message:
        assert len(res.err.strip().splitlines()) == 1, res.err
        assert "Traceback" not in res.err


def test_debug_shows_the_traceback(trade_home):
    res = run_trade("--debug", "data", "gaps", "BTCUSDT", "1m")
    assert res.code != 0 and "Traceback" in res.err and "StoreMissingError" in res.err
