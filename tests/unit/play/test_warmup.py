"""Warm-up is computed from lookbacks, offsets, windows and crosses, per role, then in 1m bars;
before it ends every rule is NOT_READY — checked by feeding real features bar by bar."""

from tests.support.plays import rule_play
from trade_core.play.conditions.compile import NOT_READY, TRUE

FEATURES = {
    "fast": {"indicator": "ema", "length": 3},
    "slow": {"indicator": "sma", "length": 5},
    "htf": {"indicator": "sma", "length": 4, "tf": "high"},
}
RULE = {
    "all": [
        ["fast", "cross_above", "slow"],  # fast: 3 + 1 (cross) = 4; slow: 5 + 1 = 6
        {"holds_for": {"bars": 3, "cond": ["close", "gt", "slow[2]"]}},  # slow: 5 + 2 + 2 = 9
        ["close@high", "gt", "htf"],  # high: htf 4
    ]
}


def test_warmup_by_hand():
    play = rule_play(RULE, features=FEATURES)
    assert play.warmup.bars == {"exec": 9, "high": 4}
    assert play.warmup.minutes == 240  # max(9 x 15m, 4 x 60m)


def test_exec_windows_over_a_higher_role_add_its_bars():
    rule = {"occurred_within": {"bars": 8, "cond": ["close@high", "gt", "htf"]}}
    play = rule_play(rule, features=FEATURES)
    # 8 exec bars of 15m reach back 7 x 15m = 105 min = 2 bars of 1h (rounded up): htf 4 + 2
    assert play.warmup.bars == {"exec": 0, "high": 6}
    assert play.warmup.minutes == 360


def test_only_what_is_read_counts_and_offsets_use_the_own_timeframe():
    play = rule_play(["close@high", "gt", "htf[3]"], features=FEATURES)
    assert play.warmup.bars == {"exec": 0, "high": 7}  # fast and slow are never read


def test_an_output_with_its_own_warmup():
    features = {"adx": {"indicator": "adx", "length": 14}}
    assert rule_play(["adx.plus_di", "gt", 20], features=features).warmup.bars["exec"] == 15
    assert rule_play(["adx.adx", "gt", 20], features=features).warmup.bars["exec"] == 28


def run(play, closes):
    """A minimal clock: 15m exec bars, the 1h role closing every 4th exec bar; yields the
    snapshot after each exec bar (the same object, advanced)."""
    features = play.build_features()
    snap = play.new_snapshot()
    hour = []
    for i, c in enumerate(closes):
        bar = (i * 900_000, c, c + 1, c - 1, c, 1.0)
        values = {"close": c}
        for fid, f in features.items():
            if play.features[fid].role == "exec":
                f.update(*bar)
                values[fid] = f.out[0] if f.ready else None
        hour.append(bar)
        if (i + 1) % 4 == 0:
            hv = {"close": c}
            for fid, f in features.items():
                if play.features[fid].role == "high":
                    f.update(hour[0][0], hour[0][1], max(b[2] for b in hour),
                             min(b[3] for b in hour), c, 4.0)  # fmt: skip
                    hv[fid] = f.out[0] if f.ready else None
            snap.push_role("high", hv)
            hour = []
        snap.push_role("exec", values)
        snap.close_exec()
        yield snap


def test_rules_are_not_ready_until_the_warmup_and_then_decide():
    # On rising closes every leaf is TRUE once its data exists, so the first decided bar is
    # exactly when the last leaf became ready: the warm-up is sufficient and necessary.
    rule = {
        "all": [
            ["fast", "gt", "slow"],
            {"holds_for": {"bars": 3, "cond": ["close", "gt", "slow[2]"]}},
            ["close@high", "gt", "htf[1]"],
        ]
    }
    play = rule_play(rule, features=FEATURES)
    assert play.warmup.bars == {"exec": 9, "high": 5}
    needed = max(play.warmup.bars["exec"], play.warmup.bars["high"] * 4)
    for i, snap in enumerate(run(play, [100.0 + i for i in range(80)])):
        if i + 1 < needed:
            assert play.evaluate_code("entry.long", snap) == NOT_READY
            if i + 2 == needed:  # the trace says why, on the last bar before warm-up
                trace = play.evaluate("entry.long", snap, explain=True)
                assert trace.result == "NOT_READY"
                assert [c.result for c in trace.children] == ["TRUE", "TRUE", "NOT_READY"]
        else:
            assert play.evaluate_code("entry.long", snap) == TRUE


def test_a_feature_that_reads_another_is_ready_no_sooner_than_it():
    features = {
        "swings": {"structure": "swing", "left": 4, "right": 3},
        "ms": {"structure": "market_structure", "swings": "swings"},
    }
    play = rule_play(
        {"holds_for": {"bars": 2, "cond": ["ms.bias", "eq", "bullish"]}}, features=features
    )
    # swing: 4 + 3 + 1 = 8 bars; ms reads it, so ms.bias is ready at 8; holds_for 2 adds 1
    assert play.warmup.bars["exec"] == 9
    play = rule_play(["ms.broken_level[3]", "gt", 0], features=features)
    assert play.warmup.bars["exec"] == 11
