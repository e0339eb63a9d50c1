"""``trade_task``: Prefect's ``@task`` for tasks that must also run on a Dask or Ray cluster.

A cluster task runner (``prefect_dask:DaskTaskRunner``, ``prefect_ray:RayTaskRunner``) sends
each task to its worker with cloudpickle. ``@task`` replaces the module attribute
``tasks.x.fn`` by the Task object, so pickle cannot find the function under its own name and
cloudpickle falls back to pickling it *by value*, with every module global it touches: the
module-level locks of these tasks (``_STORE_LOCK``, ``_MLFLOW_LOCK``, ...) then fail with
"cannot pickle '_thread.lock' object" (measured with prefect-dask 0.3.7). ``trade_task``
also publishes the undecorated function under ``<name>_fn`` in its module and names it so,
so it pickles *by reference* (module and name) and the worker imports it from the installed
package, locks and all. Everything else is ``@task`` unchanged.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from prefect import Task, task

P = ParamSpec("P")
R = TypeVar("R")
FN_SUFFIX = "_fn"


def trade_task(**options: Any) -> Callable[[Callable[P, R]], Task[P, R]]:
    """``@task(**options)`` whose function pickles by reference (module docstring)."""

    def decorate(fn: Callable[P, R]) -> Task[P, R]:
        alias = fn.__name__ + FN_SUFFIX
        module = sys.modules[fn.__module__]
        if getattr(module, alias, fn) is not fn:
            raise RuntimeError(f"{fn.__module__}.{alias} already exists; rename the task")
        setattr(module, alias, fn)
        fn.__qualname__ = alias
        return task(**options)(fn)

    return decorate
