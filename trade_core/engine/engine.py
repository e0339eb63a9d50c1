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
from trade_core.data.timeframes import tf_ms
from trade_core.engine.bars import Bar, BarClosed, Step
from trade_core.engine.feeds import MarketFeed
from trade_core.engine.orders import (
    OrderCancelled,
    OrderFilled,
    OrderIntent,
    OrderRejected,
    PositionClosed,
    PositionLiquidated,
    VenueEvent,
)
from trade_core.engine.orders import link_id as make_link_id
from trade_core.engine.risk_levels import stop_loss_price, take_profit_price, trailing_stop
from trade_core.engine.sizing import size_order
from trade_core.engine.trades import VENUE_EXIT_REASONS, Trade, trade_from_closed
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
    """What one engine run produced: its log, every venue event, the orders it placed, the
    trades (one per closed-PnL record), and equity (USDT) at each exec close (epoch ms)."""

    events: list[EngineEvent] = field(default_factory=list)
    venue_events: list[VenueEvent] = field(default_factory=list)
    orders: list[OrderIntent] = field(default_factory=list)
    trades: list[Trade] = field(default_factory=list)
    equity_ts: list[int] = field(default_factory=list)
    equity: list[float] = field(default_factory=list)
    decisions: int = 0
    exec_bars: int = 0


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
        self._exec_ms = tf_ms(play.timeframes["exec"])
        self._reasons: dict[str, str] = {}  # link id -> why the engine placed it
        self._open_entries: dict[str, int] = {}  # live entry link id -> exec bar it was placed
        self._open_exits: set[str] = set()
        self._entry_link = ""  # link id of the entry whose fill starts the trailing stop
        self._trailed: set[str] = set()  # entries whose stop the trailing rule has moved

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
        self.result.exec_bars += 1
        self._expire_entries(step.time)
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
        self._sync_state(t, reason)

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
        self._sync_state(t, f"{reason} qty {sized.qty:g} stop {stop} target {take}")

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
            self._trailed.add(self._entry_link)
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
        lid = intent.link_id
        self.result.orders.append(intent)
        self._reasons[lid] = intent.reason
        if intent.reduce_only:
            self._open_exits.add(lid)
        else:
            self._open_entries[lid] = self.result.exec_bars
            self._entry_link = lid
        self._log(t, "submit", f"{lid} {intent.side} {intent.qty:g} "
                  f"{intent.order_type} ({intent.reason})")  # fmt: skip
        self.venue.submit(intent)

    def _expire_entries(self, t: int) -> None:
        """Cancel limit entries that have rested ``execution.entry.ttl_bars`` exec bars."""
        ttl = self.play.model.execution.entry.ttl_bars
        if ttl is None:
            return
        for lid, placed in list(self._open_entries.items()):
            if self.result.exec_bars - placed >= ttl:
                self._log(t, "cancel", f"{lid}: unfilled after {ttl} exec bars (ttl_bars)")
                self.venue.cancel(lid, t, "ttl")

    def _on_venue_event(self, event: VenueEvent) -> None:
        self.result.venue_events.append(event)
        if isinstance(event, PositionClosed):
            self._record_trade(event)
            return
        if isinstance(event, OrderFilled):
            if event.leaves_qty <= 0.0:
                self._done(event.link_id)
            if event.link_id == self._entry_link and self._trail:
                pos = self.venue.position(self.symbol)
                if pos.side is not None:  # trail from the actual fill, not the decision close
                    self._trail["entry"] = self._trail["extreme"] = pos.avg_entry
            self._sync_state(event.ts, f"{event.link_id} filled {event.qty:g} @ {event.price:g}")
        elif isinstance(event, OrderRejected | OrderCancelled):
            if self._done(event.link_id):
                self._log(event.ts, type(event).__name__, f"{event.link_id}: {event.reason}")
                self._sync_state(event.ts, f"{event.link_id} {type(event).__name__}")
        elif isinstance(event, PositionLiquidated):
            self._sync_state(event.ts, f"liquidated at {event.bankruptcy_price:g}")
        if self.state == "flat":
            self._trail = {}

    def _done(self, link_id: str) -> bool:
        """Forget a finished order of ours; whether it was one still open."""
        was_open = link_id in self._open_exits or link_id in self._open_entries
        self._open_exits.discard(link_id)
        self._open_entries.pop(link_id, None)
        return was_open

    def _record_trade(self, rec: PositionClosed) -> None:
        if rec.exit_type == "Order":
            reason = self._reasons.get(rec.exit_link_id, "order")
        elif rec.exit_type == "StopLoss" and rec.entry_link_id in self._trailed:
            reason = "trailing_stop"
        else:
            reason = VENUE_EXIT_REASONS[rec.exit_type]
        trade = trade_from_closed(len(self.result.trades) + 1, rec, reason, self._exec_ms)
        self.result.trades.append(trade)
        self._log(rec.ts, "trade", f"#{trade.trade_id} {trade.side} {trade.qty:g} closed "
                  f"({reason}): net {trade.net_pnl:.2f} USDT")  # fmt: skip

    def _sync_state(self, t: int, reason: str) -> None:
        """Move the position state machine to what the venue and our open orders say:
        flat -> entering -> open -> exiting -> flat (a reversal passes exiting, entering)."""
        pos = self.venue.position(self.symbol)
        if pos.side is None:
            new = "entering" if self._open_entries else "flat"
        else:
            new = "exiting" if self._open_exits else "open"
        if new != self.state:
            self._transition(t, new, reason)

    def _transition(self, t: int, state: str, reason: str) -> None:
        self._log(t, "state", f"{self.state} -> {state}: {reason}")
        self.state = state

    def _log(self, t: int, kind: str, detail: str) -> None:
        self.result.events.append(EngineEvent(t, kind, detail))


def _other(side: str) -> str:
    return "short" if side == "long" else "long"
