"""The knobs of the synthetic market generator (:mod:`trade_core.data.synth`) and why their
defaults are what they are.

Calibration. The defaults were tuned so that 91 days generated at a FIL-like price (5.7 USDT,
tick 0.001) look like the two real 1m files in ``shared/data/real`` on these statistics
(FILUSDT 2023-04..06 / AVAXUSDT 2026-06..07 against synthetic seeds 1 / 2):

    statistic                                      real FIL / AVAX   synthetic
    ---------------------------------------------  ----------------  -----------
    realised annual vol of 1m log returns          0.84 / 0.76       0.72 / 0.77
    median (high - low) / close                    8.9e-4 / 9.4e-4   8.9e-4 / 9.2e-4
    median range / sd of 1m returns                0.76 / 0.89       0.89 / 0.87
    median range / median abs(close - open)        2.0 / 2.0         1.7 / 2.0
    share of bars with high == low                 4.9e-3 / 2e-5     2.4e-4 / 1.1e-4
    share of zero close-to-close returns           0.15 / 0.10       0.11 / 0.10
    share of opens != previous close               0.49 / 0.46       0.48 / 0.48
    share of opens > 1 tick off previous close     3.6e-3 / 1.1e-3   1.5e-5 / 0
    excess kurtosis of 1m returns                  1219 / 23         15 / 24
      ... of returns / their rolling 1h sd         1.5 / 1.9         2.0 / 2.0
    daily realised vol, p5 / median                0.64 / 0.64       0.71 / 0.67
    daily realised vol, p95 / median               2.08 / 1.73       1.75 / 1.78
    rolling 1h realised vol, p95 / p5              4.3 / 4.2         3.9 / 4.3
    realised vol, busiest / quietest UTC hour      3.8* / 1.7        1.6 / 1.5
    sd of log volume                               1.15 / 1.05       1.13 / 1.14
    corr(log volume, abs return)                   0.41 / 0.49       0.53 / 0.52
    corr(log volume, log range)                    0.63 / 0.77       0.64 / 0.65
    autocorrelation of abs return, lag 1 min       0.47 / 0.28       0.18 / 0.18
    autocorrelation of abs return, lag 1 day       0.04 / 0.09       0.01 / 0.03

(* FILUSDT has one outlier hour.) Not reproduced: real 1m abs returns cluster more at lags of
a minute and of a day — the model has regime-level volatility clustering only, no minute-level
bursts and no multi-day memory. In the real files an open more than one tick off the
previous close is rare (at most 3.6e-3 of bars, nearly all two ticks) and none is more than
3 return sds away; the default ``gap_prob`` (2e-5, about 10 gaps a year, each at least
``gap_sigmas`` sigmas) exists to exercise gap handling (stops filled at the open), not to
imitate those files.

Regimes. The default per-minute transition matrix has mean stays of ~1 day (calm), ~12 h
(normal) and ~4 h (turbulent) and a stationary mix of 51 % / 41 % / 7 %, so the
root-mean-square regime multiplier is 0.97: ``annual_vol`` is close to the long-run vol.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

REGIMES: tuple[str, ...] = ("calm", "normal", "turbulent")

_Row = tuple[float, float, float]


class SynthParams(BaseModel):
    """Generator knobs; every rate is per 1m bar, every price move a fraction of price."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    annual_vol: float = Field(
        0.76, gt=0, le=10, description="Vol of the normal regime at an average hour, per year."
    )
    drift_annual: float = Field(0.0, ge=-5, le=5, description="Log drift per year (0 = no trend).")
    tail_dof: int = Field(5, ge=3, le=30, description="Student-t degrees of freedom of shocks.")
    max_shock: float = Field(25.0, gt=0, description="Clip of a unit-variance shock, in sigmas.")
    range_scale: float = Field(
        0.65, gt=0, le=5, description="Intrabar (high/low) volatility relative to the bar's sigma."
    )
    regime_vol: tuple[float, float, float] = Field(
        (0.6, 1.0, 2.2), description="Volatility multiplier of calm, normal, turbulent."
    )
    regime_transition: tuple[_Row, _Row, _Row] = Field(
        (
            (0.9993, 0.0006, 0.0001),  # calm: mean stay 1/0.0007 = 1429 min (~1 day)
            (0.0008, 0.9986, 0.0006),  # normal: mean stay 714 min (~12 h)
            (0.0004, 0.0038, 0.9958),  # turbulent: mean stay 238 min (~4 h)
        ),
        description="Per-minute transition matrix, rows = from-state; rows sum to 1.",
    )
    initial_regime: int = Field(1, ge=0, le=2, description="Regime before the first bar.")
    hour_vol: tuple[float, ...] = Field(
        (1.00, 1.00, 0.95, 0.90, 0.85, 0.85, 0.85, 0.85, 0.90, 0.85, 0.80, 0.85,
         1.00, 1.20, 1.25, 1.20, 1.20, 1.15, 1.10, 1.05, 1.00, 0.95, 0.90, 0.90),
        description="Volatility by UTC hour 0..23 (smoothed from the real files: quiet "
        "around 10 UTC, busiest 13-16 UTC); rescaled to unit mean square when used.",
    )  # fmt: skip
    gap_prob: float = Field(2e-5, ge=0, le=1, description="Per-bar probability of a price gap.")
    gap_sigmas: float = Field(
        3.0, gt=0, description="Smallest gap in the bar's sigmas; size = this * (1 + Exp(1))."
    )
    open_jitter_prob: float = Field(
        0.48, ge=0, le=1, description="Probability the open prints one tick off the last close."
    )
    base_turnover: float = Field(
        50_000.0, gt=0, description="About the median turnover per minute (USDT)."
    )
    volume_vol_elasticity: float = Field(1.0, description="d log(volume) / d log(sigma).")
    volume_range_elasticity: float = Field(
        1.6, description="d log(volume) / d log(bar range in its own sigmas)."
    )
    volume_noise: float = Field(0.8, ge=0, description="Sd of log-volume noise.")
    volume_step: float = Field(0.001, gt=0, description="Volume rounding step (base currency).")
    funding_interval_h: int = Field(8, description="Hours between settlements; divides 24.")
    funding_mean: float = Field(1e-4, description="Long-run funding rate per settlement.")
    funding_phi: float = Field(0.9, ge=0, lt=1, description="AR(1) persistence per settlement.")
    funding_noise: float = Field(5e-5, ge=0, description="Sd of the AR(1) innovation.")
    funding_cap: float = Field(
        0.0075, gt=0, description="Clamp of the rate, +-fraction (Bybit's caps vary by symbol)."
    )

    @model_validator(mode="after")
    def _check(self) -> SynthParams:
        for row in self.regime_transition:
            if min(row) < 0 or abs(sum(row) - 1.0) > 1e-9:
                raise ValueError(f"regime_transition row {row} must be >= 0 and sum to 1")
        if len(self.hour_vol) != 24 or min(self.hour_vol) <= 0:
            raise ValueError("hour_vol needs 24 positive multipliers (UTC hours 0..23)")
        if min(self.regime_vol) <= 0:
            raise ValueError("regime_vol multipliers must be positive")
        if self.funding_interval_h not in (1, 2, 3, 4, 6, 8, 12, 24):
            raise ValueError("funding_interval_h must divide 24")
        return self
