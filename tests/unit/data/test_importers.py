"""Candle files in every supported layout, and every way a file can be refused."""

import gzip
import zipfile

import numpy as np
import pandas as pd
import pytest

from trade_core.data.importers import guess_symbol_tf, normalise, read_candle_file
from trade_core.data.ingest import import_file, store_resampled
from trade_core.data.samples import BUNDLED_SAMPLES
from trade_core.data.store import MarketStore
from trade_core.errors import BadInputError, ImportFormatError

T0 = 1704067200000
M = 60_000
ROWS = [  # ts, o, h, l, c, v, turnover
    (T0, 10.0, 11.0, 9.5, 10.5, 3.0, 31.0),
    (T0 + M, 10.5, 10.9, 10.1, 10.2, 0.0, 0.0),
    (T0 + 2 * M, 10.2, 10.2, 10.2, 10.2, 1.5, 15.3),
]


def expect_rows(frame: pd.DataFrame, turnover: bool = True) -> None:
    assert frame["ts"].tolist() == [r[0] for r in ROWS]
    assert frame["ts"].dtype == np.int64
    for i, col in enumerate(["open", "high", "low", "close", "volume"], start=1):
        assert frame[col].tolist() == [r[i] for r in ROWS]
    if turnover:
        assert frame["turnover"].tolist() == [r[6] for r in ROWS]
    else:
        assert frame["turnover"].isna().all()


def write(path, text: str):
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def test_trade_layout_csv_and_gzip(tmp_path):
    text = "ts,open,high,low,close,volume,turnover\n" + "\n".join(
        ",".join(str(x) for x in r) for r in ROWS
    )
    expect_rows(read_candle_file(write(tmp_path / "a.csv", text)))
    expect_rows(read_candle_file(write(tmp_path / "a.csv.gz", text)))


def test_binance_headerless_zip_ms_and_us(tmp_path):
    def line(r, scale):
        ts = r[0] * scale
        return f"{ts},{r[1]},{r[2]},{r[3]},{r[4]},{r[5]},{ts + 59999 * scale},{r[6]},7,1,2,0"

    for scale in (1, 1000):  # Binance spot files switched to microseconds in 2025
        text = "\n".join(line(r, scale) for r in ROWS) + "\n"
        zpath = tmp_path / f"BTCUSDT-1m-2024-01-{scale}.zip"
        with zipfile.ZipFile(zpath, "w") as zf:
            zf.writestr("BTCUSDT-1m-2024-01.csv", text)
        expect_rows(read_candle_file(zpath))


def test_binance_with_header(tmp_path):
    text = (
        "open_time,open,high,low,close,volume,close_time,quote_volume,count,"
        "taker_buy_volume,taker_buy_quote_volume,ignore\n"
        + "\n".join(f"{r[0]},{r[1]},{r[2]},{r[3]},{r[4]},{r[5]},{r[0] + 59999},{r[6]},1,0,0,0"
                    for r in ROWS)
    )  # fmt: skip
    expect_rows(read_candle_file(write(tmp_path / "b.csv", text)))


def test_bybit_kline_export_names(tmp_path):
    text = "startTime,openPrice,highPrice,lowPrice,closePrice,volume,turnover\n" + "\n".join(
        ",".join(str(x) for x in r)
        for r in reversed(ROWS)  # Bybit lists newest first
    )
    frame = read_candle_file(write(tmp_path / "k.csv", text))
    assert frame["ts"].tolist() == [r[0] for r in reversed(ROWS)]  # raw order kept
    norm = normalise(frame, "BTCUSDT", "1m")
    assert norm.sorted_rows and norm.candles.ts.tolist() == [r[0] for r in ROWS]


def test_parquet_iso_times_seconds_and_map(tmp_path):
    df = pd.DataFrame(ROWS, columns=["ts", "open", "high", "low", "close", "volume", "turnover"])
    df.to_parquet(tmp_path / "p.parquet")
    expect_rows(read_candle_file(tmp_path / "p.parquet"))
    iso = df.assign(ts=pd.to_datetime(df["ts"], unit="ms").dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    iso.to_csv(tmp_path / "iso.csv", index=False)
    expect_rows(read_candle_file(tmp_path / "iso.csv"))
    secs = df.assign(ts=df["ts"] // 1000).rename(columns={"close": "last", "turnover": "x"})
    secs.to_csv(tmp_path / "s.csv", index=False)
    expect_rows(read_candle_file(tmp_path / "s.csv", column_map={"close": "last"}), turnover=False)
    expect_rows(read_candle_file(tmp_path / "s.csv", column_map={"close": "last", "turnover": "x"}))
    # an explicit unit wins over the magnitude guess
    as_ms = read_candle_file(tmp_path / "s.csv", column_map={"close": "last"}, ts_unit="ms")
    assert as_ms["ts"].tolist() == (df["ts"] // 1000).tolist()


def test_guess_symbol_and_tf_from_name(tmp_path):
    assert guess_symbol_tf(tmp_path / "AVAXUSDT_1m_2026-06.csv.gz") == ("AVAXUSDT", "1m")
    assert guess_symbol_tf(tmp_path / "BTCUSDT-1h-2024-01.zip") == ("BTCUSDT", "1h")
    assert guess_symbol_tf(tmp_path / "prices.csv") == (None, None)


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        ("ts,open,high,low,volume\n1704067200000,1,1,1,1\n", {}, r"no column for close.*--map"),
        ("ts,open,high,low,close,volume\n1704067200000,1,1,1,abc,1\n", {},
         r"column 'close' \(as close\) has a non-numeric value 'abc' at data row 1"),
        ("ts,open,high,low,close,volume\n1704067200000,1,1,1,1,1\n", {"column_map": {"px": "a"}},
         r"--map target 'px' is not a candle column"),
        ("ts,open,high,low,close,volume\n1704067200000,1,1,1,1,1\n", {"column_map": {"ts": "t"}},
         r"--map ts=t: no column 't'"),
        ("ts,open,high,low,close,volume\n1704067200000,1,1,1,1,1\n", {"fmt": "xls"},
         r"unknown format 'xls'"),
    ],
)  # fmt: skip
def test_unreadable_files_name_the_problem(tmp_path, text, kwargs, message):
    path = write(tmp_path / "bad.csv", text)
    with pytest.raises(BadInputError, match=message):
        normalise(read_candle_file(path, **kwargs), "X", "1m", source=str(path))


def frame_of(rows):
    return pd.DataFrame(rows, columns=["ts", "open", "high", "low", "close", "volume", "turnover"])


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([(T0, 1, 1, 1, np.nan, 1, 1)], r"1 empty/NaN values in close \(first at data row 1"),
        ([(T0 + 5, 1, 1, 1, 1, 1, 1)], r"1 timestamps are not on 1m boundaries"),
        ([(T0, 1, 1, 1, 1, 1, 1), (T0, 2, 2, 2, 2, 1, 1)], r"two different bars for ts"),
        ([(T0 + i * 3_600_000, 1, 1, 1, 1, 1, 1) for i in range(5)],
         r"bars are 60 minutes apart \(median\) but --tf is 1m"),
        ([], "no rows"),
    ],
)  # fmt: skip
def test_rows_the_store_cannot_take_are_refused(rows, message):
    with pytest.raises(ImportFormatError, match=message):
        normalise(frame_of(rows), "X", "1m", source="f.csv")


def test_repairs_are_reported():
    rows = [ROWS[2], ROWS[0], ROWS[1], ROWS[0]]
    norm = normalise(frame_of(rows), "X", "1m")
    assert norm.sorted_rows and norm.dropped_duplicates == 1
    assert norm.candles.ts.tolist() == [r[0] for r in ROWS]


def test_inconsistent_bars_are_stored_with_a_warning():
    rows = [(T0, 10, 9, 11, 10, -1, 1), (T0 + M, 0, 1, 0, 1, 1, 1)]
    warnings = normalise(frame_of(rows), "X", "1m").warnings
    assert "1 bars with high below open/close/low" in warnings
    assert "1 bars with negative volume" in warnings
    assert "1 bars with zero or negative prices" in warnings


def test_import_file_is_idempotent_and_batched(tmp_path, monkeypatch):
    import trade_core.data.ingest as ingest

    monkeypatch.setattr(ingest, "BATCH_ROWS", 10_000)
    sample = BUNDLED_SAMPLES[0]
    seen = []
    with MarketStore(tmp_path / "s.duckdb") as store:
        res = import_file(store, sample.path, sample.symbol, sample.tf,
                          on_progress=lambda d, t: seen.append((d, t)))  # fmt: skip
        assert res.upsert.inserted == sample.bars == res.rows_read
        assert seen[-1] == (sample.bars, sample.bars) and len(seen) == 6
        again = import_file(store, sample.path, sample.symbol, sample.tf)
        assert again.upsert.unchanged == sample.bars and again.upsert.inserted == 0
        assert store.gaps(sample.symbol, "1m") == []
        results = store_resampled(store, sample.symbol, ["15m", "1h", "4h", "1d"])
        assert [(r.tf, r.bars, r.incomplete) for r in results] == [
            ("15m", 2880, 0), ("1h", 720, 0), ("4h", 180, 0), ("1d", 30, 0)
        ]  # fmt: skip
        daily = store.read_candles(sample.symbol, "1d")
        minute = store.read_candles(sample.symbol, "1m", daily.ts[0], daily.ts[0] + 86_400_000)
        assert daily.high[0] == minute.high.max() and daily.close[0] == minute.close[-1]


def test_every_real_file_imports(tmp_path, shared_real):
    expected = {"FILUSDT": ("1m", 131_040), "AVAXUSDT": ("1m", 87_840), "BTCUSD": ("1h", 20_111)}
    with MarketStore(tmp_path / "real.duckdb") as store:
        for path in sorted(shared_real.glob("*.csv.gz")):
            symbol, tf = guess_symbol_tf(path)
            res = import_file(store, path, symbol, tf)
            assert (tf, res.upsert.inserted) == expected[symbol]
            assert store.gaps(symbol, tf) == []
