import pytest

from trade_core.data.timeframes import (
    BYBIT_INTERVALS,
    TIMEFRAMES,
    bars_per,
    ceil_ts,
    floor_ts,
    tf_ms,
)
from trade_core.errors import BadInputError
from trade_core.timestamps import fmt_ts, parse_time


def test_every_timeframe_has_ms_and_bybit_interval():
    assert list(TIMEFRAMES) == ["1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d"]
    assert set(BYBIT_INTERVALS) == set(TIMEFRAMES)
    assert tf_ms("1m") == 60_000
    assert tf_ms("4h") == 14_400_000
    assert tf_ms("1d") == 86_400_000
    # Bybit's interval codes are minutes, except D.
    for tf, code in BYBIT_INTERVALS.items():
        if code != "D":
            assert int(code) * 60_000 == tf_ms(tf)


def test_unknown_timeframe_names_the_valid_ones():
    with pytest.raises(BadInputError, match=r"unknown timeframe '7m'.*1m, 3m"):
        tf_ms("7m")


def test_bars_per_and_alignment_are_utc():
    assert bars_per("4h") == 240
    assert bars_per("1h", "15m") == 4
    with pytest.raises(BadInputError):
        bars_per("5m", "3m")
    t = parse_time("2024-03-05T13:47:12")
    assert fmt_ts(floor_ts(t, "4h")) == "2024-03-05 12:00"
    assert fmt_ts(floor_ts(t, "1d")) == "2024-03-05 00:00"
    assert fmt_ts(ceil_ts(t, "1h")) == "2024-03-05 14:00"
    assert ceil_ts(floor_ts(t, "1h"), "1h") == floor_ts(t, "1h")


def test_parse_time_forms():
    assert parse_time("2024-01-01") == 1704067200000
    assert parse_time("2024-01-01T00:00:00Z") == 1704067200000
    assert parse_time("2024-01-01T01:00:00+01:00") == 1704067200000
    assert parse_time("1704067200000") == 1704067200000
    with pytest.raises(BadInputError, match="cannot read time 'yesterday'"):
        parse_time("yesterday")
