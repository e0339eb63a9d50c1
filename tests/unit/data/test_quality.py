"""The OHLCV data-quality suite: derived columns, each corruption caught by the right check,
clean synthetic and real data passing, parameters, and the suite really read from its file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import great_expectations  # noqa: F401  (imported once per session: it costs seconds)
import numpy as np
import pandas as pd
import pytest

from trade_core.data.candles import Candles
from trade_core.data.quality import (
    QualityReport,
    available_suites,
    check_frame,
    check_store,
    derive_columns,
    expectations_dir,
    jump_multiples,
    load_suite_json,
    resolve_params,
)
from trade_core.data.store import MarketStore
from trade_core.errors import BadInputError

REPO = Path(__file__).resolve().parents[3]
T0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC
MIN = 60_000
DEFAULTS = {"jump_window": 60, "jump_range_floor_bps": 5.0}


def clean_frame(n: int = 400, *, seed: int = 7, step: int = MIN) -> pd.DataFrame:
    """A plausible random-walk series: bodies within ranges, ~0.05% moves, positive volume."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 5e-4, n)))
    open_ = np.r_[100.0, close[:-1]][:n]
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0.0, 3e-4, n)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0.0, 3e-4, n)))
    ts = T0 + np.arange(n, dtype=np.int64) * step
    return pd.DataFrame(
        {"ts": ts, "open": open_, "high": high, "low": low, "close": close, "volume": rng.random(n)}
    )


def failed(report: QualityReport) -> set[str]:
    return {o.name for o in report.failed}


# ------------------------------------------------------------------ the validation frame
def test_derive_columns_by_hand():
    frame = pd.DataFrame(
        {
            "ts": [0, MIN, 3 * MIN, 3 * MIN + 30_000],
            "open": [10.0, 11.0, 12.0, 13.0],
            "high": [12.0, 12.0, 13.0, 14.0],
            "low": [9.0, 10.0, 11.0, 12.0],
            "close": [11.0, 10.5, 12.5, 13.5],
            "volume": [1.0, 0.0, 2.0, 3.0],
        }
    )
    v = derive_columns(frame, "1m", jump_window=2, jump_range_floor_bps=0.0)
    assert v["body_high"].tolist() == [11.0, 11.0, 12.5, 13.5]
    assert v["body_low"].tolist() == [10.0, 10.5, 12.0, 13.0]
    assert v["ts_offset"].tolist() == [0, 0, 0, 30_000]
    assert v["gap_bars"].tolist() == [0.0, 0.0, 1.0, -0.5]
    assert v["ts"].dtype == np.int64
    # ranges 3, 2, 2, 2; scale = median of the (up to) 2 bars before: -, 3, 2.5, 2
    assert np.isnan(v["jump_multiple"].iloc[0])
    assert v["jump_multiple"].iloc[1:].tolist() == pytest.approx([0.5 / 3, 2.0 / 2.5, 1.0 / 2])


def test_jump_multiple_is_causal_and_floored():
    f = clean_frame(200)
    h, lo, c = (f[k].to_numpy() for k in ("high", "low", "close"))
    base = jump_multiples(h, lo, c, window=20, floor_bps=5)
    h2, c2 = h.copy(), c.copy()
    h2[150], c2[150] = 1e6, 1e6  # a change at bar 150 must not move anything before it
    changed = jump_multiples(h2, lo, c2, window=20, floor_bps=5)
    np.testing.assert_array_equal(base[:150], changed[:150])
    flat = np.full(10, 50.0)
    moved = flat.copy()
    moved[-1] = 50.5  # +1% after flat bars: scale = 5 bp of 50 = 0.025
    assert jump_multiples(flat, flat, moved, window=5, floor_bps=5)[-1] == pytest.approx(20.0)
    assert np.isinf(jump_multiples(flat, flat, moved, window=5, floor_bps=0)[-1])


def test_derive_columns_tolerates_missing_and_unreadable_values():
    f = clean_frame(5).drop(columns=["close"]).astype({"open": object})
    f.loc[2, "open"] = "n/a"
    f.loc[3, "ts"] = np.iinfo(np.int64).min  # read_candle_file's marker of an unreadable time
    v = derive_columns(f, "1m", **DEFAULTS)
    assert "close" not in v and "body_high" not in v and "jump_multiple" not in v
    assert np.isnan(v["open"].iloc[2]) and v["open"].dtype == np.float64
    assert np.isnan(v["ts"].iloc[3]) and np.isnan(v["ts_offset"].iloc[3])
    nullable = clean_frame(5).astype({"ts": "Int64", "close": "Float64"})
    nullable.loc[1, "ts"] = pd.NA
    nullable.loc[2, "close"] = pd.NA
    v = derive_columns(nullable, "1m", **DEFAULTS)
    assert v["ts"].isna().tolist() == [False, True, False, False, False]
    assert np.isnan(v["close"].iloc[2]) and np.isnan(v["body_high"].iloc[2])
    report = check_frame(nullable, "1m")
    assert failed(report) == {"ts_not_null", "close_not_null"}
    assert report.outcome("ts_not_null").sample_rows == [1]
    assert report.outcome("ts_not_null").sample_ts == []  # the row has no time to show


# ------------------------------------------------------------------ clean data passes
def test_clean_frame_passes_every_expectation():
    report = check_frame(clean_frame(), "1m")
    assert report.success, [(o.name, o.unexpected_count) for o in report.failed]
    assert len(report.outcomes) == 26 and not report.skipped
    assert report.rows == 400 and report.first_ts == T0 and report.last_ts == T0 + 399 * MIN
    assert report.suite == "ohlcv_candles"


def test_flat_and_zero_volume_bars_are_valid():
    f = clean_frame()
    for i in (10, 11, 12, 200):
        f.loc[i, ["open", "high", "low", "close"]] = f.loc[i - 1, "close"]
        f.loc[i, "volume"] = 0.0
    assert check_frame(f, "1m").success


def test_single_bar_passes_and_empty_frame_fails_only_has_rows():
    assert check_frame(clean_frame(1), "1m").success
    report = check_frame(clean_frame(0), "1m")
    assert failed(report) == {"has_rows"} and report.first_ts is None


@pytest.mark.parametrize(
    ("name", "tf"),
    [
        ("AVAXUSDT_1m_2026-06_2026-07.csv.gz", "1m"),
        ("FILUSDT_1m_2023-04_2023-06.csv.gz", "1m"),
        ("BTCUSD_1h_2017-07_2019-10.csv.gz", "1h"),
    ],
)
def test_clean_real_data_passes_with_defaults(shared_real, name, tf):
    frame = pd.read_csv(shared_real / name)
    report = check_frame(frame, tf)
    assert report.success, [(o.name, o.unexpected_count, o.sample_ts) for o in report.failed]
    assert report.rows == len(frame)
    # The default jump limit keeps headroom over the largest real move (documented tuning).
    v = derive_columns(frame, tf, **DEFAULTS)
    assert np.nanmax(v["jump_multiple"]) < 0.6 * report.parameters["max_jump_multiple"]


# ------------------------------------------------------------------ corruptions
def _dup(f):
    return pd.concat([f.iloc[:100], f.iloc[99:100], f.iloc[100:]], ignore_index=True)


def _swap(f):
    f.iloc[[100, 101]] = f.iloc[[101, 100]].to_numpy()
    return f


def _set(**cells):
    def apply(f):
        for key, value in cells.items():
            col, row = key.rsplit("_", 1)
            f.loc[int(row), col] = value(f, int(row)) if callable(value) else value
        return f

    return apply


def _gap(bars):
    return lambda f: f.drop(index=range(150, 150 + bars)).reset_index(drop=True)


def _spike(f):
    f.loc[200, "close"] = f.loc[199, "close"] * 1.5
    f.loc[200, "high"] = f.loc[200, "close"]
    return f


def _plus(ms):
    return lambda f, i: f.loc[i, "ts"] + ms


def _body_low(f, i):
    return min(f.loc[i, "open"], f.loc[i, "close"])


def _body_high(f, i):
    return max(f.loc[i, "open"], f.loc[i, "close"])


# (corruption, expectation that must catch it, its count, rows of the samples, every failure)
CASES = {
    "duplicate_ts": (_dup, "ts_unique", 2, [99, 100], {"ts_unique", "ts_increasing"}),
    "unsorted_ts": (_swap, "ts_increasing", 1, [101], {"ts_increasing"}),
    "high_below_low": (
        _set(high_30=lambda f, i: f.loc[i, "low"] - 0.01),
        "high_not_below_low",
        1,
        [30],
        {"high_not_below_low", "high_covers_body"},  # high < low <= body: implied
    ),
    "high_below_body": (_set(high_40=_body_low), "high_covers_body", 1, [40], None),
    "low_above_body": (_set(low_45=_body_high), "low_covers_body", 1, [45], None),
    "nan_price": (_set(close_50=np.nan), "close_not_null", 1, [50], None),
    "negative_volume": (_set(volume_70=-1.0), "volume_not_negative", 1, [70], None),
    "misaligned_ts": (_set(ts_80=_plus(30_000)), "ts_aligned", 1, [80], None),
    "gap_over_limit": (_gap(6), "gap_within_limit", 1, [150], None),
    "zero_price": (_set(low_90=0.0), "low_positive", 1, [90], None),
    "zero_open_and_low": (
        _set(open_91=0.0, low_91=0.0),
        "open_positive",
        1,
        [91],
        {"open_positive", "low_positive"},
    ),
    "negative_price": (_set(low_95=-5.0), "low_positive", 1, [95], None),
    "spike": (_spike, "jump_within_limit", 2, [200, 201], None),
    "text_price": (
        lambda f: _set(open_60="bad")(f.astype({"open": object})),
        "open_not_null",
        1,
        [60],
        None,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_corruption_is_caught_by_the_right_expectation(case):
    corrupt, name, count, rows, all_failed = CASES[case]
    frame = corrupt(clean_frame())
    report = check_frame(frame, "1m")
    assert not report.success
    assert failed(report) == (all_failed or {name})
    outcome = report.outcome(name)
    assert outcome.unexpected_count == count
    assert outcome.sample_rows == rows
    assert outcome.sample_ts == [int(frame.loc[r, "ts"]) for r in rows]
    assert outcome.unexpected_percent == pytest.approx(100 * count / len(frame), rel=0.01)
    assert outcome.description and outcome.expectation_type.startswith("expect_")


def test_gap_within_limit_passes():
    assert check_frame(_gap(5)(clean_frame()), "1m").success


@pytest.mark.parametrize(
    ("dropped", "present", "skipped"),
    [
        ("volume", "volume_present", {"volume_not_null", "volume_not_negative"}),
        (
            "close",
            "close_present",
            {
                "close_not_null",
                "close_positive",
                "high_covers_body",
                "low_covers_body",
                "jump_within_limit",
            },
        ),
        (
            "ts",
            "ts_present",
            {"ts_not_null", "ts_unique", "ts_increasing", "ts_aligned", "gap_within_limit"},
        ),
    ],
)
def test_missing_column_is_reported_as_missing(dropped, present, skipped):
    report = check_frame(clean_frame().drop(columns=[dropped]), "1m")
    assert failed(report) == {present}
    assert report.outcome(present).unexpected_count is None
    assert {o.name for o in report.skipped} == skipped
    assert all(dropped in (o.note or "") for o in report.skipped)
    assert not report.success


# ------------------------------------------------------------------ parameters
def test_parameter_overrides_change_the_verdict():
    gappy = _gap(8)(clean_frame())
    assert failed(check_frame(gappy, "1m")) == {"gap_within_limit"}
    report = check_frame(gappy, "1m", params={"max_gap_bars": 8})
    assert report.success and report.parameters["max_gap_bars"] == 8
    clean = clean_frame()
    strict = check_frame(clean, "1m", params={"max_jump_multiple": 1.5})
    assert failed(strict) == {"jump_within_limit"}
    assert strict.outcome("jump_within_limit").unexpected_count >= 1
    spiky = _spike(clean_frame())
    assert check_frame(spiky, "1m", params={"max_jump_multiple": 10_000}).success


def test_defaults_come_from_the_suite_meta():
    data = load_suite_json("ohlcv_candles")
    assert resolve_params(data) == {
        "max_gap_bars": 5,
        "max_jump_multiple": 100.0,
        "jump_window": 60,
        "jump_range_floor_bps": 5.0,
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"max_gaps": 3}, "unknown parameter(s) max_gaps"),
        ({"max_gap_bars": -1}, "at least 0"),
        ({"max_gap_bars": 2.5}, "whole number"),
        ({"jump_window": 0}, "at least 1"),
        ({"max_jump_multiple": "lots"}, "finite number"),
        ({"max_jump_multiple": True}, "finite number"),
    ],
)
def test_bad_parameters_are_bad_input(params, message):
    with pytest.raises(BadInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_frame(clean_frame(10), "1m", params=params)


def test_unknown_timeframe_is_bad_input():
    with pytest.raises(BadInputError, match="unknown timeframe"):
        check_frame(clean_frame(10), "7m")


# ------------------------------------------------------------------ the suite file
def test_expectations_dir_is_the_checkout_folder(monkeypatch):
    monkeypatch.delenv("TRADE_EXPECTATIONS_DIR", raising=False)
    assert expectations_dir() == REPO / "expectations"
    assert "ohlcv_candles" in available_suites()


def test_unknown_suite_lists_the_available_ones():
    with pytest.raises(BadInputError, match=r"unknown data-quality suite 'nope'.*ohlcv_candles"):
        check_frame(clean_frame(10), "1m", suite="nope")


@pytest.fixture
def suite_copy(tmp_path, monkeypatch):
    """A copy of the suite folder, used instead of the checkout's through the environment."""
    folder = tmp_path / "suites"
    shutil.copytree(REPO / "expectations", folder)
    monkeypatch.setenv("TRADE_EXPECTATIONS_DIR", str(folder))
    return folder / "ohlcv_candles.json"


def _edit(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2))


def test_suite_is_read_from_its_file(suite_copy):
    gappy = _gap(3)(clean_frame())
    assert check_frame(gappy, "1m").success

    def stricter(data):
        data["meta"]["parameters"]["max_gap_bars"]["default"] = 0
        data["expectations"] = [e for e in data["expectations"] if e["meta"]["name"] != "has_rows"]
        for e in data["expectations"]:
            if e["meta"]["name"] == "gap_within_limit":
                e["meta"]["description"] = "edited in the copy"

    _edit(suite_copy, stricter)
    report = check_frame(gappy, "1m")
    assert failed(report) == {"gap_within_limit"}
    assert report.outcome("gap_within_limit").description == "edited in the copy"
    assert len(report.outcomes) == 25


def test_suite_by_path_and_a_second_suite(suite_copy, tmp_path):
    other = suite_copy.with_name("volume_only.json")
    shutil.copy(suite_copy, other)
    _edit(other, lambda d: d.update(name="volume_only", expectations=d["expectations"][:1]))
    assert available_suites() == ["ohlcv_candles", "volume_only"]
    report = check_frame(clean_frame(0), "1m", suite="volume_only")
    assert report.suite == "volume_only" and failed(report) == {"has_rows"}
    moved = tmp_path / "elsewhere.json"
    shutil.copy(other, moved)
    assert len(check_frame(clean_frame(3), "1m", suite=str(moved)).outcomes) == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["expectations"][3].update(type="expect_no_such_thing"), "cannot read"),
        (lambda d: d["meta"]["parameters"].pop("jump_window"), "jump_window"),
        (lambda d: d["expectations"][2]["meta"].update(name="ts_present"), "same name"),
    ],
)
def test_broken_suite_files_are_bad_input(suite_copy, change, message):
    _edit(suite_copy, change)
    with pytest.raises(BadInputError, match=message):
        check_frame(clean_frame(10), "1m")


def test_not_json_is_bad_input(suite_copy):
    suite_copy.write_text("{not json")
    with pytest.raises(BadInputError, match="cannot read suite file"):
        check_frame(clean_frame(10), "1m")


# ------------------------------------------------------------------ report, store, speed
def test_report_to_dict_is_json_safe():
    report = check_frame(_spike(clean_frame()).drop(columns=["volume"]), "1m")
    data = json.loads(json.dumps(report.to_dict()))
    by_name = {o["name"]: o for o in data["outcomes"]}
    assert data["success"] is False and data["rows"] == 400 and data["tf"] == "1m"
    assert by_name["jump_within_limit"]["status"] == "failed"
    assert by_name["jump_within_limit"]["sample_ts"] == [T0 + 200 * MIN, T0 + 201 * MIN]
    assert by_name["jump_within_limit"]["columns"] == ["jump_multiple"]
    assert by_name["volume_not_negative"]["status"] == "skipped"
    assert data["parameters"]["max_gap_bars"] == 5


def test_check_store_reads_the_range(trade_home):
    frame = _spike(clean_frame())
    with MarketStore.open() as store:
        store.upsert_candles(Candles.from_frame("ETHUSDT", "1m", frame))
    with MarketStore.open(read_only=True) as store:
        report = check_store(store, "ETHUSDT", "1m")
        assert failed(report) == {"jump_within_limit"} and report.symbol == "ETHUSDT"
        head = check_store(store, "ETHUSDT", "1m", T0, T0 + 100 * MIN)
        assert head.success and head.rows == 100
        assert failed(check_store(store, "ETHUSDT", "1m", 0, T0)) == {"has_rows"}
        with pytest.raises(BadInputError, match=r"no BTCUSDT 1m bars.*stored: ETHUSDT 1m"):
            check_store(store, "BTCUSDT", "1m")


def test_a_clean_year_of_1m_bars_passes_without_progress_bars(capfd):
    # Speed is measured in benchmarks/bench_data.py, never asserted here.
    report = check_frame(clean_frame(525_600, seed=3), "1m")
    assert report.success
    assert report.rows == 525_600
    assert "Calculating Metrics" not in capfd.readouterr().err  # GX progress bars are off


def test_great_expectations_is_imported_lazily():
    code = (
        "import sys, trade_core.data.quality, trade_core.cli.data_check_cmd; "
        "print('great_expectations' in sys.modules)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "False"
