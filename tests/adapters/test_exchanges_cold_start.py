"""A cold plan (no market cache) asks each exchange for markets, balances and tickers only.

Binance and Kraken answer with recorded responses, OKX and Bybit with responses composed in
their documented layouts (tests/fixtures/exchanges/SOURCES.md). The replay server's request
log must hold exactly the routes listed per exchange: no currency list (a signed request on
Binance, OKX and Bybit), no margin pairs, no derivatives markets, no server time.
"""

from __future__ import annotations

import pytest

from rotator.adapters.exchanges import fetch_accounts
from rotator.adapters.exchanges.session import lean_settings

# exchange -> (wallets, the only routes a cold plan may ask for, assets held)
COLD_PLAN = {
    "binance": (
        ("spot",),
        {"GET /api/v3/exchangeInfo", "GET /api/v3/account", "GET /api/v3/ticker/24hr"},
        {"BTC", "LTC"},
    ),
    "kraken": (
        ("spot",),
        {"GET /0/public/AssetPairs", "POST /0/private/BalanceEx", "GET /0/public/Ticker"},
        {"BTC", "USDT"},
    ),
    "okx": (
        ("spot", "funding"),
        {
            "GET /api/v5/public/instruments",
            "GET /api/v5/account/balance",
            "GET /api/v5/asset/balances",
            "GET /api/v5/market/tickers",
        },
        {"BTC", "USDT", "ETH"},
    ),
    "bybit": (
        ("spot", "funding"),
        {
            "GET /v5/market/instruments-info",
            # account-type discovery ccxt needs to choose the balance endpoint (UTA or not)
            "GET /v5/user/query-api",
            "GET /v5/account/info",
            "GET /v5/account/wallet-balance",
            "GET /v5/asset/transfer/query-account-coins-balance",
            "GET /v5/market/tickers",
        },
        {"BTC", "USDT", "ETH"},
    ),
}


@pytest.mark.parametrize("exchange", sorted(COLD_PLAN))
def test_cold_plan_asks_for_markets_balances_and_tickers_only(server, kit, tmp_path, exchange):
    wallets, allowed, held = COLD_PLAN[exchange]
    server.mount("/x", getattr(kit, f"{exchange}_routes")())
    account = kit.account(server, exchange, exchange, "/x", wallets=wallets)

    [snap] = fetch_accounts(
        [account],
        {"BTC", "ETH", "USDT"},
        environ=kit.ENVIRON,
        clock=kit.clock,
        cache_dir=tmp_path,
        retries=0,
    )

    routes = {f"{r.method} {r.path.removeprefix('/x')}" for r in server.requests}
    assert routes == allowed
    assert snap.ok, snap.problems
    assert {h.asset for h in snap.holdings} == held
    assert snap.quotes
    markets = [r for r in server.requests if "instruments" in r.path or "Pairs" in r.path]
    assert all("option" not in r.raw_query.lower() for r in markets)


@pytest.mark.parametrize("exchange", ["binance", "okx", "bybit", "kucoin", "gate"])
def test_lean_settings_come_from_what_ccxt_declares(exchange):
    lean = lean_settings(exchange)
    assert lean["has"] == {"fetchCurrencies": False}
    fetch_markets = lean["options"]["fetchMarkets"]
    types = fetch_markets["types"] if isinstance(fetch_markets, dict) else fetch_markets
    assert types == ["spot"]
    flags = {**lean["options"], **(fetch_markets if isinstance(fetch_markets, dict) else {})}
    assert all(
        value is False for key, value in flags.items() if key not in {"types", "fetchMarkets"}
    )
