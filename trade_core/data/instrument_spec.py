"""Instrument specifications (tick, step, limits, risk tiers) as validated, frozen models.

Numbers are in Bybit's units: prices in USDT, quantities in the base coin, rates as fractions
(``maintenance_margin=0.005`` is 0.5 %), ``risk_limit_value`` in USDT of position value.
"""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, Field, model_validator

from trade_core.errors import BadInputError


def check_symbol(symbol: str) -> str:
    """The upper-cased symbol (``btcusdt`` -> ``BTCUSDT``), or a clear error naming it."""
    sym = symbol.strip().upper()
    if not sym.isalnum() or not sym.isascii() or not 2 <= len(sym) <= 30:
        raise BadInputError(f"symbol {symbol!r}: expected letters and digits, e.g. BTCUSDT")
    return sym


class RiskTier(BaseModel):
    """One risk-limit tier: positions up to ``risk_limit_value`` USDT use these rates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    risk_limit_value: float = Field(gt=0, description="Upper bound of position value, USDT.")
    maintenance_margin: float = Field(ge=0, lt=1, description="MMR, fraction.")
    initial_margin: float = Field(gt=0, le=1, description="IMR, fraction.")
    max_leverage: float = Field(gt=0)
    mm_deduction: float = Field(0.0, ge=0, description="Maintenance-margin deduction, USDT.")


class Instrument(BaseModel):
    """A tradable USDT perpetual's rules, as of ``as_of`` (epoch ms UTC)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    symbol: str = Field(pattern=r"^[A-Z0-9]{2,30}$")
    category: str = "linear"
    tick_size: float = Field(gt=0)
    qty_step: float = Field(gt=0)
    min_qty: float = Field(gt=0)
    max_qty: float | None = Field(None, gt=0, description="Limit-order max qty.")
    max_mkt_qty: float | None = Field(None, gt=0, description="Market-order max qty.")
    min_notional: float = Field(ge=0, description="Minimum order value, USDT.")
    max_leverage: float = Field(gt=0)
    funding_interval_min: int | None = Field(None, gt=0)
    risk_tiers: tuple[RiskTier, ...] = Field(min_length=1)
    as_of: int = Field(description="When this spec was taken, epoch ms UTC.")
    source: str = "bundled"

    @model_validator(mode="after")
    def _tiers_ascending(self) -> Instrument:
        limits = [t.risk_limit_value for t in self.risk_tiers]
        if limits != sorted(limits) or len(set(limits)) != len(limits):
            raise ValueError("risk_tiers must be in strictly ascending risk_limit_value")
        return self

    def tier_for(self, position_value: float) -> RiskTier:
        """The risk tier that applies to a position of ``position_value`` USDT."""
        for tier in self.risk_tiers:
            if position_value <= tier.risk_limit_value:
                return tier
        return self.risk_tiers[-1]

    def risk_tiers_json(self) -> str:
        return json.dumps([t.model_dump() for t in self.risk_tiers], separators=(",", ":"))
