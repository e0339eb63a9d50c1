"""Where a backtest's data comes from: the store, a candle file, the bundled sample, or the
deterministic synthetic market. Each gives a :class:`~trade_core.backtest.runner.BacktestData`
with the instrument spec (the store's, else the bundled snapshot) and funding settlements.

``start``/``end`` are epoch ms (``start <= ts < end``). Errors name what was asked, what
exists, and the command that would fix it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from trade_core.backtest.runner import BacktestData
from trade_core.config import Settings, get_settings
from trade_core.data.candles import Candles
from trade_core.data.instrument_spec import Instrument
from trade_core.data.instruments import load_bundled_instruments
from trade_core.data.samples import BUNDLED_SAMPLES
from trade_core.errors import BadInputError
from trade_core.timestamps import DAY_MS, fmt_ts

SYNTH_SEED = 7
SYNTH_DAYS = 365.0
SYNTH_START_MS = 1_704_067_200_000  # 2024-01-01 00:00 UTC
_EMPTY_I = np.zeros(0, dtype=np.int64)
_EMPTY_F = np.zeros(0, dtype=np.float64)


def bundled_instrument(symbol: str) -> Instrument:
    for inst in load_bundled_instruments():
        if inst.symbol == symbol:
            return inst
    known = ", ".join(i.symbol for i in load_bundled_instruments())
    raise BadInputError(
        f"no instrument spec for {symbol} (bundled: {known}); run: trade data instruments --fetch"
    )


def load_data(
    symbol: str,
    source: str = "store",
    *,
    start: int | None = None,
    end: int | None = None,
    settings: Settings | None = None,
    seed: int = SYNTH_SEED,
) -> BacktestData:
    """1m data of ``symbol`` from ``source``: ``store``, ``synthetic``, ``bundled`` or a path."""
    if source == "store":
        return _from_store(symbol, start, end, settings or get_settings())
    if source == "synthetic":
        return synthetic_data(symbol, start=start, end=end, seed=seed)
    if source == "bundled":
        return _bundled(symbol).window(start, end)
    return _from_file(Path(source), symbol).window(start, end)


def _from_store(symbol: str, start: int | None, end: int | None, s: Settings) -> BacktestData:
    from trade_core.data.store import MarketStore

    if not s.db_path.exists():
        raise BadInputError(
            f"no market store at {s.db_path}; load data first (trade quickstart, or "
            f"trade data import FILE / trade data sync {symbol})"
        )
    with MarketStore.open(s, read_only=True) as store:
        candles = store.read_candles(symbol, "1m", start, end)
        if not len(candles):
            have = ", ".join(f"{i.symbol} {i.tf}" for i in store.series()) or "nothing"
            span = f" between {fmt_ts(start)} and {fmt_ts(end)}" if start or end else ""
            raise BadInputError(
                f"no {symbol} 1m bars in {s.db_path}{span} (stored: {have}); run: "
                f"trade data sync {symbol}, or use --data synthetic"
            )
        fts, rate = store.read_funding(symbol, start, None if end is None else end + 1)
        known = {i.symbol for i in store.instruments()}
        inst = store.instrument(symbol) if symbol in known else bundled_instrument(symbol)
    return BacktestData(candles, inst, fts, rate, "store")


def synthetic_data(
    symbol: str, *, start: int | None = None, end: int | None = None, seed: int = SYNTH_SEED
) -> BacktestData:
    """The deterministic synthetic market (:mod:`trade_core.data.synth`) for ``symbol``:
    ``start`` .. ``end`` (default 2024-01-01 and 365 days), priced on the instrument's tick."""
    from trade_core.data.synth import generate

    inst = bundled_instrument(symbol)
    lo = SYNTH_START_MS if start is None else start
    days = SYNTH_DAYS if end is None else (end - lo) / DAY_MS
    if days <= 0:
        raise BadInputError(f"--end {fmt_ts(end)} is not after --start {fmt_ts(lo)}")
    synth = generate(symbol, days=days, seed=seed, start_ms=lo,
                     start_price=inst.tick_size * 100_000, tick_size=inst.tick_size)  # fmt: skip
    return BacktestData(synth.candles, inst, synth.funding_ts, synth.funding_rate,
                        f"synthetic(seed={seed})")  # fmt: skip


def _bundled(symbol: str) -> BacktestData:
    import pandas as pd

    for sample in BUNDLED_SAMPLES:
        if sample.symbol == symbol and sample.tf == "1m":
            candles = Candles.from_frame(symbol, "1m", pd.read_csv(sample.path))
            return BacktestData(candles, bundled_instrument(symbol), _EMPTY_I, _EMPTY_F,
                                "bundled")  # fmt: skip
    have = ", ".join(f"{s.symbol} {s.tf}" for s in BUNDLED_SAMPLES)
    raise BadInputError(f"no bundled 1m sample of {symbol} (bundled: {have})")


def _from_file(path: Path, symbol: str) -> BacktestData:
    from trade_core.data.importers import normalise, read_candle_file

    if not path.exists():
        raise BadInputError(
            f"--data {path}: no such file (expected store, synthetic, bundled or a candle file)"
        )
    norm = normalise(read_candle_file(path), symbol, "1m", source=str(path))
    return BacktestData(norm.candles, bundled_instrument(symbol), _EMPTY_I, _EMPTY_F, str(path))
