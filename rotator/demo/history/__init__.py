"""Bundled market history for the demo (`rotator signals --demo`, `rotator plan --demo`).

Real recorded data (see SOURCES.md here): CoinGecko BTC daily prices 2013-2021 and BTC
dominance 2018-2021; the macro series FRED DGS10, WALCL, RRPONTSYD, WTREGEN and the MOVE index,
to 2021-12-31, stored like `rotator history import` stores them (fred:ID, index:MOVE).
The demo loads them into its own SQLite file (<data dir>/demo.sqlite3),
never the user's database, and evaluates the rules as of DEMO_AS_OF, the last stretch of the
2021 cycle in that data, because the bundled history ends on 2021-12-31.
"""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

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
    if last_day(engine, DEMO_SOURCE, "BTC/USD") != HISTORY_END:
        save_bars(engine, import_csv(BTC_PRICES, asset="BTC", source=DEMO_SOURCE).bars)
        save_dominance(
            engine, import_csv(DOMINANCE, kind="dominance", source=DEMO_SOURCE).dominance
        )
    # The macro series end on 2021-12-29 (weekly) or 2021-12-31; MOVE is loaded last.
    if last_macro_day(engine, macro_key("index:MOVE")) != HISTORY_END:
        for name, series in MACRO.items():
            imported = import_csv(HISTORY / name, series=series, source=DEMO_SOURCE)
            save_macro(engine, imported.macro)
    return engine
