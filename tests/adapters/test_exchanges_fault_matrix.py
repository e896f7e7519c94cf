"""The fault x endpoint x exchange matrix, and Retry-After.

Every fault is answered in the exchange's documented error layout (HTTP status plus the
exchange's own error code in the body) on one endpoint at a time, on four exchanges. The
expected outcome depends on the fault only, never on how an exchange's ccxt class maps it:
- a rate limit (429 with or without an exchange code) is retried and named as such;
- a 5xx with an exchange code is retried and named "exchange not available";
- 401 and 403 always give the credential hint and are not retried;
- a body that is not JSON gives the same message on every exchange;
- a timeout is retried and named with the configured timeout;
- a transient 429 ends in a complete snapshot.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta
from email.utils import format_datetime

import pytest

from rotator.adapters.exchanges import fetch_accounts
from rotator.cli.clock import SYSTEM_CLOCK
from rotator.demo import DATA
from rotator.errors import Severity

# exchange -> endpoint -> (route, label in messages)
ENDPOINTS = {
    "binance": {
        "markets": ("GET /api/v3/exchangeInfo", "load_markets"),
        "spot": ("GET /api/v3/account", "fetch_balance"),
        "funding": ("POST /sapi/v1/asset/get-funding-asset", "fetch_balance (funding)"),
        "tickers": ("GET /api/v3/ticker/24hr", "fetch_tickers"),
    },
    "kraken": {
        "markets": ("GET /0/public/AssetPairs", "load_markets"),
        "spot": ("POST /0/private/BalanceEx", "fetch_balance"),
        "tickers": ("GET /0/public/Ticker", "fetch_tickers"),
    },
    "okx": {
        "markets": ("GET /api/v5/public/instruments", "load_markets"),
        "spot": ("GET /api/v5/account/balance", "fetch_balance"),
        "funding": ("GET /api/v5/asset/balances", "fetch_balance (funding)"),
        "tickers": ("GET /api/v5/market/tickers", "fetch_tickers"),
    },
    "bybit": {
        "markets": ("GET /v5/market/instruments-info", "load_markets"),
        "spot": ("GET /v5/account/wallet-balance", "fetch_balance"),
        "funding": (
            "GET /v5/asset/transfer/query-account-coins-balance",
            "fetch_balance (funding)",
        ),
        "tickers": ("GET /v5/market/tickers", "fetch_tickers"),
    },
}
# Error bodies in each exchange's documented layout: rate limit, server error, bad key.
BODIES = {
    "binance": {
        429: {"code": -1003, "msg": "Too many requests; current limit is 6000 request weight."},
        503: {"code": -1008, "msg": "Server is currently overloaded with other requests."},
        401: {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."},
    },
    "kraken": {
        429: {"error": ["EAPI:Rate limit exceeded"]},
        503: {"error": ["EService:Unavailable"]},
        401: {"error": ["EAPI:Invalid key"]},
    },
    "okx": {
        429: {"code": "50011", "msg": "Too Many Requests", "data": []},
        503: {"code": "50001", "msg": "Service temporarily unavailable", "data": []},
        401: {"code": "50113", "msg": "Invalid Sign", "data": []},
    },
    "bybit": {
        429: {"retCode": 10006, "retMsg": "Too many visits!", "result": {}},
        503: {"retCode": 10016, "retMsg": "Internal server error.", "result": {}},
        401: {"retCode": 10003, "retMsg": "API key is invalid.", "result": {}},
    },
}
FAULTS = ("429", "429-plain", "503", "401", "403", "not-json", "timeout", "429-transient")
# The client timeout of the "timeout" fault: ten times the slowest answer measured from the
# in-process server on an idle machine (about 100 ms: ccxt parsing a market list holds the
# event loop while other requests are in flight). Every other fault runs with a timeout no
# answer on loopback reaches, so a loaded machine cannot turn a slow answer into a retry.
TIMEOUT_MS = 1000
GENEROUS_TIMEOUT_MS = 30_000
CASES = [
    (exchange, endpoint, fault)
    for exchange, endpoints in ENDPOINTS.items()
    for endpoint in endpoints
    for fault in FAULTS
]


def _routes(kit, exchange):
    routes = getattr(kit, f"{exchange}_routes")()
    if exchange == "binance":  # composed in the documented layout (rotator/demo/data)
        funding = DATA / "binance" / "sapi_v1_asset_get-funding-asset.json"
        routes["POST /sapi/v1/asset/get-funding-asset"] = funding.read_bytes()
    return routes


def _fetch(kit, server, exchange, retries=1, backoff=0.01, timeout=GENEROUS_TIMEOUT_MS):
    wallets = tuple(w for w in ("spot", "funding") if w in ENDPOINTS[exchange])
    account = kit.account(server, exchange, exchange, "/x", wallets=wallets, timeout=timeout)
    [snap] = fetch_accounts(
        [account],
        {"BTC", "ETH", "USDT"},
        environ=kit.ENVIRON,
        clock=kit.clock,
        cache_dir=None,
        retries=retries,
        retry_backoff_seconds=backoff,
    )
    return snap


def _inject(server, exchange, route, fault):
    method, path = route.split(" ", 1)
    match = f"{method} /x{path}"
    bodies = BODIES[exchange]
    if fault == "429":
        server.fault(match, status=429, body=json.dumps(bodies[429]).encode())
    elif fault == "429-plain":
        server.fault(match, status=429, body=b"Too Many Requests")
    elif fault == "429-transient":
        server.fault(
            match, status=429, headers={"Retry-After": "0"}, body=json.dumps(bodies[429]).encode(),
            times=1,
        )  # fmt: skip
    elif fault == "503":
        server.fault(match, status=503, body=json.dumps(bodies[503]).encode())
    elif fault in ("401", "403"):
        server.fault(match, status=int(fault), body=json.dumps(bodies[401]).encode())
    elif fault == "not-json":
        server.fault(match, body=b"<html><body>502 Bad Gateway</body></html>")
    elif fault == "timeout":
        server.fault(match, hang=3 * TIMEOUT_MS / 1000)  # woken when the server stops
    return match


@pytest.mark.parametrize(("exchange", "endpoint", "fault"), CASES)
def test_fault_matrix(server, kit, exchange, endpoint, fault, caplog):
    caplog.set_level(logging.INFO, logger="rotator.adapters.exchanges.fetch")
    route, label = ENDPOINTS[exchange][endpoint]
    server.mount("/x", _routes(kit, exchange))
    match = _inject(server, exchange, route, fault)

    timeout = TIMEOUT_MS if fault == "timeout" else GENEROUS_TIMEOUT_MS
    snap = _fetch(kit, server, exchange, timeout=timeout)

    sent = len(server.requests_to(match))
    errors = [p.message for p in snap.problems if p.severity is Severity.ERROR]
    # One wait per retry: the backoff, or the server's Retry-After when longer. (Each retry is
    # logged with the call it repeats: shown when another call than the faulted one retried.)
    retried = [r.getMessage() for r in caplog.records if "retry in" in r.getMessage()]
    assert kit.fake.waits == [0.01] * (sent - 1), (retried, [r.route for r in server.requests])
    if fault == "429-transient":
        assert snap.ok, snap.problems
        assert sent == 2
        return
    [message] = [m for m in errors if m.startswith(label)]
    assert not snap.ok
    if fault in ("429", "429-plain"):
        assert message.startswith(f"{label} rate-limited by the exchange (HTTP 429) (1 retry)")
        assert sent == 2
    elif fault == "503":
        assert message.startswith(f"{label} failed: exchange not available (HTTP 503) (1 retry)")
        assert sent == 2
    elif fault in ("401", "403"):
        assert message.startswith(f"{label}: authentication failed: check {exchange.upper()}_")
        assert "rate-limited" not in message
        assert sent == 1
    elif fault == "not-json":
        assert message == f"{label} failed: the exchange sent a response that is not JSON"
        assert sent == 1
    elif fault == "timeout":
        assert message == f"{label} timed out after {TIMEOUT_MS / 1000:g} s (1 retry)"
        assert sent == 2


def test_retry_after_in_seconds_is_honoured(server, kit):
    server.mount("/x", _routes(kit, "okx"))
    match = "GET /x/api/v5/account/balance"
    body = json.dumps(BODIES["okx"][429]).encode()  # OKX maps 429 to ExchangeNotAvailable
    server.fault(match, status=429, headers={"Retry-After": "1"}, body=body, times=1)
    snap = _fetch(kit, server, "okx")
    assert snap.ok, snap.problems
    assert len(server.requests_to(match)) == 2
    assert kit.fake.waits == [1.0]  # the server's second, not the 0.01 s backoff


def test_retry_after_as_http_date_is_honoured(server, kit):
    server.mount("/x", _routes(kit, "binance"))
    match = "GET /x/api/v3/account"
    # Read against the fetch's clock (kit.clock, its wall time at NOW), the one clock of the run.
    when = format_datetime(kit.NOW + timedelta(seconds=2), usegmt=True)
    body = json.dumps(BODIES["binance"][429]).encode()
    server.fault(match, status=429, headers={"Retry-After": when}, body=body, times=1)
    snap = _fetch(kit, server, "binance")
    assert snap.ok, snap.problems
    assert len(server.requests_to(match)) == 2
    assert kit.fake.waits == [2.0]


def test_retry_after_is_slept_for_real_by_default(server, kit):
    """On the command line's clock the wait is real (asyncio.sleep): the second request waits."""
    server.mount("/x", _routes(kit, "okx"))
    match = "GET /x/api/v5/account/balance"
    body = json.dumps(BODIES["okx"][429]).encode()
    server.fault(match, status=429, headers={"Retry-After": "0.3"}, body=body, times=1)
    account = kit.account(server, "okx", "okx", "/x", wallets=("spot", "funding"))
    [snap] = fetch_accounts(
        [account], {"BTC"}, environ=kit.ENVIRON, clock=SYSTEM_CLOCK, cache_dir=None, retries=1
    )
    assert snap.ok, snap.problems
    first, second = server.requests_to(match)[:2]
    assert second.at - first.at >= 0.28


def test_retry_after_beyond_the_cap_fails_at_once_saying_so(server, kit):
    server.mount("/x", _routes(kit, "bybit"))
    match = "GET /x/v5/account/wallet-balance"
    body = json.dumps(BODIES["bybit"][429]).encode()
    server.fault(match, status=429, headers={"Retry-After": "120"}, body=body)
    start = time.monotonic()
    snap = _fetch(kit, server, "bybit", retries=2)
    assert time.monotonic() - start < 10
    assert kit.fake.waits == []
    [message] = [p.message for p in snap.problems if p.severity is Severity.ERROR]
    assert message == (
        "fetch_balance rate-limited by the exchange (HTTP 429) (0 retries); "
        "it asks to wait 120 s; try again later"
    )
    assert len(server.requests_to(match)) == 1


def test_funding_wallet_401_gives_the_credential_hint(server, kit):
    server.mount("/x", _routes(kit, "binance"))
    server.fault(
        "POST /x/sapi/v1/asset/get-funding-asset",
        status=401,
        headers={"Retry-After": "5"},
        body=json.dumps(
            {"code": -1002, "msg": "You are not authorized to execute this request."}
        ).encode(),
    )
    snap = _fetch(kit, server, "binance")
    [message] = [p.message for p in snap.problems if p.severity is Severity.ERROR]
    assert kit.fake.waits == []  # a 401 is not retried, whatever Retry-After says
    assert message.startswith(
        "fetch_balance (funding): authentication failed: check BINANCE_API_KEY/BINANCE_SECRET"
    )
    assert {h.asset for h in snap.holdings} == {"BTC", "LTC"}  # the spot wallet was read
