"""Stop, target and trailing prices, worked by hand (BTCUSDT-like tick 0.1)."""

import pytest

from trade_core.engine.risk_levels import stop_loss_price, take_profit_price, trailing_stop
from trade_core.play.model import StopLoss, TakeProfit, Trailing

TICK = 0.1


@pytest.mark.parametrize(
    ("spec", "side", "kw", "expected"),
    [
        # long, 2 x ATR 123.45 below 20000 = 19753.1 exactly
        (StopLoss(atr="atr", mult=2.0), "long", {"atr": 123.45}, 19753.1),
        # short: 20000 + 246.9 = 20246.9
        (StopLoss(atr="atr", mult=2.0), "short", {"atr": 123.45}, 20246.9),
        # 1.5 % below 20000 = 19700
        (StopLoss(pct=1.5), "long", {}, 19700.0),
        # 1 x ATR 0.123 below 20000 = 19999.877 -> rounds up (toward entry) to 19999.9
        (StopLoss(atr="atr", mult=1.0), "long", {"atr": 0.123}, 19999.9),
        # a swing level below a long's entry, off the tick: 19876.54 -> 19876.6
        (StopLoss(level="swings.last_low"), "long", {"level": 19876.54}, 19876.6),
    ],
)  # fmt: skip
def test_stop_loss(spec, side, kw, expected):
    assert stop_loss_price(spec, side, 20000.0, TICK, **kw).price == pytest.approx(
        expected, abs=1e-9
    )


@pytest.mark.parametrize(
    ("spec", "side", "kw", "reason"),
    [
        (StopLoss(level="l"), "long", {"level": 20100.0}, "not on the loss side"),
        (StopLoss(level="l"), "short", {"level": 19900.0}, "not on the loss side"),
        (StopLoss(atr="atr", mult=2.0), "long", {"atr": None}, "has no value yet"),
        (StopLoss(atr="atr", mult=2.0), "long", {"atr": float("nan")}, "has no value yet"),
        (StopLoss(atr="atr", mult=1.0), "long", {"atr": 0.01}, "rounds onto the entry"),
    ],
)
def test_impossible_stops_give_no_price_and_a_reason(spec, side, kw, reason):
    level = stop_loss_price(spec, side, 20000.0, TICK, **kw)
    assert level.price is None
    assert reason in level.reason


def test_take_profit_forms():
    # rr 2 on a 300 risk: 20000 + 600 = 20600 (long), 20000 - 600 = 19400 (short)
    assert (
        take_profit_price(TakeProfit(rr=2.0), "long", 20000.0, TICK, stop=19700.0).price == 20600.0
    )
    assert (
        take_profit_price(TakeProfit(rr=2.0), "short", 20000.0, TICK, stop=20300.0).price == 19400.0
    )
    # 2 % above: 20400; 3 x ATR 33.33 = 99.99 -> 20099.99 rounds down (toward entry) to 20099.9
    assert take_profit_price(TakeProfit(pct=2.0), "long", 20000.0, TICK).price == 20400.0
    assert take_profit_price(
        TakeProfit(atr="atr", mult=3), "long", 20000.0, TICK, atr=33.33
    ).price == pytest.approx(20099.9)
    assert take_profit_price(TakeProfit(rr=2.0), "long", 20000.0, TICK, stop=None).price is None


def test_trailing_stop_activates_then_only_tightens():
    spec = Trailing(activate_rr=1.0, atr="atr", mult=1.5)
    kw = {"entry": 20000.0, "initial_stop": 19700.0, "atr": 100.0, "tick": TICK}
    # excursion 200 < 1R (300): not active yet
    assert trailing_stop(spec, "long", current_stop=19700.0, extreme=20200.0, **kw) == 19700.0
    # excursion 400 >= 300: candidate 20400 - 150 = 20250
    assert trailing_stop(spec, "long", current_stop=19700.0, extreme=20400.0, **kw) == 20250.0
    # price pulls back, extreme unchanged, ATR grows: candidate 20400 - 300 = 20100 < 20250: stays
    kw2 = {**kw, "atr": 200.0}
    assert trailing_stop(spec, "long", current_stop=20250.0, extreme=20400.0, **kw2) == 20250.0
    # short mirror: entry 20000, stop 20300, low 19600 -> 19600 + 150 = 19750
    kws = {"entry": 20000.0, "initial_stop": 20300.0, "atr": 100.0, "tick": TICK}
    assert trailing_stop(spec, "short", current_stop=20300.0, extreme=19600.0, **kws) == 19750.0
    assert (
        trailing_stop(spec, "short", current_stop=20300.0, extreme=19600.0, **{**kws, "atr": None})
        == 20300.0
    )
