"""The Play document as strict pydantic models (``extra="forbid"`` everywhere).

Features and conditions are typed loosely here (``dict``/``Any``) because their shape depends
on the indicator registry and the condition language; ``features.py`` and ``conditions/``
check them with the same located error messages.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from trade_core.data.timeframes import TIMEFRAMES

ROLES = ("exec", "med", "high")
Timeframe = Literal["1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d"]
Positive = Annotated[float, Field(gt=0)]
Percent = Annotated[float, Field(gt=0, le=100)]
Condition = Any  # checked by trade_core.play.conditions


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Market(Strict):
    symbol: str = Field(pattern=r"^[A-Z0-9]{2,30}$", description="Bybit symbol, e.g. BTCUSDT")
    category: Literal["linear"] = "linear"


class Timeframes(Strict):
    exec: Timeframe
    med: Timeframe | None = None
    high: Timeframe | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Timeframes:
        prev = ("exec", TIMEFRAMES[self.exec])
        for role in ("med", "high"):
            tf = getattr(self, role)
            if tf is None:
                continue
            ms = TIMEFRAMES[tf]
            if ms <= prev[1] or ms % prev[1]:
                raise ValueError(
                    f"{role} ({tf}) must be a longer whole multiple of {prev[0]} "
                    f"({getattr(self, prev[0])})"
                )
            prev = (role, ms)
        return self

    def declared(self) -> dict[str, str]:
        """Role -> timeframe for the roles this play declares."""
        return {r: getattr(self, r) for r in ROLES if getattr(self, r) is not None}


class SideRules(Strict):
    long: Condition | None = None
    short: Condition | None = None


class EntryRules(SideRules):
    @model_validator(mode="after")
    def _has_an_entry(self) -> EntryRules:
        if self.long is None and self.short is None:
            raise ValueError("entries needs a long or a short rule (or both)")
        return self


class StopLoss(Strict):
    """Exactly one form: ``{atr, mult}``, ``{pct}`` or ``{level}``."""

    atr: str | None = None
    mult: Positive | None = None
    pct: Percent | None = None
    level: str | None = None

    @model_validator(mode="after")
    def _one_form(self) -> StopLoss:
        return _one_form(self, {"atr": ("atr", "mult"), "pct": ("pct",), "level": ("level",)})


class TakeProfit(Strict):
    """Exactly one form: ``{rr}``, ``{pct}`` or ``{atr, mult}``."""

    rr: Positive | None = None
    pct: Annotated[float, Field(gt=0, le=1000)] | None = None
    atr: str | None = None
    mult: Positive | None = None

    @model_validator(mode="after")
    def _one_form(self) -> TakeProfit:
        return _one_form(self, {"rr": ("rr",), "pct": ("pct",), "atr": ("atr", "mult")})


class Trailing(Strict):
    activate_rr: Annotated[float, Field(ge=0)] = 0.0
    atr: str
    mult: Positive


class Sizing(Strict):
    """Exactly one of ``risk_pct`` (of equity, with the stop distance), ``notional`` (USDT),
    ``equity_pct`` (of equity, as notional) or ``qty`` (base coin)."""

    risk_pct: Percent | None = None
    notional: Positive | None = None
    equity_pct: Annotated[float, Field(gt=0, le=1000)] | None = None
    qty: Positive | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Sizing:
        forms = {k: (k,) for k in ("risk_pct", "notional", "equity_pct", "qty")}
        return _one_form(self, forms)


class Risk(Strict):
    stop_loss: StopLoss | None = None
    take_profit: TakeProfit | None = None
    trailing: Trailing | None = None
    sizing: Sizing
    leverage: Annotated[float, Field(ge=1, le=100)] = 1.0
    max_drawdown_pct: Percent | None = None
    daily_loss_pct: Percent | None = None

    @model_validator(mode="after")
    def _needs(self) -> Risk:
        if self.sizing.risk_pct is not None and self.stop_loss is None:
            raise ValueError("sizing.risk_pct needs a stop_loss (the risk is the stop distance)")
        if self.take_profit and self.take_profit.rr is not None and self.stop_loss is None:
            raise ValueError("take_profit.rr needs a stop_loss (rr is a multiple of its distance)")
        return self


class Entry(Strict):
    type: Literal["market", "limit"] = "market"
    offset_bps: Annotated[float, Field(ge=0, le=10_000)] | None = None
    ttl_bars: Annotated[int, Field(ge=1)] | None = None
    tif: Literal["GTC", "IOC", "FOK", "PostOnly"] | None = None

    @model_validator(mode="after")
    def _limit_only(self) -> Entry:
        if self.type == "market":
            extra = [k for k in ("offset_bps", "ttl_bars", "tif") if getattr(self, k) is not None]
            if extra:
                raise ValueError(f"{', '.join(extra)} only apply to type: limit")
        return self


class Fees(Strict):
    taker: Annotated[float, Field(ge=0, le=0.01)] = 0.00055
    maker: Annotated[float, Field(ge=-0.01, le=0.01)] = 0.0002


class Execution(Strict):
    entry: Entry = Entry()
    slippage_bps: Annotated[float, Field(ge=0, le=1000)] = 0.0
    fees: Fees = Fees()
    intrabar: Literal["conservative"] = "conservative"


class Account(Strict):
    starting_equity: Positive = 10_000.0
    margin_mode: Literal["isolated"] = "isolated"


class BacktestGate(Strict):
    min_trades: Annotated[int, Field(ge=0)] = 30
    max_drawdown_pct: Percent = 25.0
    min_profit_factor: Annotated[float, Field(ge=0)] = 1.0
    min_sharpe: float = 0.0


class DataQualityGate(Strict):
    suite: str = "ohlcv_candles"


class DemoGate(Strict):
    duration: str = Field("24h", pattern=r"^\d+(m|h|d)$")
    min_signals: Annotated[int, Field(ge=0)] = 1


class ParityGate(Strict):
    max_signal_mismatches: Annotated[int, Field(ge=0)] = 0
    max_fill_diff_bps: Annotated[float, Field(ge=0)] = 15.0


class Promotion(Strict):
    backtest: BacktestGate = BacktestGate()
    data_quality: DataQualityGate = DataQualityGate()
    demo: DemoGate = DemoGate()
    parity: ParityGate = ParityGate()


class PlayModel(Strict):
    """The whole document. ``features`` values and conditions are checked separately."""

    name: str = Field(pattern=r"^[a-z0-9_]+$", max_length=64)
    version: Annotated[int, Field(ge=1)]
    description: str = ""
    market: Market
    timeframes: Timeframes
    features: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], dict[str, Any]] = {}
    setups: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], Condition] = {}
    entries: EntryRules
    exits: SideRules = SideRules()
    risk: Risk
    execution: Execution = Execution()
    account: Account = Account()
    promotion: Promotion = Promotion()


def _one_form(model: BaseModel, forms: dict[str, tuple[str, ...]]) -> Any:
    """Exactly one form's keys present, and all of that form's keys."""
    given = {k for k in model.model_fields_set if getattr(model, k) is not None}
    matches = [name for name, keys in forms.items() if keys[0] in given]
    expected = " or ".join("{" + ", ".join(k) + "}" for k in forms.values())
    if len(matches) != 1:
        raise ValueError(f"expected exactly one of {expected}")
    keys = set(forms[matches[0]])
    if given != keys:
        raise ValueError(f"expected {{{', '.join(forms[matches[0]])}}}, got {sorted(given)}")
    return model
