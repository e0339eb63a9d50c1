"""The starter data set: what the main job loads so TRADE runs with no network and no keys.

Bundled real candles (one month of AVAXUSDT 1m), the bundled instrument snapshot, a
deterministic synthetic market with funding rates, and their higher timeframes. Loading is
idempotent: a second run reports everything unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

from trade_core.data.ingest import import_file, store_resampled, upsert_batched
from trade_core.data.instruments import load_bundled_instruments
from trade_core.data.samples import BUNDLED_SAMPLES
from trade_core.data.store import MarketStore, UpsertResult
from trade_core.data.synth import generate
from trade_core.progress import ProgressFn

SYNTH_SYMBOL = "SYNTHUSDT"
SYNTH_DAYS = 30
SYNTH_SEED = 7
RESAMPLE_TO = ("15m", "1h", "4h")


@dataclass(frozen=True, slots=True)
class SeriesLoad:
    symbol: str
    tf: str
    origin: str  # "bundled", "synthetic" or "resampled"
    upsert: UpsertResult
    incomplete: int = 0  # higher-timeframe bars not stored for lack of source bars


@dataclass(frozen=True, slots=True)
class StarterLoad:
    series: list[SeriesLoad]
    instruments: UpsertResult
    funding: UpsertResult


def load_starter_data(store: MarketStore, *, on_progress: ProgressFn | None = None) -> StarterLoad:
    """Load the starter data set into ``store``; ``on_progress`` counts the steps."""
    steps = len(BUNDLED_SAMPLES) + 3
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if on_progress:
            on_progress(done, steps)

    loads: list[SeriesLoad] = []
    for sample in BUNDLED_SAMPLES:
        res = import_file(store, sample.path, sample.symbol, sample.tf)
        loads.append(SeriesLoad(sample.symbol, sample.tf, "bundled", res.upsert))
        step()
    instruments = store.upsert_instruments(load_bundled_instruments())
    step()
    synth = generate(SYNTH_SYMBOL, days=SYNTH_DAYS, seed=SYNTH_SEED)
    loads.append(SeriesLoad(SYNTH_SYMBOL, "1m", "synthetic", upsert_batched(store, synth.candles)))
    funding = store.upsert_funding(SYNTH_SYMBOL, synth.funding_ts, synth.funding_rate)
    step()
    for symbol in [s.symbol for s in BUNDLED_SAMPLES] + [SYNTH_SYMBOL]:
        for r in store_resampled(store, symbol, list(RESAMPLE_TO)):
            loads.append(SeriesLoad(symbol, r.tf, "resampled", r.upsert, r.incomplete))
    step()
    return StarterLoad(loads, instruments, funding)
