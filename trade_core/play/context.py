"""What the checks of one Play share: the source (for lines), the issue list, the declared
roles and features, and the table of leaf series that compiled conditions read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trade_core.features.base import FeatureSpec
from trade_core.play.issues import Path, PlayIssue
from trade_core.play.yaml_source import YamlSource

PRICE_FIELDS = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True, slots=True)
class FeatureDecl:
    """One ``features:`` entry, resolved against its registry."""

    id: str
    kind: str  # "indicator" | "structure"
    name: str  # registry name
    role: str  # timeframe role: exec / med / high
    params: dict[str, Any]  # resolved, defaults filled in
    spec: FeatureSpec
    refs: tuple[str, ...] = ()  # ids of features this one reads (FeatureRef params)

    @property
    def warmup(self) -> int:
        return int(self.spec.warmup(self.params))

    def output_warmup(self, field: str | None) -> int:
        """Bars before ``field`` (the only output if None) is defined."""
        names = self.spec.output_names
        index = 0 if field is None else names.index(field)
        return self.spec.output_warmups(self.params)[index]


@dataclass(frozen=True, slots=True)
class SeriesKey:
    """A leaf series: ``source`` (a price field or feature id) ``.field`` on ``role``, read
    ``offset`` bars back on that role's own timeframe."""

    role: str
    source: str
    field: str | None
    offset: int

    @property
    def value_key(self) -> str:
        """The key the engine pushes values under: ``close``, ``ema_fast``, ``macd.signal``."""
        return self.source if self.field is None else f"{self.source}.{self.field}"


@dataclass
class PlayContext:
    src: YamlSource
    roles: dict[str, str] = field(default_factory=dict)  # role -> tf
    features: dict[str, FeatureDecl] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)  # declared ids whose declaration failed
    issues: list[PlayIssue] = field(default_factory=list)
    series: dict[SeriesKey, int] = field(default_factory=dict)

    def error(self, path: Path, message: str) -> None:
        self.issues.append(PlayIssue(self.src.file, self.src.line_of(path), tuple(path), message))

    def slot(self, key: SeriesKey) -> int:
        """The slot of ``key``, allocated on first use (slots are dense, in first-use order)."""
        if key not in self.series:
            self.series[key] = len(self.series)
        return self.series[key]
