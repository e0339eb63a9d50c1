"""Backtest metrics against independent oracles.

Oracles: small examples computed by hand (arithmetic in comments), a second implementation in
pandas (resample for daily returns, cummax + groupby for drawdown, groupby for trades)
compared on random curves with hypothesis, closed forms (geometric growth, one known dip),
and determinism (byte-identical JSON).
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trade_core.backtest.metrics import (
    DAY_MS,
    YEAR_MS,
    Metrics,
    TradeStats,
    anchored_curve,
    compute_metrics,
    daily_samples,
)

T0 = 1704067200000  # 2024-01-01 00:00 UTC
H = 3_600_000
SQRT365 = math.sqrt(365)


def trade(net: float, *, fees: float = 1.0, funding: float = 0.0, liq: bool = False) -> TradeStats:
    return TradeStats(
        entry_ts=T0, exit_ts=T0 + H, side="long", qty=1.0, net_pnl=net,
        gross_pnl=net + fees + funding, fees=fees, funding=funding,
        exit_reason="liquidation" if liq else "tp", liquidated=liq,
    )  # fmt: skip


def run(ts, eq, start=1000.0, trades=(), exposure_ms=0, start_ts=None) -> Metrics:
    return compute_metrics(
        np.asarray(ts, dtype=np.int64), np.asarray(eq, dtype=np.float64), start, list(trades),
        exposure_ms=exposure_ms, start_ts=start_ts,
    )  # fmt: skip


def dumps(m: Metrics) -> str:
    return json.dumps(m.to_dict(), sort_keys=True, allow_nan=False)


# --------------------------------------------------------------------------- hand examples


def test_hand_example_curve() -> None:
    # daily closes 1000, 1100, 990, 1100, 1210 from 2024-01-01 00:00, start equity 1000
    m = run(T0 + np.arange(5) * DAY_MS, [1000, 1100, 990, 1100, 1210], exposure_ms=DAY_MS)
    assert m.net_pnl == pytest.approx(210.0)
    assert m.return_pct == pytest.approx(21.0)
    # returns: +0.1, -0.1, +1/9, +0.1; mean = (19/90)/4 = 19/360
    # deviations x360: 17, -55, 21, 17 -> sum sq = 4044/360^2; var = 1348/360^2 (ddof=1)
    # sharpe = (19/360) / (sqrt(1348)/360) * sqrt(365) = 19 * sqrt(365/1348) = 9.88678...
    assert m.daily_returns == 4
    assert m.sharpe == pytest.approx(19 * math.sqrt(365 / 1348), rel=1e-12)
    # downside: min(r,0)^2 = [0, 0.01, 0, 0] -> mean 0.0025 -> dd 0.05
    # sortino = (19/360) / 0.05 * sqrt(365) = 19/18 * sqrt(365) = 20.16636...
    assert m.sortino == pytest.approx(19 / 18 * SQRT365, rel=1e-12)
    # peak 1100 (day 1), trough 990 (day 2): 110 USDT, 110/1100 = 10 %; back to 1100 at day 3
    assert m.max_drawdown_usdt == pytest.approx(110.0)
    assert m.max_drawdown_pct == pytest.approx(10.0)
    assert m.max_drawdown_duration_ms == 2 * DAY_MS
    # CAGR: 1.21 over 4 days -> 1.21^(365/4) - 1 = 3.5823e7 -> 3.58e9 %
    assert m.cagr_pct == pytest.approx((1.21 ** (365 / 4) - 1) * 100, rel=1e-9)
    assert m.calmar == pytest.approx(m.cagr_pct / 10.0)
    assert m.exposure_pct == pytest.approx(25.0)  # 1 day of 4
    assert (m.start_ts, m.end_ts, m.final_equity) == (T0, T0 + 4 * DAY_MS, 1210.0)


def test_hand_example_trades() -> None:
    trades = [trade(50), trade(-20), trade(0), trade(30, funding=-2.5), trade(-10, liq=True)]
    m = run([T0], [1000.0], trades=trades)
    assert (m.trades, m.wins, m.losses, m.breakeven, m.liquidations) == (5, 2, 2, 1, 1)
    assert m.win_rate_pct == pytest.approx(40.0)  # 2 wins of 5 trades (breakeven counts)
    assert m.profit_factor == pytest.approx(80 / 30)  # (50+30) / (20+10)
    assert m.expectancy == pytest.approx(10.0)  # (50-20+0+30-10) / 5
    assert m.avg_win == pytest.approx(40.0)  # (50+30)/2
    assert m.avg_loss == pytest.approx(-15.0)  # (-20-10)/2
    assert m.fees_paid == pytest.approx(5.0)  # 5 x 1
    assert m.funding_paid == pytest.approx(-2.5)  # received
    assert m.trades_net_pnl == pytest.approx(50.0)
    assert m.trades_gross_pnl == pytest.approx(52.5)  # 50 + 5 fees - 2.5 funding


def test_daily_samples_at_or_before_boundary() -> None:
    # anchor 01-01 12:00 (1000); points 18:00 (1010), 01-02 00:00 exactly (1020),
    # 01-02 06:00 (1030), 01-03 23:00 (1040)
    ts = np.array([T0 + 18 * H, T0 + 24 * H, T0 + 30 * H, T0 + 71 * H])
    t, e = anchored_curve(ts, [1010.0, 1020, 1030, 1040], 1000.0, start_ts=T0 + 12 * H)
    # first point 1000; 01-02 00:00 -> the bar closing at 00:00 (1020);
    # 01-03 00:00 -> last at or before = 01-02 06:00 (1030); last point 1040
    np.testing.assert_array_equal(daily_samples(t, e), [1000.0, 1020, 1030, 1040])


def test_anchor_counts_first_bar_loss() -> None:
    # start 1000 at T0, one point 900 two days later: returns [0, -0.1] (01-02 boundary
    # still sees the anchor), drawdown 10 % lasting 2 days (never recovers)
    m = run([T0 + 2 * DAY_MS], [900.0], start_ts=T0)
    assert m.daily_returns == 2
    assert m.max_drawdown_pct == pytest.approx(10.0)
    assert m.max_drawdown_duration_ms == 2 * DAY_MS
    assert m.cagr_pct == pytest.approx((0.9 ** (365 / 2) - 1) * 100)
    # r = [0, -0.1]: mean -0.05, std sqrt(0.005); sharpe = -0.05/0.0707107*sqrt(365)
    assert m.sharpe == pytest.approx(-0.05 / math.sqrt(0.005) * SQRT365)


# --------------------------------------------------------------------------- edge cases


def test_no_trades() -> None:
    m = run(T0 + np.arange(3) * DAY_MS, [1000, 1010, 1020])
    assert (m.trades, m.wins, m.losses, m.breakeven, m.liquidations) == (0, 0, 0, 0, 0)
    for name in ("win_rate_pct", "profit_factor", "expectancy", "avg_win", "avg_loss"):
        assert getattr(m, name) is None
    assert (m.fees_paid, m.funding_paid, m.trades_net_pnl) == (0.0, 0.0, 0.0)


def test_one_winning_trade() -> None:
    m = run([T0], [1000.0], trades=[trade(12.5)])
    assert (m.trades, m.wins, m.losses, m.win_rate_pct) == (1, 1, 0, 100.0)
    assert m.profit_factor is None  # no losing trade
    assert m.expectancy == m.avg_win == 12.5
    assert m.avg_loss is None


def test_all_wins_and_all_losses() -> None:
    wins = run([T0], [1000.0], trades=[trade(1), trade(2), trade(3)])
    assert (wins.win_rate_pct, wins.profit_factor, wins.avg_loss) == (100.0, None, None)
    losses = run([T0], [1000.0], trades=[trade(-1), trade(-3)])
    assert (losses.win_rate_pct, losses.profit_factor, losses.avg_win) == (0.0, 0.0, None)
    assert losses.avg_loss == losses.expectancy == -2.0


def test_breakeven_only() -> None:
    m = run([T0], [1000.0], trades=[trade(0.0), trade(0.0)])
    assert (m.wins, m.losses, m.breakeven, m.win_rate_pct) == (0, 0, 2, 0.0)
    assert m.profit_factor is None
    assert m.expectancy == 0.0


def test_flat_equity() -> None:
    m = run(T0 + np.arange(10) * DAY_MS, np.full(10, 1000.0))
    assert (m.max_drawdown_pct, m.max_drawdown_usdt, m.max_drawdown_duration_ms) == (0, 0, 0)
    assert (m.sharpe, m.sortino, m.calmar) == (None, None, None)
    assert m.cagr_pct == 0.0
    assert m.return_pct == 0.0
    assert m.daily_returns == 9


def test_one_point_curve() -> None:
    m = run([T0], [1000.0])
    assert m.start_ts == m.end_ts == T0
    assert (m.cagr_pct, m.sharpe, m.sortino, m.calmar, m.exposure_pct) == (None,) * 5
    # the analysed curve is (T0, 1000) + (T0, 1000): one zero-length "day" with return 0
    assert (m.daily_returns, m.max_drawdown_pct, m.max_drawdown_duration_ms) == (1, 0.0, 0)
    # one point below the start equity at the same time: a drawdown of zero duration
    m2 = run([T0], [950.0])
    assert m2.max_drawdown_pct == pytest.approx(5.0)
    assert m2.max_drawdown_duration_ms == 0
    assert m2.net_pnl == -50.0
    assert m2.daily_returns == 1  # 1000 -> 950 at the same instant; too few for Sharpe
    assert m2.sharpe is None


def test_liquidation_to_zero() -> None:
    m = run(T0 + np.arange(3) * DAY_MS, [1000, 0, 0], trades=[trade(-1000, liq=True)])
    assert m.liquidations == 1
    assert m.max_drawdown_pct == 100.0
    assert m.max_drawdown_duration_ms == 2 * DAY_MS
    assert (m.cagr_pct, m.calmar, m.sharpe, m.sortino) == (None,) * 4  # base 0 / final 0
    assert m.return_pct == -100.0
    json.dumps(m.to_dict(), allow_nan=False)


def test_negative_equity_drawdown_over_100() -> None:
    m = run(T0 + np.arange(2) * DAY_MS, [1000, -100])
    assert m.max_drawdown_pct == pytest.approx(110.0)  # 1100 / 1000
    assert m.cagr_pct is None


def test_never_recovers_runs_to_end() -> None:
    # peak 1200 at 2h, then below it until the end at 10h -> 8h
    eq = [1000, 1100, 1200, 1000, 1150, 1199, 900, 950, 1000, 1100, 1199.99]
    m = run(T0 + np.arange(11) * H, eq)
    assert m.max_drawdown_duration_ms == 8 * H
    assert m.max_drawdown_usdt == pytest.approx(300.0)  # 1200 -> 900
    assert m.max_drawdown_pct == pytest.approx(25.0)


def test_equal_peaks_restart_the_spell() -> None:
    # 110 at 1h, dip, exactly 110 again at 3h (recovery, spell 2h), dip until 110.5 at 6h
    # (spell 3h from the second peak, not 5h from the first)
    m = run(T0 + np.arange(7) * H, [100, 110, 105, 110, 100, 104, 110.5], start=100.0)
    assert m.max_drawdown_duration_ms == 3 * H
    assert m.max_drawdown_pct == pytest.approx(100 / 11)  # (110-100)/110
    # a curve that sits on its peak is not underwater
    flat_top = run(T0 + np.arange(4) * H, [100, 110, 110, 110], start=100.0)
    assert flat_top.max_drawdown_duration_ms == 0


def test_cagr_overflow_is_none() -> None:
    m = run([T0, T0 + DAY_MS], [1000.0, 1e13])
    assert m.cagr_pct is None
    assert m.calmar is None
    json.dumps(m.to_dict(), allow_nan=False)


def test_span_under_one_day_has_no_cagr() -> None:
    m = run(T0 + np.arange(24) * H, 1000 + np.arange(24.0))
    assert m.cagr_pct is None
    assert m.daily_returns == 1  # one partial day
    assert m.sharpe is None  # fewer than 2 returns


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ts": [T0, T0]}, "strictly increasing"),
        ({"ts": [float(T0), T0 + 1.0]}, "integer"),
        ({"ts": [], "eq": []}, "non-zero length"),
        ({"eq": [1000.0, math.nan]}, "finite"),
        ({"start": 0.0}, "start_equity"),
        ({"start_ts": T0 + 1}, "after the first"),
        ({"exposure_ms": 2}, "exposure_ms"),
        ({"exposure_ms": -1}, "exposure_ms"),
    ],
)
def test_bad_inputs(kwargs: dict, match: str) -> None:
    args = {"ts": [T0, T0 + 1], "eq": [1000.0, 1000.0], **kwargs}
    ts, eq = np.asarray(args.pop("ts")), np.asarray(args.pop("eq"), dtype=float)
    with pytest.raises(ValueError, match=match):
        compute_metrics(ts, eq, args.get("start", 1000.0), [],
                        exposure_ms=args.get("exposure_ms", 0), start_ts=args.get("start_ts"))  # fmt: skip


def test_bad_trade() -> None:
    with pytest.raises(ValueError, match="side"):
        TradeStats(T0, T0, "flat", 1, 0, 0, 0, 0, "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="before"):
        TradeStats(T0, T0 - 1, "long", 1, 0, 0, 0, 0, "x")
    with pytest.raises(ValueError, match="finite"):
        TradeStats(T0, T0, "short", 1, math.inf, 0, 0, 0, "x")


# --------------------------------------------------------------------------- closed forms


@pytest.mark.parametrize("r", [0.001, 0.01, 0.03])
def test_geometric_growth(r: float) -> None:
    n = 60
    eq = 1000.0 * np.cumprod(np.r_[1.0, np.full(n, 1 + r)])  # one point per UTC day close
    m = run(T0 + np.arange(n + 1) * DAY_MS, eq)
    assert m.cagr_pct == pytest.approx(((1 + r) ** 365 - 1) * 100, rel=1e-9)
    assert (m.max_drawdown_pct, m.max_drawdown_duration_ms, m.calmar) == (0.0, 0, None)
    assert m.sharpe is None  # constant daily return: zero dispersion
    assert m.sortino is None  # no losing day
    assert m.daily_returns == n


def test_geometric_decline_hourly() -> None:
    # equity(t) = 1000 * 0.99^(t / 1 day), sampled hourly for 20 days
    k = np.arange(20 * 24 + 1)
    m = run(T0 + k * H, 1000.0 * 0.99 ** (k / 24))
    assert m.cagr_pct == pytest.approx((0.99**365 - 1) * 100, rel=1e-9)
    assert m.max_drawdown_pct == pytest.approx((1 - 0.99**20) * 100, rel=1e-9)
    assert m.max_drawdown_duration_ms == 20 * DAY_MS  # never recovers
    assert m.daily_returns == 20


def test_one_known_dip() -> None:
    # hourly; flat 1000 for 10 days, linear to 800 at day 12, linear back to 1000 at day 15,
    # then +1/h: drawdown 200/1000 = 20 %, underwater from day 10 to day 15 = 5 days
    days = np.arange(20 * 24 + 1) / 24
    eq = np.interp(days, [0, 10, 12, 15, 20], [1000, 1000, 800, 1000, 1120])
    m = run(T0 + np.arange(days.size) * H, eq)
    assert m.max_drawdown_pct == pytest.approx(20.0)
    assert m.max_drawdown_usdt == pytest.approx(200.0)
    assert m.max_drawdown_duration_ms == 5 * DAY_MS
    assert m.cagr_pct == pytest.approx((1.12 ** (365 / 20) - 1) * 100, rel=1e-9)


def test_daily_returns_compound_to_total_return() -> None:
    rng = np.random.default_rng(7)
    ts = T0 + 5 * H + np.arange(5000) * 17 * 60_000
    eq = 1000 * np.exp(np.cumsum(rng.normal(0, 0.002, ts.size)))
    t, e = anchored_curve(ts, eq, 1000.0, start_ts=T0)
    s = daily_samples(t, e)
    assert np.prod(1 + np.diff(s) / s[:-1]) == pytest.approx(eq[-1] / 1000.0, rel=1e-9)


# --------------------------------------------------------------------------- pandas oracle


def oracle(ts, eq, start, trades, exposure_ms, start_ts) -> dict:
    t0 = ts[0] if start_ts is None else start_ts
    s = pd.Series(np.r_[start, eq], index=pd.to_datetime(np.r_[t0, ts], unit="ms"))
    out: dict = {"final_equity": float(eq[-1]), "return_pct": (eq[-1] / start - 1) * 100}
    span = int(ts[-1] - t0)
    days = s.resample("1D", closed="right", label="right").last().ffill()
    days = days[(days.index > s.index[0]) & (days.index < s.index[-1])]  # inner boundaries
    rets = pd.concat([s.iloc[:1], days, s.iloc[-1:]]).pct_change().dropna()
    out["daily_returns"] = len(rets)
    std = rets.std() if len(rets) > 1 else 0.0
    out["sharpe"] = rets.mean() / std * SQRT365 if std > 1e-12 else None
    down = math.sqrt((rets.clip(upper=0) ** 2).mean()) if len(rets) > 1 else 0.0
    out["sortino"] = rets.mean() / down * SQRT365 if down > 1e-12 else None
    peak = s.cummax()
    out["max_drawdown_pct"] = ((1 - s / peak) * 100).max()
    out["max_drawdown_usdt"] = (peak - s).max()
    out["max_drawdown_duration_ms"] = oracle_duration(np.r_[t0, ts], (s < peak).to_numpy())
    try:
        cagr = ((eq[-1] / start) ** (YEAR_MS / span) - 1) * 100 if span >= DAY_MS else None
    except (OverflowError, ZeroDivisionError):
        cagr = None
    out["cagr_pct"] = cagr if cagr is None or math.isfinite(cagr) else None
    mdd = out["max_drawdown_pct"]
    out["calmar"] = cagr / mdd if out["cagr_pct"] is not None and mdd > 0 else None
    out["exposure_pct"] = exposure_ms / span * 100 if span else None
    return out | oracle_trades(trades)


def oracle_duration(t: np.ndarray, under: np.ndarray) -> int:
    # every point at its peak opens a group holding itself and the underwater points after it
    df = pd.DataFrame({"t": t, "g": np.cumsum(~under)})
    g = df.groupby("g")["t"].agg(["first", "last", "size"])
    end = g["first"].shift(-1).fillna(g["last"].iloc[-1])
    spells = (end - g["first"])[g["size"] > 1]
    return int(spells.max()) if len(spells) else 0


def oracle_trades(trades: list[TradeStats]) -> dict:
    df = pd.DataFrame([asdict(t) for t in trades], columns=list(TradeStats.__slots__))
    df["kind"] = np.sign(df["net_pnl"].astype(float)).map({1.0: "w", -1.0: "l", 0.0: "b"})
    by = df.groupby("kind")["net_pnl"].agg(["sum", "count", "mean"])
    get = lambda k, c: by[c].get(k)  # noqa: E731
    n = len(df)
    return {
        "trades": n, "wins": int(get("w", "count") or 0), "losses": int(get("l", "count") or 0),
        "breakeven": int(get("b", "count") or 0),
        "win_rate_pct": (get("w", "count") or 0) / n * 100 if n else None,
        "profit_factor": (get("w", "sum") or 0.0) / -get("l", "sum") if get("l", "count") else None,
        "expectancy": df["net_pnl"].mean() if n else None,
        "avg_win": get("w", "mean"), "avg_loss": get("l", "mean"),
        "fees_paid": df["fees"].sum(), "funding_paid": df["funding"].sum(),
        "trades_net_pnl": df["net_pnl"].sum(), "trades_gross_pnl": df["gross_pnl"].sum(),
        "liquidations": int(df["liquidated"].sum()),
    }  # fmt: skip


@st.composite
def scenarios(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(1, 250))
    step = draw(st.sampled_from([60_000, 15 * 60_000, H, 4 * H, DAY_MS, 7_777_777]))
    ts = T0 + draw(st.integers(0, 3 * DAY_MS)) + np.cumsum(rng.integers(1, 4, n) * step)
    eq = 1000 * np.exp(np.cumsum(rng.normal(0, draw(st.sampled_from([0.001, 0.01, 0.05])), n)))
    if draw(st.booleans()):  # flats, equal peaks and repeated values
        eq = np.round(eq, -1)
    start_ts = draw(st.one_of(st.none(), st.integers(0, 2 * DAY_MS).map(lambda d: ts[0] - d)))
    start = draw(st.sampled_from([1000.0, float(eq[0]), 1234.5]))
    pnl = st.one_of(st.just(0.0), st.floats(-500, 500, allow_nan=False).map(lambda x: round(x, 2)))
    trades = [
        TradeStats(T0, T0 + 1, draw(st.sampled_from(["long", "short"])), 1.0, p, p + 1.0, 1.0,
                   draw(st.floats(-2, 2)), "x", draw(st.booleans()))
        for p in draw(st.lists(pnl, max_size=12))
    ]  # fmt: skip
    span = int(ts[-1] - (ts[0] if start_ts is None else start_ts))
    return ts.astype(np.int64), eq, start, trades, draw(st.integers(0, span)), start_ts


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_matches_pandas_oracle(case) -> None:
    ts, eq, start, trades, exposure_ms, start_ts = case
    got = compute_metrics(ts, eq, start, trades, exposure_ms=exposure_ms, start_ts=start_ts)
    d = got.to_dict()
    for key, want in oracle(ts, eq, start, trades, exposure_ms, start_ts).items():
        if want is None or d[key] is None:
            assert d[key] is None and want is None, key
        else:
            assert d[key] == pytest.approx(float(want), rel=1e-9, abs=1e-9), key
    json.dumps(d, allow_nan=False)


# --------------------------------------------------------------------------- determinism


@settings(max_examples=50, deadline=None)
@given(scenarios())
def test_deterministic(case) -> None:
    ts, eq, start, trades, exposure_ms, start_ts = case
    a = compute_metrics(ts, eq, start, trades, exposure_ms=exposure_ms, start_ts=start_ts)
    b = compute_metrics(ts.copy(), eq.copy(), start, copy.deepcopy(trades),
                        exposure_ms=exposure_ms, start_ts=start_ts)  # fmt: skip
    assert a.to_dict() == b.to_dict()
    assert dumps(a) == dumps(b)


def test_to_dict_plain_types() -> None:
    m = run(T0 + np.arange(5) * DAY_MS, [1000, 1100, 990, 1100, 1210], trades=[trade(-3.0)])
    d = m.to_dict()
    assert list(d) == list(Metrics.__slots__)
    for key, value in d.items():
        assert value is None or type(value) in (int, float), key
    assert type(d["trades"]) is int and type(d["max_drawdown_duration_ms"]) is int
    assert dumps(m) == dumps(run(T0 + np.arange(5) * DAY_MS, [1000, 1100, 990, 1100, 1210],
                                 trades=[trade(-3.0)]))  # fmt: skip
