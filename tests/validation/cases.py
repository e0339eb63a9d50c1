"""A generated validation case (play + expectation) and helpers shared by the families.

Nothing here imports ``trade_core``: the expected numbers come from hand formulas in the
family modules and from :mod:`tests.validation.reference`.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

from tests.validation import reference as ref

SYMBOL = "BTCUSDT"
TICK = 0.1
START = 1_704_067_200_000  # 2024-01-01 00:00 UTC
TAKER, MAKER = ref.TAKER, ref.MAKER


@dataclass
class Case:
    """One validation play. ``rules`` holds the play's own blocks (entries, exits, features,
    setups, risk, execution, timeframes ...); ``expect`` the outcome block."""

    group: str
    name: str
    description: str
    rules: dict[str, Any]
    scenario: dict[str, Any]
    expect: dict[str, Any]
    derivation: str
    start: str | None = None
    run: dict[str, Any] | None = None
    symbol: str = SYMBOL

    def play_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "name": f"v_{self.group}_{self.name}"[:64],
            "version": 1,
            "description": self.description,
            "market": {"symbol": self.symbol},
            "timeframes": {"exec": "1m"},
        }
        rules = dict(self.rules)
        if "timeframes" in rules:
            doc["timeframes"] = rules.pop("timeframes")
        for key in ("features", "setups", "entries", "exits", "risk", "execution", "account"):
            if key in rules:
                doc[key] = rules.pop(key)
        if "risk" not in doc:
            doc["risk"] = {"sizing": {"qty": 1}}
        if rules:
            raise ValueError(f"{self.group}/{self.name}: unknown play blocks {sorted(rules)}")
        return doc

    def expect_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        if self.start is not None:
            doc["start"] = self.start
        doc["scenario"] = self.scenario
        if self.run:
            doc["run"] = self.run
        doc["expect"] = self.expect
        doc["derivation"] = wrap(self.derivation)
        return doc


def wrap(text: str, width: int = 96) -> str:
    """``text`` with each paragraph line filled to ``width`` columns (for readable YAML)."""
    lines = [textwrap.fill(line, width, subsequent_indent="  ") if line else ""
             for line in text.strip().splitlines()]  # fmt: skip
    return "\n".join(lines) + "\n"


def money(x: float) -> float:
    """A USDT amount as written to an expectation (compared to the cent)."""
    return round(float(x), 6)


def price(x: float) -> float:
    return round(float(x), 10)


def trade_dict(t: ref.RefTrade, funding: float | None = None) -> dict[str, Any]:
    d: dict[str, Any] = {
        "side": t.side, "entry_bar": t.entry_bar, "exit_bar": t.exit_bar,
        "entry_price": price(t.entry_price), "exit_price": price(t.exit_price),
        "exit_reason": t.exit_reason, "qty": float(t.qty), "net_pnl": money(t.net),
    }  # fmt: skip
    if funding is not None:
        d["funding"] = money(funding)
    return d


def outcome_dict(o: ref.RefOutcome, **extra: Any) -> dict[str, Any]:
    """The ``expect`` block of a reference outcome."""
    d: dict[str, Any] = {"trades": len(o.trades)}
    if o.trades:
        d["trade_list"] = [trade_dict(t) for t in o.trades]
    d["final_equity"] = money(o.final_equity)
    if o.open_side is not None:
        d["open_position"] = {"side": o.open_side, "qty": float(o.open_qty),
                              "entry_price": price(o.open_price), "entry_bar": o.open_bar}  # fmt: skip
    d.update(extra)
    return d


def describe_trades(o: ref.RefOutcome, fee: float = TAKER) -> str:
    """The trade lines of a derivation: fills, gross, fees, net and the final equity."""
    lines = []
    for i, t in enumerate(o.trades, start=1):
        s = "" if t.side == "long" else "-"
        lines.append(
            f"trade {i}: {t.side} {t.qty:g} filled at bar {t.entry_bar} open {t.entry_price:g}, "
            f"closed ({t.exit_reason}) at bar {t.exit_bar} open {t.exit_price:g}; "
            f"net = {s}({t.exit_price:g} - {t.entry_price:g}) * {t.qty:g} - {fee:g} * {t.qty:g} * "
            f"({t.entry_price:g} + {t.exit_price:g}) = {t.net:.6f}"
        )
    eq = f"final equity = 10000 + {' + '.join(f'({t.net:.6f})' for t in o.trades) or '0'}"
    if o.open_side is not None:
        s = 1 if o.open_side == "long" else -1
        lines.append(
            f"open {o.open_side} {o.open_qty:g} from bar {o.open_bar} at {o.open_price:g}: "
            f"uPnL at the last close minus its entry fee {fee:g} * {o.open_price:g} * "
            f"{o.open_qty:g}"
        )
        eq += f" + {s} * {o.open_qty:g} * (last close - {o.open_price:g}) - entry fee"
    lines.append(f"{eq} = {o.final_equity:.6f}")
    return "\n".join(lines)


def bar_ranges(mask: Any, limit: int = 8) -> str:
    """The indices where ``mask`` is true, as compact ranges ("12-18, 33"), or "never"."""
    idx = [int(i) for i, v in enumerate(mask) if v]
    if not idx:
        return "never"
    spans: list[list[int]] = []
    for i in idx:
        if spans and i == spans[-1][1] + 1:
            spans[-1][1] = i
        else:
            spans.append([i, i])
    parts = [f"{a}" if a == b else f"{a}-{b}" for a, b in spans[:limit]]
    return ", ".join(parts) + (", ..." if len(spans) > limit else "")


def fills_in(o: ref.RefOutcome, lo: int, hi: int) -> bool:
    """Whether every fill of ``o`` is at a bar in ``[lo, hi]``."""
    bars = [b for t in o.trades for b in (t.entry_bar, t.exit_bar)]
    if o.open_side is not None:
        bars.append(o.open_bar)
    return all(lo <= b <= hi for b in bars)
