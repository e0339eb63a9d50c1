"""Trading fees and closed PnL of a Bybit USDT perpetual: pure functions.

Units: quantities in the base coin, prices and amounts in USDT, fee rates as **fractions** of
order value (Bybit VIP0 derivatives: taker ``0.00055`` = 0.055 %, maker ``0.0002`` = 0.02 %).
Rates belong to a play/account and are passed in; the constants below are only defaults.

Sources: ``docs/BYBIT_RULES.md`` (Fees) and Bybit's help centre "Trading Fee Structure" and
"P&L calculations (USDT Contract)", closed P&L.
"""

from __future__ import annotations

from trade_core.sim.sides import require_finite, require_positive

VIP0_TAKER_RATE = 0.00055
"""Bybit VIP0 derivatives taker fee, fraction of order value (0.055 %)."""
VIP0_MAKER_RATE = 0.0002
"""Bybit VIP0 derivatives maker fee, fraction of order value (0.02 %)."""


def trade_fee(qty: float, price: float, rate: float) -> float:
    """Fee (USDT) charged on one fill: ``qty * price * rate``.

    ``qty`` base coin (> 0), ``price`` the fill price in USDT (> 0), ``rate`` a fraction
    (taker ``0.00055``, maker ``0.0002``). A negative rate is a rebate: the fee is negative
    and the account is credited. Charged per fill, immediately (BYBIT_RULES, Fees).
    """
    value = require_positive("qty", qty) * require_positive("price", price)
    return value * require_finite("rate", rate) + 0.0  # + 0.0: no -0.0


def closed_pnl(gross: float, open_fee: float, close_fee: float, funding: float = 0.0) -> float:
    """Closed PnL (USDT) of a trade: ``gross - open_fee - close_fee - funding``.

    ``gross`` is the position PnL (:func:`trade_core.sim.margin.realised_pnl`), the fees are
    amounts charged (negative for rebates), ``funding`` is the total funding the position
    **paid** (negative if it received; :func:`trade_core.sim.margin.funding_fee` summed).
    Source: Bybit "Closed P&L = Position P&L - Opening Fee - Closing Fee - Funding Fees".
    """
    return (
        require_finite("gross", gross)
        - require_finite("open_fee", open_fee)
        - require_finite("close_fee", close_fee)
        - require_finite("funding", funding)
    )
