"""Generated validation families: comparison operators, window operators and boolean
blocks, setups, exit/reversal behaviour and timeframes.

Each case states its rule twice: as Play YAML (what the engine runs) and as a numpy
expression over the reference bars (what :func:`reference.signal_trades` uses). The trades
then follow from the market-order rules: a rule true at the close of exec bar ``j`` sends a
market order that fills at the next 1m bar's open; exits are decided before entries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from tests.validation import reference as ref
from tests.validation.cases import Case, bar_ranges, describe_trades, outcome_dict

Sig = Callable[[ref.Bars], np.ndarray]

# Scenario A (50 bars): flat 100 (bars 0-9), up 0.5 a bar to 105 (bars 10-19: closes 100.5
# .. 105), flat 105 (20-29), down 0.5 a bar to 100 (30-39: closes 104.5 .. 100), flat 100
# (40-49). Every bar opens at the previous close, so a market fill at bar k's open is the
# close of bar k - 1.
UP_DOWN: dict[str, Any] = {"segments": [
    {"flat": 100, "bars": 10}, {"ramp": [100, 105], "bars": 10}, {"flat": 105, "bars": 10},
    {"ramp": [105, 100], "bars": 10}, {"flat": 100, "bars": 10},
]}  # fmt: skip
# Scenario B: the mirror of A (105 -> down to 100 -> back up to 105).
DOWN_UP: dict[str, Any] = {"segments": [
    {"flat": 105, "bars": 10}, {"ramp": [105, 100], "bars": 10}, {"flat": 100, "bars": 10},
    {"ramp": [100, 105], "bars": 10}, {"flat": 105, "bars": 10},
]}  # fmt: skip
A_TEXT = ("scenario A: flat 100 (bars 0-9), closes 100.5, 101, ... 105 (bars 10-19), flat 105 "
          "(20-29), closes 104.5 ... 100 (30-39), flat 100 (40-49); each bar opens at the "
          "previous close")  # fmt: skip
B_TEXT = ("scenario B: flat 105 (bars 0-9), closes 104.5 ... 100 (bars 10-19), flat 100 "
          "(20-29), closes 100.5 ... 105 (30-39), flat 105 (40-49); each bar opens at the "
          "previous close")  # fmt: skip


def signal_case(
    group: str,
    name: str,
    description: str,
    rules: dict[str, Any],
    scenario: dict[str, Any],
    *,
    warmup: int,
    why: str,
    el: Sig | None = None,
    es: Sig | None = None,
    xl: Sig | None = None,
    xs: Sig | None = None,
    exec_minutes: int = 1,
    qty: float = 1.0,
    slippage_bps: float = 0.0,
    min_trades: int = 1,
    both_fire_event: bool = False,
) -> Case:
    """A market-order signal case; ``warmup`` is the exec warm-up in bars worked out by hand
    from docs/play.md (the first decision is at exec bar ``warmup - 1``)."""
    b = ref.expand(scenario)
    eb = b.resample(exec_minutes) if exec_minutes > 1 else b

    def run(fn: Sig | None) -> np.ndarray | None:
        return None if fn is None else np.asarray(fn(eb), dtype=bool)

    o = ref.signal_trades(b, exec_minutes=exec_minutes, first_decision=warmup - 1,
                          entry_long=run(el), entry_short=run(es), exit_long=run(xl),
                          exit_short=run(xs), qty=qty, slippage_bps=slippage_bps)  # fmt: skip
    if len(o.trades) + (o.open_side is not None) < min_trades:
        raise ValueError(f"{group}/{name}: the reference finds no trade; fix the case")
    rules = dict(rules)
    if qty != 1.0:
        rules.setdefault("risk", {"sizing": {"qty": qty}})
    if slippage_bps:
        rules.setdefault("execution", {"slippage_bps": slippage_bps})
    unit = "1m bar" if exec_minutes == 1 else f"{exec_minutes}m exec bar"
    first = (
        f"warm-up {warmup} exec bar(s): the first decision is at the close of {unit} {warmup - 1}."
    )
    sigs = "; ".join(f"{label} true at {unit}s {bar_ranges(arr)}" for label, arr in (
        ("entry.long", run(el)), ("entry.short", run(es)), ("exit.long", run(xl)),
        ("exit.short", run(xs))) if arr is not None)  # fmt: skip
    text = (
        f"{why.strip()}\n{first}\nreference signals (from bar {warmup - 1} on): {sigs}.\n"
        f"{describe_trades(o)}"
    )
    extra: dict[str, Any] = {}
    if both_fire_event:  # the engine logs each decision where both entry rules fire
        both = run(el) & run(es)  # type: ignore[operator]
        n_both = int(both[warmup - 1 :].sum())
        extra["events"] = [{"kind": "skip", "contains": "both fire", "count": n_both}]
        text += f"\nentry.long and entry.short both true on {n_both} decision bars: {n_both} skips."
    return Case(group, name, description, rules, scenario, outcome_dict(o, **extra), text)


# ---------------------------------------------------------------------------- operators
def operators() -> Iterator[Case]:
    g = "operators"
    exit_lt_102 = {"long": ["close", "lt", 102]}

    def c(b: ref.Bars) -> np.ndarray:
        return b.close

    yield signal_case(g, "gt", "gt is strict: close > 102", {
        "entries": {"long": ["close", "gt", 102]}, "exits": exit_lt_102}, UP_DOWN, warmup=1,
        el=lambda b: c(b) > 102, xl=lambda b: c(b) < 102,
        why=f"{A_TEXT}. close 102 (bar 13) is not > 102; 102.5 (bar 14) is: entry at bar 14's "
            "close. exit close < 102 first at bar 36 (101.5).")  # fmt: skip
    yield signal_case(g, "gte", "gte includes the edge: close >= 102", {
        "entries": {"long": ["close", "gte", 102]}, "exits": exit_lt_102}, UP_DOWN, warmup=1,
        el=lambda b: c(b) >= 102, xl=lambda b: c(b) < 102,
        why=f"{A_TEXT}. close 102 at bar 13 satisfies gte: entry at bar 13's close; exit close "
            "< 102 at bar 36.")  # fmt: skip
    yield signal_case(g, "lt", "lt is strict: short when close < 103", {
        "entries": {"short": ["close", "lt", 103]}, "exits": {"short": ["close", "gt", 103]}},
        DOWN_UP, warmup=1, es=lambda b: c(b) < 103, xs=lambda b: c(b) > 103,
        why=f"{B_TEXT}. close 103 (bar 13) is not < 103; 102.5 (bar 14) is: short at bar 14's "
            "close. exit close > 103 at bar 36 (103.5).")  # fmt: skip
    yield signal_case(g, "lte", "lte includes the edge: short when close <= 103", {
        "entries": {"short": ["close", "lte", 103]}, "exits": {"short": ["close", "gt", 103]}},
        DOWN_UP, warmup=1, es=lambda b: c(b) <= 103, xs=lambda b: c(b) > 103,
        why=f"{B_TEXT}. close 103 at bar 13 satisfies lte: short at bar 13's close; exit at "
            "bar 36.")  # fmt: skip
    yield signal_case(g, "eq", "eq is exact equality: close == 103.5", {
        "entries": {"long": ["close", "eq", 103.5]}, "exits": exit_lt_102}, UP_DOWN, warmup=1,
        el=lambda b: c(b) == 103.5, xl=lambda b: c(b) < 102,
        why=f"{A_TEXT}. close 103.5 first at bar 16; again at bar 32 while long (no second "
            "entry on the same side); exit at bar 36.")  # fmt: skip
    yield signal_case(g, "neq", "neq: long when close != 100, exit when close == 100", {
        "entries": {"long": ["close", "neq", 100]}, "exits": {"long": ["close", "eq", 100]}},
        UP_DOWN, warmup=1, el=lambda b: c(b) != 100, xl=lambda b: c(b) == 100,
        why=f"{A_TEXT}. close 100.5 at bar 10 is the first close != 100; close == 100 again "
            "at bar 39.")  # fmt: skip
    yield signal_case(g, "between", "between is inclusive: 101 <= close <= 102", {
        "entries": {"long": ["close", "between", [101, 102]]},
        "exits": {"long": ["close", "lt", 101]}}, UP_DOWN, warmup=1,
        el=lambda b: (c(b) >= 101) & (c(b) <= 102), xl=lambda b: c(b) < 101,
        why=f"{A_TEXT}. close 101 (bar 11) sits on the lower edge and counts; exit close < 101 "
            "first at bar 38 (100.5).")  # fmt: skip
    yield signal_case(g, "outside", "outside: close < 99.5 or close > 102.5", {
        "entries": {"long": ["close", "outside", [99.5, 102.5]]},
        "exits": {"long": ["close", "between", [100, 101]]}}, UP_DOWN, warmup=1,
        el=lambda b: (c(b) < 99.5) | (c(b) > 102.5),
        xl=lambda b: (c(b) >= 100) & (c(b) <= 101),
        why=f"{A_TEXT}. 102.5 (bar 14) is on the edge, not outside; 103 (bar 15) is outside. "
            "exit when 100 <= close <= 101: bar 37 (101).")  # fmt: skip
    yield signal_case(g, "near_abs", "near with an absolute tolerance: |close - 103| <= 0.5", {
        "entries": {"long": ["close", "near", 103, {"abs": 0.5}]},
        "exits": {"long": ["close", "lt", 101]}}, UP_DOWN, warmup=1,
        el=lambda b: abs(c(b) - 103) <= 0.5 + 1e-9, xl=lambda b: c(b) < 101,
        why=f"{A_TEXT}. |102.5 - 103| = 0.5 is within the inclusive edge: entry at bar 14; "
            "exit close < 101 at bar 38.")  # fmt: skip
    yield signal_case(g, "near_pct", "near with a percent tolerance: |close - 103| <= 0.4% of 103", {
        "entries": {"long": ["close", "near", 103, {"pct": 0.4}]},
        "exits": {"long": ["close", "lt", 101]}}, UP_DOWN, warmup=1,
        el=lambda b: abs(c(b) - 103) <= 0.412, xl=lambda b: c(b) < 101,
        why=f"{A_TEXT}. tolerance 0.4 % of 103 = 0.412: 102.5 is 0.5 away (no), 103 (bar 15) "
            "is 0 away: entry at bar 15; exit at bar 38.")  # fmt: skip
    yield signal_case(g, "in_list", "in: close is one of [101.5, 104]", {
        "entries": {"long": ["close", "in", [101.5, 104]]},
        "exits": {"long": ["close", "lt", 101]}}, UP_DOWN, warmup=1,
        el=lambda b: np.isin(c(b), [101.5, 104]), xl=lambda b: c(b) < 101,
        why=f"{A_TEXT}. close 101.5 first at bar 12: entry; exit at bar 38.")  # fmt: skip
    yield signal_case(g, "cross_above_level", "cross_above a level fires once: close[1] <= 102 < close", {
        "entries": {"long": ["close", "cross_above", 102]},
        "exits": {"long": ["close", "gt", 104]}}, UP_DOWN, warmup=2,
        el=lambda b: ref.cross_above(c(b), 102.0), xl=lambda b: c(b) > 104,
        why=f"{A_TEXT}. close[1] = 102 <= 102 and close 102.5 > 102 at bar 14 only; exit close "
            "> 104 at bar 18 (104.5). Flat again at bar 19 with close > 102, but no new cross, "
            "so no re-entry (gt would re-enter).")  # fmt: skip
    yield signal_case(g, "cross_below_level", "cross_below a level: short once when close drops through 103", {
        "entries": {"short": ["close", "cross_below", 103]},
        "exits": {"short": ["close", "lt", 101]}}, DOWN_UP, warmup=2,
        es=lambda b: ref.cross_below(c(b), 103.0), xs=lambda b: c(b) < 101,
        why=f"{B_TEXT}. close[1] = 103 >= 103 and close 102.5 < 103 at bar 14; exit close < "
            "101 at bar 18 (100.5); no new cross afterwards.")  # fmt: skip
    yield signal_case(g, "cross_above_series", "cross_above between two series: close crosses its 3-bar SMA", {
        "features": {"sma3": {"indicator": "sma", "length": 3}},
        "entries": {"long": ["close", "cross_above", "sma3"]},
        "exits": {"long": ["close", "cross_below", "sma3"]}}, UP_DOWN, warmup=4,
        el=lambda b: ref.cross_above(c(b), ref.indicator("sma", b, length=3)["value"]),
        xl=lambda b: ref.cross_below(c(b), ref.indicator("sma", b, length=3)["value"]),
        why=f"{A_TEXT}. SMA(3) = 100 on the flat; at bar 10 close 100.5 > SMA 100.1667 with "
            "close[1] = SMA[1] = 100: cross above. On the way down close 104.5 < SMA 104.8333 at "
            "bar 30 (close[1] = SMA[1] = 105): cross below, exit. SMA warm-up 3 + 1 for the "
            "cross = 4.")  # fmt: skip
    yield signal_case(g, "past_value", "a past value operand: close > close[3] + nothing else (rising 3 bars)", {
        "entries": {"long": ["close", "gt", "close[3]"]},
        "exits": {"long": ["close", "lt", "close[2]"]}}, UP_DOWN, warmup=4,
        el=lambda b: c(b) > ref.shift(c(b), 3), xl=lambda b: c(b) < ref.shift(c(b), 2),
        why=f"{A_TEXT}. close[3] is the close 3 exec bars ago (warm-up 1 + 3 = 4). bar 10: "
            "100.5 > close[3] = 100: entry. exit close < close[2]: bar 30 (104.5 < 105).")  # fmt: skip
    yield signal_case(g, "field_vs_field", "price fields as operands: close > open (a rising bar)", {
        "entries": {"long": ["close", "gt", "open"]},
        "exits": {"long": ["close", "lt", "open"]}}, UP_DOWN, warmup=1,
        el=lambda b: c(b) > b.open, xl=lambda b: c(b) < b.open,
        why=f"{A_TEXT}. the first bar closing above its open is bar 10 (100 -> 100.5); the "
            "first closing below its open is bar 30 (105 -> 104.5).")  # fmt: skip
    yield signal_case(g, "high_low_fields", "high and low operands: low > 101 enters, high < 102 exits", {
        "entries": {"long": ["low", "gt", 101]},
        "exits": {"long": ["high", "lt", 102]}}, UP_DOWN, warmup=1,
        el=lambda b: b.low > 101, xl=lambda b: b.high < 102,
        why=f"{A_TEXT}. low = min(open, close): bar 12 opens 101 (not > 101), bar 13 opens "
            "101.5: entry at bar 13. high = max(open, close) < 102: bar 37 (open 101.5, close "
            "101); bar 36's high is 102.")  # fmt: skip
    yield signal_case(g, "volume_field", "the volume operand: long when volume > 150 (a volume spike)", {
        "entries": {"long": ["volume", "gt", 150]},
        "exits": {"long": ["volume", "lt", 50]}}, {"segments": [
            {"flat": 100, "bars": 10}, {"flat": 101, "bars": 2, "volume": 200},
            {"flat": 102, "bars": 5}, {"flat": 103, "bars": 3, "volume": 20},
            {"flat": 104, "bars": 5}]}, warmup=1,
        el=lambda b: b.volume > 150, xl=lambda b: b.volume < 50,
        why="flat 100 (bars 0-9, volume 100), flat 101 with volume 200 (bars 10-11), flat 102 "
            "(12-16), flat 103 with volume 20 (17-19), flat 104 (20-24). volume > 150 at bar 10: "
            "entry; filled at bar 11's open 101. volume < 50 at bar 17: exit at bar 18's open "
            "103.")  # fmt: skip
    yield signal_case(g, "bool_eq_true", "eq on a boolean field: swings.new_high eq true", {
        "features": {"sw": {"structure": "swing", "left": 2, "right": 2}},
        "entries": {"long": ["sw.new_high", "eq", True]},
        "exits": {"long": ["close", "lt", 102]}}, UP_DOWN, warmup=5,
        el=lambda b: ref.swing(b, 2, 2).new_high, xl=lambda b: c(b) < 102,
        why=f"{A_TEXT}. swing(2, 2): a pivot high needs a high above the 2 before and >= the "
            "2 after. Bar 19 (high 105 > 104 and 104.5, >= 105 and 105 after) is one, confirmed "
            "2 bars later at bar 21 (new_high true there only). exit at bar 36.")  # fmt: skip


# ---------------------------------------------------------------------------- windows
def windows() -> Iterator[Case]:
    g = "windows"

    def c(b: ref.Bars) -> np.ndarray:
        return b.close

    exit_lt_102 = {"long": ["close", "lt", 102]}
    yield signal_case(g, "holds_for", "holds_for 3 bars: close > 102 on each of the last 3 bars", {
        "entries": {"long": {"holds_for": {"bars": 3, "cond": ["close", "gt", 102]}}},
        "exits": exit_lt_102}, UP_DOWN, warmup=3,
        el=lambda b: ref.holds_for(c(b) > 102, 3), xl=lambda b: c(b) < 102,
        why=f"{A_TEXT}. close > 102 from bar 14; on bars 14, 15, 16 by bar 16: entry at bar 16. "
            "exit at bar 36.")  # fmt: skip
    yield signal_case(g, "occurred_within", "occurred_within 3 bars, with close >= 105 now", {
        "entries": {"long": {"all": [
            ["close", "gte", 105],
            {"occurred_within": {"bars": 3, "cond": ["close", "lt", 104.5]}}]}},
        "exits": exit_lt_102}, UP_DOWN, warmup=3,
        el=lambda b: (c(b) >= 105) & ref.occurred_within(c(b) < 104.5, 3),
        xl=lambda b: c(b) < 102,
        why=f"{A_TEXT}. close >= 105 from bar 19; close < 104.5 last at bar 17 (104): within "
            "the 3 bars 17-19 at bar 19, not at bar 20 (18-20). Entry at bar 19; exit at bar 36.")  # fmt: skip
    yield signal_case(g, "count_at_least", "count_at_least 3 of 5 bars closed up", {
        "entries": {"long": {"count_at_least": {"bars": 5, "times": 3,
                                                "cond": ["close", "gt", "close[1]"]}}},
        "exits": exit_lt_102}, UP_DOWN, warmup=6,
        el=lambda b: ref.count_at_least(c(b) > ref.shift(c(b), 1), 5, 3),
        xl=lambda b: c(b) < 102,
        why=f"{A_TEXT}. up-closes at bars 10, 11, 12...: the third within 5 bars is bar 12. "
            "Warm-up: close[1] needs 2 bars, the window 4 more = 6. exit at bar 36.")  # fmt: skip
    yield signal_case(g, "bars_since", "bars_since close >= 105 is <= 12, with close < 103", {
        "entries": {"long": {"all": [
            ["close", "lt", 103],
            {"bars_since": {"cond": ["close", "gte", 105], "op": "lte", "n": 12}}]}},
        "exits": {"long": ["close", "lte", 100]}}, UP_DOWN, warmup=14,
        el=lambda b: (c(b) < 103) & (ref.bars_since(c(b) >= 105) <= 12),
        xl=lambda b: c(b) <= 100,
        why=f"{A_TEXT}. close >= 105 last at bar 29; close < 103 first again at bar 34, 5 bars "
            "later (<= 12): entry at bar 34. On the first flat (bars 0-9) close < 103 but "
            "close >= 105 was never seen (counts as more than n + 1 bars): no entry. Warm-up "
            "1 + n + 1 = 14. exit close <= 100 at bar 39; flat again at bar 40, 11 bars after "
            "bar 29 with close 100 < 103: a second entry, exited at once (close 100 <= 100) at "
            "bar 41. At bar 42 it is 13 bars: no more entries.")  # fmt: skip
    yield signal_case(g, "rising", "rising 3: three strict steps up", {
        "entries": {"long": {"rising": {"bars": 3, "of": "close"}}},
        "exits": {"long": {"falling": {"bars": 2, "of": "close"}}}}, UP_DOWN, warmup=4,
        el=lambda b: ref.rising(c(b), 3), xl=lambda b: ref.falling(c(b), 2),
        why=f"{A_TEXT}. closes 100 (bar 9), 100.5, 101, 101.5 (bar 12): three strict rises by "
            "bar 12: entry. falling 2: 105 (29), 104.5, 104 (bar 31): exit at bar 31.")  # fmt: skip
    yield signal_case(g, "falling", "falling 3: short after three strict steps down", {
        "entries": {"short": {"falling": {"bars": 3, "of": "close"}}},
        "exits": {"short": {"rising": {"bars": 2, "of": "close"}}}}, DOWN_UP, warmup=4,
        es=lambda b: ref.falling(c(b), 3), xs=lambda b: ref.rising(c(b), 2),
        why=f"{B_TEXT}. three strict falls by bar 12 (105, 104.5, 104, 103.5): short. rising "
            "2 at bar 31: exit.")  # fmt: skip
    yield signal_case(g, "rising_feature", "rising on a feature: SMA(3) rising 2 bars", {
        "features": {"sma3": {"indicator": "sma", "length": 3}},
        "entries": {"long": {"rising": {"bars": 2, "of": "sma3"}}},
        "exits": {"long": {"falling": {"bars": 2, "of": "sma3"}}}}, UP_DOWN, warmup=5,
        el=lambda b: ref.rising(ref.indicator("sma", b, length=3)["value"], 2),
        xl=lambda b: ref.falling(ref.indicator("sma", b, length=3)["value"], 2),
        why=f"{A_TEXT}. SMA(3) rises at bars 10 and 11 (100.1667, 100.5): rising 2 at bar 11. "
            "It falls at bars 30 and 31: exit at bar 31. Warm-up 3 + 2 = 5.")  # fmt: skip
    yield signal_case(g, "all_block", "all: every child true (101 < close < 104)", {
        "entries": {"long": {"all": [["close", "gt", 101], ["close", "lt", 104]]}},
        "exits": {"long": ["close", "gt", 104]}}, UP_DOWN, warmup=1,
        el=lambda b: (c(b) > 101) & (c(b) < 104), xl=lambda b: c(b) > 104,
        why=f"{A_TEXT}. both hold first at bar 12 (101.5); exit close > 104 at bar 18 (104.5). "
            "Flat again from bar 19; on the way down 103.5 (bar 32) satisfies both: a second "
            "entry, open to the end (close 100).")  # fmt: skip
    yield signal_case(g, "any_block", "any: one true child is enough", {
        "entries": {"long": {"any": [["close", "gt", 110], ["close", "eq", 102.5]]}},
        "exits": exit_lt_102}, UP_DOWN, warmup=1,
        el=lambda b: (c(b) > 110) | (c(b) == 102.5), xl=lambda b: c(b) < 102,
        why=f"{A_TEXT}. close never > 110; close == 102.5 at bar 14: entry; 102.5 again at "
            "bar 34 while long; exit at bar 36.")  # fmt: skip
    yield signal_case(g, "not_block", "not: long when not (close <= 103)", {
        "entries": {"long": {"not": ["close", "lte", 103]}},
        "exits": {"long": {"not": ["close", "gt", 102]}}}, UP_DOWN, warmup=1,
        el=lambda b: ~(c(b) <= 103), xl=lambda b: ~(c(b) > 102),
        why=f"{A_TEXT}. not (close <= 103) first at bar 16 (103.5); exit not (close > 102) at "
            "bar 35 (102).")  # fmt: skip
    yield signal_case(g, "setup_ref", "a setup referenced by a rule", {
        "setups": {"up": ["close", "gt", 102]},
        "entries": {"long": {"setup": "up"}}, "exits": exit_lt_102}, UP_DOWN, warmup=1,
        el=lambda b: c(b) > 102, xl=lambda b: c(b) < 102,
        why=f"{A_TEXT}. setup up = close > 102: first at bar 14; exit at bar 36.")  # fmt: skip
    yield signal_case(g, "nested_setups", "a setup that references another setup", {
        "setups": {"above": ["close", "gt", 101],
                   "band": {"all": [{"setup": "above"}, ["close", "lt", 103]]}},
        "entries": {"long": {"setup": "band"}}, "exits": {"long": ["close", "gte", 104]}},
        UP_DOWN, warmup=1,
        el=lambda b: (c(b) > 101) & (c(b) < 103), xl=lambda b: c(b) >= 104,
        why=f"{A_TEXT}. band = (close > 101) and (close < 103): first at bar 12 (101.5); exit "
            "close >= 104 at bar 17. Flat from bar 18: on the way down band holds at bar 34 "
            "(102.5): a second entry, open to the end.")  # fmt: skip
    yield signal_case(g, "setup_in_window", "a window shifts a setup too: holds_for 2 of setup up", {
        "setups": {"up": ["close", "gt", 102]},
        "entries": {"long": {"holds_for": {"bars": 2, "cond": {"setup": "up"}}}},
        "exits": exit_lt_102}, UP_DOWN, warmup=2,
        el=lambda b: ref.holds_for(c(b) > 102, 2), xl=lambda b: c(b) < 102,
        why=f"{A_TEXT}. up holds at bars 14 and 15: entry at bar 15; exit at bar 36.")  # fmt: skip
    yield signal_case(g, "window_past_value", "holds_for 3 of close > close[1] (three up-closes)", {
        "entries": {"long": {"holds_for": {"bars": 3, "cond": ["close", "gt", "close[1]"]}}},
        "exits": {"long": {"holds_for": {"bars": 2, "cond": ["close", "lt", "close[1]"]}}}},
        UP_DOWN, warmup=4,
        el=lambda b: ref.holds_for(c(b) > ref.shift(c(b), 1), 3),
        xl=lambda b: ref.holds_for(c(b) < ref.shift(c(b), 1), 2),
        why=f"{A_TEXT}. up-closes at bars 10, 11, 12: entry at bar 12; down-closes at 30 and 31: "
            "exit at bar 31. Warm-up 2 (close[1]) + 2 = 4.")  # fmt: skip
    yield signal_case(g, "bars_since_gte", "bars_since ... op gte: at least 3 bars since close > close[1]", {
        "entries": {"long": {"all": [
            ["close", "gte", 105],
            {"bars_since": {"cond": ["close", "gt", "close[1]"], "op": "gte", "n": 3}}]}},
        "exits": exit_lt_102}, UP_DOWN, warmup=6,
        el=lambda b: (c(b) >= 105) & (ref.bars_since(c(b) > ref.shift(c(b), 1)) >= 3),
        xl=lambda b: c(b) < 102,
        why=f"{A_TEXT}. the last up-close is bar 19; at bar 22 it is 3 bars ago and close is "
            "105: entry at bar 22. Warm-up 2 (close[1]) + 3 + 1 = 6. exit at bar 36.")  # fmt: skip


# ---------------------------------------------------------------------------- exits
def exits() -> Iterator[Case]:
    g = "exits"

    def c(b: ref.Bars) -> np.ndarray:
        return b.close

    yield signal_case(g, "reverse_long_to_short", "a short entry while long reverses the position", {
        "entries": {"long": ["close", "cross_above", 102], "short": ["close", "cross_below", 103]}},
        UP_DOWN, warmup=2,
        el=lambda b: ref.cross_above(c(b), 102.0), es=lambda b: ref.cross_below(c(b), 103.0),
        why=f"{A_TEXT}. long at bar 14 (cross above 102); cross below 103 at bar 34 (102.5): "
            "the long closes (reason 'reverse to short') and a short opens, both at bar 35's "
            "open 102.5; the short stays open (last close 100).")  # fmt: skip
    yield signal_case(g, "exit_and_reverse_same_bar", "exit rule and opposite entry on one bar: the exit reason wins", {
        "entries": {"long": ["close", "cross_above", 102], "short": ["close", "cross_below", 103]},
        "exits": {"long": ["close", "lt", 103]}},
        UP_DOWN, warmup=2,
        el=lambda b: ref.cross_above(c(b), 102.0), es=lambda b: ref.cross_below(c(b), 103.0),
        xl=lambda b: c(b) < 103,
        why=f"{A_TEXT}. long at bar 14; at bar 34 exit.long (close < 103) and entry.short fire "
            "together: the exit closes the long (reason exit.long), the short opens at the same "
            "open 102.5.")  # fmt: skip
    yield signal_case(g, "both_sides_fire_skip", "long and short entries firing together give no entry", {
        "entries": {"long": ["close", "gt", 101], "short": ["close", "gt", 104]},
        "exits": {"long": ["close", "lt", 101]}},
        UP_DOWN, warmup=1,
        both_fire_event=True,
        el=lambda b: c(b) > 101, es=lambda b: c(b) > 104, xl=lambda b: c(b) < 101,
        why=f"{A_TEXT}. long at bar 12 (101.5 > 101). From bar 18 (104.5) both rules fire: "
            "no entry either way, the long is kept; both fire until bar 30, then only the long "
            "rule (kept); exit close < 101 at bar 38.")  # fmt: skip
    yield signal_case(g, "short_exit_rule", "a short with its own exit rule", {
        "entries": {"short": ["close", "cross_below", 104]},
        "exits": {"short": ["close", "gte", 102]}},
        DOWN_UP, warmup=2,
        es=lambda b: ref.cross_below(c(b), 104.0), xs=lambda b: c(b) >= 102,
        why=f"{B_TEXT}. close crosses below 104 at bar 12 (104 -> 103.5): short filled at bar "
            "13's open 103.5. exit close >= 102 is already true at bar 13's close (103): exit at "
            "bar 14's open 103.")  # fmt: skip
    yield signal_case(g, "position_open_at_end", "no exit: the position is still open at the end", {
        "entries": {"long": ["close", "cross_above", 101]}},
        UP_DOWN, warmup=2, el=lambda b: ref.cross_above(c(b), 101.0),
        why=f"{A_TEXT}. entry at bar 12 (close[1] 101 <= 101 < 101.5); no exit rule: the long "
            "is open at the end, marked at the last close 100.")  # fmt: skip
    yield signal_case(g, "repeated_trades", "a rule that fires again after each exit trades again", {
        "entries": {"long": ["close", "gt", "open"]},
        "exits": {"long": ["close", "gte", "open"]}},
        {"segments": [{"flat": 100, "bars": 3},
                      {"repeat": [{"closes": [100.5, 100.5, 100.5]}, {"closes": [100]}],
                       "times": 4}]},
        warmup=1, el=lambda b: c(b) > b.open, xl=lambda b: c(b) >= b.open,
        why="flat 100 (bars 0-2), then four times: an up bar 100 -> 100.5, two flat bars at "
            "100.5, a down bar to 100. The up bar fires the entry; the next (flat) bar fires "
            "the exit (close >= open).")  # fmt: skip
    yield signal_case(g, "slippage_market", "2 bps slippage on market entry and exit fills", {
        "entries": {"long": ["close", "cross_above", 102]},
        "exits": {"long": ["close", "cross_below", 103]}},
        UP_DOWN, warmup=2, slippage_bps=2.0,
        el=lambda b: ref.cross_above(c(b), 102.0), xl=lambda b: ref.cross_below(c(b), 103.0),
        why=f"{A_TEXT}. entry at bar 14, the buy fills at bar 15's open 102.5 * (1 + 0.0002); "
            "exit at bar 34, the sell at bar 35's open 102.5 * (1 - 0.0002). Fees are on the "
            "slipped prices.")  # fmt: skip


# ---------------------------------------------------------------------------- timeframes
def timeframes() -> Iterator[Case]:
    g = "timeframes"
    # 300 bars: flat 100 to minute 124, 106 from minute 125 (inside the hour 120-179) to 239,
    # then 98.
    step = {"segments": [{"flat": 100, "bars": 125}, {"flat": 106, "bars": 115},
                         {"flat": 98, "bars": 60}]}  # fmt: skip
    step_text = (
        "flat 100 on minutes 0-124, flat 106 on 125-239, flat 98 on 240-299 (each "
        "segment opens at its own price)"
    )
    yield signal_case(g, "exec_5m", "exec 5m: decisions at 5m closes only", {
        "timeframes": {"exec": "5m"},
        "entries": {"long": ["close", "gt", 105]}, "exits": {"long": ["close", "lt", 100]}},
        step, warmup=1, exec_minutes=5,
        el=lambda b: b.close > 105, xl=lambda b: b.close < 100,
        why=f"{step_text}. The 5m bar of minutes 125-129 closes 106 at minute 129's close: entry "
            "filled at minute 130's open 106. The 5m bar 240-244 closes 98: exit at minute 245's "
            "open 98.")  # fmt: skip
    yield signal_case(g, "exec_15m", "exec 15m: the 5m-aligned step is seen at the 15m close", {
        "timeframes": {"exec": "15m"},
        "entries": {"long": ["close", "gt", 105]}, "exits": {"long": ["close", "lt", 100]}},
        step, warmup=1, exec_minutes=15,
        el=lambda b: b.close > 105, xl=lambda b: b.close < 100,
        why=f"{step_text}. The 15m bar of minutes 120-134 closes 106: entry at minute 135's "
            "open. The 15m bar 240-254 closes 98: exit at minute 255.")  # fmt: skip
    yield signal_case(g, "exec_3m", "exec 3m: the step at minute 125 is seen at the 3m close at 125", {
        "timeframes": {"exec": "3m"},
        "entries": {"long": ["close", "gt", 105]}, "exits": {"long": ["close", "lt", 100]}},
        step, warmup=1, exec_minutes=3,
        el=lambda b: b.close > 105, xl=lambda b: b.close < 100,
        why=f"{step_text}. The 3m bar of minutes 123-125 closes 106: entry at minute 126's open. "
            "The 3m bar 240-242 closes 98: exit at minute 243's open.")  # fmt: skip
    yield signal_case(g, "exec_30m", "exec 30m: acted on at the 30m close", {
        "timeframes": {"exec": "30m"},
        "entries": {"long": ["close", "gt", 105]}, "exits": {"long": ["close", "lt", 100]}},
        step, warmup=1, exec_minutes=30,
        el=lambda b: b.close > 105, xl=lambda b: b.close < 100,
        why=f"{step_text}. The 30m bar 120-149 closes 106: entry at minute 150's open. The 30m "
            "bar 240-269 closes 98: exit at minute 270's open.")  # fmt: skip
    yield signal_case(g, "exec_1h", "exec 1h: the step at minute 125 is acted on at 180", {
        "timeframes": {"exec": "1h"},
        "entries": {"long": ["close", "gt", 105]}, "exits": {"long": ["close", "lt", 100]}},
        step, warmup=1, exec_minutes=60,
        el=lambda b: b.close > 105, xl=lambda b: b.close < 100,
        why=f"{step_text}. The hour 120-179 closes 106 at minute 179's close: entry at minute "
            "180's open. The hour 240-299 is the last full hour: it closes 98 at the end of "
            "the data, so the exit order has no bar left to fill: the long stays open.")  # fmt: skip

    def high_close(b: ref.Bars, minutes: int, exec_minutes: int) -> np.ndarray:
        """close@high as seen at each exec close: the last *closed* high bar's close."""
        n_exec = len(b.close)
        out = np.full(n_exec, np.nan)
        for j in range(n_exec):
            end_min = (j + 1) * exec_minutes  # minutes elapsed at this exec close
            closed = end_min // minutes  # high bars closed so far
            if closed:
                out[j] = full.close[closed * minutes - 1]
        return out

    full = ref.expand(step)
    yield signal_case(g, "high_role_after_close", "close@high (1h) is used only after the hour closes", {
        "timeframes": {"exec": "5m", "high": "1h"},
        "entries": {"long": ["close@high", "gt", 105]},
        "exits": {"long": ["close@high", "lt", 100]}},
        step, warmup=12, exec_minutes=5,
        el=lambda b: high_close(b, 60, 5) > 105, xl=lambda b: high_close(b, 60, 5) < 100,
        why=f"{step_text}. The price is 106 from minute 125, but close@high is the close of the "
            "last closed hour: the hour 120-179 closes at minute 179's close, so the 5m close "
            "then (minute 179) is the first to see 106: entry at minute 180. The hour 240-299 "
            "closes 98 at the end of the data: no exit fill. Warm-up: 1 high bar = 12 exec "
            "bars.")  # fmt: skip
    yield signal_case(g, "med_role_after_close", "close@med (15m) with exec 5m: seen at the 15m close", {
        "timeframes": {"exec": "5m", "med": "15m"},
        "entries": {"long": ["close@med", "gt", 105]},
        "exits": {"long": ["close@med", "lt", 100]}},
        step, warmup=3, exec_minutes=5,
        el=lambda b: high_close(b, 15, 5) > 105, xl=lambda b: high_close(b, 15, 5) < 100,
        why=f"{step_text}. The 15m bar 120-134 closes 106 at minute 134: the 5m close at 134 sees "
            "it: entry at minute 135. The 15m bar 240-254 closes 98 at minute 254: exit at "
            "minute 255. Warm-up 1 med bar = 3 exec bars.")  # fmt: skip
    yield signal_case(g, "high_feature_after_close", "an SMA on the high role changes only at 1h closes", {
        "timeframes": {"exec": "15m", "high": "1h"},
        "features": {"hs": {"indicator": "sma", "length": 2, "tf": "high"}},
        "entries": {"long": ["hs", "gt", 102]}, "exits": {"long": ["hs", "lt", 102]}},
        step, warmup=8, exec_minutes=15,
        el=lambda b: _sma_high(full, 60, 15, 2) > 102, xl=lambda b: _sma_high(full, 60, 15, 2) < 102,
        why=f"{step_text}. Hour closes: 100 (0-59), 100 (60-119), 106 (120-179), 106 (180-239), "
            "98 (240-299). SMA(2) of hour closes at minute 179 = 103 > 102: entry at minute "
            "180. At minute 299 (the last hour) SMA = 102, not < 102: the long stays open. "
            "Warm-up 2 high bars = 8 exec bars.")  # fmt: skip
    yield signal_case(g, "cross_on_high_role", "a cross between high-role series fires on one exec bar", {
        "timeframes": {"exec": "5m", "high": "1h"},
        "entries": {"long": ["close@high", "cross_above", 103]}},
        step, warmup=24, exec_minutes=5,
        el=lambda b: ref.cross_above(high_close(b, 60, 5), 103.0),
        why=f"{step_text}. close@high steps from 100 to 106 at the 5m close at minute 179; "
            "the cross (close@high[1] <= 103 < close@high, [1] = one exec bar ago) fires on that "
            "5m bar only: entry at minute 180; open to the end. Warm-up: the cross reads one exec bar"
            " back, which reaches into the previous hour: 2 high bars = 24 exec bars.")  # fmt: skip


def _sma_high(b: ref.Bars, minutes: int, exec_minutes: int, n: int) -> np.ndarray:
    """SMA(n) of the high-role closes as it stands at each exec close."""
    hb = b.resample(minutes)
    sma = ref.indicator("sma", hb, length=n)["value"]
    n_exec = len(b) // exec_minutes
    out = np.full(n_exec, np.nan)
    for j in range(n_exec):
        closed = ((j + 1) * exec_minutes) // minutes
        if closed:
            out[j] = sma[closed - 1]
    return out


# ---------------------------------------------------------------------------- warm-up
def warmup() -> Iterator[Case]:
    """The first decision comes exactly when the warm-up of docs/play.md ends: each rule is
    true on every bar once its values exist, so the entry fills at bar ``warm-up``."""
    g = "warmup"
    flat = {"segments": [{"flat": 100, "bars": 30, "wick": 0.5}]}
    flat_text = "30 bars flat at 100 with a 0.5 wick (high 100.5, low 99.5, true range 1.0)"

    def always(b: ref.Bars) -> np.ndarray:
        return np.ones(len(b.close), dtype=bool)

    def w(name: str, desc: str, rules: dict[str, Any], warm: int, why: str,
          **kw: Any) -> Case:  # fmt: skip
        return signal_case(g, name, desc, rules, flat, warmup=warm, el=always,
                           why=f"{flat_text}. {why} The rule holds on every bar from then on, so "
                               f"the entry is decided at bar {warm - 1} and fills at bar {warm}'s "
                               "open; no exit.", **kw)  # fmt: skip

    yield w(
        "price_only",
        "a price-only rule decides from the first bar",
        {"entries": {"long": ["close", "gt", 50]}},
        1,
        "A price needs 1 bar.",
    )
    yield w(
        "sma_10",
        "a rule on SMA(10) waits for 10 bars",
        {
            "features": {"sma": {"indicator": "sma", "length": 10}},
            "entries": {"long": {"all": [["close", "gt", 50], ["sma", "gt", 0]]}},
        },
        10,
        "SMA(10) has its first value at bar index 9 (warm-up 10).",
    )
    yield w(
        "offset_adds",
        "a past value adds its offset: SMA(10) vs SMA(10)[2] needs 12 bars",
        {
            "features": {"sma": {"indicator": "sma", "length": 10}},
            "entries": {"long": ["sma", "gte", "sma[2]"]},
        },
        12,
        "feature warm-up 10 + offset 2 = 12 bars.",
    )
    yield w(
        "unused_feature",
        "a declared feature that no rule reads does not delay decisions",
        {
            "features": {"slow": {"indicator": "sma", "length": 25}},
            "entries": {"long": ["close", "gt", 50]},
        },
        1,
        "SMA(25) is declared but read by no rule or risk setting: warm-up stays 1.",
    )
    yield w(
        "holds_for_adds",
        "holds_for 5 adds 4 exec bars of history",
        {"entries": {"long": {"holds_for": {"bars": 5, "cond": ["close", "gt", 50]}}}},
        5,
        "1 (a price) + (5 - 1) = 5 bars.",
    )
    yield w(
        "rsi_14",
        "RSI(14) needs 15 bars (14 changes)",
        {
            "features": {"rsi": {"indicator": "rsi", "length": 14}},
            "entries": {"long": ["rsi", "gte", 0]},
        },
        15,
        "RSI(14)'s first value is at bar index 14 (warm-up 15); on a flat market it is 0 "
        "(TA-Lib's convention), so rsi >= 0 holds.",
    )
    yield w(
        "high_role_feature",
        "an SMA(3) on the 5m role waits for three 5m bars (15 minutes)",
        {
            "timeframes": {"exec": "1m", "high": "5m"},
            "features": {"hs": {"indicator": "sma", "length": 3, "tf": "high"}},
            "entries": {"long": ["hs", "gt", 0]},
        },
        15,
        "3 high (5m) bars close at the end of minute 14: the first decision is the 1m close "
        "at bar 14.",
    )
    yield w(
        "risk_atr_counts",
        "an ATR read only by the stop still sets the warm-up",
        {
            "features": {"atr": {"indicator": "atr", "length": 14}},
            "entries": {"long": ["close", "gt", 50]},
            "risk": {"stop_loss": {"atr": "atr", "mult": 2.0}, "sizing": {"qty": 1}},
        },
        15,
        "ATR(14) (warm-up 15) is read by the risk block, so it counts; ATR = 1.0 on these "
        "bars, stop = 100 - 2 * 1.0 = 98.",
    )


FAMILIES = [operators, windows, exits, timeframes, warmup]
