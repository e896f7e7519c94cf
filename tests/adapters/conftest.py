"""Shared helpers for the exchange adapter tests: replay server, accounts, a fixed clock.

Real ccxt talks to `rotator.demo.replay.ReplayServer` on 127.0.0.1; each account's ccxt `urls`
point at its own path prefix, so several accounts (and fault injections) share one server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fake_clock import FakeClock

from rotator.adapters.exchanges import AccountSettings
from rotator.demo import binance_tickers, kraken_tickers
from rotator.demo.replay import Body, ReplayServer, api_urls_for

FIXTURES = Path(__file__).parent.parent / "fixtures" / "exchanges"
NOW = datetime(2025, 11, 24, 12, 0, tzinfo=UTC)
# Valid base64 (Kraken signs with a base64-decoded secret); not a real key.
KRAKEN_SECRET = "a3Jha2VuLXRlc3Qtc2VjcmV0LW5vdC1yZWFsLTAwMDA="
ENVIRON = {
    "BINANCE_API_KEY": "test-binance-key",
    "BINANCE_SECRET": "test-binance-secret",
    "OKX_API_KEY": "test-okx-key",
    "OKX_SECRET": "test-okx-secret",
    "OKX_PASSWORD": "test-okx-passphrase",
    "BYBIT_API_KEY": "test-bybit-key",
    "BYBIT_SECRET": "test-bybit-secret",
    "KRAKEN_API_KEY": "test-kraken-key",
    "KRAKEN_SECRET": KRAKEN_SECRET,
}


def fixed_now() -> datetime:
    return NOW


def recorded_binance_routes() -> dict[str, Body]:
    folder = FIXTURES / "binance"
    ticker = json.loads((folder / "api_v3_ticker_24hr.BTCUSDT.json").read_text())
    serve_ticker = binance_tickers([ticker])

    def tickers(request: Any) -> bytes:  # keep the recorded closeTime (no stamping)
        data = json.loads(serve_ticker(request))
        items = data if isinstance(data, list) else [data]
        for item in items:
            item["openTime"], item["closeTime"] = ticker["openTime"], ticker["closeTime"]
        return json.dumps(data).encode()

    return {
        "GET /api/v3/exchangeInfo": (folder / "api_v3_exchangeInfo.json").read_bytes(),
        "GET /api/v3/account": (folder / "api_v3_account.json").read_bytes(),
        "GET /api/v3/ticker/24hr": tickers,
    }


def recorded_kraken_routes() -> dict[str, Body]:
    folder = FIXTURES / "kraken"
    pairs = json.loads((folder / "0_public_AssetPairs.json").read_text())["result"]
    ticker = json.loads((folder / "0_public_Ticker.json").read_text())
    return {
        "GET /0/public/Assets": (folder / "0_public_Assets.json").read_bytes(),
        "GET /0/public/AssetPairs": (folder / "0_public_AssetPairs.json").read_bytes(),
        "GET /0/public/Ticker": kraken_tickers(ticker, pairs),
        "POST /0/private/BalanceEx": (folder / "0_private_BalanceEx.json").read_bytes(),
    }


def recorded_okx_routes() -> dict[str, Body]:
    """OKX v5 spot routes, composed in OKX's documented layout (see SOURCES.md)."""
    folder = FIXTURES / "okx"
    return {
        "GET /api/v5/public/instruments": (
            folder / "api_v5_public_instruments.SPOT.json"
        ).read_bytes(),
        "GET /api/v5/account/balance": (folder / "api_v5_account_balance.json").read_bytes(),
        "GET /api/v5/asset/balances": (folder / "api_v5_asset_balances.json").read_bytes(),
        "GET /api/v5/market/tickers": (folder / "api_v5_market_tickers.SPOT.json").read_bytes(),
    }


def recorded_bybit_routes() -> dict[str, Body]:
    """Bybit v5 spot routes, composed in Bybit's documented layout (see SOURCES.md)."""
    folder = FIXTURES / "bybit"
    return {
        "GET /v5/market/instruments-info": (
            folder / "v5_market_instruments-info.spot.json"
        ).read_bytes(),
        "GET /v5/user/query-api": (folder / "v5_user_query-api.json").read_bytes(),
        "GET /v5/account/info": (folder / "v5_account_info.json").read_bytes(),
        "GET /v5/account/wallet-balance": (
            folder / "v5_account_wallet-balance.UNIFIED.json"
        ).read_bytes(),
        "GET /v5/asset/transfer/query-account-coins-balance": (
            folder / "v5_asset_transfer_query-account-coins-balance.FUND.json"
        ).read_bytes(),
        "GET /v5/market/tickers": (folder / "v5_market_tickers.spot.json").read_bytes(),
    }


def make_account(
    server: ReplayServer,
    name: str,
    exchange: str,
    prefix: str,
    *,
    wallets: tuple[str, ...] = ("spot",),
    key_env: str | None = None,
    secret_env: str | None = None,
    **ccxt: Any,
) -> AccountSettings:
    """An account whose ccxt urls point at `server` under `prefix` ("/b1")."""
    upper = exchange.upper()
    password_env = f"{upper}_PASSWORD" if f"{upper}_PASSWORD" in ENVIRON else None
    # Plain HTTP on loopback: no pacing, and no 250 ms SSL grace sleep when closing.
    settings = {"rateLimit": 1, "timeout": 2000, "timeout_on_exit": 0, **ccxt}
    settings["urls"] = api_urls_for(exchange, server.url + prefix)
    return AccountSettings(
        name=name,
        exchange=exchange,
        api_key_env=key_env or f"{upper}_API_KEY",
        secret_env=secret_env or f"{upper}_SECRET",
        password_env=password_env,
        wallets=wallets,
        ccxt=settings,
    )


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as replay:
        yield replay


class ExchangeKit:
    """The helpers above, handed to tests as the `kit` fixture (no `import conftest`).

    `clock` is the run's clock for the adapters: its wall time stays at NOW and its waits
    (back-off, Retry-After) are recorded in `fake.waits` instead of slept.
    """

    NOW = NOW
    ENVIRON = ENVIRON
    KRAKEN_SECRET = KRAKEN_SECRET
    now = staticmethod(fixed_now)
    binance_routes = staticmethod(recorded_binance_routes)
    kraken_routes = staticmethod(recorded_kraken_routes)
    okx_routes = staticmethod(recorded_okx_routes)
    bybit_routes = staticmethod(recorded_bybit_routes)
    account = staticmethod(make_account)

    def __init__(self) -> None:
        self.fake = FakeClock(NOW, frozen=True)
        self.clock = self.fake.clock


@pytest.fixture
def kit() -> ExchangeKit:
    return ExchangeKit()
