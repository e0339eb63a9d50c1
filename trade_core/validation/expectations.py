"""The expectation file beside each validation play (``<name>.expect.yml``): strict models.

Two kinds:

* **Deterministic** (``scenario`` + ``expect`` + ``derivation``): the play runs on candles
  built from the scenario (:mod:`trade_core.validation.scenarios`) and the outcome must equal
  numbers worked out *without the engine*; ``derivation`` shows the hand formula (or names the
  reference calculation) so a reader can check every number.
* **Real data** (``data`` + ``expect: {audit: pass, stream_equals_batch: true, min_trades}``):
  the play runs on a window of a real 1m file; no numbers are predicted, but every audit check
  must pass and the live-shaped stream feed must give the batch result exactly.

Bars are **1m bar indices** from the scenario's start (bar ``k`` opens at ``start + k`` min).
A fill's bar is the bar it happened inside (a market order decided at the close of bar ``k``
fills at the open of bar ``k + 1``). An engine event's ``bar`` is the bar at whose close it
was logged. Prices and quantities compare to 1e-9 relative; money (PnL, equity, funding) to
the cent: ``abs(got - expected) < 0.005`` USDT.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from trade_core.errors import BadInputError
from trade_core.timestamps import parse_time
from trade_core.validation.scenarios import ScenarioSpec

Side = Literal["long", "short"]
BarIndex = Annotated[int, Field(ge=0)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TradeExpect(Strict):
    """One closed trade as the venue's closed-PnL record gives it."""

    side: Side
    entry_bar: BarIndex
    exit_bar: BarIndex
    entry_price: float
    exit_price: float
    exit_reason: str
    qty: float | None = None
    net_pnl: float | None = None
    funding: float | None = None


class OpenPositionExpect(Strict):
    """The position still open at the end of the data."""

    side: Side
    qty: float
    entry_price: float
    entry_bar: BarIndex | None = None


class OrderExpect(Strict):
    """One order the engine placed (in placement order) and what became of it."""

    status: Literal["Filled", "PartiallyFilledCanceled", "Cancelled", "Rejected", "New"]
    side: Literal["Buy", "Sell"] | None = None
    type: Literal["Market", "Limit"] | None = None
    price: float | None = None
    qty: float | None = None
    reason: str | None = None  # substring of the venue's cancel/reject reason


class EventExpect(Strict):
    """Engine log lines of ``kind`` whose detail contains ``contains``; ``count`` of them
    (``None``: at least one); ``bar``: the first one was logged at that bar's close."""

    kind: str
    contains: str = ""
    count: Annotated[int, Field(ge=0)] | None = None
    bar: BarIndex | None = None


class Outcome(Strict):
    """What a deterministic play must produce. Omitted optional parts are not compared,
    except ``open_position`` (omitted: the run must end flat), ``liquidations`` (0) and
    ``funding_paid`` (0)."""

    trades: Annotated[int, Field(ge=0)]
    trade_list: list[TradeExpect] = []
    final_equity: float
    open_position: OpenPositionExpect | None = None
    orders: list[OrderExpect] | None = None
    events: list[EventExpect] = []
    liquidations: Annotated[int, Field(ge=0)] = 0
    funding_paid: float = 0.0
    stream_equals_batch: bool = True

    @model_validator(mode="after")
    def _count_matches(self) -> Outcome:
        if self.trade_list and len(self.trade_list) != self.trades:
            raise ValueError(
                f"trade_list has {len(self.trade_list)} entries but trades is {self.trades}"
            )
        return self


class RunBits(Strict):
    """The :class:`~trade_core.backtest.runner.RunConfig` settings a play may change."""

    max_leverage: Annotated[float, Field(gt=0)] = 10.0
    mm_basis: Literal["mark", "entry"] = "mark"


class DeterministicExpectation(Strict):
    """``<name>.expect.yml`` of a play on a hand-built scenario."""

    kind: Literal["deterministic"] = "deterministic"
    symbol: str | None = None
    start: str | None = None  # ISO time (UTC) of bar 0; default 2024-01-01 00:00
    scenario: ScenarioSpec
    run: RunBits = RunBits()
    expect: Outcome
    audit_may_fail: list[Annotated[int, Field(ge=1, le=23)]] = []
    derivation: str = Field(min_length=1)

    @field_validator("derivation")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("derivation must show how the expected numbers were worked out")
        return text

    @field_validator("start")
    @classmethod
    def _time(cls, text: str | None) -> str | None:
        if text is not None:
            parse_time(text)
        return text

    def start_ms(self) -> int | None:
        return None if self.start is None else parse_time(self.start)


class RealData(Strict):
    """A window ``[start, end)`` (ISO, UTC) of one file in the shared real-data folder."""

    file: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    start: str
    end: str

    @model_validator(mode="after")
    def _window(self) -> RealData:
        lo, hi = parse_time(self.start), parse_time(self.end)
        if hi <= lo:
            raise ValueError(f"end {self.end} is not after start {self.start}")
        if hi - lo > 31 * 86_400_000:
            raise ValueError("keep a real-data window to at most a month (1-3 weeks is best)")
        return self

    def span_ms(self) -> tuple[int, int]:
        return parse_time(self.start), parse_time(self.end)


class RealOutcome(Strict):
    audit: Literal["pass"] = "pass"
    stream_equals_batch: Literal[True] = True
    min_trades: Annotated[int, Field(ge=0)] = 1


class RealExpectation(Strict):
    """``<name>.expect.yml`` of a real-data verification play."""

    kind: Literal["real"] = "real"
    symbol: str | None = None
    data: RealData
    expect: RealOutcome = RealOutcome()
    notes: str = ""


Expectation = DeterministicExpectation | RealExpectation


def load_expectation(path: Path) -> Expectation:
    """Read and validate ``path``; every problem is reported with the file and key path."""
    try:
        raw: Any = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise BadInputError(f"{path}: cannot read the expectation: {exc}") from None
    if not isinstance(raw, dict):
        raise BadInputError(f"{path}: expected a mapping with scenario/expect or data/expect")
    model: type[BaseModel] = RealExpectation if "data" in raw else DeterministicExpectation
    try:
        return model.model_validate(raw)  # type: ignore[return-value]
    except ValidationError as exc:
        lines = [f"{path}: {_loc(e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise BadInputError("\n".join(lines)) from None


def _loc(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for p in loc:
        if isinstance(p, int):
            parts.append(f"[{p}]")
        else:
            parts.append(("." if parts else "") + str(p))
    return "".join(parts) or "(top)"
