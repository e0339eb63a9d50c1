"""``trade validate`` as a user runs it (a subprocess): exit 0 when every gate passes, 1 when
one fails, 2 on bad input before Prefect starts.

The passing run uses Prefect's own temporary server (no ``PREFECT_API_URL``, a fresh
``PREFECT_HOME``), as a user without a server would; the failing run reports to the
package's test server instead, which saves a second ~10 s server start."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.flows.helpers import PASSING, TIGHT_DRAWDOWN, write_play
from tests.support.cli import run_trade

CLI_TIMEOUT_S = 240


@pytest.fixture(scope="module")
def plays(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-plays")


@pytest.mark.usefixtures("flow_home")
def test_bad_input_exits_2_before_prefect_starts(plays: Path, tmp_path: Path) -> None:
    good = str(write_play(plays, "cli_pass", PASSING))
    missing = run_trade("validate", str(tmp_path / "nope.yml"), "--data", "bundled")
    assert missing.code == 2
    assert "nope.yml: no such play file" in missing.err
    split = run_trade("validate", good, "--data", "bundled", "--split", "1.5")
    assert split.code == 2
    assert "--split 1.5: expected a fraction between 0 and 1" in split.err
    synced = run_trade("validate", good, "--data", "bundled", "--sync")
    assert synced.code == 2
    assert "--sync fills the store from Bybit: it needs --data store, not --data bundled" in (
        synced.err
    )
    data = run_trade("validate", good, "--data", str(tmp_path / "none.csv"))
    assert data.code == 2
    assert "none.csv: no such file" in data.err
    broken = plays / "cli_broken.yml"
    broken.write_text("name: cli_broken\nversion: 0\n", encoding="utf-8")
    bad_play = run_trade("validate", good, str(broken))
    assert bad_play.code == 2
    assert f"{broken}:2: version" in bad_play.err
    assert "temporary Prefect server" not in (
        bad_play.err + missing.err + split.err + data.err + synced.err
    )


@pytest.mark.slow
def test_every_gate_passing_exits_0_with_a_temporary_prefect_server(
    plays: Path, flow_home: Path, tmp_path: Path
) -> None:
    path = write_play(plays, "cli_pass", PASSING)
    env = {"PREFECT_API_URL": "", "PREFECT_HOME": str(tmp_path / "prefect-home")}
    done = run_trade("validate", str(path), "--data", "bundled", env=env, timeout=CLI_TIMEOUT_S)
    assert done.code == 0, done.err
    assert "starting a temporary Prefect server" in done.err
    rows = [line for line in done.out.splitlines() if "cli_pass" in line and "│" in line]
    assert len(rows) == 6
    assert any("min-trades" in r and "10" in r and "5" in r and "pass" in r for r in rows)
    assert "cli_pass: PASSED every gate" in done.out
    assert "cli_pass: MLflow run http://127.0.0.1:5000/#/experiments/" in done.out
    assert f"--backend-store-uri sqlite:///{flow_home / 'mlflow.db'}" in done.out
    assert "/runs/flow-run/" in done.out
    assert "open Prefect: uv run prefect server start" in done.out


@pytest.mark.slow
def test_a_failed_gate_exits_1_and_names_it(plays: Path, prefect_server: str) -> None:
    good = write_play(plays, "cli_pass", PASSING)
    tight = write_play(plays, "cli_tight", TIGHT_DRAWDOWN)
    done = run_trade("validate", str(good), str(tight), "--data", "bundled", "--no-track",
                     env={"PREFECT_API_URL": prefect_server}, timeout=CLI_TIMEOUT_S)  # fmt: skip
    assert done.code == 1, done.err
    assert "temporary Prefect server" not in done.err
    assert "cli_pass: PASSED every gate" in done.out
    assert "cli_tight: FAILED" in done.out
    assert "  - out-of-sample max drawdown 1.56 % > 1 %" in done.out
    row = next(line for line in done.out.splitlines() if "cli_tight" in line and "max-draw" in line)
    assert "1.56" in row and "FAIL" in row
    assert "MLflow run" not in done.out
    assert "error: 1 of 2 play(s) failed a gate: cli_tight" in done.err
    ui = prefect_server.removesuffix("/api")
    assert f"cli_tight: Prefect flow run {ui}/runs/flow-run/" in done.out


@pytest.mark.slow
def test_bad_input_found_inside_the_flow_exits_2_in_one_line(
    plays: Path, prefect_server: str, tmp_path: Path
) -> None:
    good = write_play(plays, "cli_pass", PASSING)
    env = {"PREFECT_API_URL": prefect_server, "TRADE_HOME": str(tmp_path / "empty-home")}
    done = run_trade("validate", str(good), "--no-track", env=env, timeout=CLI_TIMEOUT_S)
    assert done.code == 2, done.err
    assert done.err.strip().splitlines()[-1] == (
        f"error: no market store at {tmp_path / 'empty-home' / 'trade.duckdb'}; load data "
        "first (trade quickstart, or trade data import FILE / trade data sync AVAXUSDT)"
    )
    assert "Traceback" not in done.err


@pytest.mark.usefixtures("flow_home")
def test_an_unreachable_or_slow_prefect_server_is_one_clear_line(
    plays: Path, tmp_path: Path
) -> None:
    good = str(write_play(plays, "cli_pass", PASSING))
    down = run_trade("validate", good, "--data", "bundled", "--no-track",
                     env={"PREFECT_API_URL": "http://127.0.0.1:9/api"})  # fmt: skip
    assert down.code == 1
    assert down.err.strip().endswith(
        "error: cannot reach the Prefect server at http://127.0.0.1:9/api: start it "
        "(uv run prefect server start) or unset PREFECT_API_URL to use a temporary one"
    )
    home = tmp_path / "prefect-slow"
    slow = run_trade("validate", good, "--data", "bundled", "--no-track",
                     env={"PREFECT_API_URL": "", "PREFECT_HOME": str(home),
                          "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "1"},
                     timeout=CLI_TIMEOUT_S)  # fmt: skip
    assert slow.code == 1
    assert (
        f"Prefect's temporary server did not start within 1 s: check that PREFECT_HOME "
        f"({home}) is writable" in slow.err
    )
    assert "internal error" not in down.err + slow.err
