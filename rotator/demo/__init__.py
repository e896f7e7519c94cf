"""The bundled demo: recorded and composed exchange responses replayed to the real ccxt.

`demo_server()` starts a `ReplayServer` on 127.0.0.1 serving Binance and Kraken responses
(rotator/demo/data, provenance in data/SOURCES.md) and `point_at` sends each account of
rotator/demo/portfolio.yaml there, so `rotator plan --demo` runs the same code path as a real
run (the command line's demo session, rotator.cli.session.demo_session, does both). Tickers are
stamped with the server's clock when the request arrives (`RecordedRequest.received`), so they
are fresh for a run on the same clock.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from rotator.config.portfolio import Portfolio
from rotator.demo.replay import Body, Clock, RecordedRequest, ReplayServer, api_urls_for, utc_now

DATA = Path(str(resources.files("rotator.demo") / "data"))
PORTFOLIO = Path(str(resources.files("rotator.demo") / "portfolio.yaml"))

# Dummy credentials: the replay server checks no signature. Kraken signs with a base64 secret.
DEMO_ENVIRON = {
    "BINANCE_API_KEY": "demo-binance-api-key",
    "BINANCE_SECRET": "demo-binance-secret",
    "KRAKEN_API_KEY": "demo-kraken-api-key",
    "KRAKEN_SECRET": "ZGVtby1rcmFrZW4tc2VjcmV0LW5vdC1yZWFs",
}


def _read(path: Path) -> bytes:
    return path.read_bytes()


def _ms(request: RecordedRequest) -> int:
    """When the request arrived, by the server's clock, in epoch milliseconds."""
    return int(request.received.timestamp() * 1000)


def binance_tickers(tickers: list[dict[str, Any]]) -> Body:
    """GET /api/v3/ticker/24hr: filtered by `symbols`/`symbol` like Binance, stamped with the
    time the request arrived (the server's clock)."""

    def body(request: RecordedRequest) -> bytes:
        now = _ms(request)
        stamped = [{**t, "openTime": now - 86_400_000, "closeTime": now} for t in tickers]
        if "symbol" in request.query:
            wanted = request.query["symbol"][0]
            match = [t for t in stamped if t["symbol"] == wanted]
            if not match:
                return json.dumps({"code": -1121, "msg": "Invalid symbol."}).encode()
            return json.dumps(match[0]).encode()
        if "symbols" in request.query:
            wanted_set = set(json.loads(request.query["symbols"][0]))
            stamped = [t for t in stamped if t["symbol"] in wanted_set]
        return json.dumps(stamped).encode()

    return body


def kraken_tickers(response: Mapping[str, Any], pairs: Mapping[str, Any]) -> Body:
    """GET /0/public/Ticker: only the pairs asked for (`pair=A,B` by key or altname)."""

    def body(request: RecordedRequest) -> bytes:
        result = response["result"]
        if "pair" in request.query:
            asked = set(request.query["pair"][0].split(","))
            result = {
                key: value
                for key, value in result.items()
                if key in asked or pairs.get(key, {}).get("altname") in asked
            }
        return json.dumps({"error": [], "result": result}).encode()

    return body


def binance_routes(folder: Path = DATA / "binance") -> dict[str, Body]:
    """Binance spot, funding and simple-earn routes served from `folder`."""
    tickers = json.loads((folder / "api_v3_ticker_24hr.json").read_text())
    return {
        "GET /api/v3/exchangeInfo": _read(folder / "api_v3_exchangeInfo.json"),
        "GET /api/v3/account": _read(folder / "api_v3_account.json"),
        "GET /api/v3/ticker/24hr": binance_tickers(tickers),
        "POST /sapi/v1/asset/get-funding-asset": _read(
            folder / "sapi_v1_asset_get-funding-asset.json"
        ),
        "GET /sapi/v1/simple-earn/flexible/position": _read(
            folder / "sapi_v1_simple-earn_flexible_position.json"
        ),
        "GET /sapi/v1/simple-earn/locked/position": _read(
            folder / "sapi_v1_simple-earn_locked_position.json"
        ),
    }


def kraken_routes(folder: Path = DATA / "kraken") -> dict[str, Body]:
    """Kraken spot routes (assets, pairs, tickers, BalanceEx) served from `folder`."""
    pairs = json.loads((folder / "0_public_AssetPairs.json").read_text())["result"]
    tickers = json.loads((folder / "0_public_Ticker.json").read_text())
    return {
        "GET /0/public/Assets": _read(folder / "0_public_Assets.json"),
        "GET /0/public/AssetPairs": _read(folder / "0_public_AssetPairs.json"),
        "GET /0/public/Ticker": kraken_tickers(tickers, pairs),
        "POST /0/private/BalanceEx": _read(folder / "0_private_BalanceEx.json"),
    }


def point_at_chains(portfolio: Portfolio, urls: Mapping[str, str]) -> Portfolio:
    """`portfolio` with its chain wallets and price oracle sent to the local server."""
    wallets = tuple(
        w.model_copy(update={"rpc_url": urls[w.chain], "requests_per_second": 500.0})
        if hasattr(w, "chain")
        else w
        for w in portfolio.wallets
    )
    oracles = portfolio.oracles.model_copy(update={"coingecko_url": urls["oracle"]})
    return portfolio.model_copy(update={"wallets": wallets, "oracles": oracles})


def point_at(portfolio: Portfolio, server: ReplayServer) -> Portfolio:
    """`portfolio` with every exchange account's ccxt `urls` sent to `server`/<exchange>."""
    accounts = []
    for account in portfolio.accounts:
        urls = api_urls_for(account.exchange, f"{server.url}/{account.exchange}")
        # The server is local plain HTTP: lift ccxt's pacing (kraken waits 1 s between
        # requests) and its 250 ms SSL grace sleep on close.
        local = {"rateLimit": 20, "timeout_on_exit": 0}
        ccxt_settings = {**local, **account.ccxt, "urls": urls}
        accounts.append(account.model_copy(update={"ccxt": ccxt_settings}))
    return portfolio.model_copy(update={"accounts": tuple(accounts)})


@contextmanager
def demo_server(clock: Clock = utc_now) -> Iterator[ReplayServer]:
    """A running ReplayServer with the demo's Binance (/binance) and Kraken (/kraken) routes."""
    with ReplayServer(clock=clock) as server:
        server.mount("/binance", binance_routes())
        server.mount("/kraken", kraken_routes())
        yield server
