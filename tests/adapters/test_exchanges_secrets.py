"""Credentials never leak: not in problems, logs or exception text, even when echoed back."""

from __future__ import annotations

import json
import logging

from rotator.adapters.exchanges import fetch_accounts
from rotator.errors import Severity

KEY = "SENTINELKEY7f3a9c"
SECRET = "SENTINELSECRET5b2e1d"
KRAKEN_SECRET = "U0VOVElORUxLUkFLRU5TRUNSRVQ5OTk="  # base64, valid for Kraken signing


def _echo(status_code: int, error: object):
    """An auth error whose body echoes the request's headers, URL and body back."""

    def body(request) -> bytes:
        echoed = {
            "path": request.path + "?" + request.raw_query,
            "headers": dict(request.headers),
            "body": request.body.decode(),
        }
        if isinstance(error, dict):
            return json.dumps({**error, "msg": f"{error['msg']} request={echoed}"}).encode()
        return json.dumps({"error": [error, f"request={echoed}"]}).encode()

    return body


def test_sentinel_credentials_never_appear(server, kit, caplog):
    caplog.set_level(logging.DEBUG)
    server.mount("/b", kit.binance_routes())
    server.mount("/k", kit.kraken_routes())
    server.fault(
        "GET /b/api/v3/account",
        status=401,
        body=_echo(401, {"code": -2015, "msg": "Invalid API-key, IP, or permissions."}),
    )
    server.fault("POST /k/0/private/BalanceEx", body=_echo(200, "EAPI:Invalid key"))
    environ = {
        "BINANCE_API_KEY": KEY,
        "BINANCE_SECRET": SECRET,
        "KRAKEN_API_KEY": KEY,
        "KRAKEN_SECRET": KRAKEN_SECRET,
    }
    accounts = [
        kit.account(server, "binance-main", "binance", "/b"),
        kit.account(server, "kraken", "kraken", "/k"),
    ]

    snaps = fetch_accounts(accounts, {"USDT"}, environ=environ, clock=kit.clock, cache_dir=None)

    # The sentinel really was sent (so the test can fail) and echoed back by the server.
    sent = server.requests_to("GET /b/api/v3/account")[0]
    assert sent.headers["X-MBX-APIKEY"] == KEY
    assert server.requests_to("POST /k/0/private/BalanceEx")[0].headers["API-Key"] == KEY

    messages = [str(p) for s in snaps for p in s.problems]
    assert any("authentication failed" in m for m in messages if "binance-main" in m)
    assert any("authentication failed" in m for m in messages if "kraken" in m)
    assert all(p.severity is Severity.ERROR for s in snaps for p in s.problems)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Request:" in logged  # ccxt's debug log of the request headers went through
    everything = "\n".join([*messages, logged, repr(snaps)])
    for secret in (KEY, SECRET, KRAKEN_SECRET):
        assert secret not in everything
    assert "signature=" in logged and "API-Sign" in logged  # ...but their values are masked
    assert "***" in everything


def test_missing_variable_message_names_the_variable_only(server, kit):
    server.mount("/b", kit.binance_routes())
    account = kit.account(server, "b", "binance", "/b", secret_env="UNSET_BINANCE_SECRET")
    [snap] = fetch_accounts(
        [account], set(), environ={"BINANCE_API_KEY": KEY}, clock=kit.clock, cache_dir=None
    )
    [problem] = snap.problems
    assert "UNSET_BINANCE_SECRET" in problem.message
    assert KEY not in problem.message


def test_echoed_credentials_reach_the_message_masked(server, kit):
    server.mount("/b", kit.binance_routes())
    server.fault(
        "GET /b/api/v3/account",
        status=401,
        body=_echo(401, {"code": -2015, "msg": "Invalid API-key."}),
    )
    environ = {"BINANCE_API_KEY": KEY, "BINANCE_SECRET": SECRET}
    account = kit.account(server, "b", "binance", "/b")
    [snap] = fetch_accounts([account], set(), environ=environ, clock=kit.clock, cache_dir=None)
    [problem] = snap.problems
    assert "X-MBX-APIKEY" in problem.message  # the echo made it into the message...
    assert "'X-MBX-APIKEY': '***'" in problem.message  # ...masked
    assert KEY not in problem.message and SECRET not in problem.message


def test_ccxt_verbose_is_ignored_so_nothing_prints_keys(server, kit, capsys):
    server.mount("/b", kit.binance_routes())
    account = kit.account(server, "b", "binance", "/b", verbose=True)
    environ = {"BINANCE_API_KEY": KEY, "BINANCE_SECRET": SECRET}
    [snap] = fetch_accounts([account], {"USDT"}, environ=environ, clock=kit.clock, cache_dir=None)
    assert snap.ok
    captured = capsys.readouterr()
    assert KEY not in captured.out + captured.err
    assert "X-MBX-APIKEY" not in captured.out


def test_kraken_secret_that_is_not_base64_is_a_clear_error(server, kit):
    server.mount("/k", kit.kraken_routes())
    environ = {"KRAKEN_API_KEY": KEY, "KRAKEN_SECRET": "not*base64"}
    account = kit.account(server, "kraken", "kraken", "/k")
    [snap] = fetch_accounts([account], set(), environ=environ, clock=kit.clock, cache_dir=None)
    [problem] = snap.problems
    assert problem.message.startswith(
        "fetch_balance: the credentials cannot be used to sign requests: check "
        "KRAKEN_API_KEY/KRAKEN_SECRET"
    )
    assert "not*base64" not in problem.message
