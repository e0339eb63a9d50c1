"""``trade play validate/show/schema`` end to end."""

import json

import jsonschema
import yaml

from tests.support.cli import run_trade
from tests.support.plays import play_text
from trade_core.play import play_json_schema

MALFORMED = "tests/unit/play/malformed"


def test_validate_ok_and_invalid_with_exit_codes(tmp_path):
    good = tmp_path / "good.yml"
    good.write_text(play_text())
    res = run_trade("play", "validate", str(good))
    assert res.code == 0, res.out + res.err
    assert f"{good}: ok (t v1, hash " in res.out
    bad = tmp_path / "bad.yml"
    bad.write_text(play_text(features={"fast": {"indicator": "ema", "lenght": 3}},
                             entries={"long": ["fast", "crosses_above", "close"]}))  # fmt: skip
    res = run_trade("play", "validate", str(good), str(bad))
    assert res.code == 2
    lines = res.out.strip().splitlines()
    assert any(line.startswith(f"{bad}:") and "features.fast.lenght: unknown parameter 'lenght'"
               in line for line in lines)  # fmt: skip
    assert any(
        "unknown operator 'crosses_above' (did you mean 'cross_above'?)" in line for line in lines
    )
    assert "1 of 2 play files invalid" in res.err


def test_validate_a_folder_prints_every_error():
    res = run_trade("play", "validate", MALFORMED)
    assert res.code == 2
    assert res.out.count("tests/unit/play/malformed/") >= 87


def test_show_prints_normalised_play_hash_and_warmup(tmp_path):
    f = tmp_path / "p.yml"
    f.write_text(play_text())
    res = run_trade("play", "show", str(f))
    assert res.code == 0, res.err
    assert "hash: " in res.out
    assert "warm-up" in res.out
    data = json.loads(run_trade("play", "show", str(f), "--json").out)
    assert data["warmup"] == {"exec": 1, "high": 0, "1m": 15}  # only close and open are read
    assert data["play"]["features"]["fast"] == {
        "indicator": "ema",
        "length": 3,
        "source": "close",
        "tf": "exec",
    }
    missing = run_trade("play", "show", str(tmp_path / "nope.yml"))
    assert missing.code == 2
    assert "no such play file" in missing.err


def test_schema_is_valid_json_schema_that_accepts_plays_and_rejects_typos(tmp_path):
    res = run_trade("play", "schema", "--out", str(tmp_path / "s.json"))
    assert res.code == 0
    schema = json.loads((tmp_path / "s.json").read_text())
    assert schema == json.loads(json.dumps(play_json_schema()))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    doc = yaml.safe_load(play_text())
    assert not list(validator.iter_errors(doc))
    doc["features"]["fast"]["lenght"] = 3
    assert list(validator.iter_errors(doc))
    doc = yaml.safe_load(play_text(entries={"long": ["fast", "crosses_above", "close"]}))
    assert list(validator.iter_errors(doc))


def test_features_list_and_show():
    res = run_trade("features", "list")
    assert res.code == 0
    assert "indicators (" in res.out
    assert "structures (7)" in res.out
    shown = json.loads(run_trade("features", "show", "swing").out)
    assert shown["kind"] == "structure"
    assert "last_low" in shown["outputs"]
    bad = run_trade("features", "show", "macdd")
    assert bad.code == 2
    assert "did you mean 'macd'" in bad.err
