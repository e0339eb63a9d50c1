"""Where runs go: the tracking URI, the MLflow client, one experiment per Play, the code version.

The tracking URI is ``Settings.mlflow_uri``: ``$MLFLOW_TRACKING_URI`` when set (an
``http(s)://`` tracking server, or a database URI), else the local default
``sqlite:///$TRADE_HOME/mlflow.db`` (MLflow 3 refuses the plain file store). With a database
URI the client writes artifacts itself, so every experiment is created with its artifact
location under ``$TRADE_HOME/mlartifacts`` (a ``file://`` URI); with a server the server
decides (e.g. ``mlflow-artifacts:/`` when it proxies uploads).

Concurrency: two processes opening a fresh sqlite store at once both run MLflow's schema
migrations and one fails ("duplicate column"). The first client of a sqlite store in each
process is therefore created under an exclusive file lock (``<db>.lock`` beside the
database; POSIX ``flock``, released when the process ends). Two processes creating the same
experiment race on its unique name: the loser catches ``RESOURCE_ALREADY_EXISTS`` and reads
the winner's experiment.

``mlflow`` is imported inside the functions (it costs seconds to import).
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from trade_core.config import Settings, get_settings
from trade_core.errors import TradeError

if TYPE_CHECKING:
    from mlflow import MlflowClient

EXPERIMENT_PREFIX = "play/"
INIT_LOCK_TIMEOUT_S = 120.0  # a fresh store's migrations take ~2 s; generous for loaded hosts
GIT_TIMEOUT_S = 5.0
_REMOTE_SCHEMES = frozenset({"http", "https", "databricks", "databricks-uc", "uc"})
_UNSAFE_PATH_CHARS = re.compile(r"[^A-Za-z0-9_.-]")
_QUIET_LOGGERS = ("mlflow.store.db.utils", "alembic.runtime.migration")

_clients: dict[str, MlflowClient] = {}
_clients_lock = threading.Lock()


class TrackingError(TradeError):
    """The tracking store cannot be used as asked (locked, deleted experiment, bad URI)."""


# ------------------------------------------------------------------------------ the URI
def tracking_uri(settings: Settings | None = None) -> str:
    """The configured tracking URI; for a sqlite store its folder (for the default store:
    ``$TRADE_HOME``) is created so MLflow can create the database file."""
    s = settings or get_settings()
    uri = s.mlflow_uri
    db = sqlite_path(uri)
    if db is not None:
        db.parent.mkdir(parents=True, exist_ok=True)
    if not s.mlflow_tracking_uri:
        s.trade_home.mkdir(parents=True, exist_ok=True)
    return uri


def is_remote(uri: str) -> bool:
    """Whether ``uri`` is a tracking server (which then decides where artifacts go)."""
    return urlparse(uri).scheme.lower() in _REMOTE_SCHEMES or uri in _REMOTE_SCHEMES


def sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///path`` URI; None for other URIs and in-memory."""
    if not uri.startswith("sqlite:///"):
        return None
    path = uri[len("sqlite:///") :].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def artifact_root(settings: Settings | None = None) -> Path:
    """The local artifact folder, ``$TRADE_HOME/mlartifacts`` (absolute)."""
    s = settings or get_settings()
    return s.mlflow_artifacts.resolve()


def artifact_location(experiment_name: str, settings: Settings | None = None) -> str | None:
    """The ``file://`` URI new experiment ``experiment_name`` keeps its artifacts under
    (``$TRADE_HOME/mlartifacts/play/<name>``); None with a tracking server, which decides."""
    s = settings or get_settings()
    if is_remote(s.mlflow_uri):
        return None
    parts = [_UNSAFE_PATH_CHARS.sub("_", p) or "_" for p in experiment_name.split("/")]
    return artifact_root(s).joinpath(*parts).as_uri()


# --------------------------------------------------------------------------- the client
def client(settings: Settings | None = None) -> MlflowClient:
    """The process's MLflow client for the configured URI (created once per URI; for a
    sqlite store under the init lock, see the module docstring)."""
    uri = tracking_uri(settings)
    with _clients_lock:
        found = _clients.get(uri)
        if found is None:
            found = _clients[uri] = _new_client(uri)
    return found


def _new_client(uri: str) -> MlflowClient:
    for name in _QUIET_LOGGERS:  # "Creating initial MLflow database tables..." on stderr
        logging.getLogger(name).setLevel(logging.WARNING)
    from mlflow import MlflowClient

    db = sqlite_path(uri)
    if db is None:
        return MlflowClient(tracking_uri=uri)
    with _file_lock(db.with_name(db.name + ".lock"), INIT_LOCK_TIMEOUT_S):
        return MlflowClient(tracking_uri=uri)  # opens the store: creates/migrates the schema


@contextmanager
def _file_lock(path: Path, timeout_s: float) -> Iterator[None]:
    """An exclusive inter-process lock on ``path`` (no-op where ``fcntl`` is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as fh:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TrackingError(
                        f"another process has held {path} for over {timeout_s:.0f} s while "
                        "initialising the MLflow store; retry, or remove a stale process"
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


# ---------------------------------------------------------------------- experiments
def experiment_name(play_name: str) -> str:
    """The experiment of a Play: ``play/<name>``."""
    if not play_name or not play_name.strip():
        raise ValueError("a play name is needed to pick its MLflow experiment")
    return f"{EXPERIMENT_PREFIX}{play_name}"


def experiment_for_play(play_name: str, settings: Settings | None = None) -> str:
    """The id of the Play's experiment ``play/<name>``, created on first use (with its
    artifact location under ``$TRADE_HOME/mlartifacts`` for a local store). Safe when several
    processes create it at once; a deleted experiment is an error naming the fix."""
    from mlflow.exceptions import MlflowException

    name = experiment_name(play_name)
    c = client(settings)
    exp = c.get_experiment_by_name(name)
    if exp is None:
        try:
            return c.create_experiment(
                name,
                artifact_location=artifact_location(name, settings),
                tags={"trade.play": play_name},
            )
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
            exp = c.get_experiment_by_name(name)  # another process created it first
            if exp is None:
                raise
    if exp.lifecycle_stage != "active":
        raise TrackingError(
            f"MLflow experiment {name} (id {exp.experiment_id}) is deleted; restore it "
            f"(mlflow experiments restore --experiment-id {exp.experiment_id}) or remove it "
            "for good (mlflow gc) before logging this play again"
        )
    return str(exp.experiment_id)


# ------------------------------------------------------------------------ code version
def _repo_root() -> Path:
    import trade_core

    return Path(trade_core.__file__).resolve().parent.parent


def _git(*args: str) -> str | None:
    """``git args`` in the checkout this package runs from; None outside one or on error.
    ``GIT_OPTIONAL_LOCKS=0``: never touch the index (another process may be committing)."""
    root = _repo_root()
    if not (root / ".git").exists():
        return None
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=True,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


@cache
def code_version() -> str:
    """The git sha of the checkout (``git rev-parse HEAD``), else ``trade_core.__version__``
    (an installed wheel). Read once per process."""
    sha = _git("rev-parse", "HEAD")
    if sha:
        return sha
    import trade_core

    return trade_core.__version__


@cache
def code_dirty() -> str:
    """``"true"`` if tracked files differ from HEAD, ``"false"`` if not, ``"unknown"``
    outside a checkout. Read once per process."""
    status = _git("status", "--porcelain", "--untracked-files=no")
    if status is None:
        return "unknown"
    return "true" if status else "false"
