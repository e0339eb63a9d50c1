"""The sequential money pass of the audit's replay (:mod:`audit_replay`).

Walks the merged fills, funding settlements and trailing-stop moves in time order, keeping
the one-way isolated position the way BYBIT_RULES describe it:

* a fill against the position closes ``min(fill, position)`` at the average entry (gross
  ``s * qty * (price - avg)``), taking its pro-rata share of the opening fees and funding not
  yet allotted; the rest of the fill opens the other way; a fill's fee is split between its
  closing and opening parts in proportion to quantity;
* adding to a position averages the entry by size (``(q*avg + a*p) / (q + a)``);
* funding ``s * qty * mark * rate`` comes out of the balance; the part the available balance
  (balance - margin) cannot cover drains the position margin (negative extra margin ``E``);
  a partial close shrinks ``E`` in proportion; a liquidation at or below zero price loses the
  margin;
* an opening fill attaches its order's TP/SL (given levels replace, a missing one is kept
  unless the pair would be on the wrong sides); a trailing move replaces the stop.

Each event appends plain tuples (closings, spans, settlements, balances); the caller turns
them into arrays. Money USDT, quantities base coin (whole ``qty_step`` units for sizes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

FUNDING, TRAIL, FILL = 0, 1, 2
"""Event codes, in the order events sharing one timestamp happen."""
END_FILL, END_LIQ, END_FUNDING, END_DATA = 0, 1, 2, 3
"""How a position span ended: a fill, a liquidation fill, a funding settlement, the data."""

Point = tuple[int, float, float]  # 1m bar row, path time (0 open .. 3 close), path price
Levels = tuple[float | None, float | None]  # an order's (stop_loss, take_profit)


def logged_level(text: str, tick: float) -> tuple[float, float]:
    """A stop the engine logged as ``{price:g}`` (6 significant digits): ``(price, tol)``.

    When the 6th significant digit is no coarser than the tick, the logged text pins down a
    single tick-grid price, returned with ``tol = 0``; otherwise the raw value is returned
    with ``tol`` = half a unit of that digit (USDT the true stop may differ by).
    """
    raw = float(text)
    if not (math.isfinite(raw) and raw > 0):
        raise ValueError(f"logged stop {text!r} is not a positive price")
    unit = 10.0 ** (math.floor(math.log10(raw)) - 5)
    if unit <= tick * (1 + 1e-9):
        return round(round(raw / tick) * tick, decimals(tick)), 0.0
    return raw, unit / 2


def decimals(step: float) -> int:
    """Decimal places of a step as printed (``0.001`` -> 3, ``5e-05`` -> 5, ``100`` -> 0)."""
    exp = Decimal(repr(step)).as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else 12


@dataclass(frozen=True)
class WalkFills:
    """Per fill, as Python lists: time, side sign, qty, price, fee, whether a liquidation,
    link id, its point on the path, made before the bar's path, units it closes / opens, and
    its order's TP/SL when it opens (None otherwise)."""

    ts: list[int]
    sign: list[int]
    qty: list[float]
    price: list[float]
    fee: list[float]
    liq: list[bool]
    link: list[str]
    point: list[Point]
    pre_path: list[bool]
    closed_u: list[int]
    opened_u: list[int]
    levels: list[Levels | None]


@dataclass(frozen=True)
class WalkFunding:
    """Funding settlements to apply: time (ms), rate (fraction), mark price (USDT), and the
    1m bar row the mark is the close of."""

    ts: list[int]
    rate: list[float]
    mark: list[float]
    row: list[int]


class Walk:
    """One pass over the events (module docstring). The position lives in slots, not in an
    object per event: the pass runs once per fill of a possibly year-long backtest."""

    __slots__ = (
        "avg", "bal", "bal_ts", "bals", "closes", "elink", "extra", "fills", "fund_at",
        "funding", "lev", "level_problems", "liq_ts", "n_bars", "nd", "ofees", "opened_ts",
        "pfund", "q", "segs", "setl", "sgn", "sl", "start", "step", "tick", "tol", "tp",
        "trails", "units",
    )  # fmt: skip

    def __init__(
        self,
        fills: WalkFills,
        funding: WalkFunding,
        trails: list[tuple[int, str]],
        *,
        start_balance: float,
        leverage: float,
        qty_step: float,
        tick: float,
        n_bars: int,
    ) -> None:
        self.fills, self.funding, self.trails = fills, funding, trails
        self.bal, self.lev, self.step, self.tick = start_balance, leverage, qty_step, tick
        self.nd, self.n_bars = decimals(qty_step), n_bars
        self.closes: list[tuple] = []
        self.segs: list[tuple] = []
        self.setl: list[tuple] = []
        self.bal_ts: list[int] = []
        self.bals: list[float] = []
        self.liq_ts: set[int] = set()
        self.level_problems: list[str] = []
        self.start: Point = (-1, 0.0, 0.0)
        self.fund_at: tuple[int, Point] | None = None
        self.flatten()

    def flatten(self) -> None:
        """No position: nothing held, nothing left to allot, no TP/SL."""
        self.sgn, self.units, self.q, self.avg, self.extra = 0, 0, 0.0, math.nan, 0.0
        self.ofees, self.pfund, self.opened_ts, self.elink = 0.0, 0.0, 0, ""
        self.sl: float | None = None
        self.tp: float | None = None
        self.tol = 0.0

    def run(self, whats: list[int], idxs: list[int]) -> None:
        """Apply the events ``whats[k]`` (``FILL``/``FUNDING``/``TRAIL``) of index ``idxs[k]``."""
        fill, settle, trail = self.fill, self.settle, self.trail
        for what, j in zip(whats, idxs, strict=True):
            if what == FILL:
                fill(j)
            elif what == FUNDING:
                settle(j)
            else:
                trail(j)
        if self.sgn:
            self.segs.append((*self.state(), *self.start, self.n_bars, 3.0, math.nan, END_DATA,
                              False, -1, False))  # fmt: skip

    def state(self) -> tuple[int, float, float, float]:
        return self.sgn, self.q, self.avg, self.extra

    # ------------------------------------------------------------------ events
    def fill(self, j: int) -> None:
        f = self.fills
        liq, pre, point = f.liq[j], f.pre_path[j], f.point[j]
        at_fund = liq and self.fund_at is not None and self.fund_at[0] == f.ts[j]
        if at_fund:  # a liquidation the settlement just caused: at that settlement's mark
            point, pre = self.fund_at[1], False  # type: ignore[index]
        cu, ou, fee = f.closed_u[j], f.opened_u[j], f.fee[j]
        if self.sgn and (cu or ou):
            end = END_LIQ if liq else END_FILL
            self.segs.append((*self.state(), *self.start, *point, end, pre, j, at_fund))
        close_fee = self.close(j, cu, ou, liq) if cu else 0.0
        self.bal -= fee
        if ou:
            self.open(j, ou, fee - close_fee)
        self.start, self.fund_at = point, None
        self.bal_ts.append(f.ts[j])
        self.bals.append(self.bal)
        if liq:
            self.liq_ts.add(f.ts[j])

    def close(self, j: int, cu: int, ou: int, liq: bool) -> float:
        """Book the closing part of fill ``j`` (``cu`` units); returns its share of the fee."""
        f = self.fills
        qty, price, q, avg = f.qty[j], f.price[j], self.q, self.avg
        closed = qty if ou == 0 else q
        share = closed / q
        entry_fee, funding, close_fee = (
            self.ofees * share,
            self.pfund * share,
            f.fee[j] * closed / qty,
        )
        gross = self.sgn * closed * (price - avg)
        if liq and not price > 0:
            gross = -(q * avg / self.lev + self.extra)
        sl = math.nan if self.sl is None else self.sl
        tp = math.nan if self.tp is None else self.tp
        self.closes.append((j, self.sgn, closed, avg, price, gross, entry_fee, close_fee, funding,
                            self.opened_ts, self.elink, sl, tp, self.tol))  # fmt: skip
        self.bal += gross
        left = self.units - cu
        if left:
            new_q = round(left * self.step, self.nd)
            self.extra *= new_q / q
            self.units, self.q = left, new_q
            self.ofees -= entry_fee
            self.pfund -= funding
        else:
            self.flatten()
        return close_fee

    def open(self, j: int, ou: int, open_fee: float) -> None:
        """Open or add ``ou`` units by fill ``j``, with its share of the fee."""
        f = self.fills
        added, price = round(ou * self.step, self.nd), f.price[j]
        if self.sgn == 0:
            self.sgn, self.units, self.q, self.avg = f.sign[j], ou, added, price
            self.opened_ts, self.elink, self.ofees = f.ts[j], f.link[j], open_fee
        else:
            self.avg = (self.q * self.avg + added * price) / (self.q + added)
            self.units += ou
            self.q = round(self.units * self.step, self.nd)
            self.ofees += open_fee
        levels = f.levels[j]
        if levels is not None:
            self.attach(*levels)

    def attach(self, sl: float | None, tp: float | None) -> None:
        """An opening fill's order TP/SL: given levels replace, a missing one is kept unless
        the pair would then be on the wrong sides (then only the order's levels remain)."""
        new_sl = sl if sl is not None else self.sl
        new_tp = tp if tp is not None else self.tp
        tol = 0.0 if sl is not None else self.tol
        if new_sl is not None and new_tp is not None and not self.sgn * (new_tp - new_sl) > 0:
            new_sl, new_tp, tol = sl, tp, 0.0
        self.sl, self.tp, self.tol = new_sl, new_tp, tol

    def settle(self, j: int) -> None:
        """Funding settlement ``j`` on the open position (none when flat)."""
        if not self.sgn:
            return
        fu = self.funding
        ts, rate, mark = fu.ts[j], fu.rate[j], fu.mark[j]
        point = (fu.row[j], 3.0, mark)
        self.segs.append((*self.state(), *self.start, *point, END_FUNDING, False, -1, False))
        amount = self.sgn * self.q * mark * rate + 0.0
        self.bal -= amount
        self.pfund += amount
        shortfall = -(self.bal - (self.q * self.avg / self.lev + self.extra))
        if amount > 0.0 and shortfall > 0.0:
            self.extra -= min(shortfall, amount)
        self.setl.append((ts, rate, mark, self.sgn, self.q, amount))
        self.bal_ts.append(ts)
        self.bals.append(self.bal)
        self.start, self.fund_at = point, (ts, point)

    def trail(self, j: int) -> None:
        """A trailing-stop move the engine logged (and the venue did not refuse)."""
        self.fund_at = None  # the engine decided after that settlement
        if not self.sgn:
            return
        ts, detail = self.trails[j]
        try:
            self.sl, self.tol = logged_level(detail.rsplit(" ", 1)[-1], self.tick)
        except ValueError as exc:
            self.level_problems.append(f"trail at {ts}: {exc}")
            self.sl, self.tol = None, 0.0
