"""Read-only where the request leaves: the loopback server's log shows nothing forbidden arrives.

Each case of a configuration that slipped past `check` (account settings built directly,
without the config's validation) or of a write endpoint called on the raw ccxt instance is
driven against a replay server that would answer the forbidden route; its request log must not
contain it.
"""

from __future__ import annotations

import asyncio
import dataclasses

import ccxt.async_support as ccxt_async
import pytest

from rotator.adapters.exchanges import fetch_accounts, open_readonly_exchange
from rotator.adapters.exchanges.transport import (
    READ_ONLY_POSTS,
    _entries,
    allowed_endpoints,
    check_request,
)
from rotator.demo import DATA
from rotator.errors import ReadOnlyViolation


def _binance_routes(kit):
    routes = kit.binance_routes()
    funding = DATA / "binance" / "sapi_v1_asset_get-funding-asset.json"
    routes["POST /sapi/v1/asset/get-funding-asset"] = funding.read_bytes()
    routes["POST /sapi/v1/capital/withdraw/apply"] = b'{"id": "withdrawn"}'
    return routes


def _kraken_routes(kit):
    return {**kit.kraken_routes(), "POST /0/private/CancelAll": b'{"error": [], "result": {}}'}


def _with_ccxt(account, **changes):
    return dataclasses.replace(account, ccxt={**account.ccxt, **changes})


def _run(kit, account):
    return fetch_accounts(
        [account], {"BTC", "USDT"}, environ=kit.ENVIRON, clock=kit.clock, cache_dir=None, retries=0
    )


def _forbidden(server, *fragments):
    return [r.route for r in server.requests if any(f in r.path for f in fragments)]


def test_binance_sapi_url_with_fragment_cannot_reach_withdraw(server, kit):
    server.mount("/x", _binance_routes(kit))
    account = kit.account(server, "b", "binance", "/x", wallets=("spot", "funding"))
    urls = account.ccxt["urls"]
    hostile = f"{server.url}/x/sapi/v1/capital/withdraw/apply#"
    account = _with_ccxt(account, urls={"api": {**urls["api"], "sapi": hostile}})

    with pytest.raises(ReadOnlyViolation, match="POST /x/sapi/v1/capital/withdraw/apply"):
        _run(kit, account)

    assert _forbidden(server, "withdraw") == []
    assert server.requests_to("GET /x/api/v3/exchangeInfo")  # reads before it did go out


def test_kraken_private_url_with_query_cannot_reach_cancel_all(server, kit):
    server.mount("/x", _kraken_routes(kit))
    account = kit.account(server, "k", "kraken", "/x")
    urls = account.ccxt["urls"]
    hostile = f"{server.url}/x/0/private/CancelAll?x="
    account = _with_ccxt(account, urls={"api": {**urls["api"], "private": hostile}})

    with pytest.raises(ReadOnlyViolation, match="POST /x/0/private/CancelAll"):
        _run(kit, account)

    assert _forbidden(server, "CancelAll") == []


@pytest.mark.parametrize("header", ["X-HTTP-Method-Override", "x-http-method", "X-Method-Override"])
def test_method_override_header_is_never_sent(server, kit, header):
    server.mount("/x", _binance_routes(kit))
    account = _with_ccxt(kit.account(server, "b", "binance", "/x"), headers={header: "DELETE"})

    with pytest.raises(ReadOnlyViolation, match="method-override header"):
        _run(kit, account)

    assert server.requests == []


# exchange -> (routes, implicit write endpoint on the raw ccxt instance, params)
RAW_WRITES = {
    "binance": ("sapiPostCapitalWithdrawApply", {"coin": "BTC", "amount": "1", "address": "x"}),
    "kraken": ("privatePostCancelAll", {}),
    "okx": ("privatePostTradeCancelOrder", {"instId": "BTC-USDT", "ordId": "1"}),
    "bybit": ("privatePostV5OrderCancelAll", {"category": "spot"}),
}


@pytest.mark.parametrize("exchange", sorted(RAW_WRITES))
def test_implicit_write_endpoints_on_the_raw_instance_are_refused(server, kit, exchange):
    name, params = RAW_WRITES[exchange]
    server.mount("/x", getattr(kit, f"{exchange}_routes")())
    account = kit.account(server, exchange, exchange, "/x")

    async def scenario():
        guarded = await open_readonly_exchange(account, kit.ENVIRON)
        raw = object.__getattribute__(guarded, "_exchange")
        try:
            with pytest.raises(ReadOnlyViolation, match="not one of the read requests"):
                await getattr(raw, name)(params)
            # and a read the plan makes still goes out
            await guarded.load_markets()
        finally:
            await guarded.close()

    asyncio.run(scenario())
    assert [r.method for r in server.requests] == ["GET"]


@pytest.mark.parametrize("exchange", ["binance", "kraken", "okx", "bybit"])
def test_allowed_requests_are_reads(exchange):
    entries = _entries(getattr(ccxt_async, exchange))
    allowed = allowed_endpoints(exchange)
    posts = {e.name for e in allowed if e.method != "GET"}
    assert posts == set(READ_ONLY_POSTS.get(exchange, ()))
    assert all(entries[name].method == "POST" for name in posts)
    # no endpoint that cancels, creates or withdraws is reachable
    words = ("cancel", "create", "withdrawapply", "submit")
    assert not [e.name for e in allowed if any(w in e.name.lower() for w in words)]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x/0/private/CancelAll",
        "http://127.0.0.1:9/x/0/private/Cancel%41ll",
        "http://127.0.0.1:9/x/0/private/CancelAll#/0/private/Balance",
        "http://127.0.0.1:9/x/0/private/CancelAll?/0/private/Balance",
    ],
)
def test_check_request_refuses_write_paths_in_any_spelling(url):
    with pytest.raises(ReadOnlyViolation):
        check_request("kraken", url, "POST", {})
    check_request("kraken", "http://127.0.0.1:9/x/0/private/Balance", "POST", {})
    check_request("kraken", "http://127.0.0.1:9/x/y/../0/private/BalanceEx", "POST", {})
    with pytest.raises(ReadOnlyViolation):
        check_request("kraken", "http://127.0.0.1:9/x/0/private/Balance", "DELETE", {})
