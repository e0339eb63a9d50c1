"""Build small Plays from a rule and drive them bar by bar with hand-chosen values."""

from __future__ import annotations

import textwrap
from typing import Any

import yaml

from trade_core.play import Play, load_play_text

BASE: dict[str, Any] = {
    "name": "t",
    "version": 1,
    "market": {"symbol": "BTCUSDT"},
    "timeframes": {"exec": "15m", "high": "1h"},
    "features": {
        "fast": {"indicator": "ema", "length": 3},
        "slow": {"indicator": "sma", "length": 5},
    },
    "entries": {"long": ["close", "gt", "open"]},
    "risk": {"sizing": {"qty": 1}},
}


EMA_CROSS_ATR: dict[str, Any] = {
    "market": {"symbol": "AVAXUSDT"},
    "timeframes": {"exec": "15m", "high": "1h"},
    "features": {
        "fast": {"indicator": "ema", "length": 9},
        "slow": {"indicator": "ema", "length": 21},
        "atr": {"indicator": "atr", "length": 14},
    },
    "entries": {"long": ["fast", "cross_above", "slow"], "short": ["fast", "cross_below", "slow"]},
    "risk": {
        "stop_loss": {"atr": "atr", "mult": 2.0},
        "take_profit": {"rr": 2.0},
        "sizing": {"risk_pct": 1.0},
        "leverage": 3,
    },
}
"""A plain EMA 9/21 cross on AVAXUSDT 15m with an ATR stop, a 2R target and risk sizing:
trades often on the bundled month, nothing else in the way."""


AVAX_TREND: dict[str, Any] = {
    "market": {"symbol": "AVAXUSDT"},
    "timeframes": {"exec": "15m", "high": "1h"},
    "features": {
        "fast": {"indicator": "ema", "length": 9},
        "slow": {"indicator": "ema", "length": 21},
        "trend": {"indicator": "ema", "length": 50, "tf": "high"},
        "atr": {"indicator": "atr", "length": 14},
    },
    "entries": {
        "long": {"all": [["fast", "cross_above", "slow"], ["close@high", "gt", "trend"]]},
        "short": {"all": [["fast", "cross_below", "slow"], ["close@high", "lt", "trend"]]},
    },
    "exits": {"long": ["fast", "cross_below", "slow"], "short": ["fast", "cross_above", "slow"]},
    "risk": {
        "stop_loss": {"atr": "atr", "mult": 2.0},
        "take_profit": {"rr": 2.0},
        "trailing": {"activate_rr": 1.0, "atr": "atr", "mult": 1.5},
        "sizing": {"risk_pct": 1.0},
        "leverage": 3,
        "max_drawdown_pct": 30,
    },
    "execution": {"slippage_bps": 2},
}
"""A trend play that trades ~40 times on the bundled AVAXUSDT month: EMA 9/21 crosses with
a 1h EMA-50 filter, ATR stop, 2R target, trailing stop, risk sizing, a drawdown halt."""


def avax_trend_text(**overrides: Any) -> str:
    """:data:`AVAX_TREND` as YAML, top-level sections replaced by ``overrides``."""
    return play_text(**{**AVAX_TREND, **overrides})


def play_doc(**overrides: Any) -> dict[str, Any]:
    doc = {k: (dict(v) if isinstance(v, dict) else v) for k, v in BASE.items()}
    doc.update(overrides)
    return doc


def play_text(**overrides: Any) -> str:
    return yaml.safe_dump(play_doc(**overrides), sort_keys=False)


def rule_play(rule: Any, **overrides: Any) -> Play:
    """A play whose long entry is ``rule``."""
    return load_play_text(play_text(entries={"long": rule}, **overrides), "t.yml")


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


class Driver:
    """Feeds a play's snapshot: each ``step`` is one exec bar; ``high_bar=`` closes a high bar too."""

    def __init__(self, play: Play) -> None:
        self.play = play
        self.snap = play.new_snapshot()

    def step(self, high_bar: dict[str, Any] | None = None, **exec_values: Any) -> Driver:
        if high_bar is not None:
            self.snap.push_role("high", high_bar)
        self.snap.push_role("exec", exec_values)
        self.snap.close_exec()
        return self

    def code(self, rule: str = "entry.long") -> int:
        return self.play.evaluate_code(rule, self.snap)

    def fires(self, rule: str = "entry.long") -> bool:
        return self.play.evaluate(rule, self.snap)
