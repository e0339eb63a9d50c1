"""End to end against a real ``mlflow server`` (a subprocess on 127.0.0.1): a backtest logged
through the server (artifacts uploaded over HTTP to ``--artifacts-destination``), and one
logged straight into the server's sqlite store the way ``trade`` does by default (what
``mlflow ui`` then shows). Both are read back through the REST API only.

The server takes ~12 s to answer /health on an idle 2-core host and 25-40 s on a loaded one
(two Python start-ups of ~5 s each plus the schema migration), hence the generous timeout.
Job execution (MLflow's huey workers, seven extra processes) is switched off.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.unit.tracking.helpers import (
    REPORT_ARTIFACTS,
    backtest,
    bundled_data,
    expected_params,
    user_tags,
    write_play,
)
from trade_core.backtest.report import write_report
from trade_core.config import get_settings
from trade_core.tracking import code_version, log_backtest, run_url

pytestmark = pytest.mark.slow

STARTUP_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class Server:
    url: str
    db: Path
    artifacts: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", 0))
        except OSError as exc:
            pytest.skip(f"cannot bind a local port for the MLflow server: {exc}")
        return int(s.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End the server and the uvicorn worker it spawned (their own process group)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("mlflow-server")
    db, artifacts, log = root / "srv.db", root / "art", root / "server.log"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
    cmd = [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", f"sqlite:///{db}",
        "--serve-artifacts", "--artifacts-destination", str(artifacts),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        started = time.monotonic()
        while not _healthy(url):
            text = log.read_text(errors="replace")
            if proc.poll() is not None:
                if "address already in use" in text.lower():
                    pytest.skip(f"port {port} was taken before the MLflow server bound it")
                pytest.fail(f"mlflow server exited with {proc.returncode}:\n{text[-4000:]}")
            if time.monotonic() - started > STARTUP_TIMEOUT_S:
                pytest.fail(
                    f"mlflow server not healthy after {STARTUP_TIMEOUT_S:.0f} s:\n{text[-4000:]}"
                )
            time.sleep(0.25)
        yield Server(url, db, artifacts)
    finally:
        _stop(proc)


def _get(url: str, endpoint: str, **query: str) -> dict[str, Any]:
    full = f"{url}{endpoint}?{urllib.parse.urlencode(query)}"
    with urllib.request.urlopen(full, timeout=30) as resp:
        return json.loads(resp.read())


def _post(url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    req = urllib.request.Request(
        f"{url}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def _artifact_paths(url: str, run_id: str, path: str = "") -> set[str]:
    query = {"run_id": run_id, **({"path": path} if path else {})}
    listing = _get(url, "/api/2.0/mlflow/artifacts/list", **query)
    out: set[str] = set()
    for f in listing.get("files", []):
        out |= _artifact_paths(url, run_id, f["path"]) if f["is_dir"] else {f["path"]}
    return out


def _read_run_back(url: str, play_name: str) -> dict[str, Any]:
    """The play's experiment and its single run, through the REST API."""
    exp = _get(url, "/api/2.0/mlflow/experiments/get-by-name", experiment_name=f"play/{play_name}")
    exp_id = exp["experiment"]["experiment_id"]
    runs = _post(url, "/api/2.0/mlflow/runs/search", {"experiment_ids": [exp_id]})["runs"]
    assert len(runs) == 1
    return runs[0]


def _check_run(run: dict[str, Any], result: Any, play: Any, url: str) -> None:
    params = {p["key"]: p["value"] for p in run["data"]["params"]}
    metrics = {m["key"]: m["value"] for m in run["data"]["metrics"]}
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    assert run["info"]["status"] == "FINISHED"
    assert set(params) == expected_params(result)
    assert params["play.name"] == play.name
    assert params["play.version"] == str(play.version)
    assert params["play.hash"] == play.hash
    assert params["symbol"] == "AVAXUSDT"
    assert (params["tf.exec"], params["tf.med"], params["tf.high"]) == ("15m", "1h", "4h")
    assert (params["period.start"], params["period.end"]) == (
        "2026-06-01T00:00:00Z",
        "2026-07-01T00:00:00Z",
    )
    assert params["data.fingerprint"] == result.data_fingerprint
    assert params["code.version"] == code_version()
    assert metrics["trades"] == len(result.trades) > 0
    assert metrics["final_equity"] == result.final_equity
    assert metrics["sharpe"] == result.metrics.sharpe
    assert metrics["audit_passed"] == 21
    assert metrics["audit_failed"] == 0
    assert user_tags(tags) == {"trade.kind": "backtest", "trade.play": play.name}
    assert _artifact_paths(url, run["info"]["run_id"]) == REPORT_ARTIFACTS | {
        f"play/{play.name}.yml",
        "play/canonical.json",
    }


def test_a_backtest_logged_through_the_server_reads_back_over_rest(
    mlflow_server: Server, trade_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    get_settings.cache_clear()
    play = write_play(trade_home.parent / "plays", "srv_http")
    data = bundled_data()
    result = backtest(play, data)
    run_id = log_backtest(result, play, run_name="over-http", candles=data.candles)

    run = _read_run_back(mlflow_server.url, "srv_http")
    assert run["info"]["run_id"] == run_id
    _check_run(run, result, play, mlflow_server.url)
    # uploaded over HTTP into the server's --artifacts-destination, nothing local
    assert run["info"]["artifact_uri"].startswith("mlflow-artifacts:")
    stored = {p.name for p in mlflow_server.artifacts.rglob("*") if p.is_file()}
    assert stored >= REPORT_ARTIFACTS | {"srv_http.yml", "canonical.json"}
    assert not (trade_home / "mlartifacts").exists()
    exp_id = run["info"]["experiment_id"]
    assert run_url(run_id) == f"{mlflow_server.url}/#/experiments/{exp_id}/runs/{run_id}"


def test_a_backtest_logged_to_the_local_store_is_served_by_the_ui_server(
    mlflow_server: Server, trade_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``trade``'s default (a sqlite store + $TRADE_HOME/mlartifacts) while ``mlflow server``
    / ``mlflow ui`` has the same store open: the UI's API lists and serves the artifacts."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{mlflow_server.db}")
    get_settings.cache_clear()
    play = write_play(tmp_path / "plays", "srv_local")
    data = bundled_data()
    result = backtest(play, data)
    report = write_report(result, data.candles, tmp_path / "report")
    run_id = log_backtest(result, play, run_name="local", report_files=report)

    run = _read_run_back(mlflow_server.url, "srv_local")
    assert run["info"]["run_id"] == run_id
    _check_run(run, result, play, mlflow_server.url)
    assert run["info"]["artifact_uri"].startswith(
        (trade_home / "mlartifacts" / "play" / "srv_local").resolve().as_uri()
    )
    query = urllib.parse.urlencode({"path": "result.json", "run_uuid": run_id})
    with urllib.request.urlopen(f"{mlflow_server.url}/get-artifact?{query}", timeout=30) as resp:
        assert resp.read().decode() == result.to_json()
