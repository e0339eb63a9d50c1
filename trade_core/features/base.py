"""The incremental feature contract shared by every indicator and structure detector.

A :class:`Feature` is a state machine fed **one closed bar at a time** through
:meth:`Feature.update` — the same call in backtest and live, so there is no backtest-only path.
After each update, ``self.out`` holds the current value of every output, in the order of the
spec's ``outputs``; numeric outputs are ``nan`` while the feature is warming up (or undefined),
enum outputs are ``""`` and event outputs ``False``.

Each feature class declares a :class:`FeatureSpec`: its parameters (types, defaults, bounds),
its outputs (number / enum with its values / bool event), and its warm-up — the number of bars
it must see before its first valid output, as a function of its parameters. The Play validator
and warm-up calculator use these specs; nothing hard-codes a feature's name.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

NUMBER = "number"
ENUM = "enum"
BOOL = "bool"
_MISSING = object()


@dataclass(frozen=True, slots=True)
class FeatureRef:
    """A parameter that names another feature of the Play (e.g. ``swings: swings``).

    ``kinds`` are the registry names the referenced feature may have (e.g. ``("swing",)``).
    """

    kinds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter: ``type`` is ``int``, ``float``, ``str``, ``bool`` or a :class:`FeatureRef`.

    ``minimum``/``maximum`` are inclusive bounds for numbers; ``choices`` restricts strings.
    """

    name: str
    type: type | FeatureRef
    default: Any = _MISSING
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is _MISSING

    def check(self, value: Any) -> Any:
        """The value coerced to the parameter's type; ``ValueError`` says what was expected."""
        t = self.type
        if isinstance(t, FeatureRef):
            if not isinstance(value, str):
                raise ValueError(f"expected the id of a {'/'.join(t.kinds)} feature")
            return value
        if t is bool:
            if not isinstance(value, bool):
                raise ValueError("expected true or false")
            return value
        if t is str:
            if not isinstance(value, str):
                raise ValueError("expected a string")
            if self.choices and value not in self.choices:
                raise ValueError(f"expected one of {', '.join(self.choices)}")
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected {'an integer' if t is int else 'a number'}")
        if t is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError("expected an integer")
            value = int(value)
        else:
            value = float(value)
            if not math.isfinite(value):
                raise ValueError("expected a finite number")
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"must be >= {self.minimum:g}")
        if self.maximum is not None and value > self.maximum:
            raise ValueError(f"must be <= {self.maximum:g}")
        return value

    def describe(self) -> dict[str, Any]:
        t = self.type
        out: dict[str, Any] = {
            "type": f"feature({'/'.join(t.kinds)})" if isinstance(t, FeatureRef) else t.__name__,
            "doc": self.doc,
        }
        if not self.required:
            out["default"] = self.default
        for key in ("minimum", "maximum"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.choices:
            out["choices"] = list(self.choices)
        return out


@dataclass(frozen=True, slots=True)
class Output:
    """One output field: a number, an enum (with its ``values``) or a bool event.

    ``warmup`` (optional, a function of the params) is for an output defined *before* the
    feature as a whole, e.g. ADX's +DI/-DI (TA-Lib: bar n+1) ahead of ADX itself (bar 2n).
    """

    name: str
    type: str = NUMBER
    values: tuple[str, ...] = ()
    doc: str = ""
    warmup: Callable[[Mapping[str, Any]], int] | None = None

    @property
    def empty(self) -> Any:
        """The value before the feature is ready."""
        return math.nan if self.type == NUMBER else ("" if self.type == ENUM else False)


@dataclass(frozen=True)
class FeatureSpec:
    """Everything the Play layer needs to know about a feature, without running it."""

    name: str
    kind: str  # "indicator" or "structure"
    cls: type[Feature]
    params: tuple[Param, ...]
    outputs: tuple[Output, ...]
    warmup: Callable[[Mapping[str, Any]], int]
    """Bars (of the feature's timeframe) consumed before the first valid output."""
    reference: str = ""
    inputs: tuple[str, ...] = ("open", "high", "low", "close", "volume")
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def doc(self) -> str:
        return (self.cls.__doc__ or "").strip()

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.outputs)

    def output(self, name: str) -> Output:
        for o in self.outputs:
            if o.name == name:
                return o
        raise KeyError(name)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def resolve(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Parameters with defaults filled in and every value checked.

        Raises ``KeyError`` (unknown name, as ``args[0]``) or ``ValueError`` with
        ``"name: message"`` — the Play loader turns both into located errors.
        """
        known = {p.name for p in self.params}
        for name in given:
            if name not in known:
                raise KeyError(name)
        out: dict[str, Any] = {}
        for p in self.params:
            if p.name in given:
                try:
                    out[p.name] = p.check(given[p.name])
                except ValueError as exc:
                    raise ValueError(f"{p.name}: {exc}") from None
            elif p.required:
                raise ValueError(f"{p.name}: required parameter is missing")
            else:
                out[p.name] = p.default
        return out

    def warmup_bars(self, params: Mapping[str, Any]) -> int:
        """Warm-up for ``params`` (missing ones take their defaults)."""
        return int(self.warmup(self.resolve(params)))

    def output_warmups(self, resolved: Mapping[str, Any]) -> tuple[int, ...]:
        """Per output, the bars before its first valid value (resolved params)."""
        whole = int(self.warmup(resolved))
        return tuple(
            whole if o.warmup is None else min(whole, int(o.warmup(resolved))) for o in self.outputs
        )

    def describe(self) -> dict[str, Any]:
        """A JSON-safe description (for ``spec()`` users, docs and the JSON Schema)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "doc": self.doc,
            "reference": self.reference,
            "params": {p.name: p.describe() for p in self.params},
            "outputs": {
                o.name: {
                    "type": o.type,
                    **({"values": list(o.values)} if o.values else {}),
                    **({"doc": o.doc} if o.doc else {}),
                }
                for o in self.outputs
            },
            "warmup_default": self.warmup_bars({}),
        }


class Feature(ABC):
    """Base of every incremental indicator and structure detector.

    Subclasses set ``spec`` (via :meth:`Registry.register`), implement :meth:`update` and
    keep ``self.out`` current. ``update`` must be causal: it may use only the bars given so
    far, and must never change an output it produced for an earlier bar.
    """

    spec: ClassVar[FeatureSpec]
    out: list[Any]

    def __init__(self, deps: Mapping[str, Feature] | None = None, **params: Any) -> None:
        """``params`` as in the Play; ``deps`` maps each :class:`FeatureRef` parameter to the
        (already built, updated-first) feature instance it names."""
        self.params = self.spec.resolve(params)
        self.deps = dict(deps or {})
        missing = [
            p.name
            for p in self.spec.params
            if isinstance(p.type, FeatureRef) and p.name not in self.deps
        ]
        if missing:
            raise ValueError(f"{self.spec.name}: no feature instance given for {missing}")
        self.warmup_bars = int(self.spec.warmup(self.params))
        self.out_warmups = self.spec.output_warmups(self.params)
        self.reset()

    def reset(self) -> None:
        """Forget every bar seen; outputs back to their empty values."""
        self.out = [o.empty for o in self.spec.outputs]
        self.bars = 0
        self._reset_state()

    @abstractmethod
    def _reset_state(self) -> None:
        """Initialise the subclass's own state (called by ``__init__`` and ``reset``)."""

    @abstractmethod
    def update(
        self, ts: int, open_: float, high: float, low: float, close: float, volume: float
    ) -> None:
        """Consume one closed bar (``ts`` = its open time, epoch ms UTC).

        Implementations must do ``self.bars += 1`` and refresh ``self.out``.
        """

    @property
    def ready(self) -> bool:
        """True once the warm-up is over (every output of the last bar is defined)."""
        return self.bars >= self.warmup_bars

    def current(self, index: int) -> Any:
        """Output ``index`` if it is past its own warm-up, else ``None`` (not ready) — what
        the engine pushes into a Play snapshot."""
        return self.out[index] if self.bars >= self.out_warmups[index] else None

    def value(self, field_name: str | None = None) -> Any:
        """The current value of one output (the only one if ``field_name`` is None)."""
        if field_name is None:
            if len(self.out) != 1:
                raise KeyError(f"{self.spec.name} has outputs {self.spec.output_names}")
            return self.out[0]
        return self.out[self.spec.output_names.index(field_name)]
