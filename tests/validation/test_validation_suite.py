"""The validation suite as part of the test set: every play under plays/validation passes,
the counts hold, a wrong expectation fails with a precise message, the committed numbers are
exactly what the independent reference calculation gives, and the scenario builder and the
expectation model behave as documented."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import yaml

from tests.validation import reference as ref
from trade_core.errors import BadInputError
from trade_core.play import load_play
from trade_core.validation.expectations import (
    DeterministicExpectation,
    RealExpectation,
    load_expectation,
)
from trade_core.validation.scenarios import DEFAULT_START_MS, build_scenario
from trade_core.validation.suite import deterministic_data, discover, run_case, validation_root

REPO = Path(__file__).resolve().parents[2]
ROOT = REPO / "plays" / "validation"
CASES = discover(ROOT)


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("validation_generate", ROOT / "_generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["validation_generate"] = module
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------- the plays
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_validation_play_passes(case):
    result = run_case(case)
    if result.status == "skipped":
        pytest.skip(result.reason)
    assert result.passed, f"{case.id}:\n  " + "\n  ".join(result.mismatches)


def test_suite_has_enough_plays():
    real = [c for c in CASES if c.group == "real"]
    deterministic = [c for c in CASES if c.group != "real"]
    assert len(deterministic) >= 170
    assert len(real) >= 60
    groups = {c.group for c in deterministic}
    assert {"operators", "windows", "indicators", "structures", "orders", "sizing", "risk",
            "halts", "funding", "liquidation", "timeframes"} <= groups  # fmt: skip


def test_discovery_finds_the_checkout_folder():
    assert validation_root() == ROOT


def test_every_expectation_loads_and_each_kind_sits_in_its_group():
    for c in CASES:
        exp = load_expectation(c.expect_path)
        assert isinstance(exp, RealExpectation) == (c.group == "real"), c.id


def test_committed_numbers_are_the_reference_calculation():
    """Regenerate every generated play in memory (hand formulas + reference.py, no engine)
    and compare with the committed files byte for byte."""
    gen = _generator()
    differ = []
    n = 0
    for case in gen.build_all():
        play_text, expect_text = gen.render(case)
        folder = ROOT / case.group
        for path, text in ((folder / f"{case.name}.yml", play_text),
                           (folder / f"{case.name}.expect.yml", expect_text)):  # fmt: skip
            n += 1
            if not path.exists() or path.read_text() != text:
                differ.append(str(path.relative_to(REPO)))
    assert n >= 2 * 230
    assert not differ, f"run plays/validation/_generate.py; differing: {differ[:10]}"


def test_indicator_levels_sit_between_reference_values():
    """Each indicator play's level lies strictly between the reference values of the bar
    before the entry signal and the signal bar (what makes the entry bar a prediction)."""
    checked = 0
    for c in CASES:
        if c.group != "indicators":
            continue
        play = yaml.safe_load(c.play_path.read_text())
        exp = yaml.safe_load(c.expect_path.read_text())
        feat = dict(play["features"]["ind"])
        name = feat.pop("indicator")
        operand, op, level = play["entries"]["long"]
        field = operand.split(".")[1] if "." in operand else "value"
        bars = ref.expand(exp["scenario"])
        v = ref.indicator(name, bars, **feat)[field]
        first = (
            exp["expect"]["trade_list"][0]
            if exp["expect"].get("trade_list")
            else exp["expect"]["open_position"]
        )
        f = first["entry_bar"] - 1
        lo, hi = sorted((v[f - 1], v[f]))
        assert lo < level < hi, c.id
        assert (op == "cross_above") == (v[f] > v[f - 1]), c.id
        checked += 1
    assert checked >= 50


# ---------------------------------------------------------------------------- failures
def _copy_case(tmp_path: Path, group: str, name: str) -> tuple[Path, Path]:
    folder = tmp_path / group
    folder.mkdir(parents=True)
    play = shutil.copy(ROOT / group / f"{name}.yml", folder / f"{name}.yml")
    expect = shutil.copy(ROOT / group / f"{name}.expect.yml", folder / f"{name}.expect.yml")
    return Path(play), Path(expect)


def test_a_wrong_expectation_fails_with_a_precise_message(tmp_path):
    _, expect = _copy_case(tmp_path, "operators", "gt")
    doc = yaml.safe_load(expect.read_text())
    doc["expect"]["trade_list"][0]["exit_price"] = 101.4
    doc["expect"]["trade_list"][0]["exit_bar"] = 38
    doc["expect"]["final_equity"] = 9998.79
    expect.write_text(yaml.safe_dump(doc, sort_keys=False))
    (case,) = discover(tmp_path)
    result = run_case(case)
    assert result.status == "failed"
    assert "trade 1 exit_price: expected 101.4, got 101.5" in result.mismatches
    assert "trade 1 exit_bar: expected 38, got 37" in result.mismatches
    assert "final_equity: expected 9998.79, got 9998.887800" in result.mismatches


def test_a_missing_trade_and_events_are_reported(tmp_path):
    _, expect = _copy_case(tmp_path, "halts", "max_drawdown")
    doc = yaml.safe_load(expect.read_text())
    doc["expect"]["trades"] = 2
    doc["expect"]["trade_list"].append(dict(doc["expect"]["trade_list"][0]))
    doc["expect"]["events"][0]["bar"] = 6
    doc["expect"]["events"].append({"kind": "skip", "contains": "no such reason"})
    expect.write_text(yaml.safe_dump(doc, sort_keys=False))
    result = run_case(discover(tmp_path)[0])
    assert "trades: expected 2, got 1" in result.mismatches
    assert (
        "event halt containing 'drawdown': expected at the close of bar 6, got bar 7"
        in result.mismatches
    )
    assert (
        "event skip containing 'no such reason': expected at least one, got none"
        in result.mismatches
    )


def test_an_expectation_without_derivation_is_bad_input(tmp_path):
    _, expect = _copy_case(tmp_path, "operators", "gt")
    doc = yaml.safe_load(expect.read_text())
    doc["derivation"] = "   "
    doc["expect"]["surprise"] = 1
    expect.write_text(yaml.safe_dump(doc, sort_keys=False))
    with pytest.raises(BadInputError) as err:
        load_expectation(expect)
    text = str(err.value)
    assert "derivation" in text and "expect.surprise" in text and str(expect) in text
    assert run_case(discover(tmp_path)[0]).status == "failed"


def test_a_play_without_expectation_is_an_error(tmp_path):
    _, expect = _copy_case(tmp_path, "operators", "gt")
    expect.unlink()
    with pytest.raises(BadInputError, match="no expectation file"):
        discover(tmp_path)


def test_real_plays_skip_without_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("TRADE_SHARED_DATA", str(tmp_path / "absent"))
    real = next(c for c in CASES if c.group == "real")
    result = run_case(real)
    assert result.status == "skipped"
    assert "TRADE_SHARED_DATA" in result.reason


def test_cli_summary_and_exit_codes(tmp_path, capsys):
    import trade_core.cli.validate_suite_cmd  # noqa: F401  (registers the command)
    from trade_core.cli.app import main

    _copy_case(tmp_path / "ok", "operators", "gt")
    with pytest.raises(SystemExit) as ok:
        main(["validate-suite", str(tmp_path / "ok"), "--json", str(tmp_path / "r.json")])
    assert ok.value.code == 0
    out = capsys.readouterr().out
    assert "operators" in out and "all passed" in out
    assert '"passed": 1' in (tmp_path / "r.json").read_text()

    _, expect = _copy_case(tmp_path / "bad", "operators", "gt")
    expect.write_text(expect.read_text().replace("final_equity: 9998.8878", "final_equity: 1.0"))
    with pytest.raises(SystemExit) as bad:
        main(["validate-suite", str(tmp_path / "bad")])
    assert bad.value.code == 1
    out = capsys.readouterr().out
    assert "FAILED operators/gt" in out and "final_equity: expected 1.00" in out

    with pytest.raises(SystemExit) as wrong:
        main(["validate-suite", str(tmp_path / "ok"), "--group", "nope"])
    assert wrong.value.code == 2


# ---------------------------------------------------------------------------- scenarios
def _candles(segments, **kw):
    return build_scenario({"segments": segments, **kw}, symbol="BTCUSDT", tick=0.1).candles


def test_flat_ramp_closes_bars_and_repeat():
    c = _candles([
        {"flat": 100, "bars": 2, "wick": 0.5},
        {"ramp": [100, 101], "bars": 2},
        {"closes": [100.7, 101.3], "wick": 0.1},
        {"bars": [[101, 102, 100.5, 101.5, 7]]},
        {"repeat": [{"closes": [101.6]}, {"flat": 101, "bars": 1}], "times": 2},
    ])  # fmt: skip
    assert c.open.tolist() == [100, 100, 100, 100.5, 101, 100.7, 101, 101.5, 101, 101, 101]
    assert c.close.tolist() == [100, 100, 100.5, 101, 100.7, 101.3, 101.5, 101.6, 101, 101.6, 101]
    assert c.high.tolist()[:7] == [100.5, 100.5, 100.5, 101, 101.1, 101.4, 102]
    assert c.low.tolist()[:7] == [99.5, 99.5, 100, 100.5, 100.6, 100.6, 100.5]
    assert c.volume.tolist()[6] == 7 and c.volume.tolist()[0] == 100
    assert (np.diff(c.ts) == 60_000).all() and c.ts[0] == DEFAULT_START_MS


def test_ramp_prices_are_exact_tick_multiples():
    c = _candles([{"ramp": [100, 100.3], "bars": 3}])
    assert c.close.tolist() == [100.1, 100.2, 100.3]
    assert repr(float(c.close[0])) == "100.1"


def test_funding_settles_at_the_close_of_the_bar_before():
    sc = build_scenario({"segments": [{"flat": 100, "bars": 10}], "funding": [[5, 0.0001]]},
                        symbol="BTCUSDT", tick=0.1, start_ms=DEFAULT_START_MS)  # fmt: skip
    assert sc.funding_ts.tolist() == [DEFAULT_START_MS + 5 * 60_000]
    assert sc.funding_rate.tolist() == [0.0001]


@pytest.mark.parametrize(("segments", "extra", "message"), [
    ([{"ramp": [100, 100.35], "bars": 2}], {}, "segments[0].ramp bar 0: price 100.175 is not on tick"),
    ([{"flat": 100.05, "bars": 1}], {}, "segments[0].flat[0]: price 100.05 is not on tick"),
    ([{"bars": [[100, 99, 98, 100]]}], {}, "segments.0.bars.bars"),
    ([{"flat": 100, "bars": 1, "colour": "red"}], {}, "colour"),
    ([{"flat": 100, "bars": 2}], {"funding": [[3, 0.01]]}, "after the last bar closes"),
    ([{"flat": 100, "bars": 0}], {}, "segments.0.flat.bars"),
])  # fmt: skip
def test_bad_scenarios_name_the_file_and_key(segments, extra, message):
    with pytest.raises(BadInputError) as err:
        build_scenario({"segments": segments, **extra}, symbol="BTCUSDT", tick=0.1,
                       where="x.expect.yml")  # fmt: skip
    assert "x.expect.yml" in str(err.value)
    assert message in str(err.value)


def test_the_builder_agrees_with_the_reference_expansion_on_every_scenario():
    n = 0
    for c in CASES:
        exp = load_expectation(c.expect_path)
        if not isinstance(exp, DeterministicExpectation):
            continue
        raw = yaml.safe_load(c.expect_path.read_text())["scenario"]
        built = deterministic_data(load_play(c.play_path), exp).candles
        mine = ref.expand(raw)
        for col in ("open", "high", "low", "close", "volume"):
            assert getattr(built, col).tolist() == getattr(mine, col).tolist(), (c.id, col)
        n += 1
    assert n >= 170
