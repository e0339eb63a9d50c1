"""Generated validation families: one play per indicator (and a few extra outputs), and
plays for every structure detector on hand-drawn swing patterns.

Indicators: every play runs on the same scenario (a zig-zag, a ramp up, a plateau, a drop).
The reference value of the output (``reference.indicator``: TA-Lib or numpy from the
documented definition) is computed for every bar; the case picks a bar ``f`` inside the
move and a round level ``L`` strictly between the values at ``f - 1`` and ``f``, so the rule
``[output, cross_above|cross_below, L]`` fires at ``f`` and nowhere else. The level keeps a
margin of at least 1e-6 (relative) from every value of the series, so last-bit differences
between implementations cannot move the signal. The exit is a plain price rule.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from tests.validation import reference as ref
from tests.validation.cases import Case, bar_ranges, describe_trades, outcome_dict

IND_SCENARIO: dict[str, Any] = {"segments": [
    {"repeat": [{"closes": [100.5, 100], "wick": 0.2}], "times": 30},
    {"ramp": [100, 115], "bars": 30, "wick": 0.3, "volume": 200},
    {"flat": 115, "bars": 10, "wick": 0.2},
    {"flat": 110, "bars": 12, "wick": 0.2},
]}  # fmt: skip
IND_TEXT = (
    "scenario: bars 0-59 zig-zag between closes 100.5 and 100 (each bar opens at the previous "
    "close, wick 0.2, volume 100); bars 60-89 ramp 100 -> 115 by 0.5 a bar (wick 0.3, volume "
    "200); bars 90-99 flat 115 (wick 0.2); bars 100-111 flat 110 (wick 0.2). exit.long = "
    "close cross_below 112: fires at bar 100 only (115 -> 110); a long still open then closes "
    "at bar 101's open 110."
)
EXIT_RULE = ["close", "cross_below", 112]
REL_MARGIN = 1e-6

# name, params, output field (None = the single output), case name suffix
INDICATOR_CASES: list[tuple[str, dict[str, Any], str | None, str]] = [
    ("ad", {}, None, ""),
    ("adosc", {"fast": 3, "slow": 10}, None, ""),
    ("adx", {"length": 7}, "adx", ""),
    ("adx", {"length": 7}, "plus_di", "_plus_di"),
    ("adx", {"length": 7}, "minus_di", "_minus_di"),
    ("alma", {"length": 9}, None, ""),
    ("ao", {}, None, ""),
    ("aroon", {"length": 14}, "osc", ""),
    ("aroon", {"length": 14}, "up", "_up"),
    ("atr", {"length": 14}, None, ""),
    ("bbands", {"length": 20}, "middle", ""),
    ("bbands", {"length": 20}, "upper", "_upper"),
    ("bbands", {"length": 20}, "percent_b", "_percent_b"),
    ("bbands", {"length": 20}, "width", "_width"),
    ("cci", {"length": 14}, None, ""),
    ("cmf", {"length": 20}, None, ""),
    ("cmo", {"length": 14}, None, ""),
    ("dema", {"length": 10}, None, ""),
    ("donchian", {"length": 20}, "upper", ""),
    ("donchian", {"length": 20}, "lower", "_lower"),
    ("efi", {"length": 13}, None, ""),
    ("ema", {"length": 20}, None, ""),
    ("fisher", {"length": 9}, "fisher", ""),
    ("fisher", {"length": 9}, "trigger", "_trigger"),
    ("heikin_ashi", {}, "close", ""),
    ("heikin_ashi", {}, "open", "_open"),
    ("hma", {"length": 16}, None, ""),
    ("ichimoku", {"tenkan": 5, "kijun": 10, "senkou_b": 20, "displacement": 10}, "tenkan", ""),
    (
        "ichimoku",
        {"tenkan": 5, "kijun": 10, "senkou_b": 20, "displacement": 10},
        "span_b",
        "_span_b",
    ),
    (
        "ichimoku",
        {"tenkan": 5, "kijun": 10, "senkou_b": 20, "displacement": 10},
        "span_a_ahead",
        "_span_a_ahead",
    ),
    ("kama", {"length": 10}, None, ""),
    ("kc", {"length": 10}, "middle", ""),
    ("kc", {"length": 10}, "upper", "_upper"),
    ("linreg", {"length": 14}, None, ""),
    ("macd", {}, "line", ""),
    ("macd", {}, "signal", "_signal"),
    ("macd", {}, "hist", "_hist"),
    ("mfi", {"length": 14}, None, ""),
    ("mom", {"length": 10}, None, ""),
    ("natr", {"length": 14}, None, ""),
    ("obv", {}, None, ""),
    ("ppo", {"fast": 12, "slow": 26}, None, ""),
    ("psar", {}, None, ""),
    ("roc", {"length": 10}, None, ""),
    ("rsi", {"length": 14}, None, ""),
    ("slope", {"length": 14}, None, ""),
    ("sma", {"length": 20}, None, ""),
    ("squeeze", {"length": 10, "kc_length": 10}, "momentum", ""),
    ("stdev", {"length": 20}, None, ""),
    ("stoch", {}, "k", ""),
    ("stoch", {}, "d", "_d"),
    ("stochrsi", {}, "d", ""),
    ("supertrend", {"length": 10, "mult": 3.0}, "value", ""),
    ("supertrend", {"length": 10, "mult": 3.0}, "direction", "_direction"),
    ("t3", {"length": 5}, None, ""),
    ("tema", {"length": 10}, None, ""),
    ("trima", {"length": 20}, None, ""),
    ("trix", {"length": 10}, None, ""),
    ("true_range", {}, None, ""),
    ("ultosc", {}, None, ""),
    ("vwap", {}, None, ""),
    ("vwma", {"length": 20}, None, ""),
    ("willr", {"length": 14}, None, ""),
    ("wma", {"length": 20}, None, ""),
    ("zlema", {"length": 20}, None, ""),
    ("zscore", {"length": 20}, None, ""),
]


def nice_level(lo: float, hi: float) -> float | None:
    """The shortest decimal strictly inside ``(lo, hi)`` keeping the relative margin."""
    for digits in range(0, 10):
        mid = round((lo + hi) / 2, digits)
        tol = REL_MARGIN * max(1.0, abs(mid))
        if lo + tol < mid < hi - tol:
            return mid
    return None


def _first_valid(v: np.ndarray) -> int:
    ok = np.flatnonzero(~np.isnan(v))
    return int(ok[0]) if ok.size else len(v)


def indicator_case(name: str, params: dict[str, Any], fld: str | None, suffix: str) -> Case:
    b = ref.expand(IND_SCENARIO)
    outs = ref.indicator(name, b, **params)
    key = fld or "value"
    v = outs[key]
    first = _first_valid(v)
    operand = "ind" if fld is None else f"ind.{fld}"
    lo = max(first + 5, 60)
    order = [*range(max(lo, 72), 100), *range(lo, 72), *range(100, 106)]
    for f in order:
        a, c = v[f - 1], v[f]
        if math.isnan(a) or math.isnan(c) or a == c:
            continue
        level = nice_level(float(min(a, c)), float(max(a, c)))
        if level is None:
            continue
        tol = REL_MARGIN * max(1.0, abs(level))
        rest = v[first:]
        if np.nanmin(np.abs(rest - level)) <= tol:
            continue
        op = "cross_above" if c > a else "cross_below"
        cross = ref.cross_above if c > a else ref.cross_below
        sig = cross(v, level)
        o = ref.signal_trades(b, first_decision=first + 1, entry_long=sig,
                              exit_long=ref.cross_below(b.close, 112.0))  # fmt: skip
        closed = len(o.trades) == 1 and o.trades[0].entry_bar == f + 1 and o.open_side is None
        still_open = not o.trades and o.open_side is not None and o.open_bar == f + 1
        if not (closed or still_open):
            continue
        feat: dict[str, Any] = {"indicator": name, **params}
        rules = {"features": {"ind": feat}, "entries": {"long": [operand, op, level]},
                 "exits": {"long": EXIT_RULE}}  # fmt: skip
        shown = ", ".join(f"{k}={val}" for k, val in params.items()) or "defaults"
        why = (
            f"{IND_TEXT}\n{name}({shown}).{key} by the reference (tests/validation/reference.py,"
            f" {_source(name)}): defined from bar {first}; bar {f - 1}: {a:.10g}, bar {f}: "
            f"{c:.10g}. The level {level:g} lies strictly between them, and no other bar's value"
            f" is within {REL_MARGIN:g} (relative) of it: {op} fires at bar {f} only (the "
            f"previous value {a:.10g} is on the other side). Entry at bar {f}'s close."
        )
        text = f"{why}\n{describe_trades(o)}"
        return Case("indicators", f"{name}{suffix}", f"{name}.{key} {op} {level:g}", rules,
                    IND_SCENARIO, outcome_dict(o), text)  # fmt: skip
    raise ValueError(f"indicator {name}.{key}: no clean crossing found in bars 60-105")


def _source(name: str) -> str:
    numpy_made = {"alma", "cmf", "fisher", "heikin_ashi", "squeeze", "supertrend", "vwap",
                  "vwma", "zscore", "efi", "kc", "zlema", "ppo", "donchian", "ichimoku", "hma",
                  "ao", "true_range", "bbands"}  # fmt: skip
    return (
        "numpy/TA-Lib building blocks from the documented formula"
        if name in numpy_made
        else "TA-Lib"
    )


def indicators() -> Iterator[Case]:
    for name, params, fld, suffix in INDICATOR_CASES:
        yield indicator_case(name, params, fld, suffix)


FAMILIES = [indicators]


# ---------------------------------------------------------------------------- structures
SWING_CLOSES = [100] * 5 + [101, 102, 103, 102, 101, 102, 103, 104, 105, 104, 103, 104, 105, 106,
                            107, 106, 105, 106, 107, 108, 109, 108, 108, 108, 108, 107, 106, 105,
                            104, 103, 102, 101, 101, 101, 101, 102, 103, 104, 103, 102, 101, 100,
                            100]  # fmt: skip
SWING_SCENARIO: dict[str, Any] = {"segments": [{"closes": SWING_CLOSES}]}
SWING_TEXT = (
    "hand-drawn swings (one bar per close, open = previous close, no wicks, so high = "
    "max(open, close) and low = min(open, close)): closes 100 x5, up to 103 (bar 7), back to 101 "
    "(bar 9), up to 105 (13), back to 103 (15), up to 107 (19), back to 105 (21), up to 109 "
    "(25), 108 x4, down to 101 (bar 36), 101 x2, up to 104 (42), down to 100 (46-47). "
    "swing(left 2, right 2): pivot highs at bars 7 (103), 13 (105), 19 (107), 25 (109), 42 "
    "(104), confirmed 2 bars later (9, 15, 21, 27, 44); pivot lows at bars 9 (101), 15 (103), 21 "
    "(105), 36 (101), confirmed at 11, 17, 23, 38."
)
SW = {"structure": "swing", "left": 2, "right": 2}


def structure_case(name: str, description: str, rules: dict[str, Any], *, warmup: int,
                   why: str, el: Any = None, es: Any = None, xl: Any = None,
                   xs: Any = None) -> Case:  # fmt: skip
    b = ref.expand(SWING_SCENARIO)
    s = ref.swing(b, 2, 2)

    def run(fn: Any) -> np.ndarray | None:
        return None if fn is None else np.asarray(fn(b, s), dtype=bool)

    o = ref.signal_trades(b, first_decision=warmup - 1, entry_long=run(el), entry_short=run(es),
                          exit_long=run(xl), exit_short=run(xs))  # fmt: skip
    if not o.trades and o.open_side is None:
        raise ValueError(f"structures/{name}: the reference finds no trade")
    sigs = "; ".join(f"{label} true at bars {bar_ranges(fn(b, s))}" for label, fn in (
        ("entry.long", el), ("entry.short", es), ("exit.long", xl), ("exit.short", xs))
        if fn is not None)  # fmt: skip
    text = (
        f"{SWING_TEXT}\n{why.strip()}\nwarm-up {warmup} bars: the first decision is at bar "
        f"{warmup - 1}. reference signals: {sigs}.\n{describe_trades(o)}"
    )
    return Case("structures", name, description, rules, SWING_SCENARIO, outcome_dict(o), text)


def structures() -> Iterator[Case]:
    exit_rule = {"long": ["close", "cross_below", 106]}

    def exit_fn(b: ref.Bars, s: ref.Swings) -> np.ndarray:
        return ref.cross_below(b.close, 106.0)

    yield structure_case("swing_new_high", "swing.new_high eq true: on the confirming bar only", {
        "features": {"sw": SW}, "entries": {"long": ["sw.new_high", "eq", True]},
        "exits": exit_rule}, warmup=5,
        el=lambda b, s: s.new_high, xl=exit_fn,
        why="new_high at bars 9, 15, 21, 27, 44; exit close cross_below 106 at bars 21 (106 -> "
            "105) and 32. Long at bar 9; exit at bar 21 (the new_high of bar 21 comes while still "
            "long: no entry); long again at bar 27, exit at 32; long at bar 44, open to the end.")  # fmt: skip
    yield structure_case("swing_new_low", "swing.new_low eq true", {
        "features": {"sw": SW}, "entries": {"long": ["sw.new_low", "eq", True]},
        "exits": exit_rule}, warmup=5,
        el=lambda b, s: s.new_low, xl=exit_fn,
        why="new_low at bars 11, 17, 23, 38; exits (close cross_below 106) at bars 21 and 32: "
            "long 11 -> 21, long 23 -> 32, long from 38 to the end.")  # fmt: skip
    yield structure_case("swing_last_high_breakout", "close crosses above swing.last_high", {
        "features": {"sw": SW}, "entries": {"long": ["close", "cross_above", "sw.last_high"]},
        "exits": exit_rule}, warmup=6,
        el=lambda b, s: ref.cross_above(b.close, s.last_high), xl=exit_fn,
        why="last_high = 103 from bar 9; close 104 at bar 12 (close[1] 103 <= 103): cross above "
            "at bar 12; again at 18 (106 > 105, while long) and 24 (108 > 107). exits at 21 and "
            "32: long 12 -> 21, long 24 -> 32.")  # fmt: skip
    yield structure_case("swing_higher_low", "swing.last_low gt swing.prev_low (a higher low)", {
        "features": {"sw": SW}, "entries": {"long": ["sw.last_low", "gt", "sw.prev_low"]},
        "exits": exit_rule}, warmup=5,
        el=lambda b, s: s.last_low > s.prev_low, xl=exit_fn,
        why="prev_low exists from the second pivot low (bar 17: last 103, prev 101): entry at "
            "bar 17; exit (close cross_below 106) at bar 21; the higher low still holds at bar 22: "
            "entry again; exit at 32; entry again at 33 (last 105 > prev 103); from bar 38 (new "
            "low 101) the rule is false but no exit comes: open to the end.")  # fmt: skip
    yield structure_case("ms_bos_up", "market_structure.bos_up eq true", {
        "features": {"sw": SW, "ms": {"structure": "market_structure", "swings": "sw"}},
        "entries": {"long": ["ms.bos_up", "eq", True]}, "exits": exit_rule}, warmup=5,
        el=lambda b, s: ref.market_structure(b, s)["bos_up"], xl=exit_fn,
        why="high_level 103 from bar 9; closes 102, 103 do not break it (strict); close 104 at "
            "bar 12 does: bos_up (bias neutral -> bullish). More bos_up at 18 (> 105, while long) "
            "and 24 (> 107). exits at 21 and 32: long 12 -> 21, long 24 -> 32.")  # fmt: skip
    yield structure_case("ms_bias_enum", "market_structure.bias eq bullish / eq bearish", {
        "features": {"sw": SW, "ms": {"structure": "market_structure", "swings": "sw"}},
        "entries": {"long": ["ms.bias", "eq", "bullish"]},
        "exits": {"long": ["ms.bias", "eq", "bearish"]}}, warmup=5,
        el=lambda b, s: np.array(ref.market_structure(b, s)["bias"]) == "bullish",
        xl=lambda b, s: np.array(ref.market_structure(b, s)["bias"]) == "bearish",
        why="bias turns bullish at bar 12 (bos_up); low_level 105 (pivot low of bar 21, "
            "confirmed bar 23) is broken by close 104 at bar 33: bias bearish, exit.")  # fmt: skip
    yield structure_case("ms_choch_down", "market_structure.choch_down: short the change of character", {
        "features": {"sw": SW, "ms": {"structure": "market_structure", "swings": "sw"}},
        "entries": {"short": ["ms.choch_down", "eq", True]},
        "exits": {"short": ["ms.bos_down", "eq", True]}}, warmup=5,
        es=lambda b, s: ref.choch_sides(b, s)["choch_down"],
        xs=lambda b, s: ref.market_structure(b, s)["bos_down"],
        why="bias bullish since bar 12; close 104 < low_level 105 at bar 33 is a break against "
            "the bias: choch_down, short. low_level 101 (pivot low of bar 36, confirmed 38) is "
            "broken by close 100 at bar 46 with bias bearish: bos_down, exit.")  # fmt: skip
    yield structure_case("ms_bias_neq_in", "enum operators: bias neq neutral and bias in [bullish]", {
        "features": {"sw": SW, "ms": {"structure": "market_structure", "swings": "sw"}},
        "entries": {"long": {"all": [["ms.bias", "neq", "neutral"], ["ms.bias", "in", ["bullish"]]]}},
        "exits": {"long": ["ms.bias", "in", ["bearish"]]}}, warmup=5,
        el=lambda b, s: np.array(ref.market_structure(b, s)["bias"]) == "bullish",
        xl=lambda b, s: np.array(ref.market_structure(b, s)["bias"]) == "bearish",
        why="bias is neutral until bar 12, then bullish: entry at bar 12; bearish from bar 33: "
            "exit.")  # fmt: skip
    yield structure_case("fib_level_500", "close crosses below the 50 % retracement of the last leg", {
        "features": {"sw": SW, "fib": {"structure": "fibonacci", "swings": "sw"}},
        "entries": {"long": ["close", "cross_below", "fib.level_500"]},
        "exits": {"long": ["close", "cross_above", 103.5]}}, warmup=6,
        el=lambda b, s: ref.cross_below(b.close, ref.fibonacci(s, 0.5)),
        xl=lambda b, s: ref.cross_above(b.close, 103.5),
        why="the leg low 105 (bar 21) -> high 109 (bar 25), set at bar 27, has level_500 = 109 - "
            "0.5 * 4 = 107. close 107 at bar 30 is not below it; close 106 at bar 31 (close[1] "
            "107 >= 107) crosses below: entry. Earlier legs: the reference finds no earlier "
            "cross. exit close cross_above 103.5 at bar 42 (103 -> 104).")  # fmt: skip
    yield structure_case("trend_bias", "trend.bias eq up (HH and HL), exit on range", {
        "features": {"sw": SW, "tr": {"structure": "trend", "swings": "sw"}},
        "entries": {"long": ["tr.bias", "eq", "up"]},
        "exits": {"long": ["tr.bias", "eq", "range"]}}, warmup=5,
        el=lambda b, s: np.array(ref.trend_bias(s)) == "up",
        xl=lambda b, s: np.array(ref.trend_bias(s)) == "range",
        why="highs 103 -> 105 (HH at bar 15), lows 101 -> 103 (HL at bar 17): bias up at bar "
            "17, entry. The low 101 (bar 36, confirmed 38) is LL with the last high HH: range at "
            "bar 38, exit.")  # fmt: skip
    yield structure_case("rolling_window_breakout", "close above the previous 5-bar rolling max", {
        "features": {"rw": {"structure": "rolling_window", "bars": 5}},
        "entries": {"long": ["close", "gt", "rw.max[1]"]},
        "exits": {"long": ["close", "lt", "rw.min[1]"]}}, warmup=6,
        el=lambda b, s: b.close > ref.shift(ref.rolling_window(b, 5)["max"], 1),
        xl=lambda b, s: b.close < ref.shift(ref.rolling_window(b, 5)["min"], 1),
        why="rw.max[1] = the highest high of the 5 bars before this one. Bar 5 closes 101 above "
            "the flat 100: entry. The first close below the previous 5 bars' lowest low is at "
            "bar 30 (107 < 108): exit. Bar 41 closes 103 above the highs 102 of bars 36-40: "
            "entry; bar 46 closes 100 below the lows 101 of bars 41-45: exit.")  # fmt: skip
    yield structure_case("zone_demand_touch", "zone.demand_touch: a pullback into a pivot-low zone", {
        "features": {"sw": SW, "zn": {"structure": "zone", "swings": "sw", "width_mode": "pct",
                                      "width_pct": 0.5}},
        "entries": {"long": ["zn.demand_touch", "eq", True]},
        "exits": {"long": ["close", "cross_above", 103.5]}}, warmup=5,
        el=lambda b, s: ref.demand_zone_touch(b, s, 0.5),
        xl=lambda b, s: ref.cross_above(b.close, 103.5),
        why="demand zones [P, P * 1.005] at the pivot lows 101 (created bar 11), 103 (17), 105 "
            "(23). Bar 32's low 105 enters the 105 zone (top 105.525) without trading below "
            "105: touched, entry. exit close cross_above 103.5 at bar 42 (103 -> 104).")  # fmt: skip
    yield structure_case("derived_zone_touch", "derived_zone (fib 0.5-0.618 of the last leg) touch", {
        "features": {"sw": SW, "dz": {"structure": "derived_zone", "swings": "sw"}},
        "entries": {"long": ["dz.touch", "eq", True]},
        "exits": {"long": ["close", "cross_below", 106]}}, warmup=5,
        el=lambda b, s: ref.derived_zone_fib(b, s)["touch"], xl=exit_fn,
        why="at bar 15 the leg 101 (bar 9) -> 105 (bar 13) gives a demand zone [105 - 0.618 * "
            "4, 105 - 0.5 * 4] = [102.528, 103]; bar 16's low 103 touches it: entry. exit close "
            "cross_below 106 at bar 21. At bar 21 the leg 103 -> 107 gives [104.528, 105], "
            "touched by bar 22's low 105: entry again; exit at bar 32.")  # fmt: skip


FAMILIES.append(structures)
