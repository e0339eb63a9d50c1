"""``trade quickstart``: the main job on the embedded defaults (no network, no keys).

Loads the starter data into the local DuckDB store, runs the data-quality suite on every
series it loaded, and prints a summary. Exit 1 if any series fails its checks.
"""

from __future__ import annotations

from rich.table import Table

from trade_core.cli.app import app
from trade_core.cli.console import err, out, progress_bar
from trade_core.config import get_settings
from trade_core.data.starter import load_starter_data
from trade_core.data.store import MarketStore
from trade_core.errors import DataQualityError
from trade_core.timestamps import fmt_ts


@app.command("quickstart")
def quickstart() -> None:
    """Load the bundled data into the local store, check its quality, print a summary."""
    settings = get_settings()
    with MarketStore.open(settings) as store, progress_bar("loading starter data", "steps") as bar:
        loaded = load_starter_data(store, on_progress=bar)
    err.print("checking data quality (Great Expectations suite ohlcv_candles) ...")
    from trade_core.data.quality import check_store  # GX import costs seconds: only here

    table = Table(
        "symbol", "tf", "origin", "bars", "span (UTC)", "new", "gaps", "quality",
        title=f"TRADE starter data in {settings.db_path.resolve()}",
    )  # fmt: skip
    failures = []
    with MarketStore.open(settings, read_only=True) as store:
        for load in loaded.series:
            cov = store.coverage(load.symbol, load.tf)
            if cov is None:
                continue
            report = check_store(store, load.symbol, load.tf)
            gaps = store.gaps(load.symbol, load.tf)
            passed = sum(o.status == "passed" for o in report.outcomes)
            verdict = (
                f"[green]ok[/green] {passed}/{len(report.outcomes)}"
                if report.success
                else "[red]FAILED[/red] " + ", ".join(o.name for o in report.failed)
            )
            if not report.success:
                failures.append(f"{load.symbol} {load.tf}")
            table.add_row(
                load.symbol, load.tf, load.origin, f"{cov.bars:,}",
                f"{fmt_ts(cov.first_ts)} → {fmt_ts(cov.last_ts)}", f"{load.upsert.inserted:,}",
                str(len(gaps)), verdict,
            )  # fmt: skip
        instruments = [i.symbol for i in store.instruments()]
        funding_ts, _ = store.read_funding("SYNTHUSDT")
    out.print(table)
    out.print(
        f"instruments: {len(instruments)} ({', '.join(instruments)}), "
        f"{loaded.instruments.inserted} new; funding rates: {len(funding_ts):,} stored"
    )
    if failures:
        raise DataQualityError(
            f"data-quality checks failed for {', '.join(failures)}; see: trade data check SYMBOL TF"
        )
    out.print(
        "next: trade data list | trade data check AVAXUSDT 1m | "
        "trade data synth BTCSYN --days 365 --seed 1 | trade --help"
    )
