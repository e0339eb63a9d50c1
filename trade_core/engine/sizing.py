"""Order sizing: a play's ``risk.sizing`` -> an exchange-valid quantity, or a reasoned no-order.

Units: equity, notional and min notional in USDT; prices in USDT per base coin; quantities in
base coin (BTC for BTCUSDT); ``risk_pct`` and ``equity_pct`` are **percent** (``1.0`` is 1 %),
leverage a multiple (``3.0`` is 3x).

The steps, in this order (each is named in the decision's ``reason``, which
starts with the verdict, ``"order qty 0.166 (notional 9960 USDT); ..."`` or ``"no order: ..."``):

1. The request, by mode:
   ``risk_pct``   qty = equity * risk_pct / 100 / |entry - stop|  (USDT lost if the stop fills
                  at the stop price; fees and slippage are not included);
   ``notional``   qty = notional / entry;
   ``equity_pct`` qty = equity * equity_pct / 100 / entry;
   ``qty``        qty as given.
2. Leverage cap: ``qty * entry`` may not exceed ``L * equity / (1 + L * fee_rate)`` with
   ``L = min(play leverage, system cap, instrument max leverage)``; a larger request is cut to
   that notional / entry (``capped_by="leverage"``). The ``1 + L * fee_rate`` reserves the
   opening fee: at exactly ``L * equity`` the initial margin would take the whole equity and
   the exchange would refuse the order for want of the fee (Bybit 110007).
3. Order-size cap: ``max_mkt_qty`` for market orders (``max_qty`` where it is unknown),
   ``max_qty`` for limit orders (``capped_by="max_qty"``). ``capped_by`` names the last cap
   that cut the quantity, i.e. the binding one.
4. Round **down** to ``qty_step`` (:func:`trade_core.numbers.round_down_to_step`, exact decimal
   steps: 33 USDT / 1.1 = 29.999999999999996 in float is 30.0 FIL, not 29.9).
5. Minimums, as Bybit rejects them (retCode 10001 / 110094), never resized up: ``qty <
   min_qty`` or ``qty * entry < min_notional`` (compared in exact decimals) -> no order.

Outcomes that depend on market data or the account (equity <= 0, a bad entry price, a missing
or zero stop distance, a size below the minimums) are decisions with ``qty=None`` and a reason;
an invalid leverage is a programming/configuration error and raises :class:`ValueError`.
Sizing is deterministic: the same inputs give the same decision, reason string included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, localcontext
from functools import lru_cache

from trade_core.data.instrument_spec import Instrument
from trade_core.numbers import round_down_to_step
from trade_core.play.model import Sizing


@dataclass(frozen=True, slots=True)
class SizingDecision:
    """The sizing outcome.

    ``qty``: order quantity in base coin, a multiple of the instrument's ``qty_step``, or
    ``None`` for no order. ``notional``: ``qty * entry`` in USDT (``0.0`` when ``qty`` is None).
    ``reason``: how the number came about, or why there is no order. ``capped_by``:
    ``"leverage"``, ``"max_qty"`` or ``None`` - the cap that cut the request, if any (also
    set on a no-order decision whose capped size then fell below a minimum).
    """

    qty: float | None
    notional: float
    reason: str
    capped_by: str | None

    @property
    def accepted(self) -> bool:
        """Whether there is an order to place."""
        return self.qty is not None


def size_order(
    sizing: Sizing,
    *,
    equity: float,
    entry_price: float,
    stop_price: float | None,
    leverage: float,
    system_max_leverage: float,
    instrument: Instrument,
    market: bool,
    fee_rate: float = 0.0,
) -> SizingDecision:
    """Size one entry order (see the module docstring for the rules).

    ``sizing``: the play's ``risk.sizing``. ``equity``: account equity, USDT.
    ``entry_price``: expected fill price, USDT. ``stop_price``: the stop-loss price actually to
    be placed (already on the tick grid), USDT; needed for ``risk_pct`` only.
    ``leverage``: the play's ``risk.leverage``. ``system_max_leverage``:
    ``Settings.trade_max_leverage``. ``market``: a market order (``max_mkt_qty`` applies) rather
    than a limit order (``max_qty``). ``fee_rate``: the opening fee rate (fraction) reserved at
    the leverage cap.
    """
    _check_leverage(leverage, "leverage")
    _check_leverage(system_max_leverage, "system_max_leverage")
    problem = _account_problem(equity, entry_price)
    if problem is not None:
        return _no_order(problem, None)
    raw, note = _requested_qty(sizing, equity, entry_price, stop_price)
    if raw is None:
        return _no_order(note, None)
    notes = [note]
    qty, capped_by = _apply_caps(
        raw, equity, entry_price, leverage, system_max_leverage, instrument, market, notes,
        fee_rate,
    )  # fmt: skip
    step = instrument.qty_step
    rounded = _round_down(qty, step)
    notes.append(f"rounded down to step {_fmt(step)}: {_fmt(rounded)}")
    below = _below_minimum(qty, rounded, entry_price, instrument)
    if below is not None:
        return _no_order("; ".join([f"no order: {below}", *notes]), capped_by)
    notional = rounded * entry_price
    verdict = f"order qty {_fmt(rounded)} (notional {_fmt(notional)} USDT)"
    return SizingDecision(rounded, notional, "; ".join([verdict, *notes]), capped_by)


_round_down = lru_cache(maxsize=1024)(round_down_to_step)
"""``round_down_to_step`` remembered (pure; equal keys print as the same decimal): fixed
``qty`` sizing asks the same question at every entry."""


def effective_leverage(
    leverage: float, system_max_leverage: float, instrument: Instrument
) -> float:
    """``min(play leverage, system cap, instrument max leverage)``: the x-multiple of equity
    (USDT) that an order's notional may reach."""
    return min(leverage, system_max_leverage, instrument.max_leverage)


def _check_leverage(value: float, name: str) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def _account_problem(equity: float, entry_price: float) -> str | None:
    """Why no order can be sized for this equity (USDT) and entry price (USDT), if so."""
    if not (math.isfinite(equity) and equity > 0):
        return f"no order: equity {_fmt(equity)} USDT is not positive"
    if not (math.isfinite(entry_price) and entry_price > 0):
        return f"no order: entry price {_fmt(entry_price)} is not a positive price"
    return None


def _requested_qty(
    sizing: Sizing, equity: float, entry: float, stop: float | None
) -> tuple[float | None, str]:
    """The un-rounded, uncapped request in base coin and how it was computed (or why not)."""
    if sizing.risk_pct is not None:
        pct = sizing.risk_pct
        if stop is None:
            return None, "no order: risk_pct sizing needs a stop price"
        distance = abs(entry - stop)
        if not (math.isfinite(distance) and distance > 0):
            return None, (
                f"no order: stop {_fmt(stop)} vs entry {_fmt(entry)} gives no stop distance"
            )
        budget = equity * pct / 100
        qty = budget / distance
        return qty, (
            f"risk_pct {_fmt(pct)}% of equity {_fmt(equity)} USDT = {_fmt(budget)} USDT at risk"
            f" / stop distance {_fmt(distance)} = {_fmt(qty)}"
        )
    if sizing.notional is not None:
        qty = sizing.notional / entry
        return qty, f"notional {_fmt(sizing.notional)} USDT / entry {_fmt(entry)} = {_fmt(qty)}"
    if sizing.equity_pct is not None:
        pct = sizing.equity_pct
        value = equity * pct / 100
        qty = value / entry
        return qty, (
            f"equity_pct {_fmt(pct)}% of equity {_fmt(equity)} USDT = {_fmt(value)} USDT"
            f" / entry {_fmt(entry)} = {_fmt(qty)}"
        )
    if sizing.qty is not None:
        return sizing.qty, f"qty {_fmt(sizing.qty)} as given"
    raise ValueError("sizing has no mode set (expected one of risk_pct, notional, equity_pct, qty)")


def _apply_caps(
    qty: float,
    equity: float,
    entry: float,
    leverage: float,
    system_max_leverage: float,
    instrument: Instrument,
    market: bool,
    notes: list[str],
    fee_rate: float = 0.0,
) -> tuple[float, str | None]:
    """``qty`` (base coin) cut to the leverage and order-size caps; appends a note per cut."""
    capped_by: str | None = None
    lev = effective_leverage(leverage, system_max_leverage, instrument)
    max_notional = lev * equity / (1.0 + lev * max(fee_rate, 0.0))
    if qty * entry > max_notional:
        qty = max_notional / entry
        capped_by = "leverage"
        notes.append(
            f"capped by leverage {_fmt(lev)}x (min of play {_fmt(leverage)}, system "
            f"{_fmt(system_max_leverage)}, instrument {_fmt(instrument.max_leverage)}): "
            f"max notional {_fmt(max_notional)} USDT (opening fee reserved) -> {_fmt(qty)}"
        )
    max_qty, label = _max_order_qty(instrument, market)
    if max_qty is not None and qty > max_qty:
        qty = max_qty
        capped_by = "max_qty"
        notes.append(f"capped by {label} {_fmt(max_qty)}")
    return qty, capped_by


def _max_order_qty(instrument: Instrument, market: bool) -> tuple[float | None, str]:
    """The order-size limit (base coin) for this order type, and its name for the reason."""
    if market and instrument.max_mkt_qty is not None:
        return instrument.max_mkt_qty, "max market-order qty"
    return instrument.max_qty, "max order qty"


def _below_minimum(
    unrounded: float, qty: float, entry: float, instrument: Instrument
) -> str | None:
    """Why the rounded ``qty`` (base coin) is below Bybit's minimums, if it is."""
    if qty < instrument.min_qty:
        return (
            f"below min qty {_fmt(instrument.min_qty)} after rounding "
            f"({_fmt(unrounded)} -> {_fmt(qty)})"
        )
    floor = instrument.min_notional
    if qty > 0.0 and entry > 0.0 and floor >= 0.0 and qty * entry > floor * (1.0 + 1e-9):
        return None  # far above the floor (float error ~1e-16): exactly above it too
    with localcontext() as ctx:
        ctx.prec = 60
        value = _dec(qty) * _dec(entry)
        if value < _dec(instrument.min_notional):
            return (
                f"below min notional {_fmt(instrument.min_notional)} USDT after rounding "
                f"({_fmt(qty)} x {_fmt(entry)} = {_fmt(float(value))} USDT)"
            )
    return None


def _no_order(reason: str, capped_by: str | None) -> SizingDecision:
    return SizingDecision(None, 0.0, reason, capped_by)


def _dec(x: float) -> Decimal:
    """``x`` as the decimal it prints as (``0.1`` -> ``Decimal('0.1')``)."""
    return Decimal(repr(x))


def _fmt(x: float | None) -> str:
    """A number for a reason string: up to 10 significant digits, no float noise."""
    if x is None:
        return "None"
    return f"{x:.10g}"
