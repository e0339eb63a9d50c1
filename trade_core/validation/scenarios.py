"""Deterministic 1m candles (and funding) from a compact scenario spec.

A validation play runs on data drawn by hand so that its trades are known in advance. The
spec lives in the play's ``*.expect.yml`` under ``scenario``::

    scenario:
      volume: 100                       # base-coin volume of every bar (default 100)
      segments:
        - {flat: 100, bars: 60}         # 60 bars o=h=l=c=100 (h/l ± wick if given)
        - {ramp: [100, 110], bars: 10}  # closes 101, 102, ... 110; open = previous close
        - {closes: [110, 112, 109]}     # one bar per close; open = previous close
        - {bars: [[109, 111, 108, 110]]}        # explicit [open, high, low, close(, volume)]
        - {repeat: [{closes: [111, 110]}], times: 5}
      funding: [[480, 0.0001]]          # [minute index, rate]: settled at start + 480 min

Rules (each bar):

* ``flat: p``: ``open = high = low = close = p``; a price different from the previous close
  is a gap at the segment's first open.
* ``ramp: [a, b]`` over ``n`` bars: ``close_i = a + (b - a) * (i + 1) / n`` (i = 0..n-1), so
  the first close is one step above ``a`` and the last is ``b``; ``open_0 = a``, later opens
  are the previous close.
* ``closes: [...]``: ``open`` = the previous bar's close (the first close itself when the
  scenario starts with it).
* ``high = max(open, close) + wick``, ``low = min(open, close) - wick`` for the generated
  forms (``wick`` default 0).
* ``volume``: per segment, else the scenario's, else 100 (volume matters to volume-weighted
  indicators only; the simulator has no volume cap here).

Every price must lie on the instrument's tick (a ramp's closes included): a value off the
grid is an error naming the file, the segment and the bar, never silently rounded. Prices are
stored as the float nearest to the exact decimal multiple of the tick, so ``101.1`` is
``101.1`` and not ``101.10000000000001``.

Funding: ``[m, rate]`` settles at ``start + m * 60_000`` ms, the close of bar ``m - 1``; the
simulator's mark proxy is that bar's close. ``rate`` is a fraction (``0.0001`` = 0.01 %).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
)

from trade_core.data.candles import Candles
from trade_core.errors import BadInputError

MINUTE_MS = 60_000
DEFAULT_START_MS = 1_704_067_200_000  # 2024-01-01 00:00 UTC: a day and funding boundary
DEFAULT_VOLUME = 100.0
MAX_BARS = 200_000  # a validation scenario is small; this catches a runaway ``repeat``


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


NonNeg = Annotated[float, Field(ge=0)]
Pos = Annotated[float, Field(gt=0)]
Count = Annotated[int, Field(ge=1)]


class Flat(_Strict):
    """``bars`` bars at one price ``flat`` (USDT)."""

    flat: Pos
    bars: Count
    wick: NonNeg = 0.0
    volume: NonNeg | None = None


class Ramp(_Strict):
    """``bars`` closes on a line from ``ramp[0]`` (exclusive) to ``ramp[1]`` (inclusive)."""

    ramp: tuple[Pos, Pos]
    bars: Count
    wick: NonNeg = 0.0
    volume: NonNeg | None = None


class Closes(_Strict):
    """One bar per listed close; each opens at the previous close."""

    closes: Annotated[list[Pos], Field(min_length=1)]
    wick: NonNeg = 0.0
    volume: NonNeg | None = None


class Explicit(_Strict):
    """Bars given as ``[open, high, low, close]`` or ``[open, high, low, close, volume]``."""

    bars: Annotated[list[list[float]], Field(min_length=1)]
    volume: NonNeg | None = None

    @field_validator("bars")
    @classmethod
    def _shape(cls, rows: list[list[float]]) -> list[list[float]]:
        for i, row in enumerate(rows):
            if len(row) not in (4, 5):
                raise ValueError(f"bar {i}: expected [open, high, low, close(, volume)]")
            o, h, lo, c = row[:4]
            if not (0 < lo <= min(o, c) and max(o, c) <= h):
                raise ValueError(f"bar {i} {row}: expected 0 < low <= open, close <= high")
        return rows


class Repeat(_Strict):
    """The listed segments, ``times`` times over."""

    repeat: Annotated[list[Segment], Field(min_length=1)]
    times: Count


def _kind(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    for key in ("flat", "ramp", "closes", "repeat"):
        if key in value:
            return key
    return "bars" if "bars" in value else None


Segment = Annotated[
    Annotated[Flat, Tag("flat")]
    | Annotated[Ramp, Tag("ramp")]
    | Annotated[Closes, Tag("closes")]
    | Annotated[Repeat, Tag("repeat")]
    | Annotated[Explicit, Tag("bars")],
    Discriminator(_kind),
]
Repeat.model_rebuild()


class ScenarioSpec(_Strict):
    """The ``scenario`` block of an expectation file (module docstring)."""

    segments: Annotated[list[Segment], Field(min_length=1)]
    volume: NonNeg = DEFAULT_VOLUME
    funding: list[tuple[Annotated[int, Field(ge=1)], float]] = []


@dataclass(frozen=True, slots=True)
class Scenario:
    """Built scenario: 1m ``candles`` and funding settlements (ms, fractions)."""

    candles: Candles
    funding_ts: np.ndarray
    funding_rate: np.ndarray


def parse_spec(raw: Any, where: str) -> ScenarioSpec:
    """Validate a raw ``scenario`` mapping; errors name ``where`` (file) and the key path."""
    try:
        return ScenarioSpec.model_validate(raw)
    except ValidationError as exc:
        lines = [
            f"{where}: scenario.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in exc.errors()
        ]
        raise BadInputError("\n".join(lines)) from None


class _Builder:
    """Accumulates bars, checking every price against the tick grid."""

    def __init__(self, tick: float, volume: float, where: str) -> None:
        self.tick = Decimal(repr(tick))
        self.default_volume = volume
        self.where = where
        self.rows: list[tuple[float, float, float, float, float]] = []

    @property
    def last_close(self) -> float | None:
        return self.rows[-1][3] if self.rows else None

    def on_tick(self, value: float, path: str) -> float:
        """``value`` as the float of its exact tick multiple, or an error if off the grid."""
        steps = Decimal(repr(value)) / self.tick
        nearest = steps.to_integral_value()
        if abs(steps - nearest) > Decimal("1e-9"):
            raise BadInputError(
                f"{self.where}: scenario.{path}: price {value!r} is not on tick {self.tick}"
            )
        return float(nearest * self.tick)

    def add(self, o: float, h: float, lo: float, c: float, v: float | None, path: str) -> None:
        if len(self.rows) >= MAX_BARS:
            raise BadInputError(f"{self.where}: scenario: more than {MAX_BARS} bars")
        o, h, lo, c = (self.on_tick(x, path) for x in (o, h, lo, c))
        if not (0 < lo <= min(o, c) and max(o, c) <= h):
            raise BadInputError(
                f"{self.where}: scenario.{path}: bar [{o}, {h}, {lo}, {c}] needs "
                "0 < low <= open, close <= high"
            )
        self.rows.append((o, h, lo, c, self.default_volume if v is None else float(v)))

    def generated(self, o: float, c: float, wick: float, v: float | None, path: str) -> None:
        o, c = self.on_tick(o, path), self.on_tick(c, path)
        w = Decimal(repr(wick))
        hi = float(Decimal(repr(max(o, c))) + w)
        lo = float(Decimal(repr(min(o, c))) - w)
        self.add(o, hi, lo, c, v, path)

    def segment(self, seg: Segment, path: str) -> None:
        if isinstance(seg, Flat):
            for i in range(seg.bars):
                self.generated(seg.flat, seg.flat, seg.wick, seg.volume, f"{path}.flat[{i}]")
        elif isinstance(seg, Ramp):
            a, b = (Decimal(repr(x)) for x in seg.ramp)
            prev = float(a)
            for i in range(seg.bars):
                close = float(a + (b - a) * (i + 1) / seg.bars)
                self.generated(prev, close, seg.wick, seg.volume, f"{path}.ramp bar {i}")
                prev = self.rows[-1][3]
        elif isinstance(seg, Closes):
            for i, c in enumerate(seg.closes):
                o = self.last_close if self.last_close is not None else c
                self.generated(o, c, seg.wick, seg.volume, f"{path}.closes[{i}]")
        elif isinstance(seg, Explicit):
            for i, row in enumerate(seg.bars):
                v = row[4] if len(row) == 5 else seg.volume
                self.add(row[0], row[1], row[2], row[3], v, f"{path}.bars[{i}]")
        else:
            for k in range(seg.times):
                for j, inner in enumerate(seg.repeat):
                    self.segment(inner, f"{path}.repeat[{j}] (time {k + 1})")


def build_scenario(
    spec: ScenarioSpec | dict[str, Any],
    *,
    symbol: str,
    tick: float,
    start_ms: int = DEFAULT_START_MS,
    where: str = "<scenario>",
) -> Scenario:
    """The 1m candles and funding of ``spec`` for ``symbol`` on tick ``tick`` (USDT),
    starting at ``start_ms`` (epoch ms, a whole minute)."""
    if not isinstance(spec, ScenarioSpec):
        spec = parse_spec(spec, where)
    if start_ms % MINUTE_MS:
        raise BadInputError(f"{where}: start {start_ms} is not on a whole minute")
    b = _Builder(tick, spec.volume, where)
    for i, seg in enumerate(spec.segments):
        b.segment(seg, f"segments[{i}]")
    n = len(b.rows)
    cols = np.array(b.rows, dtype=np.float64).reshape(n, 5)
    ts = start_ms + np.arange(n, dtype=np.int64) * MINUTE_MS
    candles = Candles(symbol, "1m", ts, cols[:, 0].copy(), cols[:, 1].copy(), cols[:, 2].copy(),
                      cols[:, 3].copy(), cols[:, 4].copy(), np.full(n, np.nan))  # fmt: skip
    f_ts, f_rate = [], []
    last = -1
    for j, (minute, rate) in enumerate(spec.funding):
        if minute <= last:
            raise BadInputError(f"{where}: scenario.funding[{j}]: minutes must increase")
        if minute > n:
            raise BadInputError(
                f"{where}: scenario.funding[{j}]: minute {minute} is after the last bar "
                f"closes (minute {n})"
            )
        last = minute
        f_ts.append(start_ms + minute * MINUTE_MS)
        f_rate.append(float(rate))
    return Scenario(candles, np.array(f_ts, dtype=np.int64), np.array(f_rate, dtype=np.float64))
