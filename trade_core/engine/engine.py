"""The one ``PlayEngine``: the same loop in backtest, shadow, demo and live.

It consumes a :class:`~trade_core.engine.feeds.MarketFeed` and trades through a
:class:`~trade_core.engine.venue.Venue`; it never reads an array by index and never asks which
mode it is in. Per step (docs/engine.md):

1. ``venue.on_market(step)`` — the venue advances (the simulator fills on ``step.bar``);
2. venue events are drained into the log and the position state machine;
3. each role bar that closed updates its features and is pushed into the Play snapshot;
4. at a complete exec close after warm-up: risk halts, exits, then entries, then trailing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trade_core.data.instrument_spec import Instrument
from trade_core.engine.bars import Bar, BarClosed, Step
from trade_core.engine.feeds import MarketFeed
from trade_core.engine.orders import OrderFilled, OrderIntent, PositionLiquidated, VenueEvent
from trade_core.engine.orders import link_id as make_link_id
from trade_core.engine.risk_levels import stop_loss_price, take_profit_price, trailing_stop
from trade_core.engine.sizing import size_order
from trade_core.engine.venue import PositionState, Venue
from trade_core.features.base import Feature
from trade_core.numbers import round_price
from trade_core.play import Play
from trade_core.play.context import PRICE_FIELDS
from trade_core.timestamps import DAY_MS


@dataclass(frozen=True, slots=True)
class EngineEvent:
    """One line of the engine's log: what happened at ``ts`` (epoch ms) and why."""

    ts: int
    kind: str
    detail: str


@dataclass
class EngineResult:
    events: list[EngineEvent] = field(default_factory=list)
    venue_events: list[VenueEvent] = field(default_factory=list)
    equity_ts: list[int] = field(default_factory=list)
    equity: list[float] = field(default_factory=list)
    decisions: int = 0


class PlayEngine:
    def __init__(
        self, play: Play, venue: Venue, instrument: Instrument, *, max_leverage: float = 10.0
    ) -> None:
        self.play, self.venue, self.instrument = play, venue, instrument
        self.max_leverage = max_leverage
        self.symbol = play.symbol
        self.features = play.build_features()
        self.snap = play.new_snapshot()
        self._getters = {role: self._role_getters(role) for role in play.timeframes}
        self._by_role: dict[str, list[Feature]] = {r: [] for r in play.timeframes}
        for fid, feature in self.features.items():
            self._by_role[play.features[fid].role].append(feature)
        self.role_bars = dict.fromkeys(play.timeframes, 0)
        self.result = EngineResult()
        self.state = "flat"
        self._seq = 0
        self._peak = -1.0
        self._day = -1
        self._day_start = 0.0
        self._halt: str | None = None
        self._day_halt = False
        self._trail: dict[str, float] = {}

    # ------------------------------------------------------------------ the loop
    def run(self, feed: MarketFeed) -> EngineResult:
        for step in feed:
            self.on_step(step)
        return self.result

    def on_step(self, step: Step) -> None:
        self.venue.on_market(step)
        for event in self.venue.drain():
            self._on_venue_event(event)
        if step.bar is not None and self._trail:
            self._track_extreme(step.bar)
        exec_bar: BarClosed | None = None
        for closed in step.closed:
            self._update_role(closed)
            if closed.role == "exec":
                exec_bar = closed
        if exec_bar is None:
            return
        self.snap.close_exec()
        mark = exec_bar.bar.close
        equity = self.venue.wallet(mark).equity
        self.result.equity_ts.append(step.time)
        self.result.equity.append(equity)
        if not exec_bar.complete:
            self._log(step.time, "skip", "incomplete exec bar: no decision")
        elif self._warm():
            self._decide(step.time, exec_bar.bar, equity)

    # ------------------------------------------------------------------ features
    def _role_getters(self, role: str) -> list[tuple[str, Any]]:
        getters = []
        for vkey in self.snap.keys(role):
            source, _, fld = vkey.partition(".")
            if source in PRICE_FIELDS:
                getters.append((vkey, source))
            else:
                feature = self.features[source]
                index = feature.spec.output_names.index(fld) if fld else 0
                getters.append((vkey, (feature, index)))
        return getters

    def _update_role(self, closed: BarClosed) -> None:
        b = closed.bar
        for feature in self._by_role[closed.role]:
            feature.update(b.ts, b.open, b.high, b.low, b.close, b.volume)
        values = {
            vkey: getattr(b, g) if isinstance(g, str) else g[0].current(g[1])
            for vkey, g in self._getters[closed.role]
        }
        self.snap.push_role(closed.role, values)
        self.role_bars[closed.role] += 1

    def _warm(self) -> bool:
        return all(self.role_bars[r] >= n for r, n in self.play.warmup.bars.items())

    def _slot_value(self, name: str) -> float | None:
        slot = self.play.risk_slots.get(name)
        if slot is None:
            return None
        ring = self.snap.rings[slot]
        return ring[0] if ring else None

    # ------------------------------------------------------------------ decisions
    def _decide(self, t: int, bar: Bar, equity: float) -> None:
        self.result.decisions += 1
        self._update_halts(t, equity)
        pos = self.venue.position(self.symbol)
        closing = self._exits(t, pos)
        fires = {s: self._fires(f"entry.{s}") for s in ("long", "short")}
        if fires["long"] and fires["short"]:
            self._log(t, "skip", "entry.long and entry.short both fire: no entry")
        for side in ("long", "short"):
            if fires[side] and not fires[_other(side)] and pos.side != side:
                self._enter(t, bar, side, pos, equity, already_closing=closing)
        if pos.side is not None and not closing and self.play.model.risk.trailing:
            self._trail_stop(t, pos)

    def _fires(self, rule: str) -> bool:
        return rule in self.play.rules and self.play.evaluate(rule, self.snap)

    def _exits(self, t: int, pos: PositionState) -> bool:
        if pos.side is None or not self._fires(f"exit.{pos.side}"):
            return False
        self._close(t, pos, f"exit.{pos.side}")
        return True

    def _close(self, t: int, pos: PositionState, reason: str) -> None:
        side = "Sell" if pos.side == "long" else "Buy"
        self._submit(t, OrderIntent(self._link(t, "x"), self.symbol, side, pos.qty, "Market",
                                    reduce_only=True, created_ts=t, reason=reason))  # fmt: skip
        self._transition(t, "exiting", reason)

    def _enter(
        self, t: int, bar: Bar, side: str, pos: PositionState, equity: float, already_closing: bool
    ) -> None:
        reason = f"entry.{side}"
        if self._halt or self._day_halt:
            self._log(t, "skip", f"{reason}: halted ({self._halt or 'daily loss'})")
            return
        risk, tick = self.play.model.risk, self.instrument.tick_size
        stop = take = None
        if risk.stop_loss is not None:
            lvl = stop_loss_price(risk.stop_loss, side, bar.close, tick,  # type: ignore[arg-type]
                                  atr=self._slot_value("stop_loss.atr"),
                                  level=self._slot_value("stop_loss.level"))  # fmt: skip
            if lvl.price is None:
                self._log(t, "skip", f"{reason}: {lvl.reason}")
                return
            stop = lvl.price
        if risk.take_profit is not None:
            lvl = take_profit_price(risk.take_profit, side, bar.close, tick, stop=stop,  # type: ignore[arg-type]
                                    atr=self._slot_value("take_profit.atr"))  # fmt: skip
            take = lvl.price
        sized = size_order(risk.sizing, equity=equity, entry_price=bar.close, stop_price=stop,
                           leverage=risk.leverage, system_max_leverage=self.max_leverage,
                           instrument=self.instrument,
                           market=self.play.model.execution.entry.type == "market")  # fmt: skip
        if sized.qty is None:
            self._log(t, "skip", f"{reason}: {sized.reason}")
            return
        if pos.side is not None and not already_closing:
            self._close(t, pos, f"reverse to {side}")
        self._submit(t, self._entry_intent(t, side, sized.qty, bar.close, stop, take, reason))
        if stop is not None:
            self._trail = {"initial": stop, "stop": stop, "entry": bar.close,
                           "extreme": bar.close}  # fmt: skip
        self._transition(t, "entering", f"{reason} qty {sized.qty:g} stop {stop} target {take}")

    def _entry_intent(
        self, t: int, side: str, qty: float, ref: float, stop: float | None,
        take: float | None, reason: str,
    ) -> OrderIntent:  # fmt: skip
        e = self.play.model.execution.entry
        order_side = "Buy" if side == "long" else "Sell"
        lid = self._link(t, "el" if side == "long" else "es")
        if e.type == "market":
            return OrderIntent(lid, self.symbol, order_side, qty, "Market", stop_loss=stop,
                               take_profit=take, created_ts=t, reason=reason)  # fmt: skip
        off = (e.offset_bps or 0.0) / 10_000.0
        raw = ref * (1.0 - off) if side == "long" else ref * (1.0 + off)
        price = round_price(raw, self.instrument.tick_size, "down" if side == "long" else "up")
        return OrderIntent(lid, self.symbol, order_side, qty, "Limit", price=price,
                           tif=e.tif or "GTC", stop_loss=stop, take_profit=take,
                           created_ts=t, reason=reason)  # fmt: skip

    def _trail_stop(self, t: int, pos: PositionState) -> None:
        spec, tr = self.play.model.risk.trailing, self._trail
        if spec is None or not tr:
            return
        new = trailing_stop(spec, pos.side, entry=tr["entry"], initial_stop=tr["initial"],  # type: ignore[arg-type]
                            current_stop=tr["stop"], extreme=tr["extreme"],
                            atr=self._slot_value("trailing.atr"),
                            tick=self.instrument.tick_size)  # fmt: skip
        if new != tr["stop"]:
            tr["stop"] = new
            self.venue.set_trading_stop(self.symbol, t, stop_loss=new,
                                        take_profit=pos.take_profit)  # fmt: skip
            self._log(t, "trail", f"stop moved to {new:g}")

    def _track_extreme(self, bar: Bar) -> None:
        pos = self.venue.position(self.symbol)
        if pos.side == "long":
            self._trail["extreme"] = max(self._trail["extreme"], bar.high)
        elif pos.side == "short":
            self._trail["extreme"] = min(self._trail["extreme"], bar.low)

    # ------------------------------------------------------------------ risk halts
    def _update_halts(self, t: int, equity: float) -> None:
        risk = self.play.model.risk
        self._peak = max(self._peak, equity)
        if risk.max_drawdown_pct and not self._halt and self._peak > 0:
            dd = (self._peak - equity) / self._peak * 100.0
            if dd >= risk.max_drawdown_pct:
                self._halt = f"drawdown {dd:.2f}% >= {risk.max_drawdown_pct:g}%"
                self._log(t, "halt", f"no new entries: {self._halt}")
        day = t // DAY_MS
        if day != self._day:
            self._day, self._day_start, self._day_halt = day, equity, False
        if risk.daily_loss_pct and not self._day_halt and self._day_start > 0:
            loss = (self._day_start - equity) / self._day_start * 100.0
            if loss >= risk.daily_loss_pct:
                self._day_halt = True
                self._log(t, "halt", f"no new entries until 00:00 UTC: daily loss {loss:.2f}%")

    # ------------------------------------------------------------------ plumbing
    def _link(self, t: int, tag: str) -> str:
        self._seq += 1
        return make_link_id(self.play.hash, t, self._seq, tag)

    def _submit(self, t: int, intent: OrderIntent) -> None:
        self.venue.submit(intent)
        self._log(t, "submit", f"{intent.link_id} {intent.side} {intent.qty:g} "
                  f"{intent.order_type} ({intent.reason})")  # fmt: skip

    def _on_venue_event(self, event: VenueEvent) -> None:
        self.result.venue_events.append(event)
        pos = self.venue.position(self.symbol)
        if isinstance(event, OrderFilled | PositionLiquidated):
            new = "flat" if pos.side is None else "open"
            if new != self.state:
                self._transition(event.ts, new, type(event).__name__)
            if pos.side is None:
                self._trail = {}

    def _transition(self, t: int, state: str, reason: str) -> None:
        self._log(t, "state", f"{self.state} -> {state}: {reason}")
        self.state = state

    def _log(self, t: int, kind: str, detail: str) -> None:
        self.result.events.append(EngineEvent(t, kind, detail))


def _other(side: str) -> str:
    return "short" if side == "long" else "long"
