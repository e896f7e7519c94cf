"""Bundled market history for the demo (`rotator signals --demo`, `rotator plan --demo`).

Real recorded data (see SOURCES.md here): CoinGecko daily prices of BTC 2013-2021, ETH
2015-2021 and SOL 2020-2021, BTC dominance 2018-2021 (earlier dominance derived from the BTC and
total market caps); the macro series FRED DGS10, WALCL, RRPONTSYD, WTREGEN and the MOVE index,
to 2021-12-31, stored like `rotator history import` stores them (fred:ID, index:MOVE).
The demo loads them into its own SQLite file (<data dir>/demo.sqlite3),
never the user's database, and evaluates the rules as of DEMO_AS_OF, the last stretch of the
2021 cycle in that data, because the bundled history ends on 2021-12-31.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from rotator.core.history import DailyBar, DominanceObservation

if TYPE_CHECKING:
    from sqlalchemy import Engine

HISTORY = Path(str(resources.files("rotator.demo.history")))
BTC_PRICES = HISTORY / "coingecko_btc-usd_daily_2013-2021.csv"
DOMINANCE = HISTORY / "btc_dominance_pct_daily_2018-2021.csv"
# Macro series: file -> series name (as `rotator history import` infers it).
MACRO = {
    "DGS10.csv": "fred:DGS10",
    "WALCL.csv": "fred:WALCL",
    "RRPONTSYD.csv": "fred:RRPONTSYD",
    "WTREGEN.csv": "fred:WTREGEN",
    "MOVE.csv": "index:MOVE",
}
HISTORY_END = date(2021, 12, 31)
ETH_PRICES = HISTORY / "coingecko_eth-usd_daily_2015-2021.csv"
SOL_PRICES = HISTORY / "coingecko_sol-usd_daily_2020-2021.csv"
TOTAL_MARKET_CAP = HISTORY / "coingecko_global_total_market_cap_daily_2013-2021.csv"
DOMINANCE_FROM = date(2018, 1, 1)  # earlier dominance is derived from the market caps
DEMO_AS_OF = date(2021, 5, 20)
DEMO_SOURCE = "demo"


def demo_db_url() -> str:
    """The demo's own SQLite file in the user data directory."""
    from rotator.config.paths import data_dir

    return f"sqlite:///{data_dir() / 'demo.sqlite3'}"


def demo_engine(url: str | None = None) -> Engine:
    """An engine on the demo database, with the bundled history loaded (once; idempotent).

    Args:
        url: the database to use instead of the demo's own file (`--db`, ROTATOR_DB_URL).
    """
    from rotator.adapters.sources.csv_import import import_csv
    from rotator.adapters.storage.db import open_engine
    from rotator.adapters.storage.market import (
        last_day,
        last_macro_day,
        save_bars,
        save_dominance,
        save_macro,
    )
    from rotator.core.history import macro_key

    engine = open_engine(url or demo_db_url())
    if last_day(engine, DEMO_SOURCE, "SOL/USD") != HISTORY_END:
        btc = import_csv(BTC_PRICES, asset="BTC", source=DEMO_SOURCE).bars
        save_bars(engine, btc)
        save_bars(engine, import_csv(ETH_PRICES, asset="ETH", source=DEMO_SOURCE).bars)
        save_bars(engine, import_csv(SOL_PRICES, asset="SOL", source=DEMO_SOURCE).bars)
        save_dominance(engine, derived_dominance(btc))
        save_dominance(
            engine, import_csv(DOMINANCE, kind="dominance", source=DEMO_SOURCE).dominance
        )
    # The macro series end on 2021-12-29 (weekly) or 2021-12-31; MOVE is loaded last.
    if last_macro_day(engine, macro_key("index:MOVE")) != HISTORY_END:
        for name, series in MACRO.items():
            imported = import_csv(HISTORY / name, series=series, source=DEMO_SOURCE)
            save_macro(engine, imported.macro)
    return engine


def derived_dominance(btc: Sequence[DailyBar]) -> list[DominanceObservation]:
    """BTC dominance before DOMINANCE_FROM: BTC market cap / total market cap, in percent."""
    import csv

    caps = {bar.day: bar.market_cap for bar in btc if bar.market_cap}
    out = []
    with TOTAL_MARKET_CAP.open(newline="") as handle:
        for row in csv.DictReader(handle):
            day = datetime.fromtimestamp(int(row["snapped_at"]) / 1000, UTC).date()
            total = float(row["market_cap"])
            btc_cap = caps.get(day)
            if day >= DOMINANCE_FROM or not btc_cap or total <= 0 or btc_cap >= total:
                continue
            pct = btc_cap / total * 100
            out.append(DominanceObservation("demo-derived", day, pct, btc_cap, total))
    return out
