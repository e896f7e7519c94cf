"""Bundled market history for the demo (`rotator signals --demo`, `rotator plan --demo`).

Real recorded data (see SOURCES.md here): CoinGecko daily prices of BTC 2013-2021, ETH
2015-2021 and SOL 2020-2021, BTC dominance 2018-2021 (earlier dominance derived from the BTC and
total market caps); the macro series FRED DGS10, WALCL, RRPONTSYD, WTREGEN and the MOVE index,
to 2021-12-31, stored like `rotator history import` stores them (fred:ID, index:MOVE).
The demo loads them into its own SQLite file (<data dir>/demo.sqlite3, by
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
