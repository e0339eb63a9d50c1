"""Prefect tasks around a Play file: find it, load and validate it, summarise it as plain data.

The summary is what the rest of a flow needs to know about the Play (its identity, its
symbol, its promotion thresholds) as a JSON-safe dict, so it shows in the Prefect UI and can
cross any task boundary. Tasks that need the compiled :class:`~trade_core.play.Play` load it
again from the file with :func:`load_checked` (~5 ms), which refuses a file that changed
since the summary was made (the hash differs): every step of one flow run sees one Play.

Not retried: a bad Play stays bad. The error (:class:`~trade_core.play.PlayValidationError`)
lists every problem as ``file:line: yaml.path: message``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict

from prefect.cache_policies import NO_CACHE

from tasks.task_decorator import trade_task
from trade_core.errors import BadInputError
from trade_core.play import Play, load_play


class BacktestThresholds(TypedDict):
    """``promotion.backtest`` of the Play: the out-of-sample bars a backtest must clear."""

    min_trades: int  # closed trades
    max_drawdown_pct: float  # % of the running equity peak
    min_profit_factor: float  # gross win / gross loss
    min_sharpe: float  # annualised (sqrt 365), daily returns


class PlaySummary(TypedDict):
    """What a flow knows about a Play, as plain data."""

    name: str
    version: int
    hash: str
    symbol: str
    file: str  # absolute path of the file loaded
    timeframes: dict[str, str]  # role -> timeframe, e.g. {"exec": "15m", "med": "1h"}
    thresholds: BacktestThresholds
    quality_suite: str  # promotion.data_quality.suite, e.g. "ohlcv_candles"


def resolve_play_path(path: str | Path) -> Path:
    """The Play file (or folder of plays) ``path`` names: as given (relative to the working
    directory), else, for a relative path such as ``plays/examples/x.yml``, the copy packaged
    in the wheel (``trade_core/_resources/plays/...``) or, in an editable install, the one in
    the source checkout, so a served deployment finds the example plays wherever it runs. A
    path that exists nowhere is returned unchanged (loading it then fails with "no such play
    file")."""
    p = Path(path).expanduser()
    if p.exists():
        return p.resolve()
    if p.is_absolute():
        return p
    import trade_core

    package = Path(trade_core.__file__).resolve().parent
    for candidate in (package / "_resources" / p, package.parent / p):  # wheel, checkout
        if candidate.exists():
            return candidate
    return p


def summarise(play: Play) -> PlaySummary:
    """The plain-data summary of a loaded Play."""
    gate = play.model.promotion.backtest
    return PlaySummary(
        name=play.name,
        version=play.version,
        hash=play.hash,
        symbol=play.symbol,
        file=str(Path(play.file).resolve()),
        timeframes=dict(play.timeframes),
        thresholds=BacktestThresholds(
            min_trades=gate.min_trades,
            max_drawdown_pct=gate.max_drawdown_pct,
            min_profit_factor=gate.min_profit_factor,
            min_sharpe=gate.min_sharpe,
        ),
        quality_suite=play.model.promotion.data_quality.suite,
    )


def load_checked(summary: PlaySummary) -> Play:
    """The compiled Play of ``summary``, re-read from its file; a :class:`BadInputError` if
    the file changed since (another hash): a flow run must not mix two versions."""
    play = load_play(summary["file"])
    if play.hash != summary["hash"]:
        raise BadInputError(
            f"{summary['file']} changed during the flow run (hash {summary['hash'][:12]} -> "
            f"{play.hash[:12]}); run the validation again"
        )
    return play


@trade_task(name="load-play", cache_policy=NO_CACHE, persist_result=False)
def load_play_task(path: str) -> PlaySummary:
    """Load and validate the Play file at ``path`` (see :func:`resolve_play_path`); its
    summary. Raises :class:`~trade_core.play.PlayValidationError` naming ``file:line`` for
    each problem, or :class:`BadInputError` for a missing file."""
    return summarise(load_play(resolve_play_path(path)))
