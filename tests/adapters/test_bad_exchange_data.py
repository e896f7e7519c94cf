"""Nonsense from an exchange, through real ccxt parsing: NaN tickers, negative balances, zero steps.

The adapter passes what it read on (or fails the account with a clear message); the planner's
checks (rotator.core.market_checks) refuse it.
"""

from __future__ import annotations

import json

from rotator.adapters.exchanges import fetch_accounts
from rotator.adapters.exchanges.normalize import balance_holdings, precision_step
from rotator.core.models import WalletKind

TICKER = "api_v3_ticker_24hr.BTCUSDT.json"


def _fetch(kit, server, routes):
    server.mount("/b", routes)
    [acct] = fetch_accounts(
        [kit.account(server, "b", "binance", "/b")],
        {"USDT"},
        environ=kit.ENVIRON,
        clock=kit.clock,
        cache_dir=None,
        retries=0,
    )
    return acct


def _recorded(kit, name):
    return json.loads((kit.binance_routes.__globals__["FIXTURES"] / "binance" / name).read_text())


def test_nan_ticker_gives_a_clear_message(server, kit):
    ticker = _recorded(kit, TICKER)
    for key in ("lastPrice", "bidPrice", "askPrice", "closeTime"):
        ticker[key] = "NaN"
    routes = kit.binance_routes()
    routes["GET /api/v3/ticker/24hr"] = json.dumps([ticker]).encode()
    acct = _fetch(kit, server, routes)
    [problem] = acct.problems
    assert "NaN or Infinity where a number belongs" in problem.message
    assert "invalid literal" not in problem.message


def test_negative_balance_is_passed_on_not_dropped(server, kit):
    account = _recorded(kit, "api_v3_account.json")
    account["balances"].append({"asset": "ETH", "free": "-2.5", "locked": "0"})
    routes = kit.binance_routes()
    routes["GET /api/v3/account"] = json.dumps(account).encode()
    acct = _fetch(kit, server, routes)
    [eth] = [h for h in acct.holdings if h.asset == "ETH"]
    assert eth.total < 0 and eth.free == 0


def test_zero_and_negative_tick_sizes_are_kept_for_the_planner_to_refuse():
    from ccxt.base.decimal_to_precision import TICK_SIZE

    assert precision_step(0, TICK_SIZE) == 0
    assert precision_step("-0.01", TICK_SIZE) < 0
    held = balance_holdings("a", {"total": {"BTC": -1.0}, "free": {"BTC": -1.0}}, WalletKind.SPOT)
    assert [(h.total, h.free) for h in held] == [(-1, 0)]
