"""Pluggable models of the simulated exchange: fees, slippage and funding, as objects.

The venue never branches on a flag to price a fill: it asks its fee model what a fill costs,
its slippage model how far a taker fill moves against the trader and its funding model which
settlements fall in a span of time. Each concern is a small :class:`~typing.Protocol` with one
ready implementation; a play or a test may plug in its own.

Units: quantities in the base coin, prices and fees in USDT, fee rates as **fractions** of
order value (``0.00055`` = 0.055 %), slippage in **basis points** (``2.0`` = 0.02 %), funding
rates as fractions per settlement, times as int epoch milliseconds UTC.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal, Protocol

from trade_core.engine.bars import Bar
from trade_core.errors import BadInputError
from trade_core.sim.fees import VIP0_MAKER_RATE, VIP0_TAKER_RATE, trade_fee
from trade_core.sim.sides import require_finite, require_non_negative

Liquidity = Literal["maker", "taker"]


class FeeModel(Protocol):
    """Prices one fill: the fee in USDT (negative = rebate) for ``qty`` at ``price``."""

    def fee(self, qty: float, price: float, liquidity: Liquidity) -> float: ...


class SlippageModel(Protocol):
    """Adverse slippage of one taker fill, in basis points (>= 0).

    ``side`` is the fill's order side (``"buy"`` / ``"sell"``), ``qty`` its size in base coin,
    ``bar`` the 1m bar it fills in (a model may scale with range or volume).
    """

    def slippage_bps(self, side: str, qty: float, bar: Bar) -> float: ...


class FundingModel(Protocol):
    """The funding settlements ``(ts ms, rate fraction)`` with ``after < ts <= upto``, by ts."""

    def settlements(self, after: int, upto: int) -> Sequence[tuple[int, float]]: ...


@dataclass(frozen=True, slots=True)
class FixedRateFees:
    """Fees as a fixed fraction of order value per liquidity side (Bybit VIP0 by default)."""

    taker: float = VIP0_TAKER_RATE
    maker: float = VIP0_MAKER_RATE

    def __post_init__(self) -> None:
        require_finite("taker", self.taker)
        require_finite("maker", self.maker)

    def rate(self, liquidity: Liquidity) -> float:
        """The fee rate (fraction) of a ``"maker"`` or ``"taker"`` fill."""
        if liquidity == "taker":
            return self.taker
        if liquidity == "maker":
            return self.maker
        raise BadInputError(f"liquidity {liquidity!r}: expected 'maker' or 'taker'")

    def fee(self, qty: float, price: float, liquidity: Liquidity) -> float:
        """``qty * price * rate(liquidity)`` USDT (:func:`trade_core.sim.fees.trade_fee`)."""
        return trade_fee(qty, price, self.rate(liquidity))


@dataclass(frozen=True, slots=True)
class FixedSlippage:
    """The same adverse slippage, ``bps`` basis points, on every taker fill."""

    bps: float = 0.0

    def __post_init__(self) -> None:
        require_non_negative("bps", self.bps)

    def slippage_bps(self, side: str, qty: float, bar: Bar) -> float:
        """``bps``, whatever the side, size or bar."""
        return self.bps


class FundingRates:
    """A funding-rate history (e.g. ``Store.read_funding``): settlement times and rates.

    ``ts``: int epoch ms, strictly increasing; ``rate``: fractions, finite. Immutable; a lookup
    is a binary search, so its cost does not grow with the length of a backtest.
    """

    __slots__ = ("_rates", "_ts")

    def __init__(self, ts: Sequence[int], rate: Sequence[float]) -> None:
        times = [int(t) for t in ts]
        rates = [require_finite("funding rate", float(r)) for r in rate]
        if len(times) != len(rates):
            raise BadInputError(f"funding: {len(times)} timestamps but {len(rates)} rates")
        if any(b <= a for a, b in pairwise(times)):
            raise BadInputError("funding timestamps must be strictly increasing")
        self._ts: tuple[int, ...] = tuple(times)
        self._rates: tuple[float, ...] = tuple(rates)

    def __len__(self) -> int:
        return len(self._ts)

    def settlements(self, after: int, upto: int) -> list[tuple[int, float]]:
        """Settlements with ``after < ts <= upto`` in time order (half-open on the left)."""
        lo = bisect_right(self._ts, after)
        hi = bisect_right(self._ts, upto)
        return list(zip(self._ts[lo:hi], self._rates[lo:hi], strict=True))

    def next_after(self, ts: int) -> int | None:
        """The first settlement time ``> ts`` (ms), or None when there is none: lets the venue
        skip the search on the many steps where no settlement is due."""
        i = bisect_right(self._ts, ts)
        return self._ts[i] if i < len(self._ts) else None


def as_funding_model(funding: object) -> FundingModel | None:
    """``None``, a :class:`FundingModel`, or a ``(ts, rate)`` pair of sequences/arrays."""
    if funding is None or hasattr(funding, "settlements"):
        return funding  # type: ignore[return-value]
    if isinstance(funding, tuple) and len(funding) == 2:
        return FundingRates(funding[0], funding[1])
    raise BadInputError(
        f"funding: expected None, a FundingModel or a (ts, rate) pair, got {type(funding).__name__}"
    )
