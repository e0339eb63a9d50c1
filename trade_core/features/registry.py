"""A registry of feature classes by name, with the batch ``compute`` entry point.

``compute`` feeds a DataFrame through the *streaming* ``update`` — the code a live engine runs —
unless the class offers a vectorised ``batch`` classmethod, which tests prove equal to the
streaming path. Inputs with NaN are refused: an indicator must never silently turn bad data
into plausible numbers.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from trade_core.errors import BadInputError
from trade_core.features.base import Feature, FeatureRef, FeatureSpec, Output, Param

if TYPE_CHECKING:  # pandas is imported where a DataFrame is built: loading a Play or running
    import pandas as pd  # a backtest never needs it (about 0.8 s of import time saved)

OHLCV = ("open", "high", "low", "close", "volume")


def did_you_mean(word: str, options: list[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest option, or ``""``."""
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Registry:
    """Feature classes of one kind (``indicator`` or ``structure``) by registry name."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._specs: dict[str, FeatureSpec] = {}

    def register(
        self,
        name: str,
        *,
        params: tuple[Param, ...] = (),
        outputs: tuple[Output, ...] = (Output("value"),),
        warmup: Callable[[Mapping[str, Any]], int],
        reference: str = "",
        inputs: tuple[str, ...] = OHLCV,
    ) -> Callable[[type[Feature]], type[Feature]]:
        """Class decorator: attach a :class:`FeatureSpec` and make the class findable."""

        def decorate(cls: type[Feature]) -> type[Feature]:
            if name in self._specs:
                raise ValueError(f"{self.kind} {name!r} registered twice")
            spec = FeatureSpec(name, self.kind, cls, params, outputs, warmup, reference, inputs)
            cls.spec = spec
            self._specs[name] = spec
            return cls

        return decorate

    def names(self) -> list[str]:
        return sorted(self._specs)

    def get(self, name: str) -> FeatureSpec | None:
        return self._specs.get(name)

    def spec(self, name: str) -> FeatureSpec:
        """The spec of ``name``; a clear error (with a suggestion) for an unknown one."""
        spec = self._specs.get(name)
        if spec is None:
            raise BadInputError(
                f"unknown {self.kind} {name!r}{did_you_mean(name, self.names())}; "
                f"known: {', '.join(self.names())}"
            )
        return spec

    def create(
        self, name: str, deps: Mapping[str, Feature] | None = None, **params: Any
    ) -> Feature:
        try:
            return self.spec(name).cls(deps, **params)
        except KeyError as exc:
            raise BadInputError(f"{self.kind} {name}: unknown parameter {exc.args[0]!r}") from None
        except ValueError as exc:
            raise BadInputError(f"{self.kind} {name}: {exc}") from None

    def compute(
        self, name: str, ohlcv: pd.DataFrame, *, mode: str = "auto", **params: Any
    ) -> pd.DataFrame:
        """Every output of ``name`` for every row of ``ohlcv`` (same index; NaN in warm-up).

        ``mode``: ``"stream"`` always runs ``update`` bar by bar; ``"batch"`` requires the
        class's vectorised ``batch``; ``"auto"`` uses ``batch`` when there is one.
        Feature-reference parameters may be given as a dict of the referenced feature's
        params (default: its defaults); the referenced feature is built and fed first.
        """
        spec = self.spec(name)
        arrays = _input_arrays(ohlcv, name)
        refs = {p.name: p for p in spec.params if isinstance(p.type, FeatureRef)}
        plain = {k: v for k, v in params.items() if k not in refs}
        batch = getattr(spec.cls, "batch", None)
        if mode not in ("auto", "stream", "batch"):
            raise BadInputError(f"mode must be auto, stream or batch, got {mode!r}")
        if mode == "batch" and batch is None:
            raise BadInputError(f"{self.kind} {name} has no batch implementation")
        if batch is not None and mode != "stream" and not refs:
            import pandas as pd

            resolved = spec.resolve(plain)
            cols = batch(arrays, resolved)
            return pd.DataFrame({o.name: cols[o.name] for o in spec.outputs}, index=ohlcv.index)
        deps = {pname: _ref_instance(p.type, params.get(pname)) for pname, p in refs.items()}
        feature = self.create(name, deps, **{**plain, **{k: k for k in refs}})
        return _stream(feature, list(deps.values()), arrays, ohlcv.index)


def _ref_instance(ref: FeatureRef, given: Any) -> Feature:
    from trade_core.features.catalog import spec_of

    spec = spec_of(ref.kinds[0])
    return spec.cls(None, **(given if isinstance(given, Mapping) else {}))


def _input_arrays(ohlcv: pd.DataFrame, name: str) -> dict[str, np.ndarray]:
    missing = [c for c in OHLCV if c not in ohlcv.columns]
    if missing:
        raise BadInputError(f"{name}: input lacks columns {missing}")
    arrays = {c: ohlcv[c].to_numpy(dtype=np.float64) for c in OHLCV}
    for c, a in arrays.items():
        bad = np.isnan(a)
        if bad.any():
            raise BadInputError(
                f"{name}: input column {c!r} has {int(bad.sum())} NaN values (first at row "
                f"{int(np.flatnonzero(bad)[0])}); clean the data first (trade data check)"
            )
    if "ts" in ohlcv.columns:
        arrays["ts"] = ohlcv["ts"].to_numpy(dtype=np.int64)
    else:
        arrays["ts"] = np.arange(len(ohlcv), dtype=np.int64) * 60_000
    return arrays


def _stream(
    feature: Feature, deps: list[Feature], a: dict[str, np.ndarray], index: pd.Index
) -> pd.DataFrame:
    import pandas as pd

    n = len(index)
    outs = feature.spec.outputs
    cols: list[list[Any]] = [[None] * n for _ in outs]
    ts, o, h, lo, c, v = (a[k].tolist() for k in ("ts", *OHLCV))
    for i in range(n):
        for dep in deps:
            dep.update(ts[i], o[i], h[i], lo[i], c[i], v[i])
        feature.update(ts[i], o[i], h[i], lo[i], c[i], v[i])
        for j, value in enumerate(feature.out):
            cols[j][i] = value
    data = {}
    for out, col in zip(outs, cols, strict=True):
        data[out.name] = np.asarray(col, dtype=np.float64 if out.type == "number" else object)
        if out.type == "bool":
            data[out.name] = data[out.name].astype(bool)
    return pd.DataFrame(data, index=index)
