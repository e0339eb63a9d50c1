"""Registry completeness and the parameter/spec contract every feature shares."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trade_core import indicators, structures
from trade_core.errors import BadInputError
from trade_core.features.base import FeatureRef, Param

TESTS = Path(__file__).resolve().parents[1]


def all_specs():
    return [indicators.spec(n) for n in indicators.names()] + [
        structures.spec(n) for n in structures.names()
    ]


@pytest.mark.parametrize("spec", all_specs(), ids=lambda s: s.name)
def test_every_feature_has_docs_reference_outputs_and_a_test(spec):
    assert len(spec.doc) > 20, f"{spec.name}: docstring must state the definition"
    assert spec.reference, f"{spec.name}: reference missing"
    assert spec.outputs
    assert spec.warmup_bars({}) >= 1
    folder = "indicators" if spec.kind == "indicator" else "structures"
    sources = "".join(p.read_text() for p in (TESTS / folder).glob("test_*.py"))
    assert f'"{spec.name}"' in sources, f"{spec.name}: no test names it"


@pytest.mark.parametrize("spec", all_specs(), ids=lambda s: s.name)
def test_warmup_is_when_outputs_become_defined(spec):
    rng = np.random.default_rng(0)
    n = max(spec.warmup_bars({}) + 50, 400)
    close = 100 + np.cumsum(rng.normal(0, 1, n))
    df = pd.DataFrame({"open": close + rng.normal(0, 0.3, n), "close": close,
                       "volume": rng.uniform(1, 10, n)})  # fmt: skip
    df["high"] = df[["open", "close"]].max(axis=1) + rng.uniform(0, 1, n)
    df["low"] = df[["open", "close"]].min(axis=1) - rng.uniform(0, 1, n)
    out = (indicators if spec.kind == "indicator" else structures).compute(spec.name, df)
    warmups = spec.output_warmups(spec.resolve({}))
    assert max(warmups) == spec.warmup_bars({})
    for o, w in zip(spec.outputs, warmups, strict=True):
        if o.type == "number":
            col = out[o.name].to_numpy()
            assert np.isnan(col[: w - 1]).all(), f"{spec.name}.{o.name} defined before warm-up"


def test_params_are_checked_with_clear_messages():
    with pytest.raises(BadInputError, match="length: must be >= 1"):
        indicators.create("ema", length=0)
    with pytest.raises(BadInputError, match="length: expected an integer"):
        indicators.create("ema", length=2.5)
    with pytest.raises(BadInputError, match="unknown parameter 'lenght'"):
        indicators.create("ema", lenght=3)
    with pytest.raises(BadInputError, match=r"unknown indicator 'emaa' \(did you mean 'ema'\?\)"):
        indicators.spec("emaa")
    with pytest.raises(BadInputError, match="source: expected one of close"):
        indicators.create("sma", source="vwap")
    assert indicators.create("ema", length=5.0).params["length"] == 5


def test_param_kinds():
    assert Param("x", float, 1.0, minimum=0).check(2) == 2.0
    with pytest.raises(ValueError, match="finite"):
        Param("x", float, 1.0).check(math.inf)
    with pytest.raises(ValueError, match="true or false"):
        Param("b", bool, False).check(1)
    assert Param("s", FeatureRef(("swing",))).check("swings") == "swings"
    assert Param("s", FeatureRef(("swing",))).required


def test_nan_input_is_refused():
    df = pd.DataFrame({"open": [1.0, 2], "high": [1.0, 2], "low": [1.0, 2],
                       "close": [1.0, np.nan], "volume": [1.0, 1]})  # fmt: skip
    with pytest.raises(BadInputError, match="'close' has 1 NaN values"):
        indicators.compute("sma", df, length=1)
