"""End to end through a real Prefect server: ``prefect server start`` (a subprocess with its
own PREFECT_HOME and sqlite database), ``python -m deployments.serve`` (a second
subprocess), then ``prefect deployment run 'validate-play/on-demand' --param ...`` as a user
types it. The flow run must end Completed with the expected verdict: in its persisted
result, in its markdown artifact, and in MLflow (the parent run tagged with the flow run id).

The example play ``bos_entry_avax`` trades once in-sample and never out-of-sample on the
bundled month, so it fails ``min-trades`` (0 < 30) and the two gates that need trades.

Timing on an idle 2-core host: the server answers /api/health after ~9 s, the deployments
are registered ~10 s later, the flow run (a fresh subprocess: imports, MLflow store, GX)
takes ~10 s and is picked up within the 1 s poll interval set here (default 10 s).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

STARTUP_TIMEOUT_S = 180.0
RUN_TIMEOUT_S = 300.0
PLAY = "plays/examples/bos_entry_avax.yml"
EXPECTED_FAILED = [
    "out-of-sample trades 0 < 30",
    "out-of-sample profit factor undefined (no trades); needs >= 1",
    "out-of-sample Sharpe undefined (fewer than 2 daily returns or flat equity); needs >= 0",
]
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@dataclass(frozen=True)
class Stack:
    api: str  # http://127.0.0.1:<port>/api
    env: dict[str, str]
    logs: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _request(api: str, path: str, body: dict[str, Any] | None = None) -> Any:
    req = urllib.request.Request(
        f"{api}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="GET" if body is None else "POST",
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def _healthy(api: str) -> bool:
    try:
        return _request(api, "/health") is True
    except (OSError, urllib.error.URLError, ValueError):
        return False


def _start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip


def _stop(proc: subprocess.Popen[bytes], grace_s: float) -> None:
    """End the process and everything in its process group (its own session)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        except ProcessLookupError:
            pass
    with suppress(ProcessLookupError):  # children left in the group (flow-run subprocesses)
        os.killpg(proc.pid, signal.SIGKILL)


def _wait_for(what: str, check: Any, procs: list[subprocess.Popen[bytes]], logs: Path) -> Any:
    started = time.monotonic()
    while True:
        value = check()
        if value:
            return value
        for p in procs:
            if p.poll() is not None:
                pytest.fail(f"{p.args} exited with {p.returncode} while waiting for {what}:\n"
                            + _tails(logs))  # fmt: skip
        if time.monotonic() - started > STARTUP_TIMEOUT_S:
            pytest.fail(f"no {what} after {STARTUP_TIMEOUT_S:.0f} s:\n{_tails(logs)}")
        time.sleep(0.5)


def _tails(logs: Path) -> str:
    return "\n".join(f"--- {f.name}\n{f.read_text(errors='replace')[-3000:]}"
                     for f in sorted(logs.glob("*.log")))  # fmt: skip


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, flow_home: Path) -> Iterator[Stack]:
    """A Prefect server and the served deployments, both subprocesses in their own sessions."""
    root = tmp_path_factory.mktemp("prefect-e2e")
    logs = root / "logs"
    logs.mkdir()
    api = f"http://127.0.0.1:{_free_port()}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(root / "prefect-home"),
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{root / 'prefect.db'}",
        "PREFECT_API_URL": api,
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "TRADE_HOME": str(flow_home),
    }
    port = api.split(":")[2].split("/")[0]
    server = _start([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                     "--port", port], env, logs / "server.log")  # fmt: skip
    served: subprocess.Popen[bytes] | None = None
    try:
        _wait_for("/api/health", lambda: _healthy(api), [server], logs)
        served = _start([sys.executable, "-m", "deployments.serve"], env, logs / "serve.log")
        _wait_for(
            "served deployments",
            lambda: len(_request(api, "/deployments/filter", {})) == 2,
            [server, served],
            logs,
        )
        yield Stack(api, env, logs)
    finally:
        if served is not None:
            _stop(served, grace_s=20)  # first: on shutdown it pauses its schedules via the API
        _stop(server, grace_s=20)


def test_a_deployment_run_through_a_real_server_completes_with_the_verdict(stack: Stack) -> None:
    deployments = {d["name"]: d for d in _request(stack.api, "/deployments/filter", {})}
    assert set(deployments) == {"on-demand", "nightly"}
    schedule = deployments["nightly"]["schedules"][0]["schedule"]
    assert (schedule["cron"], schedule["timezone"]) == ("0 2 * * *", "UTC")
    assert deployments["on-demand"]["schedules"] == []

    cli = subprocess.run(
        [sys.executable, "-m", "prefect", "deployment", "run", "validate-play/on-demand",
         "--param", f"play={PLAY}", "--param", "data=bundled"],
        cwd=REPO, env=stack.env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stdout + cli.stderr
    match = re.search(r"UUID: ([0-9a-f-]{36})", cli.stdout)
    assert match, cli.stdout
    run_id = match.group(1)

    started = time.monotonic()
    while True:
        run = _request(stack.api, f"/flow_runs/{run_id}")
        if run["state_type"] in TERMINAL:
            break
        if time.monotonic() - started > RUN_TIMEOUT_S:
            pytest.fail(f"flow run still {run['state_type']} after {RUN_TIMEOUT_S:.0f} s:\n"
                        + _tails(stack.logs))  # fmt: skip
        time.sleep(1)
    assert run["state_type"] == "COMPLETED", _tails(stack.logs)
    assert (
        run["deployment_id"]
        == _request(stack.api, "/deployments/name/validate-play/on-demand")["id"]
    )
    assert run["parameters"] == {"play": PLAY, "data": "bundled"}

    verdict = _persisted_result(run)
    assert verdict["play"] == "bos_entry_avax"
    assert verdict["passed"] is False
    assert verdict["failed_reasons"] == EXPECTED_FAILED
    assert verdict["flow_run_id"] == run_id
    assert verdict["metrics_oos"]["trades"] == 0
    assert verdict["metrics_is"]["trades"] == 1

    artifacts = _request(stack.api, "/artifacts/filter",
                         {"artifacts": {"flow_run_id": {"any_": [run_id]}}})  # fmt: skip
    markdown = next(a["data"] for a in artifacts if a["key"] == "validate-play-bos-entry-avax")
    assert markdown.startswith("# bos_entry_avax: FAILED")
    assert "| min-trades | ❌ FAIL | 0 | 30 | out-of-sample trades 0 < 30 |" in markdown
    assert "| audit | ✅ pass |" in markdown

    import mlflow

    parents = mlflow.search_runs(
        experiment_names=["play/bos_entry_avax"],
        filter_string=f"tags.`trade.flow_run_id` = '{run_id}'",
    )
    assert list(parents["run_id"]) == [verdict["mlflow_run_id"]]
    assert parents.iloc[0]["metrics.gate.min-trades"] == 0.0
    assert parents.iloc[0]["status"] == "FINISHED"


def _persisted_result(run: dict[str, Any]) -> dict[str, Any]:
    """The flow run's return value, read back through Prefect's result record."""
    from prefect.client.schemas.objects import FlowRun

    state = FlowRun.model_validate(run).state
    assert state is not None
    return state.result()  # type: ignore[return-value]
