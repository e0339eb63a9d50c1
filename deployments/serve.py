"""Serve TRADE's Prefect deployments from one process::

    uv run python -m deployments.serve            # needs a Prefect server (PREFECT_API_URL)

- ``validate-play/on-demand``: no schedule; run it from the UI or with
  ``prefect deployment run 'validate-play/on-demand' --param play=plays/examples/x.yml``.
- ``nightly-validation/nightly``: cron ``0 2 * * *`` in UTC (02:00 UTC every day) over
  ``plays/examples`` on the store's data, each Play's symbol first synced from Bybit (its
  last 90 days; public endpoints, no keys), then the validation play suite.

Why ``prefect.serve`` and not ``prefect.yaml`` plus a work pool and a worker: one machine
serves one user here (docs/DESIGN.md), and ``serve`` registers the deployments and executes
their runs in the same long-lived process. There is no work pool to create, no worker to
keep alive beside it, and no separate file of deployment definitions to keep in step with
the code: the deployments are Python next to their flows. Each flow run still runs in its own
subprocess (Prefect's runner), so a crashing backtest cannot take the server down. When runs
must spread over several machines, the same flows move to a work pool
(``flow.deploy(work_pool_name=...)``) without changing them.

The flows are referenced by module path (``flows.validate_play.validate_play``), which the
installed package resolves from any working directory. Stopping the process (Ctrl-C) pauses
the nightly schedule until it is served again (Prefect's ``pause_on_shutdown``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

VALIDATE_DEPLOYMENT = "on-demand"
NIGHTLY_DEPLOYMENT = "nightly"
NIGHTLY_CRON = "0 2 * * *"
NIGHTLY_TIMEZONE = "UTC"
TAGS = ["trade"]


def build_deployments() -> list[RunnerDeployment]:
    """The two deployments, not yet registered (``serve`` registers them)."""
    from prefect.schedules import Cron
    from prefect.types.entrypoint import EntrypointType

    from flows.nightly import nightly_validation
    from flows.validate_play import validate_play

    on_demand = validate_play.to_deployment(
        name=VALIDATE_DEPLOYMENT,
        description="Validate one Play on demand: data quality, in/out-of-sample backtests, "
        "audit, promotion thresholds.",
        tags=TAGS,
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
    nightly = nightly_validation.to_deployment(
        name=NIGHTLY_DEPLOYMENT,
        description="Every night at 02:00 UTC: sync each Play's last 90 days from Bybit into "
        "the store, validate plays/examples on them, flag regressions against the previous "
        "night, run the validation play suite.",
        schedules=[Cron(NIGHTLY_CRON, timezone=NIGHTLY_TIMEZONE)],
        parameters={"data": "store", "sync": True},
        tags=TAGS,
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
    return [on_demand, nightly]


def main(argv: Sequence[str] | None = None) -> None:
    """Register and serve both deployments until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m deployments.serve",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help="most flow runs executed at once (default: no limit)",
    )
    args = parser.parse_args(argv)
    from prefect import serve

    serve(*build_deployments(), limit=args.limit)


if __name__ == "__main__":
    main()
