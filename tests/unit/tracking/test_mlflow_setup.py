"""Where runs go: the tracking URI, one experiment per Play (idempotent, safe under
concurrent creation from threads and from processes on a fresh store), the code version."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier

import pytest

from trade_core.config import get_settings
from trade_core.tracking import TrackingError, code_version, experiment_for_play, tracking_uri
from trade_core.tracking import mlflow_setup as setup

REPO = Path(__file__).resolve().parents[3]


def test_the_default_store_is_sqlite_in_trade_home_which_is_created(
    trade_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    get_settings.cache_clear()
    assert not trade_home.exists()
    assert tracking_uri() == f"sqlite:///{trade_home.resolve() / 'mlflow.db'}"
    assert trade_home.is_dir()
    loc = setup.artifact_location("play/x")
    assert loc == (trade_home.resolve() / "mlartifacts" / "play" / "x").as_uri()


def test_mlflow_tracking_uri_wins_and_its_folder_is_created(
    trade_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "elsewhere" / "runs.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{db}")
    get_settings.cache_clear()
    assert tracking_uri() == f"sqlite:///{db}"
    assert db.parent.is_dir()


def test_a_tracking_server_decides_where_artifacts_go(
    trade_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.internal:5000")
    get_settings.cache_clear()
    assert tracking_uri() == "http://mlflow.internal:5000"
    assert setup.artifact_location("play/x") is None
    assert not trade_home.exists()  # nothing local is created for a server


def test_one_experiment_per_play_created_once_with_local_artifacts(mlflow_home: Path) -> None:
    from mlflow import MlflowClient

    first = experiment_for_play("alpha")
    assert experiment_for_play("alpha") == first
    other = experiment_for_play("beta")
    assert other != first
    exp = MlflowClient(tracking_uri()).get_experiment(first)
    assert exp.name == "play/alpha"
    assert exp.tags["trade.play"] == "alpha"
    assert exp.artifact_location == (mlflow_home / "mlartifacts" / "play" / "alpha").as_uri()


def test_threads_creating_the_same_experiment_all_get_it(mlflow_home: Path) -> None:
    n = 4
    barrier = Barrier(n)

    def create(_: int) -> str:
        barrier.wait(timeout=60)
        return experiment_for_play("raced_threads")

    with ThreadPoolExecutor(n) as pool:
        ids = list(pool.map(create, range(n)))
    assert len(set(ids)) == 1


@pytest.mark.slow
def test_processes_creating_the_same_experiment_on_a_fresh_store_both_succeed(
    trade_home: Path, tmp_path: Path
) -> None:
    """Both processes open a store that does not exist yet (MLflow's schema migration races
    without the init lock) and create the same experiment at the same moment."""
    db = tmp_path / "fresh" / "mlflow.db"
    script = textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        import mlflow  # imported before the barrier so both start the race together
        from trade_core.tracking import experiment_for_play

        me, other = Path(sys.argv[1]), Path(sys.argv[2])
        me.touch()
        deadline = time.monotonic() + 120
        while not other.exists():
            if time.monotonic() > deadline:
                sys.exit("the other process never got ready")
            time.sleep(0.005)
        print(experiment_for_play("raced_processes"))
        """
    )
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{db}",
        "TRADE_HOME": str(tmp_path / "home"),
        "PYTHONPATH": str(REPO),
    }
    ready = [tmp_path / "ready-0", tmp_path / "ready-1"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(ready[i]), str(ready[1 - i])],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    outs = [p.communicate(timeout=240) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-3000:]
    ids = {out.strip().splitlines()[-1] for out, _ in outs}
    assert len(ids) == 1


def test_a_deleted_experiment_is_a_clear_error(mlflow_home: Path) -> None:
    from mlflow import MlflowClient

    exp_id = experiment_for_play("gone")
    MlflowClient(tracking_uri()).delete_experiment(exp_id)
    with pytest.raises(TrackingError, match=r"play/gone \(id \d+\) is deleted; restore it"):
        experiment_for_play("gone")


def test_an_empty_play_name_is_refused(mlflow_home: Path) -> None:
    with pytest.raises(ValueError, match="play name"):
        experiment_for_play(" ")


def test_code_version_is_the_checkout_sha_else_the_package_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import trade_core

    git = setup._git("rev-parse", "HEAD")
    code_version.cache_clear()
    try:
        if git is None:
            assert code_version() == trade_core.__version__
        else:
            assert code_version() == git
            assert len(git) == 40
            assert int(git, 16) >= 0
        monkeypatch.setattr(setup, "_git", lambda *args: None)
        code_version.cache_clear()
        assert code_version() == trade_core.__version__
        setup.code_dirty.cache_clear()
        assert setup.code_dirty() == "unknown"
    finally:
        code_version.cache_clear()
        setup.code_dirty.cache_clear()


def test_importing_tracking_imports_neither_mlflow_nor_prefect() -> None:
    code = (
        "import sys, trade_core.tracking\n"
        "bad = [m for m in ('mlflow', 'prefect') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
