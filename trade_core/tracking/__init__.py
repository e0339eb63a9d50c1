"""MLflow tracking of TRADE runs: one experiment per Play, a run per backtest, gate or flow.

- :mod:`~trade_core.tracking.mlflow_setup`: the tracking URI, the MLflow client (created once
  per process, the sqlite schema initialised under a file lock), one experiment per Play
  (``play/<name>``) and the code version.
- :mod:`~trade_core.tracking.backtest_log`: :func:`log_backtest`, a backtest as one run
  (params, metrics, report and result artifacts).
- :mod:`~trade_core.tracking.runs`: parent runs per flow run, child runs per gate, the
  metrics of the previous comparable run, and the run's link in the MLflow UI.
- :mod:`~trade_core.tracking.secrets_guard`: refuses to log any configured Bybit secret.
- :mod:`~trade_core.tracking.run_writer`: the one place a finished run is written.

``mlflow`` costs seconds to import, so every module here imports it inside the functions that
use it: importing this package is cheap, and the ``trade`` CLI only pays for MLflow when it
logs. See docs/tracking.md.
"""

from trade_core.tracking.backtest_log import log_backtest
from trade_core.tracking.mlflow_setup import (
    TrackingError,
    code_version,
    experiment_for_play,
    tracking_uri,
)
from trade_core.tracking.runs import (
    log_gate,
    log_metrics,
    previous_metrics,
    run_url,
    set_tags,
    start_parent_run,
)
from trade_core.tracking.secrets_guard import SecretLeakError

__all__ = [
    "SecretLeakError",
    "TrackingError",
    "code_version",
    "experiment_for_play",
    "log_backtest",
    "log_gate",
    "log_metrics",
    "previous_metrics",
    "run_url",
    "set_tags",
    "start_parent_run",
    "tracking_uri",
]
