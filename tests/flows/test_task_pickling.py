"""Every Prefect task of TRADE pickles by reference, so a cluster task runner (Dask, Ray:
cloudpickle) can send it to a worker process: a task pickled by value drags its module's
locks along and fails ("cannot pickle '_thread.lock' object"; tasks/task_decorator.py)."""

from __future__ import annotations

import subprocess
import sys

import cloudpickle
from prefect import Task

import flows.nightly
import flows.validate_play
import tasks.backtest_tasks
import tasks.data_tasks
import tasks.gate_tasks
import tasks.play_tasks
import tasks.suite_tasks
import tasks.tracking_tasks

MODULES = (flows.nightly, flows.validate_play, tasks.backtest_tasks, tasks.data_tasks,
           tasks.gate_tasks, tasks.play_tasks, tasks.suite_tasks, tasks.tracking_tasks)  # fmt: skip
TASKS = sorted(
    {(t.fn.__module__, t.fn.__qualname__): t for m in MODULES for t in vars(m).values()
     if isinstance(t, Task)}.items()
)  # fmt: skip


def test_every_task_is_found() -> None:
    names = {t.name for _, t in TASKS}
    assert {"load-play", "load-market-data", "check-data-quality", "backtest", "evaluate-gates",
            "log-backtest", "log-gates", "log-summary", "compare-with-previous-night",
            "validate-play-nightly", "run-validation-suite", "sync-market-data"} == names  # fmt: skip


def test_every_task_pickles_by_reference_and_loads_in_a_fresh_process() -> None:
    payloads = [cloudpickle.dumps(task.fn) for _, task in TASKS]
    for ((module, name), _), payload in zip(TASKS, payloads, strict=True):
        assert len(payload) < 200, f"{module}.{name} pickles by value, not by reference"
    code = (
        "import pickle, sys\n"
        "for fn in pickle.loads(sys.stdin.buffer.read()):\n"
        "    print(fn.__module__, fn.__qualname__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code],
                          input=cloudpickle.dumps([task.fn for _, task in TASKS]),
                          capture_output=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    assert [tuple(line.split()) for line in done.stdout.decode().splitlines()] == [
        key for key, _ in TASKS
    ]
    for _, task in TASKS:  # the Task objects as well, with their options
        assert cloudpickle.loads(cloudpickle.dumps(task)).fn is task.fn
