"""Spot, funding and earn wallets (bundled demo data), without double counting LD assets."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

from rotator.adapters.exchanges import fetch_accounts
from rotator.cli.clock import SYSTEM_CLOCK  # the demo stamps tickers with real time
from rotator.config.portfolio import load_portfolio
from rotator.core.models import WalletKind
from rotator.demo import (
    DEMO_ENVIRON,
    PORTFOLIO,
    binance_routes,
    kraken_routes,
    point_at,
    point_at_chains,
)
from rotator.demo.chains import mount_chains


def _fetch(kit, accounts):
    return fetch_accounts(accounts, {"USDT"}, environ=kit.ENVIRON, clock=kit.clock, cache_dir=None)


def _by_wallet(snapshot):
    return {(h.asset, h.wallet): (h.total, h.free) for h in snapshot.holdings}


def test_spot_funding_and_earn_without_double_counting(server, kit):
    server.mount("/b", binance_routes())
    account = kit.account(server, "b", "binance", "/b", wallets=("spot", "funding", "earn"))
    [snap] = _fetch(kit, [account])
    assert snap.ok, snap.problems
    held = _by_wallet(snap)
    assert held[("USDT", WalletKind.SPOT)] == (Decimal("1250.37"), Decimal("1250.37"))
    assert held[("USDT", WalletKind.FUNDING)] == (Decimal("500"), Decimal("500"))
    assert held[("USDT", WalletKind.EARN)] == (Decimal("3000"), Decimal("3000"))  # flexible
    assert held[("BNB", WalletKind.EARN)] == (Decimal("4.5"), Decimal("4.5"))  # locked
    assert held[("ETH", WalletKind.SPOT)] == (Decimal("3.85"), Decimal("3.6"))  # 0.25 in orders
    assert not any(asset.startswith("LD") for asset, _ in held)
    usdt = sum(h.total for h in snap.holdings if h.asset == "USDT")
    assert usdt == Decimal("4750.37")  # LDUSDT 3000 mirrored in spot is not counted again
    assert not any(h.sellable for h in snap.holdings if h.wallet is not WalletKind.SPOT)
    # Simple-earn endpoints were read with pagination parameters.
    [flexible] = server.requests_to("GET /b/sapi/v1/simple-earn/flexible/position")
    assert flexible.query["current"] == ["1"] and flexible.query["size"] == ["100"]
    assert len(server.requests_to("POST /b/sapi/v1/asset/get-funding-asset")) == 1


def test_ld_asset_reported_as_earn_when_earn_wallet_not_read(server, kit):
    server.mount("/b", binance_routes())
    [snap] = _fetch(kit, [kit.account(server, "b", "binance", "/b")])
    held = _by_wallet(snap)
    assert held[("USDT", WalletKind.EARN)] == (Decimal("3000"), Decimal("3000"))
    assert held[("USDT", WalletKind.SPOT)] == (Decimal("1250.37"), Decimal("1250.37"))
    assert server.requests_to("/b/sapi/") == []


def test_earn_positions_are_paginated(server, kit):
    routes = binance_routes()
    rows = [{"asset": "USDT", "totalAmount": "1"} for _ in range(100)]

    def flexible(request):
        page = int(request.query["current"][0])
        payload = rows if page == 1 else [{"asset": "BTC", "totalAmount": "0.5"}]
        return json.dumps({"rows": payload, "total": 101}).encode()

    routes["GET /sapi/v1/simple-earn/flexible/position"] = flexible
    server.mount("/b", routes)
    account = kit.account(server, "b", "binance", "/b", wallets=("spot", "earn"))
    [snap] = _fetch(kit, [account])
    held = _by_wallet(snap)
    assert held[("USDT", WalletKind.EARN)] == (Decimal("100"), Decimal("100"))
    assert held[("BTC", WalletKind.EARN)] == (Decimal("0.5"), Decimal("0.5"))
    pages = [
        r.query["current"]
        for r in server.requests_to("GET /b/sapi/v1/simple-earn/flexible/position")
    ]
    assert pages == [["1"], ["2"]]


def test_demo_portfolio_served_by_a_replay_server_reads_both_exchanges_through_ccxt(server):
    server.mount("/binance", binance_routes())
    server.mount("/kraken", kraken_routes())
    portfolio = point_at(load_portfolio(PORTFOLIO), server)
    portfolio = point_at_chains(portfolio, mount_chains(server))
    environ = dict(DEMO_ENVIRON)
    assert [a.name for a in portfolio.accounts] == ["binance-main", "kraken"]
    assert all("127.0.0.1" in json.dumps(a.ccxt["urls"]) for a in portfolio.accounts)
    assert [w.name for w in portfolio.manual_wallets] == ["cold-storage"]
    assert [w.name for w in portfolio.chain_wallets] == ["btc-vault", "eth-wallet"]
    assert all("127.0.0.1" in (w.rpc_url or "") for w in portfolio.chain_wallets)
    wanted = set(portfolio.targets) | {"USD", "USDT", "USDC", "BTC"}
    binance, kraken = fetch_accounts(
        portfolio.accounts, wanted, environ=environ, clock=SYSTEM_CLOCK, cache_dir=None
    )
    assert binance.ok and kraken.ok, (binance.problems, kraken.problems)
    now = SYSTEM_CLOCK.now()
    for quote in (*binance.quotes, *kraken.quotes):
        assert timedelta(0) <= now - quote.as_of < timedelta(minutes=1)  # fresh
    kraken_quotes = {q.symbol: q for q in kraken.quotes}
    assert Decimal("0.99") < kraken_quotes["USDT/USD"].mid < Decimal("1.01")
    assert Decimal("0.99") < kraken_quotes["USDC/USD"].mid < Decimal("1.01")
    assert Decimal("90000") < kraken_quotes["BTC/USD"].mid < Decimal("106000")
    # LINK trades only against BTC and ETH on the demo Binance: a bridged route.
    link_markets = {m.symbol for m in binance.markets if m.base == "LINK"}
    assert link_markets == {"LINK/BTC", "LINK/ETH"}
    assert {h.asset for h in kraken.holdings} == {"BTC", "ETH", "SOL", "USDC", "USD"}


KRAKEN_EARN_BALANCE = {
    "error": [],
    "result": {
        "XXBT": {"balance": "0.5000000000", "hold_trade": "0.1000000000"},
        "XBT.F": {"balance": "0.2000000000", "hold_trade": "0.0000000000"},
        "USDT": {"balance": "100.00000000", "hold_trade": "0.00000000"},
        "DOT.S": {"balance": "250.0000000000", "hold_trade": "0.0000000000"},
        "ETH2.S": {"balance": "1.5000000000", "hold_trade": "0.0000000000"},
        "USDT.M": {"balance": "40.00000000", "hold_trade": "0.00000000"},
    },
}


def _kraken_with_earn(server, kit, wallets):
    routes = kit.kraken_routes()
    routes["POST /0/private/BalanceEx"] = json.dumps(KRAKEN_EARN_BALANCE).encode()
    server.mount("/k", routes)
    [snap] = _fetch(kit, [kit.account(server, "kraken", "kraken", "/k", wallets=wallets)])
    assert snap.ok, snap.problems
    return snap


def test_kraken_suffixed_balances_become_base_asset_holdings(server, kit):
    snap = _kraken_with_earn(server, kit, ("spot",))
    assert _by_wallet(snap) == {
        # XBT.F earns automatically but trades as BTC: spot, summed with BTC.
        ("BTC", WalletKind.SPOT): (Decimal("0.7"), Decimal("0.6")),
        ("USDT", WalletKind.SPOT): (Decimal("100"), Decimal("100")),
        ("DOT", WalletKind.EARN): (Decimal("250"), Decimal("250")),
        ("ETH", WalletKind.EARN): (Decimal("1.5"), Decimal("1.5")),
        ("USDT", WalletKind.EARN): (Decimal("40"), Decimal("40")),
    }
    # Listing earn as well reads nothing more and counts nothing twice.
    server.reset_requests()
    both = _kraken_with_earn(server, kit, ("spot", "earn"))
    assert _by_wallet(both) == _by_wallet(snap)
    assert len(server.requests_to("POST /k/0/private/BalanceEx")) == 1


def test_kraken_earn_alone_reads_only_the_earn_balances(server, kit):
    snap = _kraken_with_earn(server, kit, ("earn",))
    assert {h.wallet for h in snap.holdings} == {WalletKind.EARN}
    assert {h.asset for h in snap.holdings} == {"DOT", "ETH", "USDT"}
