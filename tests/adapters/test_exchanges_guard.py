"""The read-only guard refuses every non-read call, on the wrapper and on the instance."""

from __future__ import annotations

import asyncio

import pytest

from rotator.adapters.exchanges import ReadOnlyExchange, is_allowed, open_readonly_exchange
from rotator.errors import ReadOnlyViolation

REFUSED_CALLS = [
    ("create_order", ("BTC/USDT", "market", "buy", 1)),
    ("createOrder", ("BTC/USDT", "market", "buy", 1)),
    ("create_market_buy_order", ("BTC/USDT", 1)),
    ("cancel_order", ("123", "BTC/USDT")),
    ("cancel_all_orders", ("BTC/USDT",)),
    ("edit_order", ("123", "BTC/USDT", "limit", "buy", 1, 1)),
    ("withdraw", ("BTC", 1, "bc1qaddress")),
    ("transfer", ("USDT", 1, "spot", "funding")),
    ("sapi_post_asset_transfer", ({},)),  # implicit POST endpoint
    ("sapiPostAssetTransfer", ({},)),
    ("private_delete_order", ({},)),  # implicit DELETE endpoint
    ("set_leverage", (3, "BTC/USDT")),
]


async def _open(kit, server):
    server.mount("/b", kit.binance_routes())
    account = kit.account(server, "b", "binance", "/b")
    return await open_readonly_exchange(account, kit.ENVIRON)


@pytest.mark.parametrize(("name", "args"), REFUSED_CALLS)
def test_wrapper_refuses_non_read_calls(server, kit, name, args):
    async def scenario():
        ex = await _open(kit, server)
        try:
            with pytest.raises(ReadOnlyViolation, match=name):
                getattr(ex, name)(*args)
        finally:
            await ex.close()

    asyncio.run(scenario())
    assert server.requests == []  # nothing reached the exchange


@pytest.mark.parametrize(
    "name", ["create_order", "createOrder", "cancel_order", "edit_order", "withdraw", "transfer"]
)
def test_underlying_instance_refuses_too(server, kit, name):
    async def scenario():
        ex = await _open(kit, server)
        inner = object.__getattribute__(ex, "_exchange")  # bypassing the wrapper on purpose
        try:
            with pytest.raises(ReadOnlyViolation, match="read-only"):
                await getattr(inner, name)("BTC/USDT", "market", "buy", 1)
        finally:
            await ex.close()

    asyncio.run(scenario())
    assert server.requests == []


def test_credentials_and_attribute_writes_are_refused(server, kit):
    async def scenario():
        ex = await _open(kit, server)
        try:
            for name in ("apiKey", "secret", "password"):
                with pytest.raises(ReadOnlyViolation):
                    getattr(ex, name)
            with pytest.raises(ReadOnlyViolation):
                ex.create_order = print
        finally:
            await ex.close()

    asyncio.run(scenario())


def test_allowed_reads_work_through_the_guard(server, kit):
    async def scenario():
        ex = await _open(kit, server)
        try:
            markets = await ex.load_markets()
            ticker = await ex.fetch_ticker("BTC/USDT")
            balance = await ex.fetch_balance()
            return set(markets), ticker["bid"], balance["total"]["BTC"], ex.id, ex.has["fetchOHLCV"]
        finally:
            await ex.close()

    symbols, bid, btc, exchange_id, has_ohlcv = asyncio.run(scenario())
    assert symbols == {"BTC/USDT", "ETH/USDT"}
    assert bid == 60755.18
    assert btc == 4723846.89208129
    assert (exchange_id, has_ohlcv) == ("binance", True)


def test_allow_list_classification():
    for name in (
        "fetch_balance",
        "fetchTickers",
        "fetch_ohlcv",
        "load_markets",
        "sapi_get_simple_earn_flexible_position",
        "sapiGetSimpleEarnLockedPosition",
        "public_get_ticker",
        "markets",
        "precisionMode",
    ):
        assert is_allowed(name), name
    for name in (
        "create_order",
        "sapi_post_asset_get_funding_asset",  # POST, although "get" appears later in its path
        "private_post_balanceex",
        "sapiDeleteUserDataStream",
        "apiKey",
        "secret",
        "fetch_my_trades",  # a read, but not one rotator needs: not on the list
    ):
        assert not is_allowed(name), name


def test_repr_does_not_leak(server, kit):
    async def scenario():
        ex = await _open(kit, server)
        await ex.close()
        return repr(ex)

    assert asyncio.run(scenario()) == "ReadOnlyExchange(binance)"


def test_protocol_probes_are_plain_attribute_errors(server, kit):
    async def scenario():
        ex = await _open(kit, server)
        await ex.close()
        return ex

    ex = asyncio.run(scenario())
    assert isinstance(ex, ReadOnlyExchange)
    assert not hasattr(ex, "__deepcopy__")
    assert not hasattr(ex, "__aenter__")
