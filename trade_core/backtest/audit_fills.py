"""Audit checks on single fills and orders: prices inside the bar, fees, qty and price grids.

Checks 1, 2, 11 and 12 of :mod:`trade_core.backtest.audit`. Each returns ``(passed, detail)``;
the detail gives the numbers behind the verdict and names the first offender on failure.
Prices USDT, quantities base coin, slippage in basis points, fee rates fractions.
"""

from __future__ import annotations

import numpy as np

from trade_core.backtest.audit_context import REL_TOL, AuditContext, Outcome, column, when
from trade_core.backtest.audit_tables import KIND_LIQ


def on_grid(values: np.ndarray, step: float) -> np.ndarray:
    """Whether each value is a whole multiple of ``step`` (to 1e-9 of a step per step
    counted: float noise, never a real price or size difference)."""
    units = values / step
    return np.abs(units - np.rint(units)) <= 1e-9 * np.maximum(1.0, np.abs(units))


def check_fill_prices(ctx: AuditContext) -> Outcome:
    """(1) Every fill inside its 1m bar's [low, high], a taker buy up to ``high * (1 + s)``
    and a sell down to ``low * (1 - s)`` (``s`` = slippage_bps / 10 000); liquidation fills
    (at the bankruptcy price) are check 15's."""
    ft = ctx.fill_table
    if not len(ft):
        return True, "no fills"
    buy, liq = ft.sign > 0, ft.kind == KIND_LIQ
    rows = ctx.cols.rows(ft.ts)
    slip, bps = ctx.slippage_fraction, ctx.result.settings.get("slippage_bps", 0.0)
    safe = np.maximum(rows, 0)
    high, low = ctx.cols.high[safe], ctx.cols.low[safe]
    upper = np.where(buy, high * (1.0 + slip), high)
    lower = np.where(buy, low, low * (1.0 - slip))
    bad = ~liq & ((rows < 0) | (ft.price > upper) | (ft.price < lower))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        f = ctx.result.fills[i]
        if rows[i] < 0:
            return False, f"fill {f.link_id} at {when(f.ts)}: the data has no 1m bar there"
        return False, (
            f"fill {f.link_id} {f.side} at {f.price!r} outside bar [{lower[i]!r}, "
            f"{upper[i]!r}] of {when(ctx.cols.ts[rows[i]])} (low {low[i]!r}, high "
            f"{high[i]!r}, slippage {bps:g} bps)"
        )
    out = np.maximum(np.maximum(ft.price - high, low - ft.price), 0.0)[~liq]
    worst = float(out.max()) / ctx.instrument.tick_size if out.size else 0.0
    return True, (
        f"{len(ft):,} fills ({int(liq.sum())} liquidation fills left to check 15), worst "
        f"excursion beyond the bar {worst:.2f} ticks (slippage {bps:g} bps allowed)"
    )


def check_fees(ctx: AuditContext) -> Outcome:
    """(2) fee = qty * price * rate, the taker or maker rate by the fill's liquidity;
    liquidation fills pay 0."""
    ft = ctx.fill_table
    if not len(ft):
        return True, "no fills"
    s = ctx.result.settings
    rates = {"taker": float(s.get("taker_fee", np.nan)), "maker": float(s.get("maker_fee", np.nan))}
    rate = np.array([rates.get(x, np.nan) for x in ft.liquidity], np.float64)
    liq = ft.kind == KIND_LIQ
    expected = np.where(liq, 0.0, ft.qty * ft.price * rate)
    diff = np.abs(ft.fee - expected)
    bad = ~(diff <= REL_TOL * np.maximum(np.abs(expected), np.abs(ft.fee)) + 1e-12)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        f = ctx.result.fills[i]
        why = (
            "a liquidation pays no fee"
            if liq[i]
            else (f"{f.qty!r} x {f.price!r} x {f.liquidity} rate {rate[i]!r}")
        )
        return False, (
            f"fill {f.link_id} at {when(f.ts)}: fee {f.fee!r} USDT, expected "
            f"{expected[i]!r} ({why})"
        )
    return True, (
        f"{len(ft):,} fills, fees {float(ft.fee.sum()):,.6f} USDT (taker {rates['taker']:g}, "
        f"maker {rates['maker']:g}), largest difference {float(diff.max()):.3g} USDT"
    )


def check_quantities(ctx: AuditContext) -> Outcome:
    """(11) Every order and fill qty a multiple of qtyStep and >= minQty."""
    inst, orders, ft = ctx.instrument, ctx.result.orders, ctx.fill_table
    qty = np.concatenate((column(orders, "qty"), ft.qty))
    if not qty.size:
        return True, "no orders or fills"
    bad = ~on_grid(qty, inst.qty_step) | (qty < inst.min_qty * (1.0 - 1e-12))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        if i < len(orders):
            what, link, ts, q = "order", orders[i].link_id, orders[i].ts, orders[i].qty
        else:
            j = i - len(orders)
            what, link, ts, q = "fill", ft.links[j], int(ft.ts[j]), float(ft.qty[j])
        return False, (
            f"{what} {link} at {when(ts)}: qty {q!r} is not a multiple of qtyStep "
            f"{inst.qty_step:g} of at least minQty {inst.min_qty:g}"
        )
    return True, (
        f"{len(orders):,} orders and {len(ft):,} fills on qtyStep {inst.qty_step:g}, none "
        f"below minQty {inst.min_qty:g}"
    )


def check_prices_on_tick(ctx: AuditContext) -> Outcome:
    """(12) Limit prices and TP/SL prices of every order on tickSize (and > 0)."""
    tick = ctx.instrument.tick_size
    items = [
        (o.link_id, o.ts, name, value)
        for o in ctx.result.orders
        for name, value in (
            ("price", o.price),
            ("stop_loss", o.stop_loss),
            ("take_profit", o.take_profit),
        )
        if value is not None
    ]
    if not items:
        return True, "no limit, stop-loss or take-profit prices"
    values = np.fromiter((x[3] for x in items), np.float64, len(items))
    bad = ~on_grid(values, tick) | ~(values > 0)
    if bad.any():
        link, ts, name, value = items[int(np.flatnonzero(bad)[0])]
        return False, f"order {link} at {when(ts)}: {name} {value!r} is not on tick {tick:g}"
    return True, f"{len(items):,} limit/TP/SL prices, all on tick {tick:g}"
