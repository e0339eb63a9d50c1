"""Shared checks for indicators and structure detectors: TA-Lib parity, causality, stream == batch.

Real data comes from ``../shared/data/real`` when present, else from the bundled AVAXUSDT month,
so these checks always run somewhere real.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trade_core.data.samples import BUNDLED_SAMPLES
from trade_core.features.registry import Registry

SHARED_REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"
REAL_FILES = (
    "FILUSDT_1m_2023-04_2023-06.csv.gz",
    "AVAXUSDT_1m_2026-06_2026-07.csv.gz",
    "BTCUSD_1h_2017-07_2019-10.csv.gz",
)


def real_frames() -> Iterator[tuple[str, pd.DataFrame]]:
    """``(name, frame)`` for each real file available (the bundled month at least)."""
    found = False
    for name in REAL_FILES:
        path = SHARED_REAL / name
        if path.is_file():
            found = True
            yield name, pd.read_csv(path)
    if not found:
        sample = BUNDLED_SAMPLES[0]
        yield sample.file, pd.read_csv(sample.path)


def assert_close_to_reference(
    got: np.ndarray, ref: np.ndarray, *, rtol: float = 1e-9, label: str = ""
) -> None:
    """NaN exactly where ``ref`` is NaN; elsewhere ``|got - ref| <= rtol * max(|ref|, 1e-12)``.

    For values that cross zero (oscillators), the scale is the series' typical magnitude so a
    value of 1e-14 next to a reference of 0 is not a failure.
    """
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    assert got.shape == ref.shape, label
    nan_got, nan_ref = np.isnan(got), np.isnan(ref)
    if not np.array_equal(nan_got, nan_ref):
        i = int(np.flatnonzero(nan_got != nan_ref)[0])
        pytest.fail(f"{label}: NaN pattern differs first at row {i}: got {got[i]}, ref {ref[i]}")
    both = ~nan_ref
    if not both.any():
        return
    scale = np.maximum(np.abs(ref[both]), np.median(np.abs(ref[both])) * 1e-6 + 1e-12)
    rel = np.abs(got[both] - ref[both]) / scale
    worst = int(np.argmax(rel))
    assert rel[worst] <= rtol, (
        f"{label}: max relative difference {rel[worst]:.3g} at defined row {worst} "
        f"(got {got[both][worst]!r}, ref {ref[both][worst]!r})"
    )


def stream_rows(registry: Registry, name: str, frame: pd.DataFrame, **params) -> list[list]:
    """Outputs after each bar, fed one at a time through ``update`` (with any references)."""
    spec = registry.spec(name)
    deps = {}
    from trade_core.features.base import FeatureRef
    from trade_core.features.catalog import spec_of

    for p in spec.params:
        if isinstance(p.type, FeatureRef):
            given = params.pop(p.name, None)
            deps[p.name] = spec_of(p.type.kinds[0]).cls(None, **(given or {}))
            params[p.name] = p.name
    feature = registry.create(name, deps, **params)
    ts = frame["ts"].to_numpy() if "ts" in frame else np.arange(len(frame)) * 60_000
    cols = [frame[c].to_numpy(dtype=float) for c in ("open", "high", "low", "close", "volume")]
    rows = []
    for i in range(len(frame)):
        bar = (int(ts[i]), *(float(c[i]) for c in cols))
        for dep in deps.values():
            dep.update(*bar)
        feature.update(*bar)
        rows.append(list(feature.out))
    return rows


def assert_causal_and_batch_equal(
    registry: Registry, name: str, frame: pd.DataFrame, *, rtol: float = 0.0, **params
) -> None:
    """Streaming outputs, recorded as each bar closes, equal the whole-frame ``compute`` —
    so no output for bar i changed after bar i (causality) and batch == stream."""
    rows = stream_rows(registry, name, frame, **dict(params))
    full = registry.compute(name, frame, **params)
    spec = registry.spec(name)
    for j, out in enumerate(spec.outputs):
        streamed = [r[j] for r in rows]
        col = full[out.name].tolist()
        if out.type == "number":
            assert_close_to_reference(
                np.asarray(streamed, float), np.asarray(col, float), rtol=rtol or 1e-12,
                label=f"{name}.{out.name} stream vs compute",
            )  # fmt: skip
        else:
            assert streamed == col, f"{name}.{out.name}: streamed values differ from compute"
