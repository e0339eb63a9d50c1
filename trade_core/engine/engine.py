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
from trade_core.play.conditions.compile import TRUE
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
        # live entry link id -> (exec bar it was placed at, its side "long"/"short")
        self._open_entries: dict[str, tuple[int, str]] = {}
        self._waiting_reported: set[str] = set()  # open entries already logged as blocking
        self._net = 0.0  # signed position qty (base coin) as the venue's fills report it
        self._half_step = instrument.qty_step / 2.0
        self._fee_rate = play.model.execution.fees.taker  # opening fee reserved by sizing
        self._trail_prev: float | None = None  # stop before the last trailing move
        self._open_exits: set[str] = set()
        self._entry_link = ""  # link id of the entry whose fill starts the trailing stop
        self._trailed: set[str] = set()  # entries whose stop the trailing rule has moved
        # Hot-loop plan, bound once (the per-bar path then does no lookups by name):
        self._plans = {role: self._role_plan(role) for role in play.timeframes}
        self._is_warm = False  # role bar counts only grow: once warm, always warm
        self._ttl = play.model.execution.entry.ttl_bars
        self._trailing = play.model.risk.trailing
        self._max_dd = play.model.risk.max_drawdown_pct
        self._max_day_loss = play.model.risk.daily_loss_pct
        rules = play.rules
        self._entry_fn = {s: rules[f"entry.{s}"].fn if f"entry.{s}" in rules else None
                          for s in ("long", "short")}  # fmt: skip
        self._exit_fn = {s: rules[f"exit.{s}"].fn if f"exit.{s}" in rules else None
                         for s in ("long", "short")}  # fmt: skip
        self._entry_long, self._entry_short = self._entry_fn["long"], self._entry_fn["short"]
        equity = getattr(venue, "equity", None)
        self._equity = equity if equity is not None else (lambda mark: venue.wallet(mark).equity)

    # ------------------------------------------------------------------ the loop
    def run(self, feed: MarketFeed) -> EngineResult:
        for step in feed:
            self.on_step(step)
        return self.result

    def on_step(self, step: Step) -> None:
        time, bar, closed = step
        venue = self.venue
        venue.on_market(step)
        events = venue.drain()
        if events:
            on_event = self._on_venue_event
            for event in events:
                on_event(event)
        if self._trailing and self._trail and bar is not None:  # only the trailing rule reads it
            self._track_extreme(bar)
        if not closed:
            return
        exec_bar: BarClosed | None = None
        plans, role_bars = self._plans, self.role_bars
        for event in closed:  # _update_role, inlined: the hot path of every closed bar
            role, _, b, _ = event
            updates, prices, values = plans[role]
            if updates:
                ts, o, h, lo, c, v, _ = b
                for update in updates:
                    update(ts, o, h, lo, c, v)
            for push, i in prices:
                push(b[i])
            for push, feature, index, warm in values:  # Feature.current, inlined
                push(feature.out[index] if feature.bars >= warm else None)
            role_bars[role] += 1
            if role == "exec":
                exec_bar = event
        if exec_bar is None:
            return
        result = self.result
        result.exec_bars += 1
        if self._ttl is not None:
            self._expire_entries(time)
        self.snap.close_exec()
        ebar = exec_bar[2]
        equity = self._equity(ebar[4])
        result.equity_ts.append(time)
        result.equity.append(equity)
        if not exec_bar[3]:
            self._log(time, "skip", "incomplete exec bar: no decision")
        elif self._is_warm or self._warm():
            self._decide(time, ebar, equity)

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

    def _role_plan(self, role: str) -> tuple[list[Any], list[Any], list[Any]]:
        """What a closed ``role`` bar does, bound once: the features' ``update`` methods (in
        dependency order), then ``(push, bar field index)`` for price values and ``(push,
        feature, output index, output warm-up)`` for feature values (``Feature.current``)."""
        pushers = dict(self.snap.role_pushers(role))
        prices, values = [], []
        for vkey, g in self._getters[role]:
            if isinstance(g, str):
                prices.append((pushers[vkey], Bar._fields.index(g)))
            else:
                feature, index = g
                values.append((pushers[vkey], feature, index, feature.out_warmups[index]))
        return [f.update for f in self._by_role[role]], prices, values

    def _warm(self) -> bool:
        warm = all(self.role_bars[r] >= n for r, n in self.play.warmup.bars.items())
        self._is_warm = warm
        return warm

    def _slot_value(self, name: str) -> float | None:
        slot = self.play.risk_slots.get(name)
        if slot is None:
            return None
        ring = self.snap.rings[slot]
        return ring[0] if ring else None

    # ------------------------------------------------------------------ decisions
    def _decide(self, t: int, bar: Bar, equity: float) -> None:
        self.result.decisions += 1
        if self._max_dd or self._max_day_loss:
            self._update_halts(t, equity)
        pos = self.venue.position(self.symbol)
        rings = self.snap.rings
        side = pos.side
        closing = False  # exit rule of the open side fired: close it
        if side is not None:
            exit_fn = self._exit_fn[side]
            if exit_fn is not None and exit_fn(rings, 0) == TRUE:
                self._close(t, pos, f"exit.{side}")
                closing = True
        long_fn, short_fn = self._entry_long, self._entry_short
        fires_long = long_fn is not None and long_fn(rings, 0) == TRUE
        fires_short = short_fn is not None and short_fn(rings, 0) == TRUE
        if fires_long and fires_short:
            self._log(t, "skip", "entry.long and entry.short both fire: no entry")
        elif fires_long and side != "long":
            self._enter(t, bar, "long", pos, equity, already_closing=closing)
        elif fires_short and side != "short":
            self._enter(t, bar, "short", pos, equity, already_closing=closing)
        if side is not None and not closing and self._trailing:
            self._trail_stop(t, pos)

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
        if self._open_entries and not self._clear_entries(t, side):
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
                           market=self.play.model.execution.entry.type == "market",
                           fee_rate=self._fee_rate)  # fmt: skip
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

    def _clear_entries(self, t: int, side: str) -> bool:
        """Open entry orders before a new ``side`` entry: one of the same side blocks it (one
        entry at a time; logged once per order); one of the other side is cancelled first, so
        a stale order can never fill against the new position. Whether to go on."""
        for lid, (_, open_side) in list(self._open_entries.items()):
            if open_side == side:
                if lid not in self._waiting_reported:
                    self._waiting_reported.add(lid)
                    self._log(t, "skip", f"entry.{side}: entry order {lid} is still open")
                return False
        for lid in list(self._open_entries):
            self._log(t, "cancel", f"{lid}: replaced by entry.{side}")
            self.venue.cancel(lid, t, f"replaced by entry.{side}")
        return True

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
            self._trail_prev, tr["stop"] = tr["stop"], new
            self._trailed.add(self._entry_link)
            self._log(t, "trail", f"stop moved to {new!r}")
            self.venue.set_trading_stop(self.symbol, t, stop_loss=new,
                                        take_profit=pos.take_profit)  # fmt: skip

    def _track_extreme(self, bar: Bar) -> None:
        pos = self.venue.position(self.symbol)
        if pos.side == "long":
            self._trail["extreme"] = max(self._trail["extreme"], bar.high)
        elif pos.side == "short":
            self._trail["extreme"] = min(self._trail["extreme"], bar.low)

    # ------------------------------------------------------------------ risk halts
    def _update_halts(self, t: int, equity: float) -> None:
        """Track the peak and the day's start; halt entries past the play's limits (only
        called when the play sets one: otherwise nothing here is ever read)."""
        max_dd, max_day_loss = self._max_dd, self._max_day_loss
        self._peak = max(self._peak, equity)
        if max_dd and not self._halt and self._peak > 0:
            dd = (self._peak - equity) / self._peak * 100.0
            if dd >= max_dd:
                self._halt = f"drawdown {dd:.2f}% >= {max_dd:g}%"
                self._log(t, "halt", f"no new entries: {self._halt}")
        day = t // DAY_MS
        if day != self._day:
            self._day, self._day_start, self._day_halt = day, equity, False
        if max_day_loss and not self._day_halt and self._day_start > 0:
            loss = (self._day_start - equity) / self._day_start * 100.0
            if loss >= max_day_loss:
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
            self._open_entries[lid] = (self.result.exec_bars, "long" if intent.side == "Buy"
                                       else "short")  # fmt: skip
            self._entry_link = lid
        self._log(t, "submit", f"{lid} {intent.side} {intent.qty:g} "
                  f"{intent.order_type} ({intent.reason})")  # fmt: skip
        self.venue.submit(intent)

    def _expire_entries(self, t: int) -> None:
        """Cancel limit entries that have rested ``execution.entry.ttl_bars`` exec bars."""
        ttl = self.play.model.execution.entry.ttl_bars
        if ttl is None:
            return
        for lid, (placed, _) in list(self._open_entries.items()):
            if self.result.exec_bars - placed >= ttl:
                self._log(t, "cancel", f"{lid}: unfilled after {ttl} exec bars (ttl_bars)")
                self.venue.cancel(lid, t, "ttl")

    def _on_venue_event(self, event: VenueEvent) -> None:
        self.result.venue_events.append(event)
        if isinstance(event, PositionClosed):
            self._record_trade(event)
            return
        if isinstance(event, OrderFilled):
            self._net += event.qty if event.side == "Buy" else -event.qty
            if -self._half_step < self._net < self._half_step:
                self._net = 0.0  # float residue of whole qty steps
            if event.leaves_qty <= 0.0:
                self._done(event.link_id)
            if event.link_id == self._entry_link and self._trail:
                pos = self.venue.position(self.symbol)
                if pos.side is not None:  # trail from the actual fill, not the decision close
                    self._trail["entry"] = self._trail["extreme"] = pos.avg_entry
            self._sync_state(event.ts, f"{event.link_id} filled {event.qty:g} @ {event.price:g}")
        elif isinstance(event, OrderRejected) and event.link_id.endswith("-tpsl"):
            self._trading_stop_refused(event)
        elif isinstance(event, OrderRejected | OrderCancelled):
            if self._done(event.link_id):
                self._log(event.ts, type(event).__name__, f"{event.link_id}: {event.reason}")
                self._sync_state(event.ts, f"{event.link_id} {type(event).__name__}")
        elif isinstance(event, PositionLiquidated):
            self._sync_state(event.ts, f"liquidated at {event.bankruptcy_price:g}")
        if self.state == "flat":
            self._trail = {}

    def _trading_stop_refused(self, event: OrderRejected) -> None:
        """The venue refused a trailing move: the stop in force is still the previous one."""
        self._log(event.ts, "OrderRejected", f"{event.link_id}: {event.reason}")
        if self._trail and self._trail_prev is not None:
            self._trail["stop"] = self._trail_prev
            self._log(event.ts, "trail", f"stop stays at {self._trail_prev!r}")
        self._trail_prev = None

    def _done(self, link_id: str) -> bool:
        """Forget a finished order of ours; whether it was one still open."""
        was_open = link_id in self._open_exits or link_id in self._open_entries
        self._open_exits.discard(link_id)
        self._open_entries.pop(link_id, None)
        self._waiting_reported.discard(link_id)
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
        """Move the position state machine to what the venue's events and our open orders
        say: flat -> entering -> open -> exiting -> flat (a reversal passes exiting, entering).
        The position is the running sum of the reported fills, not the venue's state now, so
        two fills in one bar still pass through every state in order."""
        if -self._half_step < self._net < self._half_step:
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
