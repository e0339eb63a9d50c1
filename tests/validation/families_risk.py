"""Generated validation families worked out by hand formula: stops, targets, trailing stops,
sizing modes, order types and time in force, halts, funding and liquidation.

Every case shares one entry: bars 0-4 are flat 99.5 and bar 5 closes at 100 (opening at
99.5), so ``[close, cross_above, 99.7]`` fires at bar 5's close only; the decision close is
C = 100 and a market order fills at bar 6's open 100 (shorts mirror it from 100.5 with
``cross_below 100.3``). The bars after that are written out per case as ``[open, high, low,
close]``; the numbers below follow BYBIT_RULES.md and docs/backtest.md: fees = rate x qty x
price per fill (taker 0.055 %, maker 0.02 %), stop and target prices rounded to the 0.1 tick
toward the entry, intrabar paths with the adverse extreme first, funding = side x qty x mark x
rate with mark = the close of the bar that closes at the settlement instant, liquidation at
the bankruptcy price with the margin lost.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from tests.validation.cases import MAKER, TAKER, Case, money

LONG_PREFIX = [[99.5, 99.5, 99.5, 99.5]] * 5 + [[99.5, 100, 99.5, 100]]
SHORT_PREFIX = [[100.5, 100.5, 100.5, 100.5]] * 5 + [[100.5, 100.5, 100, 100]]
LONG_ENTRY = {"long": ["close", "cross_above", 99.7]}
SHORT_ENTRY = {"short": ["close", "cross_below", 100.3]}
PREFIX_TEXT = ("bars 0-4 flat 99.5, bar 5 [99.5, 100, 99.5, 100]: close cross_above 99.7 fires "
               "at bar 5 only; decision close C = 100; the market entry fills at bar 6's open "
               "100.")  # fmt: skip
LIMIT_TEXT = (
    "bars 0-4 flat 99.5, bar 5 [99.5, 100, 99.5, 100]: close cross_above 99.7 fires "
    "at bar 5 only; decision close C = 100."
)
SHORT_LIMIT_TEXT = (
    "bars 0-4 flat 100.5, bar 5 [100.5, 100.5, 100, 100]: close cross_below "
    "100.3 fires at bar 5 only; C = 100."
)
SHORT_TEXT = (
    "bars 0-4 flat 100.5, bar 5 [100.5, 100.5, 100, 100]: close cross_below 100.3 "
    "fires at bar 5 only; C = 100; the market short fills at bar 6's open 100."
)


def tick_round(x: float, mode: str, tick: str = "0.1") -> float:
    """``x`` rounded to the tick ("up" = ceiling, "down" = floor), exactly in decimals."""
    q = Decimal(repr(x)) / Decimal(tick)
    q = q.to_integral_value(rounding=ROUND_CEILING if mode == "up" else ROUND_FLOOR)
    return float(q * Decimal(tick))


def scen(prefix: list[list[float]], rows: list[list[float]]) -> dict[str, Any]:
    """The scenario of ``prefix + rows``; a leading run of flat bars is written as ``flat``."""
    bars = prefix + rows
    n = 0
    while n < len(bars) and len(set(bars[n])) == 1 and bars[n] == bars[0]:
        n += 1
    if n < 2:
        return {"segments": [{"bars": bars}]}
    return {"segments": [{"flat": bars[0][0], "bars": n}, {"bars": bars[n:]}]}


def trade(side: str, qty: float, entry_bar: int, entry: float, exit_bar: int, exit_: float,
          reason: str, entry_rate: float = TAKER, exit_rate: float = TAKER,
          funding: float = 0.0) -> tuple[dict[str, Any], float, str]:  # fmt: skip
    """(trade dict, net PnL, formula text) for one closed trade."""
    s = 1 if side == "long" else -1
    gross = s * qty * (exit_ - entry)
    fees = entry_rate * qty * entry + exit_rate * qty * exit_
    net = gross - fees - funding
    d = {"side": side, "entry_bar": entry_bar, "exit_bar": exit_bar, "entry_price": entry,
         "exit_price": exit_, "exit_reason": reason, "qty": qty, "net_pnl": money(net)}  # fmt: skip
    if funding:
        d["funding"] = money(funding)
    sign = "" if s > 0 else "-"
    text = (
        f"net = {sign}{qty:g} * ({exit_:g} - {entry:g}) - {entry_rate:g} * {qty:g} * "
        f"{entry:g} - {exit_rate:g} * {qty:g} * {exit_:g}"
        + (f" - funding {funding:g}" if funding else "")
        + f" = {net:.6f}"
    )
    return d, net, text


def one_trade_case(group: str, name: str, description: str, rules: dict[str, Any],
                   scenario: dict[str, Any], why: str, t: tuple[dict[str, Any], float, str],
                   **extra: Any) -> Case:  # fmt: skip
    d, net, text = t
    expect = {"trades": 1, "trade_list": [d], "final_equity": money(10_000 + net), **extra}
    return Case(
        group,
        name,
        description,
        rules,
        scenario,
        expect,
        f"{why.strip()}\n{text}; final equity = 10000 + {net:.6f} = {10_000 + net:.6f}",
    )


# ---------------------------------------------------------------------------- risk
def risk() -> Iterator[Case]:
    g = "risk"
    sl1 = {"stop_loss": {"pct": 1.0}, "sizing": {"qty": 1}}
    yield one_trade_case(
        g,
        "stop_pct",
        "stop loss 1 % below the decision close",
        {"entries": LONG_ENTRY, "risk": sl1},
        scen(
            LONG_PREFIX,
            [[100, 100.5, 99.6, 100.2], [100.2, 100.4, 98.8, 99.2], [99.2, 99.2, 99.2, 99.2]],
        ),
        f"{PREFIX_TEXT} stop = 100 * (1 - 1 %) = 99.0. Bar 6's low 99.6 stays above it; bar 7 "
        "opens 100.2 and trades down to 98.8: the stop fills at 99.0 (no gap).",
        trade("long", 1.0, 6, 100.0, 7, 99.0, "stop_loss"),
    )
    yield one_trade_case(
        g,
        "stop_pct_short",
        "short: stop loss 1 % above the decision close",
        {"entries": SHORT_ENTRY, "risk": sl1},
        scen(
            SHORT_PREFIX,
            [[100, 100.4, 99.5, 99.8], [99.8, 101.3, 99.7, 101.1], [101.1, 101.1, 101.1, 101.1]],
        ),
        f"{SHORT_TEXT} stop = 100 * 1.01 = 101.0; bar 7 trades up to 101.3: the buy stop fills at "
        "101.0.",
        trade("short", 1.0, 6, 100.0, 7, 101.0, "stop_loss"),
    )
    yield one_trade_case(
        g,
        "stop_gap",
        "a bar that opens beyond the stop fills at its open",
        {"entries": LONG_ENTRY, "risk": sl1},
        scen(
            LONG_PREFIX,
            [[100, 100.3, 99.4, 99.6], [98.5, 98.9, 98.2, 98.6], [98.6, 98.6, 98.6, 98.6]],
        ),
        f"{PREFIX_TEXT} stop 99.0; bar 7 opens at 98.5, below the stop: the stop sells at the "
        "open 98.5 (never better than the trigger).",
        trade("long", 1.0, 6, 100.0, 7, 98.5, "stop_loss"),
    )
    yield one_trade_case(
        g,
        "stop_touch_rounded",
        "stop 0.75 % rounds toward the entry and fills on a touch",
        {"entries": LONG_ENTRY, "risk": {"stop_loss": {"pct": 0.75}, "sizing": {"qty": 1}}},
        scen(
            LONG_PREFIX,
            [[100, 100.2, 99.4, 99.6], [99.6, 99.7, 99.3, 99.5], [99.5, 99.5, 99.5, 99.5]],
        ),
        f"{PREFIX_TEXT} raw stop 100 * 0.9925 = 99.25, rounded up (toward the entry) to the tick: "
        "99.3. Bar 6's low 99.4 does not reach it; bar 7's low 99.3 touches it (a stop triggers "
        "on reaching the price): fill 99.3.",
        trade("long", 1.0, 6, 100.0, 7, 99.3, "stop_loss"),
    )
    yield one_trade_case(
        g,
        "take_profit_pct",
        "take profit 2 % above the decision close",
        {"entries": LONG_ENTRY, "risk": {"take_profit": {"pct": 2.0}, "sizing": {"qty": 1}}},
        scen(
            LONG_PREFIX,
            [[100, 100.8, 99.8, 100.6], [100.6, 102.3, 100.5, 102.1], [102.1, 102.1, 102.1, 102.1]],
        ),
        f"{PREFIX_TEXT} target = 100 * 1.02 = 102.0; bar 7 reaches 102.3: the take profit fills "
        "at 102.0 (taker).",
        trade("long", 1.0, 6, 100.0, 7, 102.0, "take_profit"),
    )
    yield one_trade_case(
        g,
        "take_profit_gap",
        "a bar opening beyond the target fills at its (better) open",
        {"entries": LONG_ENTRY, "risk": {"take_profit": {"pct": 2.0}, "sizing": {"qty": 1}}},
        scen(
            LONG_PREFIX,
            [[100, 100.8, 99.8, 100.6], [102.6, 102.9, 102.4, 102.7], [102.7, 102.7, 102.7, 102.7]],
        ),
        f"{PREFIX_TEXT} target 102.0; bar 7 opens at 102.6: the take profit fills at the open "
        "102.6.",
        trade("long", 1.0, 6, 100.0, 7, 102.6, "take_profit"),
    )
    yield one_trade_case(
        g,
        "take_profit_short",
        "short: take profit 2 % below",
        {"entries": SHORT_ENTRY, "risk": {"take_profit": {"pct": 2.0}, "sizing": {"qty": 1}}},
        scen(
            SHORT_PREFIX,
            [[100, 100.2, 99.2, 99.5], [99.5, 99.6, 97.8, 98.2], [98.2, 98.2, 98.2, 98.2]],
        ),
        f"{SHORT_TEXT} target = 100 * 0.98 = 98.0; bar 7 trades down to 97.8: the buy fills at "
        "98.0.",
        trade("short", 1.0, 6, 100.0, 7, 98.0, "take_profit"),
    )
    sl_tp = {"stop_loss": {"pct": 1.0}, "take_profit": {"rr": 2.0}, "sizing": {"qty": 1}}
    yield one_trade_case(
        g,
        "take_profit_rr",
        "take profit at 2R of a 1 % stop",
        {"entries": LONG_ENTRY, "risk": sl_tp},
        scen(
            LONG_PREFIX,
            [[100, 100.8, 99.8, 100.6], [100.6, 102.3, 100.5, 102.1], [102.1, 102.1, 102.1, 102.1]],
        ),
        f"{PREFIX_TEXT} stop 99.0 (risk 1.0), target = 100 + 2 * 1.0 = 102.0; bar 7 reaches 102.3.",
        trade("long", 1.0, 6, 100.0, 7, 102.0, "take_profit"),
    )
    yield one_trade_case(
        g,
        "same_bar_sl_tp_conservative",
        "one bar reaches both stop and target: the stop is taken",
        {"entries": LONG_ENTRY, "risk": sl_tp},
        scen(
            LONG_PREFIX,
            [[100, 100.5, 99.5, 100.2], [100.2, 102.5, 98.7, 101.0], [101, 101, 101, 101]],
        ),
        f"{PREFIX_TEXT} stop 99.0, target 102.0; bar 7 (open 100.2, high 102.5, low 98.7) reaches "
        "both and the order inside the bar is unknown: the conservative rule takes the stop, "
        "filled at 99.0.",
        trade("long", 1.0, 6, 100.0, 7, 99.0, "stop_loss"),
    )
    yield one_trade_case(
        g,
        "same_bar_target_at_open",
        "both reached but the bar opened beyond the target: the target",
        {"entries": LONG_ENTRY, "risk": sl_tp},
        scen(
            LONG_PREFIX,
            [[100, 100.5, 99.5, 100.2], [102.2, 102.4, 98.7, 99.5], [99.5, 99.5, 99.5, 99.5]],
        ),
        f"{PREFIX_TEXT} stop 99.0, target 102.0; bar 7 opens at 102.2, already beyond the target "
        "(its first trade), then falls to 98.7: the take profit came first, filled at the open "
        "102.2.",
        trade("long", 1.0, 6, 100.0, 7, 102.2, "take_profit"),
    )
    # ATR(3) on bars with a known true range: bars 0-4 [99.5, 99.7, 99.3, 99.5] (TR 0.4),
    # bar 5 [99.5, 100.1, 99.5, 100] (TR 0.6): ATR at bar 5 = (0.4 * 2 + 0.6) / 3.
    atr_prefix = [[99.5, 99.7, 99.3, 99.5]] * 5 + [[99.5, 100.1, 99.5, 100]]
    atr5 = (0.4 * 2 + 0.6) / 3
    atr_text = ("bars 0-4 [99.5, 99.7, 99.3, 99.5] (true range 0.4 each from bar 1), bar 5 [99.5, "
                "100.1, 99.5, 100] (TR 0.6); close cross_above 99.7 fires at bar 5 (C = 100). "
                "ATR(3) (Wilder): mean of the TRs of bars 1-3 = 0.4 at bar 3, 0.4 at bar 4, "
                f"(0.4 * 2 + 0.6) / 3 = {atr5:.6f} at bar 5. Warm-up 4 bars (ATR(3)).")  # fmt: skip
    stop_atr = tick_round(100 - 2 * atr5, "up")
    yield one_trade_case(
        g,
        "stop_atr",
        "stop at 2 x ATR(3) below the decision close",
        {
            "features": {"atr": {"indicator": "atr", "length": 3}},
            "entries": LONG_ENTRY,
            "risk": {"stop_loss": {"atr": "atr", "mult": 2.0}, "sizing": {"qty": 1}},
        },
        scen(
            atr_prefix,
            [[100, 100.3, 99.6, 99.8], [99.8, 99.9, 99.0, 99.2], [99.2, 99.2, 99.2, 99.2]],
        ),
        f"{atr_text} stop = 100 - 2 * {atr5:.6f} = {100 - 2 * atr5:.6f}, rounded up to the tick: "
        f"{stop_atr:g}. Bar 7's low 99.0 reaches it.",
        trade("long", 1.0, 6, 100.0, 7, stop_atr, "stop_loss"),
    )
    tp_atr = tick_round(100 + 2.5 * atr5, "down")
    yield one_trade_case(
        g,
        "take_profit_atr",
        "target at 2.5 x ATR(3) above the decision close",
        {
            "features": {"atr": {"indicator": "atr", "length": 3}},
            "entries": LONG_ENTRY,
            "risk": {"take_profit": {"atr": "atr", "mult": 2.5}, "sizing": {"qty": 1}},
        },
        scen(
            atr_prefix,
            [[100, 100.6, 99.9, 100.4], [100.4, 101.3, 100.2, 101.2], [101.2, 101.2, 101.2, 101.2]],
        ),
        f"{atr_text} target = 100 + 2.5 * {atr5:.6f} = {100 + 2.5 * atr5:.6f}, rounded down "
        f"(toward the entry): {tp_atr:g}. Bar 7 reaches 101.3.",
        trade("long", 1.0, 6, 100.0, 7, tp_atr, "take_profit"),
    )
    lvl_prefix = (
        [[99.5, 99.6, 99.4, 99.5]] * 2
        + [[99.5, 99.6, 98.6, 99.5]]
        + [[99.5, 99.6, 99.4, 99.5]] * 2
        + [[99.5, 100, 99.5, 100]]
    )
    yield one_trade_case(
        g,
        "stop_level",
        "stop at a level: the lowest low of the last 5 bars",
        {
            "features": {"rw": {"structure": "rolling_window", "bars": 5}},
            "entries": LONG_ENTRY,
            "risk": {"stop_loss": {"level": "rw.min"}, "sizing": {"qty": 1}},
        },
        scen(
            lvl_prefix,
            [[100, 100.2, 99.0, 99.4], [99.4, 99.5, 98.5, 98.8], [98.8, 98.8, 98.8, 98.8]],
        ),
        "bars 0-4 close 99.5 with lows 99.4 except bar 2 (low 98.6); bar 5 [99.5, 100, 99.5, "
        "100]: cross above 99.7 at bar 5. rw.min at bar 5 = the lowest low of bars 1-5 = 98.6: "
        "the stop. Bar 6's low 99.0 is above it; bar 7's low 98.5 reaches it: fill 98.6.",
        trade("long", 1.0, 6, 100.0, 7, 98.6, "stop_loss"),
    )
    # Trailing: ATR(1) = the bar's true range.
    tr6 = max(100.8 - 99.8, abs(100.8 - 100), abs(99.8 - 100))
    tr7 = max(101.6 - 100.4, abs(101.6 - 100.6), abs(100.4 - 100.6))
    tr8 = max(102.0 - 101.2, abs(102.0 - 101.4), abs(101.2 - 101.4))
    c7 = tick_round(101.6 - 1.1 * tr7, "down")
    c8 = tick_round(102.0 - 1.1 * tr8, "down")
    yield one_trade_case(
        g,
        "trailing_atr",
        "trailing stop: activates at 1R, trails 1.1 x ATR under the high",
        {
            "features": {"atr": {"indicator": "atr", "length": 1}},
            "entries": LONG_ENTRY,
            "risk": {
                "stop_loss": {"pct": 1.0},
                "trailing": {"activate_rr": 1.0, "atr": "atr", "mult": 1.1},
                "sizing": {"qty": 1},
            },
        },
        scen(
            LONG_PREFIX,
            [
                [100, 100.8, 99.8, 100.6],
                [100.6, 101.6, 100.4, 101.4],
                [101.4, 102.0, 101.2, 101.8],
                [101.8, 101.9, 101.0, 101.1],
                [101.1, 101.1, 101.1, 101.1],
            ],
        ),
        f"{PREFIX_TEXT} initial stop 99.0 (risk 1.0 from the fill 100). ATR(1) = the bar's true "
        f"range. Bar 6: high 100.8, excursion 0.8 < 1R: no move. Bar 7: highest high 101.6, "
        f"excursion 1.6 >= 1R: candidate 101.6 - 1.1 * {tr7:.1f} = {101.6 - 1.1 * tr7:.2f} -> "
        f"{c7:g} (down to the tick) > 99: stop moved to {c7:g} from bar 8. Bar 8: high 102.0, "
        f"candidate 102.0 - 1.1 * {tr8:.1f} = {102.0 - 1.1 * tr8:.2f} -> {c8:g}: stop {c8:g} from "
        f"bar 9. Bar 9 trades down to 101.0: the trailing stop fills at {c8:g}. (Bar 6's TR "
        f"{tr6:.1f} is not used: no activation there.)",
        trade("long", 1.0, 6, 100.0, 9, c8, "trailing_stop"),
        events=[{"kind": "trail", "count": 2}],
    )
    sl_fill, in_fill = 99.0 * (1 - 0.0002), 100.0 * (1 + 0.0002)
    yield one_trade_case(g, "stop_with_slippage", "2 bps slippage: market entry above the open, stop below the trigger", {
        "entries": LONG_ENTRY, "risk": sl1, "execution": {"slippage_bps": 2}},
        scen(LONG_PREFIX, [[100, 100.5, 99.6, 100.2], [100.2, 100.4, 98.8, 99.2],
                           [99.2, 99.2, 99.2, 99.2]]),
        f"{PREFIX_TEXT} With 2 bps slippage the buy fills at 100 * 1.0002 = {in_fill:g}; the "
        f"stop (99.0, from C) is reached in bar 7 and the sell fills 2 bps below it: 99 * "
        f"0.9998 = {sl_fill:g} (BYBIT_RULES: the trigger price plus slippage).",
        trade("long", 1.0, 6, in_fill, 7, sl_fill, "stop_loss"))  # fmt: skip
    tp_fill = 102.0 * (1 - 0.0002)
    yield one_trade_case(g, "take_profit_with_slippage", "2 bps slippage on the take-profit market close", {
        "entries": LONG_ENTRY, "risk": {"take_profit": {"pct": 2.0}, "sizing": {"qty": 1}},
        "execution": {"slippage_bps": 2}},
        scen(LONG_PREFIX, [[100, 100.8, 99.8, 100.6], [100.6, 102.3, 100.5, 102.1],
                           [102.1, 102.1, 102.1, 102.1]]),
        f"{PREFIX_TEXT} The buy fills at {in_fill:g}; the target 102.0 (from C) triggers in bar 7 "
        f"and its market sell fills at 102 * 0.9998 = {tp_fill:g}.",
        trade("long", 1.0, 6, in_fill, 7, tp_fill, "take_profit"))  # fmt: skip
    # the short mirror: trails above the lowest low
    s7 = max(99.6 - 98.4, abs(99.6 - 99.4), abs(98.4 - 99.4))
    s8 = max(98.8 - 98.0, abs(98.8 - 98.6), abs(98.0 - 98.6))
    u7 = tick_round(98.4 + 1.1 * s7, "up")
    u8 = tick_round(98.0 + 1.1 * s8, "up")
    yield one_trade_case(g, "trailing_atr_short", "short trailing stop: 1.1 x ATR above the lowest low", {
        "features": {"atr": {"indicator": "atr", "length": 1}}, "entries": SHORT_ENTRY,
        "risk": {"stop_loss": {"pct": 1.0}, "trailing": {"activate_rr": 1.0, "atr": "atr",
                                                         "mult": 1.1},
                 "sizing": {"qty": 1}}},
        scen(SHORT_PREFIX, [[100, 100.2, 99.2, 99.4], [99.4, 99.6, 98.4, 98.6],
                            [98.6, 98.8, 98.0, 98.2], [98.2, 99.0, 98.1, 98.9],
                            [98.9, 98.9, 98.9, 98.9]]),
        f"{SHORT_TEXT} initial stop 101.0 (risk 1.0). Bar 6: lowest low 99.2, excursion 0.8 < "
        f"1R. Bar 7: low 98.4, excursion 1.6: candidate 98.4 + 1.1 * {s7:.1f} = "
        f"{98.4 + 1.1 * s7:.2f} -> {u7:g} (up to the tick) < 101: stop {u7:g} from bar 8. Bar 8: "
        f"low 98.0, candidate 98.0 + 1.1 * {s8:.1f} = {98.0 + 1.1 * s8:.2f} -> {u8:g}. Bar 9 "
        f"trades up to 99.0: the buy stop fills at {u8:g}.",
        trade("short", 1.0, 6, 100.0, 9, u8, "trailing_stop"),
        events=[{"kind": "trail", "count": 2}])  # fmt: skip
    yield one_trade_case(g, "same_bar_short_conservative", "short: one bar reaches both: the stop is taken", {
        "entries": SHORT_ENTRY, "risk": sl_tp},
        scen(SHORT_PREFIX, [[100, 100.5, 99.5, 99.8], [99.8, 101.5, 97.5, 99.0],
                            [99, 99, 99, 99]]),
        f"{SHORT_TEXT} stop 101.0, target 100 - 2 * 1.0 = 98.0; bar 7 (open 99.8, high 101.5, "
        "low 97.5) reaches both: the conservative rule takes the stop, filled at 101.0.",
        trade("short", 1.0, 6, 100.0, 7, 101.0, "stop_loss"))  # fmt: skip
    yield Case(g, "stop_level_wrong_side_skip", "a stop level that is not below a long's entry skips the entry", {
        "features": {"rw": {"structure": "rolling_window", "bars": 5}}, "entries": LONG_ENTRY,
        "risk": {"stop_loss": {"level": "rw.max"}, "sizing": {"qty": 1}}},
        scen(LONG_PREFIX, [[100, 100.2, 99.8, 100.1], [100.1, 100.1, 100.1, 100.1]]),
        {"trades": 0, "final_equity": 10_000.0, "orders": [],
         "events": [{"kind": "skip", "contains": "not on the loss side", "count": 1,
                     "bar": 5}]},
        f"{LIMIT_TEXT} The stop level rw.max (the highest high of bars 1-5) is 100, not "
        "below the entry 100: no stop can be placed, so the entry is skipped with the reason "
        "(never an invented stop). No order, equity 10000.")  # fmt: skip
    yield one_trade_case(
        g,
        "trailing_not_activated",
        "trailing stop that never reaches its activation: the plain stop",
        {
            "features": {"atr": {"indicator": "atr", "length": 1}},
            "entries": LONG_ENTRY,
            "risk": {
                "stop_loss": {"pct": 1.0},
                "trailing": {"activate_rr": 2.0, "atr": "atr", "mult": 1.1},
                "sizing": {"qty": 1},
            },
        },
        scen(
            LONG_PREFIX,
            [
                [100, 100.8, 99.8, 100.6],
                [100.6, 101.6, 100.4, 101.4],
                [101.4, 101.5, 98.8, 99.0],
                [99, 99, 99, 99],
            ],
        ),
        f"{PREFIX_TEXT} stop 99.0, trailing activates at 2R = 2.0 of excursion; the highest "
        "high is 101.6 (1.6): never activated. Bar 8 falls to 98.8: the initial stop fills at "
        "99.0 (reason stop_loss).",
        trade("long", 1.0, 6, 100.0, 8, 99.0, "stop_loss"),
        events=[{"kind": "trail", "count": 0}],
    )
    yield one_trade_case(
        g,
        "stop_and_exit_rule",
        "the stop fills inside the bar before the exit rule's close",
        {"entries": LONG_ENTRY, "exits": {"long": ["close", "lt", 99.5]}, "risk": sl1},
        scen(
            LONG_PREFIX,
            [[100, 100.2, 99.6, 99.9], [99.9, 99.9, 98.9, 99.1], [99.1, 99.1, 99.1, 99.1]],
        ),
        f"{PREFIX_TEXT} stop 99.0. Bar 7 trades down to 98.9: the stop fills at 99.0 inside the "
        "bar; the exit rule (close 99.1 < 99.5) fires at bar 7's close, but the position is "
        "already flat: nothing to exit.",
        trade("long", 1.0, 6, 100.0, 7, 99.0, "stop_loss"),
    )


# ---------------------------------------------------------------------------- sizing
def sizing() -> Iterator[Case]:
    g = "sizing"
    tp_rows = [
        [100, 100.6, 99.7, 100.4],
        [100.4, 101.2, 100.3, 101.1],
        [101.1, 101.1, 101.1, 101.1],
    ]
    tp_text = "target 1 % = 101.0, reached in bar 7 (high 101.2)."

    def qty_case(name: str, desc: str, sizing_: dict[str, Any], qty: float, how: str,
                 leverage: float | None = None, stop: dict[str, Any] | None = None) -> Case:  # fmt: skip
        risk: dict[str, Any] = {"take_profit": {"pct": 1.0}, "sizing": sizing_}
        if stop is not None:
            risk["stop_loss"] = stop
        if leverage is not None:
            risk["leverage"] = leverage
        return one_trade_case(
            g,
            name,
            desc,
            {"entries": LONG_ENTRY, "risk": risk},
            scen(LONG_PREFIX, tp_rows),
            f"{PREFIX_TEXT} {how} {tp_text}",
            trade("long", qty, 6, 100.0, 7, 101.0, "take_profit"),
        )

    yield qty_case(
        "risk_pct",
        "risk 1 % of equity over a 2 % stop distance",
        {"risk_pct": 1.0},
        50.0,
        "stop 2 % = 98.0, distance 2.0; qty = 10000 * 1 % / 2.0 = 50.0 (notional 5000 "
        "<= leverage 1 x equity).",
        stop={"pct": 2.0},
    )
    q = float(Decimal(repr(10_000 * 0.007 / 3.0)).quantize(Decimal("0.001"), rounding=ROUND_FLOOR))
    yield qty_case(
        "risk_pct_rounds_down",
        "risk_pct quantity rounds down to the qty step",
        {"risk_pct": 0.7},
        q,
        f"stop 3 % = 97.0, distance 3.0; qty = 70 / 3 = {70 / 3:.6f}, rounded down to "
        f"the step 0.001: {q:g}.",
        stop={"pct": 3.0},
    )
    yield qty_case(
        "notional",
        "a fixed notional of 2500 USDT",
        {"notional": 2500},
        25.0,
        "qty = 2500 / C 100 = 25.0.",
    )
    yield qty_case(
        "equity_pct",
        "30 % of equity as notional",
        {"equity_pct": 30},
        30.0,
        "qty = 10000 * 30 % / 100 = 30.0.",
    )
    yield qty_case("qty_fixed", "a fixed quantity", {"qty": 0.123}, 0.123, "qty 0.123 as given.")
    yield qty_case(
        "qty_rounds_down",
        "a fixed quantity off the step rounds down",
        {"qty": 0.0525},
        0.052,
        "qty 0.0525 rounds down to the step 0.001: 0.052 (5.2 USDT >= min notional 5).",
    )
    yield qty_case(
        "equity_pct_with_leverage",
        "150 % of equity as notional needs leverage 2",
        {"equity_pct": 150},
        150.0,
        "qty = 10000 * 150 % / 100 = 150.0; notional 15000 <= leverage 2 x 10000; "
        "initial margin 7500 + fee 8.25 fits the balance.",
        leverage=2,
    )
    yield qty_case(
        "max_market_qty",
        "a size above maxMktOrderQty (500) is capped to it",
        {"qty": 600},
        500.0,
        "qty 600 (notional 60000 <= leverage 10 x 10000) is above BTCUSDT's market "
        "order maximum 500: capped to 500.0; initial margin 5000.",
        leverage=10,
    )
    yield one_trade_case(g, "risk_pct_short", "short: risk 1 % over a 2 % stop above the entry", {
        "entries": SHORT_ENTRY, "risk": {"stop_loss": {"pct": 2.0}, "take_profit": {"pct": 1.0},
                                         "sizing": {"risk_pct": 1.0}}},
        scen(SHORT_PREFIX, [[100, 100.3, 99.4, 99.6], [99.6, 99.7, 98.8, 98.9],
                            [98.9, 98.9, 98.9, 98.9]]),
        f"{SHORT_TEXT} stop 102.0 (distance 2.0): qty = 10000 * 1 % / 2 = 50.0; target 1 % "
        "below = 99.0, reached in bar 7 (low 98.8).",
        trade("short", 50.0, 6, 100.0, 7, 99.0, "take_profit"))  # fmt: skip
    for name, desc, sz, why in (
        (
            "min_qty_skip",
            "a size below minOrderQty is skipped, never rounded up",
            {"notional": 0.05},
            "qty = 0.05 / 100 = 0.0005 rounds down to 0 < min qty 0.001",
        ),
        (
            "min_notional_skip",
            "a size below the 5 USDT minimum notional is skipped",
            {"qty": 0.04},
            "qty 0.04 x 100 = 4 USDT < min notional 5",
        ),
    ):
        key = "below min qty" if "qty" in name else "below min notional"
        yield Case(g, name, desc, {"entries": LONG_ENTRY, "risk": {"sizing": sz}},
                   scen(LONG_PREFIX, tp_rows),
                   {"trades": 0, "final_equity": 10_000.0, "orders": [],
                    "events": [{"kind": "skip", "contains": key, "count": 1, "bar": 5}]},
                   f"{PREFIX_TEXT} {why}: no order, the skip is logged at bar 5 with the "
                   "reason; equity stays 10000.")  # fmt: skip
    # risk_pct sizing after a first trade: the second size comes from the new equity.
    rows = [
        [100, 100.6, 99.7, 100.4],
        [100.4, 101.2, 100.3, 101.1],
        [101.1, 101.1, 99.5, 99.5],
        [99.5, 100, 99.5, 100],
        [100, 100, 100, 100],
        [100, 100.2, 97.5, 97.8],
        [97.8, 97.8, 97.8, 97.8],
    ]
    q1 = 50.0
    t1 = trade("long", q1, 6, 100.0, 7, 101.0, "take_profit")
    eq1 = 10_000 + t1[1]
    q2 = float(Decimal(repr(eq1 * 0.01 / 2.0)).quantize(Decimal("0.001"), rounding=ROUND_FLOOR))
    t2 = trade("long", q2, 10, 100.0, 11, 98.0, "stop_loss")
    yield Case(g, "risk_pct_compounds", "risk_pct sizes the second trade from the equity after the first", {
        "entries": LONG_ENTRY, "risk": {"stop_loss": {"pct": 2.0}, "take_profit": {"pct": 1.0},
                                        "sizing": {"risk_pct": 1.0}}},
        scen(LONG_PREFIX, rows),
        {"trades": 2, "trade_list": [t1[0], t2[0]], "final_equity": money(eq1 + t2[1])},
        f"{PREFIX_TEXT} Trade 1: stop 98 (2 %), qty = 10000 * 1 % / 2 = 50, target 101 in bar 7. "
        f"{t1[2]}. Bar 8 falls to 99.5; bar 9 [99.5, 100, 99.5, 100] crosses above 99.7 again: "
        f"C = 100, equity {eq1:.6f}, qty = {eq1:.6f} * 1 % / 2 = {eq1 * 0.01 / 2:.6f} -> {q2:g}; "
        f"filled at bar 10's open 100, stop 98 reached in bar 11 (low 97.5). {t2[2]}. final "
        f"equity = {eq1 + t2[1]:.6f}")  # fmt: skip


# ---------------------------------------------------------------------------- orders
def orders() -> Iterator[Case]:
    g = "orders"

    def lim(tif: str | None = None, off: float = 50, ttl: int | None = None) -> dict[str, Any]:
        e: dict[str, Any] = {"type": "limit", "offset_bps": off}
        if tif is not None:
            e["tif"] = tif
        if ttl is not None:
            e["ttl_bars"] = ttl
        return {"entry": e}

    tp = {"take_profit": {"pct": 1.0}, "sizing": {"qty": 1}}
    lim_text = "limit = C * (1 - 50 bps) = 99.5 (rounded down to the tick), live from bar 6."
    yield one_trade_case(
        g,
        "limit_gtc_fill",
        "GTC limit buy 50 bps under the close: fills strictly through, maker",
        {"entries": LONG_ENTRY, "execution": lim(), "risk": tp},
        scen(
            LONG_PREFIX,
            [
                [100, 100.2, 99.5, 100.1],
                [100.1, 100.1, 99.4, 99.8],
                [99.8, 101.2, 99.7, 101],
                [101, 101, 101, 101],
            ],
        ),
        f"{LIMIT_TEXT} {lim_text} Bar 6's low 99.5 only touches the limit: no fill "
        "(strictly through). Bar 7 trades to 99.4: filled at 99.5, resting since bar 6: maker "
        "0.02 %. target = C * 1.01 = 101.0 reached in bar 8: taker.",
        trade("long", 1.0, 7, 99.5, 8, 101.0, "take_profit", entry_rate=MAKER),
        orders=[{"status": "Filled", "type": "Limit", "price": 99.5}],
    )
    yield one_trade_case(
        g,
        "limit_gap_open",
        "a resting limit buy on a bar that opens below it fills at the open",
        {"entries": LONG_ENTRY, "execution": lim(), "risk": tp},
        scen(
            LONG_PREFIX,
            [
                [100, 100.2, 99.6, 100.1],
                [99.2, 99.8, 99.1, 99.8],
                [99.8, 101.2, 99.7, 101],
                [101, 101, 101, 101],
            ],
        ),
        f"{LIMIT_TEXT} {lim_text} Bar 7 opens at 99.2, below the limit: filled at the "
        "open 99.2 (maker: the order rested since bar 6). Target 101.0 in bar 8.",
        trade("long", 1.0, 7, 99.2, 8, 101.0, "take_profit", entry_rate=MAKER),
        orders=[{"status": "Filled", "type": "Limit", "price": 99.5}],
    )
    yield one_trade_case(
        g,
        "limit_crosses_on_arrival",
        "a limit above the next open fills at the open as taker",
        {
            "entries": LONG_ENTRY,
            "execution": {"entry": {"type": "limit", "offset_bps": 0}},
            "risk": tp,
        },
        scen(
            LONG_PREFIX,
            [[99.8, 100.4, 99.7, 100.3], [100.3, 101.2, 100.2, 101], [101, 101, 101, 101]],
        ),
        f"{LIMIT_TEXT} limit = C = 100 (offset 0). Bar 6 opens at 99.8, already below the "
        "limit when the order arrives: it takes liquidity, filled at the open 99.8, taker. "
        "Target 101.0 in bar 7.",
        trade("long", 1.0, 6, 99.8, 7, 101.0, "take_profit"),
        orders=[{"status": "Filled", "type": "Limit", "price": 100.0}],
    )
    yield one_trade_case(
        g,
        "limit_short_gtc",
        "GTC limit sell 50 bps above the close",
        {"entries": SHORT_ENTRY, "execution": lim(), "risk": tp},
        scen(
            SHORT_PREFIX,
            [
                [100, 100.5, 99.9, 100.2],
                [100.2, 100.7, 100.1, 100.2],
                [100.2, 100.4, 98.9, 99.1],
                [99.1, 99.1, 99.1, 99.1],
            ],
        ),
        f"{SHORT_LIMIT_TEXT} limit = C * (1 + 50 bps) = 100.5 (rounded up). Bar 6's high 100.5 "
        "touches it (no fill); bar 7's high 100.7 trades through: filled at 100.5, maker. target "
        "= C * 0.99 = 99.0, reached in bar 8 (low 98.9).",
        trade("short", 1.0, 7, 100.5, 8, 99.0, "take_profit", entry_rate=MAKER),
        orders=[{"status": "Filled", "side": "Sell", "type": "Limit", "price": 100.5}],
    )
    yield one_trade_case(
        g,
        "ioc_fill",
        "IOC limit that trades in its first bar: filled, taker",
        {"entries": LONG_ENTRY, "execution": lim("IOC"), "risk": tp},
        scen(
            LONG_PREFIX, [[100, 100.1, 99.3, 99.8], [99.8, 101.2, 99.7, 101], [101, 101, 101, 101]]
        ),
        f"{LIMIT_TEXT} {lim_text} IOC trades only in its first bar (bar 6), whose low "
        "99.3 goes through 99.5: filled at 99.5; IOC fills are taker. Target 101.0 in bar 7.",
        trade("long", 1.0, 6, 99.5, 7, 101.0, "take_profit"),
        orders=[{"status": "Filled", "type": "Limit", "price": 99.5}],
    )
    yield one_trade_case(
        g,
        "fok_fill",
        "FOK limit that trades in its first bar: filled whole, taker",
        {"entries": LONG_ENTRY, "execution": lim("FOK"), "risk": tp},
        scen(
            LONG_PREFIX, [[100, 100.1, 99.3, 99.8], [99.8, 101.2, 99.7, 101], [101, 101, 101, 101]]
        ),
        f"{LIMIT_TEXT} {lim_text} FOK: bar 6 trades through 99.5: the whole qty fills at "
        "99.5, taker. Target 101.0 in bar 7.",
        trade("long", 1.0, 6, 99.5, 7, 101.0, "take_profit"),
        orders=[{"status": "Filled", "type": "Limit", "price": 99.5}],
    )
    no_fill_rows = [[100, 100.2, 99.6, 100.1], [100.1, 100.1, 99.0, 99.2], [99.2, 99.2, 99.2, 99.2]]
    for name, tif, reason in (("ioc_no_fill", "IOC", "IOC"), ("fok_no_fill", "FOK", "FOK")):
        yield Case(g, name, f"{tif} limit not reached in its first bar: cancelled", {
            "entries": LONG_ENTRY, "execution": lim(tif), "risk": tp},
            scen(LONG_PREFIX, no_fill_rows),
            {"trades": 0, "final_equity": 10_000.0,
             "orders": [{"status": "Cancelled", "type": "Limit", "price": 99.5, "reason": reason}]},
            f"{LIMIT_TEXT} {lim_text} Bar 6's low 99.6 does not reach it, and {tif} only "
            "trades in its first bar: cancelled at bar 6's end (bar 7 would have filled a GTC "
            "order). No trade, equity 10000.")  # fmt: skip
    yield Case(g, "postonly_would_take", "PostOnly limit that would cross on arrival is cancelled", {
        "entries": LONG_ENTRY, "execution": {"entry": {"type": "limit", "offset_bps": 0,
                                                        "tif": "PostOnly"}}, "risk": tp},
        scen(LONG_PREFIX, [[99.8, 100.4, 99.7, 100.3], [100.3, 101.2, 100.2, 101],
                           [101, 101, 101, 101]]),
        {"trades": 0, "final_equity": 10_000.0,
         "orders": [{"status": "Cancelled", "price": 100.0, "reason": "PostOnly"}]},
        f"{LIMIT_TEXT} limit = C = 100 (offset 0), PostOnly. Bar 6 opens at 99.8 < 100: "
        "the order would take liquidity on arrival, so it is cancelled. No trade.")  # fmt: skip
    yield one_trade_case(
        g,
        "postonly_rests",
        "PostOnly limit below the market rests and fills as maker",
        {"entries": LONG_ENTRY, "execution": lim("PostOnly"), "risk": tp},
        scen(
            LONG_PREFIX,
            [
                [100, 100.2, 99.6, 100.1],
                [100.1, 100.1, 99.4, 99.8],
                [99.8, 101.2, 99.7, 101],
                [101, 101, 101, 101],
            ],
        ),
        f"{LIMIT_TEXT} {lim_text} PostOnly: bar 6 opens at 100 > 99.5, so it rests; bar 7 "
        "trades through: filled at 99.5, maker. Target 101.0 in bar 8.",
        trade("long", 1.0, 7, 99.5, 8, 101.0, "take_profit", entry_rate=MAKER),
        orders=[{"status": "Filled", "type": "Limit", "price": 99.5}],
    )
    yield Case(g, "ttl_cancel", "an unfilled GTC limit is cancelled after ttl_bars exec bars", {
        "entries": LONG_ENTRY, "execution": lim(ttl=3), "risk": tp},
        scen(LONG_PREFIX, [[100, 100.2, 99.6, 100.1]] + [[100.1, 100.2, 99.6, 100.1]] * 2
             + [[100.1, 100.1, 99.0, 99.2]]
             + [[99.2, 99.2, 99.2, 99.2]]),
        {"trades": 0, "final_equity": 10_000.0,
         "orders": [{"status": "Cancelled", "price": 99.5, "reason": "ttl"}],
         "events": [{"kind": "cancel", "contains": "ttl_bars", "count": 1, "bar": 8}]},
        f"{LIMIT_TEXT} {lim_text} ttl_bars 3: placed at bar 5's close, it rests through "
        "bars 6, 7, 8 (lows 99.6, no fill) and is cancelled at bar 8's close, before bar 9 "
        "(low 99.0) could fill it. No trade.")  # fmt: skip
    yield one_trade_case(
        g,
        "ttl_fills_first",
        "a limit that fills before its ttl expires is kept",
        {"entries": LONG_ENTRY, "execution": lim(ttl=3), "risk": tp},
        scen(
            LONG_PREFIX,
            [
                [100, 100.2, 99.6, 100.1],
                [100.1, 100.1, 99.6, 100.0],
                [100.0, 100.0, 99.3, 99.8],
                [99.8, 101.2, 99.7, 101],
                [101, 101, 101, 101],
            ],
        ),
        f"{LIMIT_TEXT} {lim_text} ttl_bars 3: bar 8 (the third bar it rests) trades to "
        "99.3: filled at 99.5 (maker) before the cancel at bar 8's close. Target 101.0 in bar 9.",
        trade("long", 1.0, 8, 99.5, 9, 101.0, "take_profit", entry_rate=MAKER),
        events=[{"kind": "cancel", "count": 0}],
        orders=[{"status": "Filled", "type": "Limit", "price": 99.5}],
    )


# ---------------------------------------------------------------------------- halts
def halts() -> Iterator[Case]:
    g = "halts"
    q = 50.0
    fee_in = TAKER * q * 100
    eq6 = 10_000 - fee_in + q * (99.2 - 100)
    eq7 = 10_000 - fee_in + q * (97.8 - 100)
    dd7 = (10_000 - eq7) / 10_000 * 100
    t = trade("long", q, 6, 100.0, 8, 97.8, "exit.long")
    yield one_trade_case(
        g,
        "max_drawdown",
        "a 1 % drawdown from the equity peak halts new entries",
        {
            "entries": LONG_ENTRY,
            "exits": {"long": ["close", "lt", 98]},
            "risk": {"sizing": {"qty": q}, "max_drawdown_pct": 1.0},
        },
        scen(
            LONG_PREFIX,
            [[100, 100, 99, 99.2], [99.2, 99.2, 97.8, 97.8]]
            + [[97.8, 97.8, 97.8, 97.8]] * 3
            + [[97.8, 100, 97.8, 100]]
            + [[100, 100, 100, 100]] * 3,
        ),
        f"{PREFIX_TEXT} qty 50. Equity at the exec closes (marked at the close): peak 10000; bar 6 "
        f"10000 - {fee_in:g} (entry fee) + 50 * (99.2 - 100) = {eq6:.2f}; bar 7 50 * (97.8 - 100) "
        f"-> {eq7:.2f}, drawdown {dd7:.4f} % >= 1 %: halt at bar 7. exit.long (close < 98) also "
        "fires at bar 7: sold at bar 8's open 97.8. Bar 11 crosses above 99.7 again: the entry "
        "is skipped (halted).",
        t,
        events=[
            {"kind": "halt", "contains": "drawdown", "count": 1, "bar": 7},
            {"kind": "skip", "contains": "halted", "count": 1, "bar": 11},
        ],
    )
    # Daily loss: start 23:50 UTC; bar 9 closes at 00:00 of the next day.
    eq6d = 10_000 - fee_in + q * (97.9 - 100)
    loss6 = (10_000 - eq6d) / 10_000 * 100
    d1 = trade("long", q, 6, 100.0, 7, 97.9, "exit.long")
    open_fee = TAKER * q * 100
    final = 10_000 + d1[1] - open_fee + q * (100 - 100)
    c = Case(g, "daily_loss", "a 1 % loss since the day's start halts entries until 00:00 UTC", {
        "entries": LONG_ENTRY, "exits": {"long": ["close", "lt", 98]},
        "risk": {"sizing": {"qty": q}, "daily_loss_pct": 1.0}},
        scen(LONG_PREFIX, [[100, 100, 97.9, 97.9], [97.9, 99.6, 97.9, 99.6],
                           [99.6, 100, 99.6, 100], [100, 100, 99.5, 99.5],
                           [99.5, 100, 99.5, 100]] + [[100, 100, 100, 100]] * 4),
        {"trades": 1, "trade_list": [d1[0]], "final_equity": money(final),
         "open_position": {"side": "long", "qty": q, "entry_price": 100.0, "entry_bar": 11},
         "events": [{"kind": "halt", "contains": "daily loss", "count": 1, "bar": 6},
                    {"kind": "skip", "contains": "halted", "count": 1, "bar": 8}]},
        f"start 2024-01-01 23:50 UTC, so bar k closes at 23:51 + k min and bar 9 closes at "
        f"00:00 of 2024-01-02. {PREFIX_TEXT} qty 50. The day's start equity is 10000 (first "
        f"decision). Bar 6 closes 97.9: equity {eq6d:.2f}, loss {loss6:.4f} % >= 1 %: daily halt "
        "at bar 6; exit.long (close < 98) sells at bar 7's open 97.9. "
        f"{d1[2]}. Bar 7 closes 99.6 (no cross); bar 8 closes 100 after 99.6: the entry rule "
        "fires at 23:59, still 2024-01-01: skipped (halted). Bar 9 closes 99.5 at 00:00 of the "
        "new day: a new day's start equity, the halt ends. Bar 10 closes 100 after 99.5: the "
        "entry is taken, filled at bar 11's open 100, open to the end (last close 100). final "
        f"equity = 10000 + {d1[1]:.6f} - entry fee {open_fee:g} = {final:.6f}",
        start="2024-01-01T23:50:00Z")  # fmt: skip
    yield c
    # drawdown measured from a later peak, after a winning trade
    w = trade("long", q, 6, 100.0, 7, 102.0, "take_profit")
    peak = 10_000 + w[1]
    l2 = trade("long", q, 10, 100.0, 11, 98.0, "exit.long")
    eq10 = peak - fee_in + q * (98.0 - 100)
    dd10 = (peak - eq10) / peak * 100
    yield Case(g, "drawdown_from_peak", "the drawdown halt measures from the highest equity, not the start", {
        "entries": LONG_ENTRY, "exits": {"long": ["close", "lt", 99]},
        "risk": {"take_profit": {"pct": 2.0}, "sizing": {"qty": q}, "max_drawdown_pct": 1.0}},
        scen(LONG_PREFIX, [[100, 100.8, 99.9, 100.6], [100.6, 102.3, 100.5, 102.1],
                           [102.1, 102.1, 99.5, 99.6], [99.6, 100, 99.6, 100],
                           [100, 100, 98.0, 98.0]] + [[98, 98, 98, 98]] * 2
             + [[98, 100, 98, 100]] + [[100, 100, 100, 100]] * 2),
        {"trades": 2, "trade_list": [w[0], l2[0]], "final_equity": money(peak + l2[1]),
         "events": [{"kind": "halt", "contains": "drawdown", "count": 1, "bar": 10},
                    {"kind": "skip", "contains": "halted", "count": 1, "bar": 13}]},
        f"{PREFIX_TEXT} qty 50, target 2 % = 102 reached in bar 7: {w[2]}; equity {peak:.6f} "
        "at bar 7's close is the peak. Bar 9 closes 100 after 99.6: a second long (target 102), "
        f"filled at bar 10's open 100. Bar 10 closes 98: equity = {peak:.6f} - {fee_in:g} + 50 * "
        f"(98 - 100) = {eq10:.6f}, {dd10:.4f} % below the peak (>= 1 %) although still "
        f"{(eq10 / 10_000 - 1) * 100:.4f} % vs the start: halt at bar 10. exit.long (close < 99) "
        f"sells at bar 11's open 98: {l2[2]}. Bar 13 crosses 99.7 again: skipped (halted). "
        f"final equity = {peak:.6f} + {l2[1]:.6f} = {peak + l2[1]:.6f}")  # fmt: skip


# ---------------------------------------------------------------------------- funding
def funding() -> Iterator[Case]:
    g = "funding"
    rows = [[100, 100, 100, 100]] * 6 + [[100, 100.5, 100, 100.5]] + [[100.5] * 4] * 2
    exit_rule = {"long": ["close", "cross_above", 100.3]}
    short_exit = {"short": ["close", "cross_above", 100.3]}
    q = 10.0

    def fcase(name: str, desc: str, side: str, fund: list[list[float]], paid: float,
              why: str) -> Case:  # fmt: skip
        entries = LONG_ENTRY if side == "long" else SHORT_ENTRY
        prefix = LONG_PREFIX if side == "long" else SHORT_PREFIX
        ex = exit_rule if side == "long" else short_exit
        t = trade(side, q, 6, 100.0, 13, 100.5, f"exit.{side}", funding=paid)
        sc = scen(prefix, rows)
        sc["funding"] = fund
        return Case(g, name, desc, {"entries": entries, "exits": ex, "risk": {"sizing": {"qty": q}}},
                    sc, {"trades": 1, "trade_list": [t[0]], "final_equity": money(10_000 + t[1]),
                         "funding_paid": money(paid)},
                    f"{PREFIX_TEXT if side == 'long' else SHORT_TEXT} qty 10. Bars 6-11 flat 100, "
                    "bar 12 closes 100.5 (close cross_above 100.3: the exit fires), sold/bought at "
                    f"bar 13's open 100.5. A settlement [m, rate] happens at the close of bar m - "
                    f"1 with mark = that bar's close. {why} {t[2]}; final equity = 10000 + "
                    f"{t[1]:.6f} = {10_000 + t[1]:.6f}")  # fmt: skip

    yield fcase(
        "long_pays_positive",
        "a long pays a positive funding rate",
        "long",
        [[10, 0.0001]],
        q * 100 * 0.0001,
        "Funding at minute 10 (bar 9's close 100), rate 0.01 %: the long pays 10 * 100 * "
        "0.0001 = 0.1.",
    )
    yield fcase(
        "short_receives_positive",
        "a short receives a positive funding rate",
        "short",
        [[10, 0.0001]],
        -q * 100 * 0.0001,
        "Funding at minute 10, rate 0.01 %: the short receives 10 * 100 * 0.0001 = 0.1 "
        "(paid -0.1).",
    )
    yield fcase(
        "long_receives_negative",
        "a negative rate: the long receives",
        "long",
        [[10, -0.0002]],
        -q * 100 * 0.0002,
        "Funding at minute 10, rate -0.02 %: shorts pay longs; the long receives 0.2.",
    )
    yield fcase(
        "short_pays_negative",
        "a negative rate: the short pays",
        "short",
        [[10, -0.0002]],
        q * 100 * 0.0002,
        "Funding at minute 10, rate -0.02 %: the short pays 10 * 100 * 0.0002 = 0.2.",
    )
    yield fcase(
        "not_open_at_instant",
        "no funding for a position that opens at the settlement instant",
        "long",
        [[6, 0.01]],
        0.0,
        "Funding at minute 6 = bar 6's open, the very instant the entry fills: the "
        "position was not open at the settlement, so nothing is paid (rate 1 % would "
        "have cost 10).",
    )
    yield fcase(
        "open_at_close_instant",
        "funding is due by a position closed at the settlement instant",
        "long",
        [[13, 0.001]],
        q * 100.5 * 0.001,
        "Funding at minute 13 = bar 13's open, the instant the exit fills: the position is "
        "still open at the settlement and pays 10 * 100.5 (bar 12's close) * 0.001 = "
        "1.005.",
    )
    yield fcase(
        "several_settlements",
        "three settlements, each on the mark at its instant",
        "long",
        [[3, 0.001], [8, 0.0001], [12, 0.0003], [13, -0.0001]],
        q * 100 * 0.0001 + q * 100 * 0.0003 + q * 100.5 * -0.0001,
        "Settlements at minutes 3 (flat: nothing), 8 (mark 100, 0.01 %: 0.1), 12 (mark "
        "100, 0.03 %: 0.3) and 13 (mark 100.5 = bar 12's close, -0.01 %: -0.1005): paid "
        "0.1 + 0.3 - 0.1005 = 0.2995.",
    )


# ---------------------------------------------------------------------------- liquidation
def liquidation() -> Iterator[Case]:
    g = "liquidation"
    q, lev, mmr = 10.0, 10.0, 0.005
    im = q * 100 / lev
    lp_mark = (q * 100 - im) / (q * (1 - mmr))
    lp_short = (q * 100 + im) / (q * (1 + mmr))
    fee_in = TAKER * q * 100

    def liq_case(name: str, desc: str, side: str, rows: list[list[float]], bp: float,
                 why: str, leverage: float = lev, run: dict[str, Any] | None = None,
                 extra_risk: dict[str, Any] | None = None) -> Case:  # fmt: skip
        margin = q * 100 / leverage
        net = -margin - fee_in
        d = {"side": side, "entry_bar": 6, "exit_bar": 7, "entry_price": 100.0,
             "exit_price": bp, "exit_reason": "liquidation", "qty": q, "net_pnl": money(net)}  # fmt: skip
        risk = {"sizing": {"qty": q}, "leverage": leverage, **(extra_risk or {})}
        entries = LONG_ENTRY if side == "long" else SHORT_ENTRY
        prefix = LONG_PREFIX if side == "long" else SHORT_PREFIX
        c = Case(g, name, desc, {"entries": entries, "risk": risk}, scen(prefix, rows),
                 {"trades": 1, "trade_list": [d], "final_equity": money(10_000 + net),
                  "liquidations": 1},
                 f"{PREFIX_TEXT if side == 'long' else SHORT_TEXT} qty {q:g} at leverage "
                 f"{leverage:g}: initial margin IM = 10 * 100 / {leverage:g} = {margin:g}. {why} "
                 f"The position closes at the bankruptcy price {bp:g} with no closing fee; the "
                 f"margin is lost: net = -{margin:g} - entry fee {fee_in:g} = {net:.6f}; final "
                 f"equity {10_000 + net:.6f}.", run=run)  # fmt: skip
        return c

    yield liq_case(
        "long_mark_basis",
        "long at 10x: the low reaches the liquidation price",
        "long",
        [[100, 100, 90.5, 91], [91, 91, 90.4, 90.6], [90.6] * 4],
        90.0,
        f"BTCUSDT tier 1 MMR 0.5 %, maintenance margin on the mark (Bybit since "
        f"2025-09-02): long LP = (qty * entry - IM) / (qty * (1 - MMR)) = 900 / 9.95 = "
        f"{lp_mark:.6f}; bankruptcy BP = 100 * (1 - 1/10) = 90. Bar 6's low 90.5 stays "
        f"above LP; bar 7's low 90.4 reaches it: liquidated.",
    )
    yield liq_case(
        "long_entry_basis",
        "long at 10x, maintenance margin on the entry price (before 2025-09-02)",
        "long",
        [[100, 100, 90.6, 91], [91, 91, 90.5, 90.8], [90.8] * 4],
        90.0,
        "mm_basis entry: long LP = 100 * (1 - 1/10 + 0.005) = 90.5 exactly; BP 90. Bar "
        "6's low 90.6 stays above; bar 7's low 90.5 touches it (inclusive): liquidated.",
        run={"mm_basis": "entry"},
    )
    yield liq_case(
        "short_mark_basis",
        "short at 10x: the high reaches the liquidation price",
        "short",
        [[100, 109.4, 100, 109], [109, 109.5, 108.9, 109.2], [109.2] * 4],
        110.0,
        f"short LP = (qty * entry + IM) / (qty * (1 + MMR)) = 1100 / 10.05 = "
        f"{lp_short:.6f}; BP = 100 * (1 + 1/10) = 110. Bar 6's high 109.4 stays below; "
        f"bar 7's high 109.5 reaches it: liquidated.",
    )
    yield liq_case(
        "before_a_far_stop",
        "a stop beyond the liquidation price never fills: liquidation first",
        "long",
        [[100, 100, 90.5, 91], [91, 91, 87.5, 88], [88] * 4],
        90.0,
        f"stop 12 % = 88.0 lies beyond LP {lp_mark:.6f}: falling through bar 7 the path "
        "reaches LP first: liquidated, the stop is cancelled with the position.",
        extra_risk={"stop_loss": {"pct": 12.0}},
    )
    lp5 = (q * 100 - q * 100 / 5) / (q * (1 - mmr))
    yield liq_case(
        "leverage_5x",
        "long at 5x: LP about 19.6 % below the entry",
        "long",
        [[100, 100, 80.5, 81], [81, 81, 80.4, 80.6], [80.6] * 4],
        80.0,
        f"long LP = (1000 - 200) / 9.95 = {lp5:.6f}; BP = 100 * (1 - 1/5) = 80. Bar 6's "
        f"low 80.5 stays above LP; bar 7's low 80.4 reaches it.",
        leverage=5.0,
    )
    t = trade("long", q, 6, 100.0, 7, 95.0, "stop_loss")
    yield one_trade_case(
        g,
        "stop_before_liquidation",
        "a stop inside the liquidation price fills normally",
        {
            "entries": LONG_ENTRY,
            "risk": {"sizing": {"qty": q}, "leverage": lev, "stop_loss": {"pct": 5.0}},
        },
        scen(LONG_PREFIX, [[100, 100, 96, 96.5], [96.5, 96.5, 90.3, 90.8], [90.8] * 4]),
        f"{PREFIX_TEXT} qty 10 at 10x, LP {lp_mark:.6f}; stop 5 % = 95.0. Bar 7 falls to 90.3, "
        "through both: the path reaches the stop 95 first, so the position is stopped out at 95 "
        "and never liquidated.",
        t,
        liquidations=0,
    )


def funding_liquidation() -> Iterator[Case]:
    """Funding beyond the available balance drains the isolated margin and moves the
    liquidation price (BYBIT_RULES, Margin): a low that the original price would have
    survived now liquidates. ETHUSDT (tick 0.01, MMR 0.5 % in tier 1), price ~200."""
    q, lev, mmr, rate = 495.0, 10.0, 0.005, 0.001
    im = q * 200 / lev
    fee_in = TAKER * q * 200
    avail = 10_000 - fee_in - im
    fund = q * 200 * rate
    drained = fund - avail
    margin = im - drained
    lp_before = (q * 200 - im) / (q * (1 - mmr))
    lp_after = (q * 200 - margin) / (q * (1 - mmr))
    bp = 200 - margin / q
    net = -margin - fee_in - fund
    rows = [[199, 199, 199, 199]] * 5 + [[199, 200, 199, 200]] + [[200, 200, 200, 200]] * 3
    rows += [[200, 200, 180.95, 181.5], [181.5, 181.5, 181.5, 181.5]]
    sc = {"segments": [{"flat": 199, "bars": 5}, {"bars": rows[5:]}], "funding": [[9, rate]]}
    d = {"side": "long", "entry_bar": 6, "exit_bar": 9, "entry_price": 200.0,
         "exit_price": round(bp, 10), "exit_reason": "liquidation", "qty": q,
         "net_pnl": money(net), "funding": money(fund)}  # fmt: skip
    yield Case(
        "liquidation", "funding_drains_margin",
        "funding beyond the available balance comes out of the margin and moves the "
        "liquidation price", {
            "entries": {"long": ["close", "cross_above", 199.5]},
            "risk": {"sizing": {"qty": q}, "leverage": lev}},
        sc,
        {"trades": 1, "trade_list": [d], "final_equity": money(10_000 + net), "liquidations": 1,
         "funding_paid": money(fund)},
        "ETHUSDT. bars 0-4 flat 199, bar 5 [199, 200, 199, 200]: close cross_above 199.5 "
        f"fires at bar 5 (C = 200); qty 495 at 10x fills at bar 6's open 200: notional 99000, IM "
        f"= {im:g}, entry fee {fee_in:g}, available balance 10000 - {fee_in:g} - {im:g} = "
        f"{avail:g}. Liquidation price (mark basis) = (qty * entry - margin) / (qty * (1 - "
        f"0.005)) = {lp_before:.6f}. Funding at minute 9 (bar 8's close 200), rate 0.1 %: 495 * "
        f"200 * 0.001 = {fund:g}; {avail:g} come from the available balance, the other "
        f"{drained:g} from the position margin: margin {margin:g}, liquidation price now "
        f"{lp_after:.6f}, bankruptcy price 200 - {margin:g} / 495 = {bp:.6f}. Bar 9's low 180.95 "
        f"is above the old liquidation price but reaches the new one: liquidated at {bp:.6f}, "
        f"the margin lost. net = -{margin:g} - {fee_in:g} - funding {fund:g} = {net:.6f}: the "
        "whole balance (isolated margin with no balance left over).",
        symbol="ETHUSDT",
    )  # fmt: skip


FAMILIES = [risk, sizing, orders, halts, funding, liquidation, funding_liquidation]
