"""Bundled market history for the demo (`rotator signals --demo`, `rotator plan --demo`).

Real recorded CoinGecko data (see SOURCES.md here): BTC daily prices 2013-2021 and BTC
dominance 2018-2021. The demo loads them into its own SQLite file (<data dir>/demo.sqlite3, by
rotator.pipeline.store.demo_engine), never the user's database, and evaluates the rules as of
DEMO_AS_OF, the last stretch of the 2021 cycle in that data, because the bundled history ends
on 2021-12-31.
"""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path

HISTORY = Path(str(resources.files("rotator.demo.history")))
BTC_PRICES = HISTORY / "coingecko_btc-usd_daily_2013-2021.csv"
DOMINANCE = HISTORY / "btc_dominance_pct_daily_2018-2021.csv"
DEMO_AS_OF = date(2021, 5, 20)
DEMO_SOURCE = "demo"
