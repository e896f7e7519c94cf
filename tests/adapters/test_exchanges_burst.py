"""One account's wallets are read at once, paced by ccxt's rolling-window rate limiter.

Uses Binance's own pacing (rateLimit 50 ms; the earn endpoints cost 15 units each), not the
tests' lifted `rateLimit: 1`, so a limiter that spaces requests by cost would show.
"""

from __future__ import annotations

import asyncio
import dataclasses

from rotator.adapters.exchanges import fetch_accounts, open_readonly_exchange
from rotator.adapters.exchanges.session import BURST_WINDOW_MS, exchange_settings
from rotator.demo import DEMO_ENVIRON, binance_routes

WALLET_ROUTES = (
    "GET /b/api/v3/account",
    "POST /b/sapi/v1/asset/get-funding-asset",
    "GET /b/sapi/v1/simple-earn/flexible/position",
    "GET /b/sapi/v1/simple-earn/locked/position",
)
LATENCY = 1.0


def _account(kit, server):
    account = kit.account(server, "b", "binance", "/b", wallets=("spot", "funding", "earn"))
    ccxt = {k: v for k, v in account.ccxt.items() if k != "rateLimit"}  # binance's own 50 ms
    return dataclasses.replace(account, ccxt=ccxt)


def test_wallets_of_one_account_are_requested_together(server, kit, tmp_path):
    server.mount("/b", binance_routes())
    account = _account(kit, server)
    environ = {**kit.ENVIRON, **DEMO_ENVIRON}
    fetch_accounts([account], {"USDT"}, environ=environ, clock=kit.clock, cache_dir=tmp_path)
    server.reset_requests()
    for route in WALLET_ROUTES:
        server.fault(route, latency=LATENCY)

    [snap] = fetch_accounts(
        [account], {"USDT"}, environ=environ, clock=kit.clock, cache_dir=tmp_path
    )  # warm: markets from the cache

    assert snap.ok, snap.problems
    arrivals = [server.requests_to(route)[0].at for route in WALLET_ROUTES]
    # every wallet request left before the first answer came back
    assert max(arrivals) - min(arrivals) < LATENCY / 2
    tickers = server.requests_to("GET /b/api/v3/ticker/24hr")[0].at
    assert tickers >= max(arrivals)  # tickers follow the holdings they price


def test_rate_limiting_stays_on_with_a_bounded_burst(server, kit):
    account = _account(kit, server)
    settings = exchange_settings(account)
    assert settings["enableRateLimit"] is True
    assert settings["rateLimiterAlgorithm"] == "rollingWindow"

    async def throttler_config():
        ex = await open_readonly_exchange(account, kit.ENVIRON)
        try:
            return dict(object.__getattribute__(ex, "_exchange").throttler.config)
        finally:
            await ex.close()

    config = asyncio.run(throttler_config())
    # Binance: 5 s of its 50 ms steady rate = 100 units (500 of 6,000 request weight a minute)
    assert config["algorithm"] == "rollingWindow"
    assert config["windowSize"] == BURST_WINDOW_MS
    assert config["maxWeight"] == BURST_WINDOW_MS / 50 == 100
