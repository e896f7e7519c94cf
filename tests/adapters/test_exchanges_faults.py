"""Faults injected by the replay server: timeouts, 429, 5xx, auth errors, malformed JSON.

Each failing account carries an ERROR problem saying what failed; healthy accounts are
complete; retries are bounded (counted at the server).
"""

from __future__ import annotations

import json

from rotator.adapters.exchanges import fetch_accounts
from rotator.core.models import WalletKind
from rotator.errors import Severity

BINANCE_401 = {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}
BINANCE_429 = {"code": -1003, "msg": "Too many requests; current limit is 6000 request weight."}


def _fetch(kit, accounts, retries=2):
    return fetch_accounts(
        accounts,
        {"USDT"},
        environ=kit.ENVIRON,
        clock=kit.clock,
        cache_dir=None,
        retries=retries,
        retry_backoff_seconds=0.01,
    )


def _errors(snapshot):
    return [p for p in snapshot.problems if p.severity is Severity.ERROR]


def test_timeout_429_and_auth_failures_leave_the_healthy_account_complete(server, kit):
    for prefix in ("/slow", "/busy", "/badkey", "/good"):
        server.mount(prefix, kit.binance_routes())
    server.fault("GET /slow/api/v3/account", hang=5)  # woken when the server stops
    server.fault(
        "GET /busy/api/v3/account",
        status=429,
        headers={"Retry-After": "0"},
        body=json.dumps(BINANCE_429).encode(),
    )
    server.fault("GET /badkey/api/v3/account", status=401, body=json.dumps(BINANCE_401).encode())
    accounts = [
        # 1 s: well above any answer from loopback while four accounts parse their markets
        # on one event loop, so only the hanging call times out on a loaded machine.
        kit.account(server, "slow", "binance", "/slow", timeout=1000),
        kit.account(server, "busy", "binance", "/busy"),
        kit.account(server, "badkey", "binance", "/badkey"),
        kit.account(server, "good", "binance", "/good"),
    ]

    slow, busy, badkey, good = _fetch(kit, accounts)

    [p] = _errors(slow)
    assert str(p) == "account slow: fetch_balance timed out after 1 s (2 retries)"
    [p] = _errors(busy)
    assert str(p) == (
        "account busy: fetch_balance rate-limited by the exchange (HTTP 429) (2 retries); "
        "try again later"
    )
    [p] = _errors(badkey)
    assert str(p).startswith(
        "account badkey: fetch_balance: authentication failed: check BINANCE_API_KEY/BINANCE_SECRET"
    )
    assert "Invalid API-key" in p.message
    for failed in (slow, busy, badkey):
        assert not failed.ok and failed.holdings == ()

    assert good.ok and good.problems == ()
    assert {h.asset for h in good.holdings} == {"BTC", "LTC"}
    assert [q.symbol for q in good.quotes] == ["BTC/USDT"]

    # Bounded retries: 1 try + 2 retries on timeouts and 429s; none on an auth error.
    assert len(server.requests_to("GET /slow/api/v3/account")) == 3
    assert len(server.requests_to("GET /busy/api/v3/account")) == 3
    assert len(server.requests_to("GET /badkey/api/v3/account")) == 1
    assert len(server.requests_to("GET /good/api/v3/account")) == 1


def test_transient_5xx_is_retried_and_then_succeeds(server, kit):
    server.mount("/b", kit.binance_routes())
    server.fault("GET /b/api/v3/account", status=503, body=b"Service Unavailable", times=1)
    [snap] = _fetch(kit, [kit.account(server, "b", "binance", "/b")])
    assert snap.ok, snap.problems
    assert len(server.requests_to("GET /b/api/v3/account")) == 2
    assert {h.asset for h in snap.holdings} == {"BTC", "LTC"}


def test_persistent_5xx_names_the_status(server, kit):
    server.mount("/b", kit.binance_routes())
    server.fault("GET /b/api/v3/account", status=503, body=b"Service Unavailable")
    [snap] = _fetch(kit, [kit.account(server, "b", "binance", "/b")], retries=1)
    [p] = _errors(snap)
    assert "fetch_balance failed: exchange not available (HTTP 503) (1 retry)" in p.message
    assert len(server.requests_to("GET /b/api/v3/account")) == 2


def test_markets_timeout_reports_load_markets(server, kit):
    server.mount("/b", kit.binance_routes())
    server.fault("GET /b/api/v3/exchangeInfo", hang=3)
    account = kit.account(server, "b", "binance", "/b", timeout=200)
    [snap] = _fetch(kit, [account], retries=0)
    assert [str(p) for p in _errors(snap)] == [
        "account b: load_markets timed out after 0.2 s (0 retries)"
    ]
    assert server.requests_to("GET /b/api/v3/account") == []  # nothing built on missing markets


def test_malformed_json_is_an_error_problem_not_a_crash(server, kit):
    server.mount("/b", kit.binance_routes())
    server.fault("GET /b/api/v3/account", malformed=True)
    [snap] = _fetch(kit, [kit.account(server, "b", "binance", "/b")])
    [p] = _errors(snap)
    assert p.message.startswith("fetch_balance failed")
    assert snap.holdings == ()


def test_kraken_auth_error_in_body(server, kit):
    server.mount("/k", kit.kraken_routes())
    server.fault(
        "POST /k/0/private/BalanceEx",
        body=json.dumps({"error": ["EAPI:Invalid key"], "result": {}}).encode(),
    )
    [snap] = _fetch(kit, [kit.account(server, "kraken", "kraken", "/k")])
    [p] = _errors(snap)
    assert p.message.startswith(
        "fetch_balance: authentication failed: check KRAKEN_API_KEY/KRAKEN_SECRET"
    )
    assert len(server.requests_to("POST /k/0/private/BalanceEx")) == 1


def test_missing_credential_variable_is_named_not_fetched(server, kit):
    server.mount("/b", kit.binance_routes())
    account = kit.account(server, "b", "binance", "/b", key_env="MY_UNSET_KEY")
    [snap] = _fetch(kit, [account])
    [p] = _errors(snap)
    assert "MY_UNSET_KEY" in p.message and "not set" in p.message
    assert server.requests == []


def test_unsupported_wallet_is_a_warning(server, kit):
    server.mount("/k", kit.kraken_routes())
    account = kit.account(server, "kraken", "kraken", "/k", wallets=("spot", "funding"))
    [snap] = _fetch(kit, [account])
    assert snap.ok  # warnings only
    [warning] = [p.message for p in snap.problems if p.severity is Severity.WARNING]
    assert warning.startswith("the funding wallet cannot be read on kraken")
    assert {h.wallet for h in snap.holdings} == {WalletKind.SPOT}


def test_ticker_failure_keeps_holdings_and_reports_error(server, kit):
    server.mount("/b", kit.binance_routes())
    server.fault("GET /b/api/v3/ticker/24hr", status=500, body=b"{}")
    [snap] = _fetch(kit, [kit.account(server, "b", "binance", "/b")], retries=0)
    [p] = _errors(snap)
    assert p.message.startswith("fetch_tickers failed")
    assert {h.asset for h in snap.holdings} == {"BTC", "LTC"}
    assert snap.quotes == ()


def test_ip_ban_418_is_not_retried(server, kit):
    server.mount("/b", kit.binance_routes())
    server.fault(
        "GET /b/api/v3/account",
        status=418,
        headers={"Retry-After": "120"},
        body=json.dumps({"code": -1003, "msg": "Way too many requests; IP banned."}).encode(),
    )
    [snap] = _fetch(kit, [kit.account(server, "b", "binance", "/b")])
    [p] = _errors(snap)
    assert p.message == "fetch_balance: this IP is temporarily banned by the exchange (HTTP 418)"
    assert len(server.requests_to("GET /b/api/v3/account")) == 1


def test_ticker_missing_from_the_answer_is_a_warning(server, kit):
    routes = kit.binance_routes()
    routes["GET /api/v3/ticker/24hr"] = b"[]"
    server.mount("/b", routes)
    [snap] = _fetch(kit, [kit.account(server, "b", "binance", "/b")])
    assert snap.ok and snap.quotes == ()
    assert [p.message for p in snap.problems] == ["no ticker returned for BTC/USDT"]
