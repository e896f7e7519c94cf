"""Simulated consecutive days for `rotator report`: the clock moves and so do the prices.

The demo's recorded exchange responses (rotator/demo/data) are copied and served by the demo's
replay server on 127.0.0.1 to the real ccxt library; each simulated day the tickers of every
non-stablecoin market quoted in a dollar currency are scaled by that day's factor (markets
between two crypto assets keep their ratio), and the day's BTC close and dominance are recorded
in the market store as `rotator history fetch` would. Then the real CLI runs
`rotator report --config ... --now DAY`. Used by tests/reports/test_thirty_days.py and by
bench/report_days.py.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml

from rotator.config.ruleset import shipped_ruleset
from rotator.demo import DATA, DEMO_ENVIRON, PORTFOLIO, binance_routes, kraken_routes
from rotator.demo.replay import ReplayServer, api_urls_for

PRIOR_HIGH = 100000
DOLLARS = {"USD", "ZUSD", "USDT", "USDC", "FDUSD", "BUSD", "DAI"}
BINANCE_PRICE_FIELDS = (
    "weightedAvgPrice",
    "prevClosePrice",
    "lastPrice",
    "bidPrice",
    "askPrice",
    "openPrice",
    "highPrice",
    "lowPrice",
)


def factor(day_index: int) -> float:
    """A deterministic price path: a slow uptrend with a weekly wobble."""
    return (1 + 0.004 * day_index) * (1 + 0.03 * math.sin(day_index * 2 * math.pi / 7))


def _scale(text: str, k: float) -> str:
    return f"{float(text) * k:.8f}".rstrip("0").rstrip(".")


@dataclass
class SimulatedMarket:
    """The demo exchanges served from a scratch copy whose prices move per day."""

    folder: Path
    server: ReplayServer

    def set_prices(self, k: float) -> None:
        """Serve the recorded tickers with dollar prices scaled by `k`."""
        info = json.loads((DATA / "binance" / "api_v3_exchangeInfo.json").read_text())
        pairs = {s["symbol"]: (s["baseAsset"], s["quoteAsset"]) for s in info["symbols"]}
        tickers = json.loads((DATA / "binance" / "api_v3_ticker_24hr.json").read_text())
        for ticker in tickers:
            base, quote = pairs.get(ticker["symbol"], ("", ""))
            if quote in DOLLARS and base not in DOLLARS:
                for name in BINANCE_PRICE_FIELDS:
                    if name in ticker:
                        ticker[name] = _scale(ticker[name], k)
        (self.folder / "binance" / "api_v3_ticker_24hr.json").write_text(json.dumps(tickers))

        kraken_pairs = json.loads((DATA / "kraken" / "0_public_AssetPairs.json").read_text())
        kraken = json.loads((DATA / "kraken" / "0_public_Ticker.json").read_text())
        for key, ticker in kraken["result"].items():
            pair = kraken_pairs["result"].get(key, {})
            if pair.get("quote") in DOLLARS and pair.get("base") not in DOLLARS:
                for name in ("a", "b", "c"):
                    ticker[name][0] = _scale(ticker[name][0], k)
                for name in ("p", "l", "h"):
                    ticker[name] = [_scale(v, k) for v in ticker[name]]
                ticker["o"] = _scale(ticker["o"], k)
        (self.folder / "kraken" / "0_public_Ticker.json").write_text(json.dumps(kraken))
        self.server.mount("/binance", binance_routes(self.folder / "binance"))
        self.server.mount("/kraken", kraken_routes(self.folder / "kraken"))

    def btc_close(self, k: float) -> float:
        """The day's BTC/USD close as served (Kraken's last trade, scaled)."""
        kraken = json.loads((DATA / "kraken" / "0_public_Ticker.json").read_text())
        return float(kraken["result"]["XXBTZUSD"]["c"][0]) * k

    def write_config(self, path: Path, reports: Path, extra: dict[str, Any] | None = None) -> Path:
        """The demo portfolio.yaml with its accounts pointed at this server."""
        config = yaml.safe_load(PORTFOLIO.read_text())
        for account in config["accounts"]:
            urls = api_urls_for(account["exchange"], f"{self.server.url}/{account['exchange']}")
            account["ccxt"] = {"rateLimit": 1, "urls": urls}
        # The shipped cycle rule set, with the prior high fixed inside the simulated price path
        # (30 simulated days hold no previous cycle to find it in); the revenue screen would
        # need DefiLlama, which a simulation does not reach.
        config["rules"] = {
            "file": str(shipped_ruleset("cycle.yaml")),
            "overrides": {"btc_above_prior_high": {"level": PRIOR_HIGH}},
        }
        config["reports"] = {"directory": str(reports)}
        config.update(extra or {})
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        return path


@contextmanager
def simulated_market(scratch: Path) -> Iterator[SimulatedMarket]:
    """A running SimulatedMarket with the recorded prices (factor 1)."""
    folder = scratch / "exchange-data"
    shutil.copytree(DATA, folder)
    with ReplayServer() as server:
        market = SimulatedMarket(folder, server)
        market.set_prices(1.0)
        yield market


def demo_environ() -> dict[str, str]:
    """The demo's dummy API keys (the replay server checks no signature)."""
    return dict(DEMO_ENVIRON)


def record_market_day(db_url: str, day: date, btc_close: float, dominance: float) -> None:
    """Record the day's BTC close and dominance in the market store."""
    from rotator.adapters.storage.db import open_engine
    from rotator.adapters.storage.market import save_bars, save_dominance
    from rotator.core.history import DailyBar, DominanceObservation

    engine = open_engine(db_url)
    try:
        save_bars(engine, [DailyBar("simulation", "BTC/USD", day, btc_close)])
        save_dominance(engine, [DominanceObservation("simulation", day, dominance)])
    finally:
        engine.dispose()


def dominance(day_index: int) -> float:
    """A simulated BTC dominance path (percent): drifting down with a slow swing."""
    return 58.0 + 1.2 * math.sin(day_index / 5) - 0.05 * day_index


def report_clock(day: date) -> str:
    """The --now value for a simulated day's 07:00 UTC run."""
    return datetime.combine(day, time(7, 0), tzinfo=UTC).isoformat()


def days_ending(last: date, count: int) -> list[date]:
    """`count` consecutive days ending with `last`."""
    return [last - timedelta(days=count - 1 - i) for i in range(count)]
