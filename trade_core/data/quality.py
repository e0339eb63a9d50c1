"""Data-quality checks of OHLCV candles with a Great Expectations suite read from JSON.

The suite (``expectations/<name>.json``, GX 1.x JSON form) is loaded from its file on every
check, never rebuilt in code. The candles are first turned into a validation frame
(:func:`~trade_core.data.quality_frame.derive_columns`: ``body_high``, ``body_low``,
``ts_offset``, ``gap_bars``, ``jump_multiple``) so that every rule, including alignment, gaps
and jumps, is a standard GX expectation over a column.

Limits are GX suite parameters (``{"$PARAMETER": "max_gap_bars"}``) whose defaults, bounds and
reasons live in the suite's ``meta.parameters``; callers override them per check. An
expectation whose input column is missing is reported as skipped, never run against nothing.

Great Expectations costs seconds to import, so it is imported lazily, once, by the first check.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from trade_core.data.quality_frame import (
    DERIVED_FROM,
    REQUIRED_COLUMNS,
    derive_columns,
    jump_multiples,
)
from trade_core.data.timeframes import tf_ms
from trade_core.errors import BadInputError

if TYPE_CHECKING:
    from trade_core.data.store import MarketStore

__all__ = [
    "REQUIRED_COLUMNS",
    "ExpectationOutcome",
    "QualityReport",
    "available_suites",
    "check_frame",
    "check_store",
    "derive_columns",
    "expectations_dir",
    "jump_multiples",
    "load_suite_json",
    "resolve_params",
]

DERIVATION_PARAMETERS: tuple[str, ...] = ("jump_window", "jump_range_floor_bps")
SAMPLE_SIZE = 5
EXPECTATIONS_ENV = "TRADE_EXPECTATIONS_DIR"
_SUITE_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
_TABLE_LEVEL = {"expect_column_to_exist"}  # evaluated even when the column is absent


@dataclass(frozen=True)
class ExpectationOutcome:
    """The result of one expectation, in the suite's words.

    ``unexpected_count``/``unexpected_percent`` (percent of non-missing rows) are ``None`` for
    table-level expectations such as a column's presence. ``sample_rows`` are 0-based row
    positions in the checked data (file order), ``sample_ts`` their bar open times (epoch ms).
    A skipped expectation (``evaluated`` false) could not run because a column it needs is
    missing; it counts as not passed.
    """

    name: str
    expectation_type: str
    columns: tuple[str, ...]
    description: str
    success: bool
    evaluated: bool = True
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    sample_ts: list[int] = field(default_factory=list)
    sample_rows: list[int] = field(default_factory=list)
    note: str | None = None

    @property
    def status(self) -> str:
        """``passed``, ``failed`` or ``skipped``."""
        return ("passed" if self.success else "failed") if self.evaluated else "skipped"


@dataclass(frozen=True)
class QualityReport:
    """Everything a check found; ``to_dict()`` is JSON-safe (for files and MLflow artifacts)."""

    suite: str
    tf: str
    rows: int
    success: bool
    parameters: dict[str, int | float]
    outcomes: list[ExpectationOutcome]
    symbol: str | None = None
    first_ts: int | None = None
    last_ts: int | None = None

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def skipped(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if o.status == "skipped"]

    def outcome(self, name: str) -> ExpectationOutcome:
        """The outcome of the expectation named ``name`` (its ``meta.name`` in the suite)."""
        for o in self.outcomes:
            if o.name == name:
                return o
        raise KeyError(f"no expectation {name!r} in suite {self.suite}")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for o, item in zip(self.outcomes, data["outcomes"], strict=True):
            item["columns"] = list(o.columns)
            item["status"] = o.status
        return data


# ---------------------------------------------------------------------------------- suites
def expectations_dir() -> Path:
    """The folder of suite JSON files.

    ``$TRADE_EXPECTATIONS_DIR`` if set; else the top-level ``expectations/`` of a source
    checkout; else ``trade_core/_resources/expectations`` (where the wheel build puts it).
    """
    env = os.environ.get(EXPECTATIONS_ENV)
    if env:
        return Path(env)
    import trade_core

    package = Path(trade_core.__file__).resolve().parent
    checkout = package.parent / "expectations"
    return checkout if checkout.is_dir() else package / "_resources" / "expectations"


def available_suites() -> list[str]:
    """Names of the suites in :func:`expectations_dir`."""
    folder = expectations_dir()
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []


def load_suite_json(suite: str) -> dict[str, Any]:
    """The JSON of suite ``suite``: a name in :func:`expectations_dir` or a ``.json`` path."""
    if suite.endswith(".json") or not _SUITE_NAME_RE.match(suite):
        path = Path(suite)
    else:
        path = expectations_dir() / f"{suite}.json"
    if not path.is_file():
        raise BadInputError(
            f"unknown data-quality suite {suite!r}: available in {expectations_dir()}: "
            f"{', '.join(available_suites()) or 'none'}"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInputError(f"cannot read suite file {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("expectations"), list):
        raise BadInputError(f"{path} is not a Great Expectations suite (no expectations list)")
    return data


def _parameter_specs(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    specs = (data.get("meta") or {}).get("parameters") or {}
    missing = [p for p in DERIVATION_PARAMETERS if p not in specs]
    if missing:
        raise BadInputError(
            f"suite {data.get('name')!r} does not define parameter(s) {', '.join(missing)} "
            "in meta.parameters (needed to derive the validation columns)"
        )
    return specs


def resolve_params(
    data: Mapping[str, Any], overrides: Mapping[str, Any] | None = None
) -> dict[str, int | float]:
    """The suite's parameter defaults (``meta.parameters``) with ``overrides`` applied.

    Each value is checked against its spec (``integer``, ``minimum``); an unknown name or a
    bad value is a :class:`BadInputError` naming the known parameters.
    """
    specs = _parameter_specs(data)
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(specs))
    if unknown:
        raise BadInputError(
            f"unknown parameter(s) {', '.join(unknown)} for suite {data.get('name')!r}: "
            f"known are {', '.join(specs)}"
        )
    return {
        name: _checked_value(name, overrides.get(name, spec["default"]), spec)
        for name, spec in specs.items()
    }


def _checked_value(name: str, value: Any, spec: Mapping[str, Any]) -> int | float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number):
        raise BadInputError(f"parameter {name} must be a finite number, got {value!r}")
    if spec.get("integer") and not number.is_integer():
        raise BadInputError(f"parameter {name} must be a whole number, got {value!r}")
    if number < spec.get("minimum", -math.inf):
        raise BadInputError(f"parameter {name} must be at least {spec['minimum']}, got {value!r}")
    return int(number) if spec.get("integer") else number


# ------------------------------------------------------------------------ running GX
@cache
def _batch_definition() -> Any:
    """An in-memory GX context with one pandas dataframe asset; built once per process."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # GX pins this logger to INFO (it announces a temporary docs folder); let it inherit.
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.NOTSET)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    asset = context.data_sources.add_pandas("trade_quality").add_dataframe_asset("candles")
    return asset.add_batch_definition_whole_dataframe("whole_frame")


def _expectation_name(exp: Mapping[str, Any]) -> str:
    meta = exp.get("meta") or {}
    return str(meta.get("name") or f"{exp.get('type')}:{','.join(_columns_of(exp))}")


def _columns_of(exp: Mapping[str, Any]) -> tuple[str, ...]:
    kwargs = exp.get("kwargs") or {}
    cols = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
    return tuple(cols + list(kwargs.get("column_list") or []))


def _missing_inputs(exp: Mapping[str, Any], present: set[str]) -> list[str]:
    """Candle columns this expectation needs that the data lacks (none for table level)."""
    if exp.get("type") in _TABLE_LEVEL:
        return []
    needed: list[str] = []
    for col in _columns_of(exp):
        needed.extend(DERIVED_FROM.get(col, (col,)))
    return [c for c in dict.fromkeys(needed) if c not in present]


def _run_suite(
    vframe: pd.DataFrame,
    data: Mapping[str, Any],
    expectations: list[dict[str, Any]],
    params: Mapping[str, int | float],
) -> dict[str, Any]:
    """Validate ``vframe`` against ``expectations`` of suite ``data``; results by name."""
    from great_expectations.core import ExpectationSuite

    suite = ExpectationSuite(**{**data, "expectations": expectations})
    if len(suite.expectations) != len(expectations):
        raise BadInputError(
            f"suite {data.get('name')!r} has expectations GX cannot read (it built "
            f"{len(suite.expectations)} of {len(expectations)}); see the log for which"
        )
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": vframe})
    result = batch.validate(
        suite,
        expectation_parameters=dict(params),
        result_format={"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE},
    )
    return {_expectation_name(r.expectation_config.to_json_dict()): r for r in result.results}


def _outcome(
    exp: Mapping[str, Any], result: Any, ts: np.ndarray | None, missing: list[str]
) -> ExpectationOutcome:
    """One suite entry's outcome from its GX result (or as skipped when inputs are missing)."""
    details = (result.result if result is not None else None) or {}
    info = (result.exception_info if result is not None else None) or {}
    rows = [int(i) for i in (details.get("partial_unexpected_index_list") or [])]
    count, percent = details.get("unexpected_count"), details.get("unexpected_percent")
    if missing:
        note = f"not checked: column(s) {', '.join(missing)} missing"
    else:
        note = info.get("exception_message") if info.get("raised_exception") else None
    return ExpectationOutcome(
        name=_expectation_name(exp),
        expectation_type=str(exp.get("type")),
        columns=_columns_of(exp),
        description=str((exp.get("meta") or {}).get("description", "")),
        success=bool(result is not None and result.success),
        evaluated=not missing,
        unexpected_count=None if count is None else int(count),
        unexpected_percent=None if percent is None else float(percent),
        sample_ts=[] if ts is None else [int(ts[i]) for i in rows if np.isfinite(ts[i])],
        sample_rows=rows,
        note=note,
    )


# ------------------------------------------------------------------------ public checks
def check_frame(
    frame: pd.DataFrame,
    tf: str,
    *,
    params: Mapping[str, Any] | None = None,
    suite: str = "ohlcv_candles",
    symbol: str | None = None,
) -> QualityReport:
    """Check candles of timeframe ``tf`` (``ts`` epoch ms, prices, volume) against ``suite``.

    ``frame`` may be raw (unsorted, duplicated, columns missing); rows are checked in the
    order given. ``params`` override the suite's parameter defaults. ``symbol`` only labels
    the report. Never raises for bad data — that is what the report is for — only for a bad
    timeframe, suite or parameter (:class:`BadInputError`).
    """
    data = load_suite_json(suite)
    used = resolve_params(data, params)
    vframe = derive_columns(
        frame,
        tf,
        jump_window=int(used["jump_window"]),
        jump_range_floor_bps=float(used["jump_range_floor_bps"]),
    )
    expectations = data["expectations"]
    names = [_expectation_name(e) for e in expectations]
    if len(set(names)) != len(names):
        raise BadInputError(f"suite {data.get('name')!r} has expectations with the same name")
    present = set(vframe.columns)
    missing = {n: _missing_inputs(e, present) for n, e in zip(names, expectations, strict=True)}
    runnable = [e for n, e in zip(names, expectations, strict=True) if not missing[n]]
    results = _run_suite(vframe, data, runnable, used) if runnable else {}
    ts = vframe["ts"].to_numpy(dtype=np.float64) if "ts" in vframe else None
    outcomes = [
        _outcome(e, results.get(n), ts, missing[n])
        for n, e in zip(names, expectations, strict=True)
    ]
    valid_ts = ts[np.isfinite(ts)] if ts is not None else np.empty(0)
    return QualityReport(
        suite=str(data.get("name") or suite),
        tf=tf,
        rows=len(vframe),
        success=all(o.success for o in outcomes),
        parameters=used,
        outcomes=outcomes,
        symbol=symbol,
        first_ts=int(valid_ts.min()) if len(valid_ts) else None,
        last_ts=int(valid_ts.max()) if len(valid_ts) else None,
    )


def check_store(
    store: MarketStore,
    symbol: str,
    tf: str,
    start: int | None = None,
    end: int | None = None,
    **kw: Any,
) -> QualityReport:
    """Check the stored bars of ``symbol``/``tf`` with ``start <= ts < end`` (epoch ms).

    ``store`` is an open :class:`~trade_core.data.store.MarketStore` (read-only is enough);
    ``kw`` go to :func:`check_frame`. A series the store does not hold at all is bad input
    naming what it holds; an empty range inside a held series fails the ``has_rows`` check.
    """
    tf_ms(tf)
    if store.coverage(symbol, tf) is None:
        held = ", ".join(f"{s.symbol} {s.tf}" for s in store.series()) or "none"
        raise BadInputError(f"no {symbol} {tf} bars in {store.path} (stored: {held})")
    frame = store.read_frame(symbol, tf, start, end)
    return check_frame(frame, tf, symbol=symbol, **kw)
