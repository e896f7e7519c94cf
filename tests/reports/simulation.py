"""Simulated consecutive days for `rotator report`: the clock moves and so do the prices.

The demo's recorded exchange responses (rotator/demo/data) are copied and served by the demo's
replay server on 127.0.0.1 to the real ccxt library; each simulated day the tickers of every
non-stablecoin market quoted in a dollar currency are scaled by that day's factor (markets
between two crypto assets keep their ratio), and the day's BTC close and dominance are recorded
in the market store as `rotator history fetch` would. Then the real CLI runs
`rotator report --config ... --now DAY`, with the replay server on the same simulated clock.
Used by tests/reports/test_thirty_days.py and by bench/report_days.py.

`seed_report_days` stores earlier days without the CLI: the demo's holdings valued at that day's
prices, planned by the real planner and saved through the run and report store, as a daily
`rotator report` would have left them.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from rotator.config.ruleset import shipped_ruleset
from rotator.demo import DATA, DEMO_ENVIRON, PORTFOLIO, binance_routes, kraken_routes
from rotator.demo.chains import mount_chains
from rotator.demo.replay import ReplayServer, api_urls_for, utc_now

RECORDED_AT = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)  # the time the market rows are stored at

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
        return btc_close_at(k)

    def write_config(self, path: Path, reports: Path, extra: dict[str, Any] | None = None) -> Path:
        """The demo portfolio.yaml with its accounts pointed at this server."""
        config = yaml.safe_load(PORTFOLIO.read_text())
        for account in config["accounts"]:
            urls = api_urls_for(account["exchange"], f"{self.server.url}/{account['exchange']}")
            account["ccxt"] = {"rateLimit": 1, "urls": urls}
        # The demo's on-chain wallets and oracle, served by the same local server.
        chains = mount_chains(self.server)
        for wallet in config["wallets"]:
            if "chain" in wallet:
                wallet.update(rpc_url=chains[wallet["chain"]], requests_per_second=500)
        config.setdefault("oracles", {})["coingecko_url"] = chains["oracle"]
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
def simulated_market(
    scratch: Path, clock: Callable[[], datetime] = utc_now
) -> Iterator[SimulatedMarket]:
    """A running SimulatedMarket with the recorded prices (factor 1), stamping with `clock`."""
    folder = scratch / "exchange-data"
    shutil.copytree(DATA, folder)
    with ReplayServer(clock=clock) as server:
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
        save_bars(
            engine, [DailyBar("simulation", "BTC/USD", day, btc_close)], recorded_at=RECORDED_AT
        )
        save_dominance(
            engine, [DominanceObservation("simulation", day, dominance)], recorded_at=RECORDED_AT
        )
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


# The demo's holdings (rotator/demo/data balances and portfolio.yaml wallets) and the USD prices
# the recording values them at, as `rotator plan --demo` reads them: (account, exchange,
# wallet, asset, amount).
DEMO_HOLDINGS = (
    ("binance-main", "binance", "spot", "BTC", "0.4213"),
    ("binance-main", "binance", "spot", "ETH", "3.85"),
    ("binance-main", "binance", "spot", "BNB", "6.2"),
    ("binance-main", "binance", "spot", "USDT", "1250.37"),
    ("binance-main", "binance", "spot", "ADA", "4200"),
    ("binance-main", "binance", "spot", "LINK", "85.5"),
    ("binance-main", "binance", "funding", "USDT", "500"),
    ("binance-main", "binance", "earn", "USDT", "3000"),
    ("binance-main", "binance", "earn", "BNB", "4.5"),
    ("kraken", "kraken", "spot", "BTC", "0.15"),
    ("kraken", "kraken", "spot", "ETH", "1.2"),
    ("kraken", "kraken", "spot", "SOL", "42.5"),
    ("kraken", "kraken", "spot", "USDC", "2500"),
    ("kraken", "kraken", "spot", "USD", "1850.421"),
    ("cold-storage", "manual", "manual", "BTC", "0.35"),
    ("cold-storage", "manual", "manual", "ETH", "2"),
)
RECORDED_USD = {
    "BTC": "96412.5", "ETH": "3187.4", "BNB": "914.8", "ADA": "0.46808", "LINK": "13.9142",
    "SOL": "142.63", "USDT": "1.0003", "USDC": "0.99985",
}  # fmt: skip
STABLE = {"USDT", "USDC", "USD"}


def demo_snapshot(clock: datetime, k: float) -> Any:
    """The demo portfolio at `clock` with crypto prices scaled by `k` (stablecoins are not):
    Binance trades the assets against USDT, Kraken against USD."""
    from rotator.core.models import (
        AccountSnapshot,
        Holding,
        MarketInfo,
        Quote,
        Snapshot,
        WalletKind,
    )

    scale = Decimal(str(k))

    def usd(asset: str) -> Decimal:
        price = Decimal(RECORDED_USD[asset])
        return price if asset in STABLE else (price * scale).quantize(Decimal("0.00001"))

    def quote(account: str, base: str, quote_asset: str) -> tuple[MarketInfo, Quote]:
        mid = usd(base) / (usd(quote_asset) if quote_asset != "USD" else 1)
        symbol = f"{base}/{quote_asset}"
        market = MarketInfo(account, symbol, base, quote_asset, amount_step=Decimal("0.0001"),
                            min_cost=Decimal("5"))  # fmt: skip
        spread = mid * Decimal("0.0002")
        return market, Quote(symbol, mid - spread, mid + spread, mid, clock, account)

    pairs = {
        "binance-main": [(a, "USDT") for a in ("BTC", "ETH", "BNB", "ADA", "LINK")],
        "kraken": [("BTC", "USD"), ("ETH", "USD"), ("SOL", "USD"), ("USDT", "USD"),
                   ("USDC", "USD")],
    }  # fmt: skip
    accounts = []
    for name, exchange in (("binance-main", "binance"), ("kraken", "kraken"),
                           ("cold-storage", "manual")):  # fmt: skip
        holdings = tuple(
            Holding(name, asset, Decimal(amount),
                    Decimal(amount) if wallet == "spot" else Decimal(0), WalletKind(wallet))
            for account, _, wallet, asset, amount in DEMO_HOLDINGS if account == name
        )  # fmt: skip
        quoted = [quote(name, base, q) for base, q in pairs.get(name, [])]
        accounts.append(
            AccountSnapshot(
                name=name,
                exchange=exchange,
                holdings=holdings,
                markets=tuple(m for m, _ in quoted),
                quotes=tuple(q for _, q in quoted),
                fetched_at=clock,
            )
        )
    return Snapshot(as_of=clock, base_currency="USD", accounts=tuple(accounts))


def seed_report_days(
    db_url: str, clocks: Sequence[datetime], config: Path, reports: Path
) -> list[int]:
    """Store the daily report runs of `clocks` (day i at price factor `factor(i)`) and the
    day's market data, without the CLI; returns the run ids.

    Each day: the demo holdings valued at that day's prices, planned against portfolio.yaml's
    targets and rebalance settings by the real planner, saved by the run store (one
    transaction) and recorded as that day's report, as `rotator report` leaves a day behind.
    The report files themselves are not written: only the newest report's files are read.
    """
    from rotator.adapters.storage.db import open_engine
    from rotator.adapters.storage.report_store import save_report
    from rotator.adapters.storage.runs import save_run
    from rotator.config.portfolio import load_portfolio
    from rotator.core.planner import plan_orders

    portfolio = load_portfolio(config)
    targets = portfolio.static_targets()
    assert targets is not None, "the seeded days plan against portfolio.yaml targets"
    policy = portfolio.policy()
    engine = open_engine(db_url)
    run_ids = []
    try:
        for index, clock in enumerate(clocks):
            k = factor(index)
            record_market_day(db_url, clock.date(), btc_close_at(k), dominance(index))
            snapshot = demo_snapshot(clock, k)
            plan = plan_orders(snapshot, targets, policy)
            assert plan.complete, plan.problems
            run_id = save_run(engine, snapshot, plan, kind="report", created_at=clock)
            stem = reports / f"report-{clock.date().isoformat()}"
            save_report(engine, clock.date(), run_id, f"{stem}.html", f"{stem}.md",
                        created_at=clock)  # fmt: skip
            run_ids.append(run_id)
    finally:
        engine.dispose()
    return run_ids


def btc_close_at(k: float) -> float:
    """The day's BTC/USD close as the simulated market serves it (Kraken's last trade, scaled)."""
    kraken = json.loads((DATA / "kraken" / "0_public_Ticker.json").read_text())
    return float(kraken["result"]["XXBTZUSD"]["c"][0]) * k
