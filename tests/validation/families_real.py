"""Real-data verification plays: ordinary strategies on short windows of the real FILUSDT
and AVAXUSDT 1m files in ``../shared/data/real``. No numbers are predicted for them; each
must pass all 23 audit checks, give the same result through the stream feed as in batch,
and trade at least once in its window (the rules are chosen to trade often).

The BTCUSD file is 1h spot data: the engine's clock is built from 1m bars, so it is not
used here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FIL = ("FILUSDT", "FILUSDT_1m_2023-04_2023-06.csv.gz")
AVAX = ("AVAXUSDT", "AVAXUSDT_1m_2026-06_2026-07.csv.gz")


@dataclass
class RealCase:
    """One real-data play and its expectation (data window + verdicts)."""

    name: str
    description: str
    market: tuple[str, str]
    window: tuple[str, str]
    rules: dict[str, Any]
    group: str = "real"

    def play_doc(self) -> dict[str, Any]:
        rules = dict(self.rules)
        doc: dict[str, Any] = {
            "name": f"v_real_{self.name}"[:64], "version": 1, "description": self.description,
            "market": {"symbol": self.market[0]},
            "timeframes": rules.pop("timeframes", {"exec": "5m"}),
        }  # fmt: skip
        for key in ("features", "setups", "entries", "exits", "risk", "execution"):
            if key in rules:
                doc[key] = rules.pop(key)
        doc.setdefault("risk", {"sizing": {"equity_pct": 20}})
        if rules:
            raise ValueError(f"real/{self.name}: unknown blocks {sorted(rules)}")
        return doc

    def expect_doc(self) -> dict[str, Any]:
        return {
            "data": {"file": self.market[1], "start": self.window[0], "end": self.window[1]},
            "expect": {"audit": "pass", "stream_equals_batch": True, "min_trades": 1},
            "notes": self.description,
        }


def _cross(fast: str, slow: str | float) -> dict[str, Any]:
    return {"entries": {"long": [fast, "cross_above", slow], "short": [fast, "cross_below", slow]}}


def _ma_pair(ind: str, fast: int, slow: int) -> dict[str, Any]:
    return {"features": {"fast": {"indicator": ind, "length": fast},
                         "slow": {"indicator": ind, "length": slow}}, **_cross("fast", "slow")}  # fmt: skip


SL_TP = {"stop_loss": {"pct": 1.0}, "take_profit": {"pct": 2.0}}
ATR_RISK = {"stop_loss": {"atr": "atr", "mult": 2.0}, "take_profit": {"rr": 2.0}}
ATR = {"atr": {"indicator": "atr", "length": 14}}


def _with(base: dict[str, Any], **blocks: Any) -> dict[str, Any]:
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    for k, v in blocks.items():
        if k == "features":
            out["features"] = {**out.get("features", {}), **v}
        else:
            out[k] = v
    return out


def _risk(sizing: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    return {**kw, "sizing": sizing or {"equity_pct": 20}}


def cases() -> list[RealCase]:
    c: list[RealCase] = []

    def add(name: str, desc: str, market: tuple[str, str], window: tuple[str, str],
            rules: dict[str, Any]) -> None:  # fmt: skip
        c.append(RealCase(name, desc, market, window, rules))

    # --- moving-average crosses on several timeframes, sizing modes and stops
    add(
        "ema_cross_5m_fil",
        "EMA 9/21 cross on 5m, 1 %/2 % stop/target",
        FIL,
        ("2023-04-03", "2023-04-10"),
        _with(_ma_pair("ema", 9, 21), risk=_risk(**SL_TP)),
    )
    add(
        "ema_cross_1m_avax",
        "EMA 20/50 cross on 1m, always in the market",
        AVAX,
        ("2026-06-02", "2026-06-09"),
        _with(_ma_pair("ema", 20, 50), timeframes={"exec": "1m"}),
    )
    add(
        "sma_cross_15m_fil",
        "SMA 10/30 cross on 15m, notional sizing",
        FIL,
        ("2023-04-10", "2023-04-24"),
        _with(
            _ma_pair("sma", 10, 30),
            timeframes={"exec": "15m"},
            risk=_risk({"notional": 2000}, **SL_TP),
        ),
    )
    add(
        "wma_cross_3m_avax",
        "WMA 10/40 cross on 3m",
        AVAX,
        ("2026-06-08", "2026-06-15"),
        _with(_ma_pair("wma", 10, 40), timeframes={"exec": "3m"}),
    )
    add(
        "hma_cross_5m_fil",
        "HMA 9/34 cross on 5m with ATR stop and 2R target",
        FIL,
        ("2023-04-17", "2023-04-24"),
        _with(_ma_pair("hma", 9, 34), features=ATR, risk=_risk({"risk_pct": 0.5}, **ATR_RISK)),
    )
    add(
        "dema_cross_15m_avax",
        "DEMA 8/21 cross on 15m",
        AVAX,
        ("2026-06-15", "2026-06-29"),
        _with(_ma_pair("dema", 8, 21), timeframes={"exec": "15m"}),
    )
    add(
        "tema_cross_5m_fil",
        "TEMA 10/30 cross on 5m, qty sizing",
        FIL,
        ("2023-04-24", "2023-05-01"),
        _with(_ma_pair("tema", 10, 30), risk=_risk({"qty": 200}, **SL_TP)),
    )
    add(
        "kama_cross_15m_fil",
        "KAMA 10/30 cross on 15m",
        FIL,
        ("2023-05-01", "2023-05-15"),
        _with(_ma_pair("kama", 10, 30), timeframes={"exec": "15m"}),
    )
    add(
        "zlema_cross_5m_avax",
        "ZLEMA 12/34 cross on 5m",
        AVAX,
        ("2026-06-22", "2026-06-29"),
        _with(_ma_pair("zlema", 12, 34)),
    )
    add(
        "t3_cross_15m_fil",
        "T3 5/10 cross on 15m",
        FIL,
        ("2023-05-08", "2023-05-22"),
        _with(_ma_pair("t3", 5, 10), timeframes={"exec": "15m"}),
    )
    add(
        "trima_cross_5m_fil",
        "TRIMA 10/30 cross on 5m",
        FIL,
        ("2023-05-15", "2023-05-22"),
        _with(_ma_pair("trima", 10, 30)),
    )
    add(
        "alma_cross_5m_avax",
        "ALMA 9/30 cross on 5m",
        AVAX,
        ("2026-07-01", "2026-07-08"),
        _with(_ma_pair("alma", 9, 30)),
    )
    add(
        "vwma_cross_5m_fil",
        "VWMA 10/30 cross on 5m",
        FIL,
        ("2023-05-22", "2023-05-29"),
        _with(_ma_pair("vwma", 10, 30)),
    )
    add("price_vs_ema_1h_fil", "close crosses EMA(20) on 1h, three weeks", FIL,
        ("2023-05-29", "2023-06-19"), _with({"features": {"ema": {"indicator": "ema", "length": 20}}},
                                            timeframes={"exec": "1h"},
                                            **_cross("close", "ema")))  # fmt: skip

    # --- oscillators
    def osc(ind: str, params: dict[str, Any], field: str, lo: float, hi: float) -> dict[str, Any]:
        ref = "osc" if field == "" else f"osc.{field}"
        return {"features": {"osc": {"indicator": ind, **params}},
                "entries": {"long": [ref, "cross_above", lo], "short": [ref, "cross_below", hi]},
                "risk": _risk(**SL_TP)}  # fmt: skip

    add(
        "rsi_reversion_5m_fil",
        "RSI(14) crosses back above 30 / below 70",
        FIL,
        ("2023-06-01", "2023-06-08"),
        osc("rsi", {"length": 14}, "", 30, 70),
    )
    add(
        "rsi_reversion_1m_avax",
        "RSI(7) reversion on 1m",
        AVAX,
        ("2026-07-06", "2026-07-13"),
        _with(osc("rsi", {"length": 7}, "", 25, 75), timeframes={"exec": "1m"}),
    )
    add(
        "stoch_5m_avax",
        "stochastic %K crosses 20 / 80",
        AVAX,
        ("2026-07-08", "2026-07-15"),
        osc("stoch", {}, "k", 20, 80),
    )
    add(
        "stochrsi_15m_fil",
        "stochastic RSI %K crosses 20 / 80 on 15m",
        FIL,
        ("2023-06-05", "2023-06-19"),
        _with(osc("stochrsi", {}, "k", 20, 80), timeframes={"exec": "15m"}),
    )
    add(
        "cci_5m_fil",
        "CCI(20) crosses -100 / +100",
        FIL,
        ("2023-06-12", "2023-06-19"),
        osc("cci", {"length": 20}, "", -100, 100),
    )
    add(
        "willr_5m_avax",
        "Williams %R crosses -80 / -20",
        AVAX,
        ("2026-07-13", "2026-07-20"),
        osc("willr", {"length": 14}, "", -80, -20),
    )
    add(
        "mfi_15m_avax",
        "MFI(14) crosses 20 / 80 on 15m",
        AVAX,
        ("2026-07-15", "2026-07-29"),
        _with(osc("mfi", {"length": 14}, "", 20, 80), timeframes={"exec": "15m"}),
    )
    add(
        "cmo_5m_fil",
        "CMO(14) crosses -50 / +50",
        FIL,
        ("2023-06-19", "2023-06-26"),
        osc("cmo", {"length": 14}, "", -50, 50),
    )
    add(
        "ultosc_5m_fil",
        "Ultimate oscillator crosses 30 / 70",
        FIL,
        ("2023-06-22", "2023-06-29"),
        osc("ultosc", {}, "", 30, 70),
    )
    add("fisher_5m_avax", "Fisher transform crosses its trigger", AVAX,
        ("2026-07-20", "2026-07-27"), {"features": {"f": {"indicator": "fisher", "length": 9}},
                                       **_cross("f.fisher", "f.trigger"), "risk": _risk(**SL_TP)})  # fmt: skip
    add("macd_hist_15m_fil", "MACD histogram crosses zero on 15m", FIL,
        ("2023-04-05", "2023-04-19"), {"timeframes": {"exec": "15m"},
                                       "features": {"m": {"indicator": "macd"}},
                                       **_cross("m.hist", 0), "risk": _risk(**SL_TP)})  # fmt: skip
    add("macd_signal_5m_avax", "MACD line crosses its signal", AVAX,
        ("2026-06-03", "2026-06-10"), {"features": {"m": {"indicator": "macd"}},
                                       **_cross("m.line", "m.signal")})  # fmt: skip
    add(
        "ppo_5m_fil",
        "PPO crosses zero",
        FIL,
        ("2023-04-12", "2023-04-19"),
        {"features": {"p": {"indicator": "ppo"}}, **_cross("p", 0)},
    )
    add(
        "trix_15m_avax",
        "TRIX(9) crosses zero on 15m",
        AVAX,
        ("2026-06-10", "2026-06-24"),
        {
            "timeframes": {"exec": "15m"},
            "features": {"t": {"indicator": "trix", "length": 9}},
            **_cross("t", 0),
        },
    )
    add("roc_mom_5m_fil", "ROC(10) crosses zero while momentum agrees", FIL,
        ("2023-04-19", "2023-04-26"), {
            "features": {"roc": {"indicator": "roc", "length": 10},
                         "mom": {"indicator": "mom", "length": 10}},
            "entries": {"long": {"all": [["roc", "cross_above", 0], ["mom", "gt", 0]]},
                        "short": {"all": [["roc", "cross_below", 0], ["mom", "lt", 0]]}},
            "risk": _risk(**SL_TP)})  # fmt: skip
    add(
        "aroon_5m_avax",
        "Aroon oscillator crosses zero",
        AVAX,
        ("2026-06-17", "2026-06-24"),
        {"features": {"a": {"indicator": "aroon", "length": 14}}, **_cross("a.osc", 0)},
    )
    add("adx_di_15m_fil", "+DI / -DI cross with ADX > 20", FIL, ("2023-04-26", "2023-05-10"), {
        "timeframes": {"exec": "15m"}, "features": {"adx": {"indicator": "adx", "length": 14}},
        "entries": {"long": {"all": [["adx.plus_di", "cross_above", "adx.minus_di"],
                                     ["adx.adx", "gt", 20]]},
                    "short": {"all": [["adx.plus_di", "cross_below", "adx.minus_di"],
                                      ["adx.adx", "gt", 20]]}}})  # fmt: skip
    add("squeeze_5m_fil", "squeeze momentum crosses zero", FIL, ("2023-05-03", "2023-05-10"),
        {"features": {"sq": {"indicator": "squeeze"}}, **_cross("sq.momentum", 0),
         "risk": _risk(**SL_TP)})  # fmt: skip
    add("zscore_1m_avax", "z-score(30) reversion on 1m", AVAX, ("2026-06-24", "2026-07-01"), {
        "timeframes": {"exec": "1m"}, "features": {"z": {"indicator": "zscore", "length": 30}},
        "entries": {"long": ["z", "cross_above", -2], "short": ["z", "cross_below", 2]},
        "exits": {"long": ["z", "gt", 0], "short": ["z", "lt", 0]}})  # fmt: skip

    # --- bands, channels, trend indicators
    add("bbands_reversion_5m_fil", "Bollinger reversion: close back inside the bands", FIL,
        ("2023-05-10", "2023-05-17"), {
            "features": {"bb": {"indicator": "bbands", "length": 20, "mult": 2.0}},
            "entries": {"long": ["close", "cross_above", "bb.lower"],
                        "short": ["close", "cross_below", "bb.upper"]},
            "exits": {"long": ["close", "gt", "bb.middle"], "short": ["close", "lt", "bb.middle"]},
            "risk": _risk(**SL_TP)})  # fmt: skip
    add("donchian_breakout_15m_avax", "Donchian(20) breakout on 15m, trailing ATR stop", AVAX,
        ("2026-06-05", "2026-06-26"), {
            "timeframes": {"exec": "15m"},
            "features": {"dc": {"indicator": "donchian", "length": 20}, **ATR},
            "entries": {"long": ["close", "gt", "dc.upper[1]"],
                        "short": ["close", "lt", "dc.lower[1]"]},
            "risk": _risk({"risk_pct": 0.5}, stop_loss={"atr": "atr", "mult": 2.0},
                          trailing={"activate_rr": 1.0, "atr": "atr", "mult": 2.0})})  # fmt: skip
    add("keltner_5m_fil", "Keltner channel breakout", FIL, ("2023-05-17", "2023-05-24"), {
        "features": {"kc": {"indicator": "kc", "length": 20, "mult": 1.5}},
        **_cross("close", "kc.upper"), "risk": _risk(**SL_TP)})  # fmt: skip
    add("supertrend_15m_fil", "SuperTrend direction flips on 15m", FIL,
        ("2023-05-24", "2023-06-07"), {
            "timeframes": {"exec": "15m"},
            "features": {"st": {"indicator": "supertrend", "length": 10, "mult": 3.0}},
            "entries": {"long": ["st.direction", "cross_above", 0],
                        "short": ["st.direction", "cross_below", 0]}})  # fmt: skip
    add(
        "psar_5m_avax",
        "close crosses the parabolic SAR",
        AVAX,
        ("2026-06-26", "2026-07-03"),
        {"features": {"sar": {"indicator": "psar"}}, **_cross("close", "sar")},
    )
    add("ichimoku_15m_avax", "Ichimoku tenkan/kijun cross on 15m", AVAX,
        ("2026-07-03", "2026-07-17"), {
            "timeframes": {"exec": "15m"}, "features": {"ich": {"indicator": "ichimoku"}},
            **_cross("ich.tenkan", "ich.kijun")})  # fmt: skip
    add("vwap_5m_fil", "close crosses the session VWAP", FIL, ("2023-06-07", "2023-06-14"),
        {"features": {"vw": {"indicator": "vwap"}}, **_cross("close", "vw"),
         "risk": _risk(**SL_TP)})  # fmt: skip
    add("linreg_slope_5m_avax", "linear-regression slope crosses zero", AVAX,
        ("2026-07-10", "2026-07-17"), {"features": {"s": {"indicator": "slope", "length": 20}},
                                       **_cross("s", 0)})  # fmt: skip
    add("heikin_ashi_5m_fil", "Heikin-Ashi close crosses its open", FIL,
        ("2023-06-14", "2023-06-21"), {"features": {"ha": {"indicator": "heikin_ashi"}},
                                       **_cross("ha.close", "ha.open"), "risk": _risk(**SL_TP)})  # fmt: skip
    add("obv_ema_5m_avax", "close above EMA(50) with rising OBV", AVAX,
        ("2026-07-17", "2026-07-24"), {
            "features": {"obv": {"indicator": "obv"}, "ema": {"indicator": "ema", "length": 50}},
            "entries": {"long": {"all": [["close", "cross_above", "ema"],
                                         {"rising": {"bars": 2, "of": "obv"}}]},
                        "short": {"all": [["close", "cross_below", "ema"],
                                          {"falling": {"bars": 2, "of": "obv"}}]}},
            "risk": _risk(**SL_TP)})  # fmt: skip
    add("cmf_efi_15m_fil", "CMF sign with Elder force index cross", FIL,
        ("2023-06-16", "2023-06-30"), {
            "timeframes": {"exec": "15m"},
            "features": {"cmf": {"indicator": "cmf", "length": 20},
                         "efi": {"indicator": "efi", "length": 13}},
            "entries": {"long": {"all": [["efi", "cross_above", 0], ["cmf", "gt", 0]]},
                        "short": {"all": [["efi", "cross_below", 0], ["cmf", "lt", 0]]}}})  # fmt: skip
    add("adosc_natr_5m_avax", "A/D oscillator zero cross while NATR shows movement", AVAX,
        ("2026-07-24", "2026-07-31"), {
            "features": {"ad": {"indicator": "adosc"}, "natr": {"indicator": "natr", "length": 14}},
            "entries": {"long": {"all": [["ad", "cross_above", 0], ["natr", "gt", 0.05]]},
                        "short": {"all": [["ad", "cross_below", 0], ["natr", "gt", 0.05]]}},
            "risk": _risk(**SL_TP)})  # fmt: skip

    # --- structures
    sw = {"sw": {"structure": "swing", "left": 3, "right": 3}}
    add("swing_breakout_5m_fil", "close breaks the last swing high / low", FIL,
        ("2023-04-01", "2023-04-08"), {
            "features": sw,
            "entries": {"long": ["close", "cross_above", "sw.last_high"],
                        "short": ["close", "cross_below", "sw.last_low"]},
            "risk": _risk(stop_loss={"level": "sw.last_low"}, take_profit={"rr": 2.0})})  # fmt: skip
    add("bos_15m_avax", "market-structure break of structure on 15m", AVAX,
        ("2026-06-01", "2026-06-15"), {
            "timeframes": {"exec": "15m"},
            "features": {**sw, "ms": {"structure": "market_structure", "swings": "sw"}},
            "entries": {"long": ["ms.bos_up", "eq", True], "short": ["ms.bos_down", "eq", True]},
            "exits": {"long": ["ms.choch", "eq", True], "short": ["ms.choch", "eq", True]}})  # fmt: skip
    add("ms_bias_5m_fil", "trade the market-structure bias (enum operands)", FIL,
        ("2023-04-08", "2023-04-15"), {
            "features": {**sw, "ms": {"structure": "market_structure", "swings": "sw"}},
            "entries": {"long": ["ms.bias", "eq", "bullish"], "short": ["ms.bias", "eq", "bearish"]},
            "risk": _risk(**SL_TP)})  # fmt: skip
    add("fib_pullback_5m_avax", "pullback near the 61.8 % retracement", AVAX,
        ("2026-06-12", "2026-06-19"), {
            "features": {**sw, "fib": {"structure": "fibonacci", "swings": "sw"}},
            "entries": {"long": {"all": [["fib.leg_direction", "eq", "up"],
                                         ["close", "near", "fib.level_618", {"pct": 0.2}]]},
                        "short": {"all": [["fib.leg_direction", "eq", "down"],
                                          ["close", "near", "fib.level_618", {"pct": 0.2}]]}},
            "risk": _risk(**SL_TP)})  # fmt: skip
    add("trend_bias_15m_fil", "swing trend bias up / down on 15m", FIL,
        ("2023-04-15", "2023-04-29"), {
            "timeframes": {"exec": "15m"},
            "features": {**sw, "tr": {"structure": "trend", "swings": "sw"}},
            "entries": {"long": ["tr.bias", "eq", "up"], "short": ["tr.bias", "eq", "down"]},
            "risk": _risk(**SL_TP)})  # fmt: skip
    add("zone_touch_5m_avax", "buy demand-zone touches, sell supply-zone touches", AVAX,
        ("2026-06-19", "2026-06-26"), {
            "features": {**sw, "zn": {"structure": "zone", "swings": "sw"}},
            "entries": {"long": ["zn.demand_touch", "eq", True],
                        "short": ["zn.supply_touch", "eq", True]},
            "risk": _risk(**SL_TP)})  # fmt: skip
    add("derived_zone_5m_fil", "derived fib zone touches", FIL, ("2023-04-29", "2023-05-06"), {
        "features": {**sw, "dz": {"structure": "derived_zone", "swings": "sw"}},
        "entries": {"long": {"all": [["dz.touch", "eq", True], ["dz.side", "eq", "demand"]]},
                    "short": {"all": [["dz.touch", "eq", True], ["dz.side", "eq", "supply"]]}},
        "risk": _risk(**SL_TP)})  # fmt: skip
    add("rolling_window_1m_fil", "30-bar range breakout on 1m", FIL, ("2023-05-06", "2023-05-13"),
        {"timeframes": {"exec": "1m"},
         "features": {"rw": {"structure": "rolling_window", "bars": 30}},
         "entries": {"long": ["close", "gt", "rw.max[1]"], "short": ["close", "lt", "rw.min[1]"]},
         "risk": _risk(**SL_TP)})  # fmt: skip

    # --- multi-timeframe, windows, setups
    add("mtf_trend_5m_1h_fil", "5m EMA cross in the direction of a 1h EMA trend", FIL,
        ("2023-05-12", "2023-05-26"), {
            "timeframes": {"exec": "5m", "high": "1h"},
            "features": {"fast": {"indicator": "ema", "length": 9},
                         "slow": {"indicator": "ema", "length": 21},
                         "trend": {"indicator": "ema", "length": 20, "tf": "high"}},
            "setups": {"up": ["close@high", "gt", "trend"], "down": ["close@high", "lt", "trend"]},
            "entries": {"long": {"all": [{"setup": "up"}, ["fast", "cross_above", "slow"]]},
                        "short": {"all": [{"setup": "down"}, ["fast", "cross_below", "slow"]]}},
            "risk": _risk(**SL_TP)})  # fmt: skip
    add("mtf_three_roles_avax", "15m entries with 1h and 4h filters", AVAX,
        ("2026-06-08", "2026-06-29"), {
            "timeframes": {"exec": "15m", "med": "1h", "high": "4h"},
            "features": {"rsi": {"indicator": "rsi", "length": 14},
                         "mid": {"indicator": "sma", "length": 10, "tf": "med"},
                         "big": {"indicator": "ema", "length": 10, "tf": "high"}},
            "entries": {"long": {"all": [["close@med", "gt", "mid"], ["close@high", "gt", "big"],
                                         ["rsi", "cross_above", 50]]},
                        "short": {"all": [["close@med", "lt", "mid"], ["close@high", "lt", "big"],
                                          ["rsi", "cross_below", 50]]}},
            "risk": _risk(**SL_TP)})  # fmt: skip
    add("windows_30m_fil", "holds_for / occurred_within / count_at_least on 30m", FIL,
        ("2023-05-19", "2023-06-09"), {
            "timeframes": {"exec": "30m"},
            "features": {"ema": {"indicator": "ema", "length": 20},
                         "rsi": {"indicator": "rsi", "length": 14}},
            "entries": {
                "long": {"all": [{"holds_for": {"bars": 2, "cond": ["close", "gt", "ema"]}},
                                 {"occurred_within": {"bars": 6, "cond": ["rsi", "lt", 45]}}]},
                "short": {"all": [{"holds_for": {"bars": 2, "cond": ["close", "lt", "ema"]}},
                                  {"count_at_least": {"bars": 6, "times": 2,
                                                      "cond": ["rsi", "gt", 55]}}]}},
            "exits": {"long": ["close", "lt", "ema"], "short": ["close", "gt", "ema"]}})  # fmt: skip
    add("bars_since_rising_5m_avax", "bars_since and rising/falling windows", AVAX,
        ("2026-07-24", "2026-07-31"), {
            "features": {"ema": {"indicator": "ema", "length": 30}},
            "entries": {
                "long": {"all": [{"rising": {"bars": 3, "of": "ema"}},
                                 {"bars_since": {"cond": ["close", "lt", "ema"], "op": "lte",
                                                 "n": 5}},
                                 ["close", "gt", "ema"]]},
                "short": {"all": [{"falling": {"bars": 3, "of": "ema"}},
                                  {"bars_since": {"cond": ["close", "gt", "ema"], "op": "lte",
                                                  "n": 5}},
                                  ["close", "lt", "ema"]]}},
            "risk": _risk(**SL_TP)})  # fmt: skip

    # --- order types, sizing, halts, leverage
    base = _ma_pair("ema", 9, 21)
    add("limit_gtc_ttl_5m_fil", "limit entries 10 bps away, cancelled after 3 bars", FIL,
        ("2023-06-02", "2023-06-09"), _with(base, execution={
            "entry": {"type": "limit", "offset_bps": 10, "ttl_bars": 3, "tif": "GTC"}},
            risk=_risk(**SL_TP)))  # fmt: skip
    add("limit_ioc_5m_avax", "IOC limit entries at 5 bps", AVAX, ("2026-06-29", "2026-07-06"),
        _with(base, execution={"entry": {"type": "limit", "offset_bps": 5, "tif": "IOC"}},
              risk=_risk(**SL_TP)))  # fmt: skip
    add("limit_fok_1m_fil", "FOK limit entries at 2 bps on 1m", FIL,
        ("2023-06-20", "2023-06-27"), _with(base, timeframes={"exec": "1m"}, execution={
            "entry": {"type": "limit", "offset_bps": 2, "tif": "FOK"}}, risk=_risk(**SL_TP)))  # fmt: skip
    add("postonly_5m_avax", "PostOnly limit entries 10 bps away, ttl 4", AVAX,
        ("2026-07-06", "2026-07-13"), _with(base, execution={
            "entry": {"type": "limit", "offset_bps": 10, "ttl_bars": 4, "tif": "PostOnly"}},
            risk=_risk(**SL_TP)))  # fmt: skip
    add("slippage_fees_5m_fil", "5 bps slippage and VIP0 fees written out", FIL,
        ("2023-06-23", "2023-06-30"), _with(base, execution={
            "entry": {"type": "market"}, "slippage_bps": 5,
            "fees": {"taker": 0.00055, "maker": 0.0002}}, risk=_risk(**SL_TP)))  # fmt: skip
    add(
        "leverage_risk_pct_15m_avax",
        "risk 1 % per trade with ATR stops at leverage 5",
        AVAX,
        ("2026-07-10", "2026-07-24"),
        _with(
            base,
            timeframes={"exec": "15m"},
            features=ATR,
            risk=_risk({"risk_pct": 1.0}, leverage=5, **ATR_RISK),
        ),
    )
    add("halts_5m_fil", "tight drawdown and daily-loss halts", FIL,
        ("2023-04-20", "2023-05-04"), _with(base, risk=_risk(
            {"equity_pct": 100}, leverage=3, max_drawdown_pct=3, daily_loss_pct=1,
            **SL_TP)))  # fmt: skip
    add("trailing_tp_atr_5m_avax", "ATR target with an ATR trailing stop", AVAX,
        ("2026-06-15", "2026-06-22"), _with(base, features=ATR, risk=_risk(
            stop_loss={"pct": 1.5}, take_profit={"atr": "atr", "mult": 4.0},
            trailing={"activate_rr": 0.5, "atr": "atr", "mult": 1.5})))  # fmt: skip
    add("qty_exits_3m_fil", "fixed qty, explicit exits, shorts only", FIL,
        ("2023-05-26", "2023-06-02"), {
            "timeframes": {"exec": "3m"},
            "features": {"rsi": {"indicator": "rsi", "length": 14}},
            "entries": {"short": ["rsi", "cross_below", 60]},
            "exits": {"short": {"any": [["rsi", "lt", 40], {"not": ["rsi", "lt", 70]}]}},
            "risk": _risk({"qty": 500})})  # fmt: skip
    return c


FAMILIES = [lambda: iter(cases())]
