"""Recorded Binance and Kraken responses parsed by the real ccxt through fetch_accounts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from rotator.adapters.exchanges import fetch_accounts
from rotator.core.models import WalletKind


def test_recorded_binance_and_kraken_parse_into_records(server, kit):
    server.mount("/b", kit.binance_routes())
    server.mount("/k", kit.kraken_routes())
    binance = kit.account(server, "binance-main", "binance", "/b")
    kraken = kit.account(server, "kraken", "kraken", "/k")

    snaps = fetch_accounts(
        [binance, kraken], {"USDT", "USD"}, environ=kit.ENVIRON, clock=kit.clock, cache_dir=None
    )

    b, k = snaps
    assert (b.name, k.name) == ("binance-main", "kraken")
    assert b.ok and k.ok, (b.problems, k.problems)
    holdings = {(h.asset, h.wallet): (h.total, h.free) for h in b.holdings}
    assert holdings == {
        ("BTC", WalletKind.SPOT): (Decimal("4723846.89208129"), Decimal("4723846.89208129")),
        ("LTC", WalletKind.SPOT): (Decimal("4763368.68006011"), Decimal("4763368.68006011")),
    }
    # Universe = wanted {USDT, USD} + held {BTC, LTC}: only BTC/USDT qualifies (not ETH/USDT).
    [market] = b.markets
    assert market.symbol == "BTC/USDT"
    assert market.amount_step == Decimal("0.00001")
    assert market.price_step == Decimal("0.01")
    assert market.min_amount == Decimal("0.00001")
    assert market.min_cost == Decimal("10")
    [quote] = b.quotes
    assert (quote.symbol, quote.bid, quote.ask, quote.last) == (
        "BTC/USDT",
        Decimal("60755.18"),
        Decimal("60755.19"),
        Decimal("60755.18"),
    )
    assert quote.as_of == datetime.fromtimestamp(1634944401.452, tz=UTC)
    assert quote.source == "binance-main"

    kh = {h.asset: (h.total, h.free, h.wallet) for h in k.holdings}
    assert kh == {
        "BTC": (Decimal("0.5"), Decimal("0.4"), WalletKind.SPOT),
        "USDT": (Decimal("1200.5"), Decimal("1200.5"), WalletKind.SPOT),
    }
    [kmarket] = k.markets
    assert kmarket.symbol == "BTC/USDT"
    assert kmarket.amount_step == Decimal("1E-8")
    assert kmarket.price_step == Decimal("0.1")
    assert kmarket.min_amount == Decimal("0.00005")
    assert kmarket.min_cost == Decimal("0.5")
    assert kmarket.taker_fee == Decimal("0.004")
    [kquote] = k.quotes
    assert (kquote.bid, kquote.ask, kquote.last) == (
        Decimal("105944.2"),
        Decimal("105944.3"),
        Decimal("105899.4"),
    )
    assert kquote.as_of == kit.NOW  # Kraken tickers carry no timestamp: time received
    assert b.fetched_at == kit.NOW and k.fetched_at == kit.NOW


def test_tickers_requested_only_for_needed_symbols(server, kit):
    server.mount("/b", kit.binance_routes())
    server.mount("/k", kit.kraken_routes())
    accounts = [
        kit.account(server, "binance-main", "binance", "/b"),
        kit.account(server, "kraken", "kraken", "/k"),
    ]
    fetch_accounts(accounts, {"USDT"}, environ=kit.ENVIRON, clock=kit.clock, cache_dir=None)

    [binance_tickers] = server.requests_to("GET /b/api/v3/ticker/24hr")
    assert json.loads(binance_tickers.query["symbols"][0]) == ["BTCUSDT"]
    assert "symbol" not in binance_tickers.query
    [kraken_tickers] = server.requests_to("GET /k/0/public/Ticker")
    assert kraken_tickers.query["pair"] == ["XBTUSDT"]
    # Market definitions and balances were each read exactly once per account.
    assert len(server.requests_to("GET /b/api/v3/exchangeInfo")) == 1
    assert len(server.requests_to("GET /b/api/v3/account")) == 1
    assert len(server.requests_to("GET /k/0/public/AssetPairs")) == 1
    assert len(server.requests_to("POST /k/0/private/BalanceEx")) == 1
    # Spot only: no futures exchangeInfo (fapi/dapi) nor margin pairs were requested.
    paths = {r.path for r in server.requests}
    assert not any("fapi" in p or "dapi" in p or "margin" in p for p in paths), paths


def test_nothing_wanted_and_nothing_held_requests_no_tickers(server, kit):
    routes = kit.binance_routes()
    routes["GET /api/v3/account"] = json.dumps({"balances": []}).encode()
    server.mount("/b", routes)
    account = kit.account(server, "binance-main", "binance", "/b")
    [snap] = fetch_accounts([account], set(), environ=kit.ENVIRON, clock=kit.clock, cache_dir=None)
    assert snap.ok and snap.holdings == () and snap.quotes == () and snap.markets == ()
    assert server.requests_to("GET /b/api/v3/ticker/24hr") == []


def test_per_symbol_fallback_when_exchange_lacks_fetch_tickers(server, kit):
    server.mount("/b", kit.binance_routes())
    account = kit.account(server, "binance-main", "binance", "/b", has={"fetchTickers": False})
    [snap] = fetch_accounts(
        [account], {"USDT"}, environ=kit.ENVIRON, clock=kit.clock, cache_dir=None
    )
    assert snap.ok, snap.problems
    [request] = server.requests_to("GET /b/api/v3/ticker/24hr")
    assert request.query["symbol"] == ["BTCUSDT"]
    assert [q.symbol for q in snap.quotes] == ["BTC/USDT"]
