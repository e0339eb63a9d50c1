"""The USDT wallet ledger of the simulated exchange: balance and what moved it.

Every change to the wallet balance goes through one of three doors, each counted:

* :meth:`Ledger.realise` - gross PnL of closed position quantity (positive = profit),
* :meth:`Ledger.charge_fee` - a trading fee (positive = paid, negative = rebate),
* :meth:`Ledger.pay_funding` - a funding settlement (positive = paid, negative = received).

so that at all times ``balance == start + realised_pnl - fees_paid - funding_paid`` (to float
rounding; :meth:`Ledger.drift` measures it). The wallet balance *includes* the isolated
position margin (Bybit's "wallet balance"); the available balance is the balance minus that
margin and is the account's business (:mod:`trade_core.sim.account`). Amounts in USDT.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trade_core.sim.sides import require_finite, require_positive


@dataclass(slots=True)
class Ledger:
    """Wallet balance (USDT) with its three running totals; see the module docstring."""

    start: float
    balance: float = field(init=False)
    realised_pnl: float = 0.0
    fees_paid: float = 0.0
    funding_paid: float = 0.0

    def __post_init__(self) -> None:
        self.start = require_positive("starting_balance", self.start)
        self.balance = self.start

    def realise(self, gross: float) -> None:
        """Book ``gross`` USDT of realised position PnL (before fees and funding)."""
        gross = require_finite("gross", gross)
        self.realised_pnl += gross
        self.balance += gross

    def charge_fee(self, fee: float) -> None:
        """Book a trading fee of ``fee`` USDT (negative for a maker rebate)."""
        fee = require_finite("fee", fee)
        self.fees_paid += fee
        self.balance -= fee

    def pay_funding(self, amount: float) -> None:
        """Book a funding settlement: ``amount`` USDT paid (negative = received)."""
        amount = require_finite("funding", amount)
        self.funding_paid += amount
        self.balance -= amount

    def drift(self) -> float:
        """``balance - (start + realised_pnl - fees_paid - funding_paid)``, USDT (~0)."""
        expected = self.start + self.realised_pnl - self.fees_paid - self.funding_paid
        return self.balance - expected
