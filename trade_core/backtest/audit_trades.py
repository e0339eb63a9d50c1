"""Audit checks on trades and the position they come from: PnL arithmetic, fee and equity
reconciliation, quantity conservation, one net position, reduce-only fills.

Checks 3, 4, 5, 19, 20 and 21 of :mod:`trade_core.backtest.audit`. Trade records are matched
one to one, in order, with the replay's closing fills (every closing fill is one closed-PnL
record). Money USDT, quantities base coin (conservation counted in whole qtyStep units).
"""

from __future__ import annotations

import numpy as np

from trade_core.backtest.audit_context import REL_TOL, AuditContext, Outcome, when

SIDE_NAME = {1: "long", -1: "short", 0: "flat"}


def _paired(ctx: AuditContext) -> str | None:
    """Why the trades cannot be matched with the replay's closing fills, or None."""
    n, m = len(ctx.trade_table), len(ctx.replay.closings)
    if n != m:
        return (
            f"{n:,} trades but the fills close quantity {m:,} times (one record per closing fill)"
        )
    return None


def _differs(a: np.ndarray, b: np.ndarray, scale: np.ndarray | float = 0.0) -> np.ndarray:
    """Where ``a`` and ``b`` differ by more than :data:`REL_TOL` of their size (or ``scale``)."""
    size = np.maximum(np.maximum(np.abs(a), np.abs(b)), scale)
    return ~(np.abs(a - b) <= REL_TOL * size + 1e-12)


def _first(mask: np.ndarray) -> int | None:
    return int(np.flatnonzero(mask)[0]) if mask.any() else None


def check_gross(ctx: AuditContext) -> Outcome:
    """(3) gross = (exit - entry) * qty * side sign, with entry = the replayed average entry
    and exit = the closing fill's price."""
    problem = _paired(ctx)
    if problem:
        return False, problem
    t, c = ctx.trade_table, ctx.replay.closings
    if not len(t):
        return True, "no trades"
    formula = (t.exit_price - t.entry_price) * t.qty * t.sign
    notional = t.qty * np.maximum(np.abs(t.entry_price), np.abs(t.exit_price))
    bad = (
        _differs(t.gross, formula, notional)
        | _differs(t.entry_price, c.avg)
        | _differs(t.exit_price, c.price)
        | (t.sign == 0)
    )
    i = _first(bad)
    if i is not None:
        tr = ctx.result.trades[i]
        return False, (
            f"trade #{tr.trade_id} ({tr.side} {tr.qty:g}, exit {when(tr.exit_ts)}): gross "
            f"{tr.gross_pnl!r} vs (exit {tr.exit_price!r} - entry {tr.entry_price!r}) x qty = "
            f"{formula[i]!r}; the fills give entry {c.avg[i]!r}, exit {c.price[i]!r}"
        )
    return True, (
        f"{len(t):,} trades: gross PnL {float(t.gross.sum()):,.2f} USDT = (exit - entry) x qty, "
        "entry and exit prices as the fills give them"
    )


def check_net_and_fees(ctx: AuditContext) -> Outcome:
    """(4) net = gross - entry_fee - exit_fee - funding per trade; each trade's fees equal
    its pro-rata share of the fills' fees, and sum(trade fees) + the open position's
    unallotted opening fees = sum(fill fees)."""
    problem = _paired(ctx)
    if problem:
        return False, problem
    t, c = ctx.trade_table, ctx.replay.closings
    parts = np.abs(t.gross) + np.abs(t.entry_fee) + np.abs(t.exit_fee) + np.abs(t.funding)
    net = t.gross - t.entry_fee - t.exit_fee - t.funding
    i = _first(_differs(t.net, net, parts))
    trades = ctx.result.trades
    if i is not None:
        tr = trades[i]
        return False, (
            f"trade #{tr.trade_id}: net {tr.net_pnl!r} != gross {tr.gross_pnl!r} - fees "
            f"{tr.entry_fee!r} - {tr.exit_fee!r} - funding {tr.funding!r} = {net[i]!r}"
        )
    for name, got, want in (("entry", t.entry_fee, c.entry_fee), ("exit", t.exit_fee, c.exit_fee)):
        i = _first(_differs(got, want))
        if i is not None:
            return False, (
                f"trade #{trades[i].trade_id} ({when(trades[i].exit_ts)}): {name} fee "
                f"{got[i]!r} USDT, its share of the fills' fees is {want[i]!r}"
            )
    fees = ctx.fill_table.fee
    fill_fees, trade_fees = float(fees.sum()), float((t.entry_fee + t.exit_fee).sum())
    open_fees = ctx.replay.final.open_fees
    if not abs(trade_fees + open_fees - fill_fees) <= REL_TOL * float(np.abs(fees).sum()) + 1e-9:
        return False, (
            f"trade fees {trade_fees!r} + open position's opening fees {open_fees!r} != fill "
            f"fees {fill_fees!r} USDT"
        )
    return True, (
        f"{len(t):,} trades: net = gross - fees - funding; trade fees {trade_fees:,.6f} + "
        f"open position {open_fees:,.6f} = fill fees {fill_fees:,.6f} USDT"
    )


def check_equity_change(ctx: AuditContext) -> Outcome:
    """(5) sum(trade net) + open uPnL (replayed position at the last close) - its unallotted
    opening fees - its unallotted funding = final equity - starting equity."""
    r, pos, t = ctx.result, ctx.replay.final, ctx.trade_table
    nets = float(t.net.sum())
    last = float(ctx.cols.close[-1]) if ctx.cols.close.size else float("nan")
    upnl = pos.sign * pos.qty * (last - pos.avg) if pos.sign else 0.0
    lhs = nets + upnl - pos.open_fees - pos.funding
    rhs = r.final_equity - r.starting_equity
    scale = r.starting_equity + float(
        np.abs(t.gross).sum() + np.abs(t.entry_fee + t.exit_fee).sum()
    )
    if not abs(lhs - rhs) <= REL_TOL * scale:
        return False, (
            f"trades net {nets!r} + open uPnL {upnl!r} - open fees {pos.open_fees!r} - open "
            f"funding {pos.funding!r} = {lhs!r} USDT, but final - start equity = {rhs!r}"
        )
    return True, (
        f"trades net {nets:,.2f} + open uPnL {upnl:,.2f} - unallotted fees/funding "
        f"{pos.open_fees + pos.funding:,.2f} = equity change {rhs:,.2f} USDT "
        f"(difference {lhs - rhs:.2g})"
    )


def check_quantity_conservation(ctx: AuditContext) -> Outcome:
    """(19) qty opened by the fills = qty closed in trades + qty still open (qtyStep units),
    and each trade's qty is its closing fill's."""
    step = ctx.instrument.qty_step
    t, c = ctx.trade_table, ctx.replay.closings
    tu = np.rint(t.qty / step).astype(np.int64)
    n = min(len(t), len(c))
    i = _first(tu[:n] != np.rint(c.qty[:n] / step))
    if i is not None:
        return False, (
            f"trade #{int(t.ids[i])}: qty {t.qty[i]!r}, its closing fill closed {c.qty[i]!r}"
        )
    opened, closed = ctx.replay.opened_units, int(tu.sum())
    still = round(ctx.result.open_position.qty / step)
    if opened != closed + still:
        return False, (
            f"fills opened {opened * step:g}, trades closed {closed * step:g} and "
            f"{still * step:g} is open: {(opened - closed - still) * step:g} unaccounted"
        )
    return True, (
        f"opened {opened * step:,.10g} = closed in {len(t):,} trades {closed * step:,.10g} + "
        f"open {still * step:,.10g}"
    )


def check_one_position(ctx: AuditContext) -> Outcome:
    """(20) One net position at a time: each trade's side, entry time and entry order are
    the replayed position's; positions follow each other without overlap; the reported open
    position is on the replayed side."""
    problem = _paired(ctx)
    if problem:
        return False, problem
    t, c = ctx.trade_table, ctx.replay.closings
    wrong = (t.sign != c.sign) | (t.entry_ts != c.opened_ts)
    wrong |= np.array([a != b for a, b in zip(t.entry_links, c.entry_links, strict=True)], bool)
    i = _first(wrong)
    if i is not None:
        return False, (
            f"trade #{int(t.ids[i])}: {SIDE_NAME[int(t.sign[i])]} opened {when(t.entry_ts[i])} "
            f"by {t.entry_links[i]}, but the fills hold a {SIDE_NAME[int(c.sign[i])]} opened "
            f"{when(c.opened_ts[i])} by {c.entry_links[i]}"
        )
    links = t.entry_links
    new = np.ones(len(t), bool)  # a trade of a new position (not a partial close's sequel)
    new[1:] = (t.entry_ts[1:] != t.entry_ts[:-1]) | np.array(
        [a != b for a, b in zip(links[1:], links[:-1], strict=True)], bool
    )
    overlap = new[1:] & (t.entry_ts[1:] < t.exit_ts[:-1])
    i = _first(overlap)
    if i is not None:
        return False, (
            f"trade #{int(t.ids[i + 1])} opened {when(t.entry_ts[i + 1])} while the previous "
            f"position was open until {when(t.exit_ts[i])}"
        )
    reported = ctx.result.open_position.side
    replayed = {1: "long", -1: "short", 0: None}[ctx.replay.final.sign]
    if reported != replayed:
        return False, f"open position reported {reported}, the fills leave {replayed}"
    return True, (
        f"{int(new.sum()):,} positions over {len(t):,} trades, one at a time; open at the end: "
        f"{replayed or 'flat'}"
    )


def check_reduce_only(ctx: AuditContext) -> Outcome:
    """(21) A reduce-only fill always faced an opposite position at least its size."""
    rp = ctx.replay
    count = int(ctx.fill_table.reduce_only.sum())
    if rp.reduce_bad:
        return False, (
            f"{rp.reduce_bad} of {count:,} reduce-only fills opened or grew a position; first: "
            f"{rp.reduce_problems[0]}"
        )
    return True, f"{count:,} reduce-only fills, none opened or grew a position"
