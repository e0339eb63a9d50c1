"""README command 1's main job, ``trade quickstart``, as a user runs it (a subprocess) in a
fresh TRADE_HOME, offline: starter data checked, then the ``validate-play`` flow for every
example Play with MLflow tracking, a verdict per Play, and the way to both UIs.

It reports to the package's test Prefect server (``PREFECT_API_URL``) to save a second
server start; that is the only difference from a user's run (tests/flows/test_validate_cli
covers the temporary server). The verdicts themselves are the plays' business: the test
checks every Play got one, with a completed flow run and an MLflow run, not which passed."""

from __future__ import annotations

import re
from pathlib import Path
from uuid import UUID

import pytest

from tests.support.cli import run_trade

EXAMPLES = ["bollinger_reversion_sol", "bos_entry_avax", "donchian_breakout_eth",
            "ema_pullback_btc", "mtf_momentum_link"]  # fmt: skip


@pytest.mark.slow
def test_quickstart_validates_every_example_play(prefect_server: str, tmp_path: Path) -> None:
    from mlflow import MlflowClient
    from prefect.client.orchestration import get_client

    home = tmp_path / "home"
    uri = f"sqlite:///{home / 'mlflow.db'}"
    env = {"TRADE_HOME": str(home), "MLFLOW_TRACKING_URI": uri, "PREFECT_API_URL": prefect_server}
    done = run_trade("quickstart", env=env, timeout=600)
    assert done.code == 0, done.err

    assert done.out.count("ok 26/26") == 8  # the starter data passed its checks first
    plan = {line.split("│")[1].strip(): line for line in done.out.splitlines()
            if line.count("│") == 5 and line.split("│")[1].strip() in EXAMPLES}  # fmt: skip
    assert sorted(plan) == EXAMPLES
    assert "│ AVAXUSDT │ store     │ 2026-06-01 00:00 → 2026-06-30 23:59" in plan["bos_entry_avax"]
    for name in EXAMPLES:
        if name != "bos_entry_avax":  # no stored bars of its symbol: the synthetic market
            assert "synthetic │ 2024-01-01 00:00 → 2024-03-31 00:00" in plan[name]
    for i, name in enumerate(EXAMPLES, 1):
        assert f"[{i}/5] validating plays/examples/{name}.yml on" in done.err

    verdicts = re.findall(r"^(\w+): (PASSED every gate|FAILED)$", done.out, re.MULTILINE)
    assert sorted(name for name, _ in verdicts) == EXAMPLES
    passed = sum(v == "PASSED every gate" for _, v in verdicts)
    assert f"{passed} of 5 example plays passed every gate" in done.out
    assert f"open MLflow: uv run mlflow server --backend-store-uri {uri}" in done.out
    assert "open Prefect: " not in done.out  # the runs went to the server we named

    run_ids = re.findall(r"/runs/flow-run/([0-9a-f-]{36})", done.out)
    assert len(run_ids) == 5
    with get_client(sync_client=True) as prefect:
        states = [prefect.read_flow_run(UUID(i)).state for i in run_ids]
    assert all(s is not None and s.is_completed() for s in states)

    client = MlflowClient(tracking_uri=uri)  # not the process-wide URI other tests use
    for name in EXAMPLES:
        exp = client.get_experiment_by_name(f"play/{name}")
        assert exp is not None, name
        runs = client.search_runs([exp.experiment_id], "tags.`trade.kind` = 'flow'")
        assert len(runs) == 1
        assert runs[0].data.tags["trade.flow_run_id"] in run_ids
    assert (home / "reports" / "mtf_momentum_link").is_dir()
