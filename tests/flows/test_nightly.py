"""The ``nightly-validation`` flow over two plays on the bundled month: the summary, the
regression flag against a previous nightly run that was much better, the summary artifact,
and a second night through a task runner named by the ``task_runner`` parameter."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.gate_tasks import num
from tests.flows.helpers import PASSING, TIGHT_DRAWDOWN, artifacts_of, mlflow_runs, write_play
from trade_core.tracking import log_metrics, start_parent_run

pytestmark = pytest.mark.usefixtures("prefect_server")


def test_nightly_summarises_every_play_and_flags_a_regression(tmp_path: Path) -> None:
    from flows.nightly import nightly_validation

    folder = tmp_path / "nightly"
    write_play(folder, "night_good", PASSING)
    write_play(folder, "night_tight", TIGHT_DRAWDOWN)
    (folder / "night_good.expect.yml").write_text("not a play\n", encoding="utf-8")
    # The night before, night_good did far better out-of-sample than it will now.
    with start_parent_run("night_good", flow_run_id=None, run_name="nightly-validation",
                          tags={"trade.nightly": "true"}) as before:  # fmt: skip
        log_metrics(before, {"oos.net_pnl": 5000.0, "oos.sharpe": 20.0,
                             "oos.max_drawdown_pct": 0.5})  # fmt: skip

    night = nightly_validation(plays_dir=str(folder), data="bundled", regression_pct=20.0,
                               suite_group="halts")  # fmt: skip

    assert night["totals"] == {"plays": 2, "passed": 1, "failed": 1, "errors": 0,
                               "regressions": 1}  # fmt: skip
    assert night["task_runner"] == "ThreadPoolTaskRunner"
    good, tight = night["plays"]
    assert (good["play"], good["passed"], good["compared"]) == ("night_good", True, True)
    assert [r["metric"] for r in good["regressions"]] == ["net_pnl", "sharpe",
                                                          "max_drawdown_pct"]  # fmt: skip
    pnl = good["regressions"][0]
    assert pnl["previous"] == 5000.0
    assert pnl["reason"] == (
        f"out-of-sample net PnL {num(pnl['current'])} USDT vs 5,000 USDT the previous night: "
        f"{num(pnl['worse_pct'])} % worse (> 20 %)"
    )
    assert (tight["play"], tight["passed"], tight["compared"]) == ("night_tight", False, False)
    assert tight["regressions"] == []
    assert tight["failed_reasons"] == ["out-of-sample max drawdown 1.56 % > 1 %"]

    runs = mlflow_runs("night_good", "tags.`trade.kind` = 'flow'")
    latest = runs[runs["tags.trade.flow_run_id"] == night["flow_run_id"]].iloc[0]
    assert latest["tags.trade.nightly"] == "true"
    assert latest["tags.trade.regression"] == "true"
    assert latest["tags.trade.flow"] == "nightly-validation"

    artifacts = artifacts_of(night["flow_run_id"])
    summary = artifacts["nightly-validation"]
    assert summary.startswith("# nightly-validation: 1/2 plays passed")
    assert "| night_good | ✅ pass | 📉 out-of-sample net PnL" in summary
    assert "| night_tight | ❌ FAIL | no previous night | out-of-sample max drawdown" in summary
    assert {"validate-play-night-good", "validate-play-night-tight"} <= set(artifacts)
    # The validation suite ran too (one group of it, to keep the test short).
    suite = night["suite"]
    assert suite is not None
    assert (suite["group"], suite["plays"], suite["passed"], suite["failed"]) == ("halts", 3, 3, 0)
    assert "Validation suite (group `halts` of `plays/validation`): ✅ 3/3 passed" in summary

    # The next night, through a runner named by the parameter: both compare with tonight.
    again = nightly_validation(plays_dir=str(folder), data="bundled", regression_pct=20.0,
                               task_runner="prefect.task_runners:ThreadPoolTaskRunner",
                               task_runner_options={"max_workers": 2},
                               suite=False)  # fmt: skip
    assert [(p["play"], p["compared"], p["regressions"]) for p in again["plays"]] == [
        ("night_good", True, []), ("night_tight", True, []),
    ]  # fmt: skip
    assert again["totals"]["regressions"] == 0
    assert again["suite"] is None
    assert (
        "Validation suite: not run tonight"
        in artifacts_of(again["flow_run_id"])["nightly-validation"]
    )


def test_a_play_that_cannot_be_validated_is_an_error_line_not_a_crash(tmp_path: Path) -> None:
    from flows.nightly import nightly_validation

    folder = tmp_path / "mixed"
    write_play(folder, "night_ok", PASSING)
    (folder / "night_broken.yml").write_text("name: night_broken\nversion: 0\n", encoding="utf-8")
    night = nightly_validation(plays_dir=str(folder), data="bundled", suite=False)
    assert night["totals"]["errors"] == 1
    broken = next(p for p in night["plays"] if p["play"] == "night_broken")
    assert broken["passed"] is None
    assert "PlayValidationError" in broken["error"]
    assert f"{folder / 'night_broken.yml'}:2: version" in broken["error"]
    ok = next(p for p in night["plays"] if p["play"] == "night_ok")
    assert ok["passed"] is True


def test_a_failed_suite_play_is_in_the_summary_with_its_mismatch(tmp_path: Path) -> None:
    """A validation play whose expected equity is off by a cent fails the suite task's
    summary with the precise mismatch; the others pass."""
    from flows.nightly import suite_markdown
    from tasks.suite_tasks import run_validation_suite
    from trade_core.validation.suite import validation_root

    folder = tmp_path / "validation" / "halts"
    folder.mkdir(parents=True)
    for path in (validation_root() / "halts").glob("*.yml"):
        text = path.read_text(encoding="utf-8")
        if path.name == "daily_loss.expect.yml":
            text = text.replace("final_equity: 9886.80775", "final_equity: 9886.81775")
        (folder / path.name).write_text(text, encoding="utf-8")

    suite = run_validation_suite.fn(root=str(folder.parent))

    assert (suite["plays"], suite["passed"], suite["failed"]) == (3, 2, 1)
    [failure] = suite["failures"]
    assert failure["id"] == "halts/daily_loss"
    assert any(
        m.startswith("final_equity: expected 9886.82, got 9886.80") for m in failure["mismatches"]
    )
    lines = suite_markdown(suite)
    assert lines[0].startswith(f"Validation suite (`{folder.parent}`): ❌ 2/3 passed, 1 failed")
    assert lines[1].startswith("- `halts/daily_loss`: ")


def test_sync_needs_the_store(tmp_path: Path) -> None:
    from flows.nightly import nightly_validation
    from trade_core.errors import BadInputError

    folder = tmp_path / "sync"
    write_play(folder, "night_sync", PASSING)
    with pytest.raises(BadInputError, match="it needs data=store, not data=bundled"):
        nightly_validation(plays_dir=str(folder), data="bundled", sync=True, suite=False)
