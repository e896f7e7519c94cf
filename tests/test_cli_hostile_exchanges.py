"""Hostile exchange answers through the real CLI: redirects, empty bodies, floods, drips, nesting.

Real ccxt reads recorded Kraken and Binance responses from a `HostileServer` on 127.0.0.1; a
second server stands for "another host". Every case must end in a failed account (exit 3, a
plan marked incomplete, no orders) with a clear message, never an empty account in a complete
plan, never a traceback, and never a signed request sent anywhere it was not addressed.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from fake_clock import FakeClock
from hostile_server import HostileServer

from rotator.adapters.exchanges import bounded
from rotator.cli.app import cli
from rotator.demo.replay import api_urls_for

FIXTURES = Path(__file__).parent / "fixtures" / "exchanges"
NOW = "2021-10-22T23:20:00+00:00"
ENV = {
    "BINANCE_API_KEY": "hostile-test-binance-key",
    "BINANCE_SECRET": "hostile-test-binance-secret",
    "KRAKEN_API_KEY": "hostile-test-kraken-key",
    "KRAKEN_SECRET": "a3Jha2VuLXRlc3Qtc2VjcmV0LW5vdC1yZWFsLTAwMDA=",
}
BALANCE = "POST /k/0/private/BalanceEx"
ACCOUNT = "GET /b/api/v3/account"


def serve(server: HostileServer, prefix_k: str = "/k", prefix_b: str = "/b") -> None:
    kraken, binance = FIXTURES / "kraken", FIXTURES / "binance"
    ticker = json.loads((binance / "api_v3_ticker_24hr.BTCUSDT.json").read_text())
    server.mount(
        prefix_k,
        {
            "GET /0/public/Assets": (kraken / "0_public_Assets.json").read_bytes(),
            "GET /0/public/AssetPairs": (kraken / "0_public_AssetPairs.json").read_bytes(),
            "GET /0/public/Ticker": (kraken / "0_public_Ticker.json").read_bytes(),
            "POST /0/private/BalanceEx": (kraken / "0_private_BalanceEx.json").read_bytes(),
        },
    )
    server.mount(
        prefix_b,
        {
            "GET /api/v3/exchangeInfo": (binance / "api_v3_exchangeInfo.json").read_bytes(),
            "GET /api/v3/account": (binance / "api_v3_account.json").read_bytes(),
            "GET /api/v3/ticker/24hr": json.dumps([ticker]).encode(),
        },
    )


def portfolio(tmp_path: Path, server: HostileServer, timeout_ms: int = 1500) -> Path:
    def account(name: str, exchange: str, prefix: str) -> dict[str, Any]:
        upper = exchange.upper()
        return {
            "name": name,
            "exchange": exchange,
            "api_key_env": f"{upper}_API_KEY",
            "secret_env": f"{upper}_SECRET",
            "ccxt": {
                "urls": api_urls_for(exchange, server.url + prefix),
                "timeout": timeout_ms,
                "rateLimit": 1,
            },
        }

    data = {
        "base_currency": "USDT",
        "accounts": [account("binance-main", "binance", "/b"), account("kraken", "kraken", "/k")],
        "targets": {"BTC": 0.5, "CASH": 0.5},
        "rebalance": {
            "min_order_value": 10,
            "max_price_disagreement": 0.9,
            "ignore_assets": ["LTC"],
        },
    }
    path = tmp_path / "portfolio.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def plan(config: Path) -> tuple[Any, dict[str, Any]]:
    result = CliRunner().invoke(
        cli,
        ["plan", "--config", str(config), "--now", NOW, "--format", "json", "--no-save"],
        env=ENV,
    )
    assert "Traceback" not in result.output
    assert not any(value in result.output for value in ENV.values())
    return result, json.loads(result.stdout)


def failed(result: Any, data: dict[str, Any], account: str, message: str) -> None:
    assert result.exit_code == 3, result.output
    assert data["complete"] is False and data["orders"] == []
    texts = [p["message"] for p in data["problems"] if account in p["subject"]]
    assert any(message in t for t in texts), data["problems"]


@pytest.fixture
def elsewhere():
    """Another host: it must never receive anything."""
    with HostileServer() as other:
        other.echo("/")
        yield other


def test_signed_request_redirected_to_another_host_is_never_followed(tmp_path, hostile, elsewhere):
    serve(hostile)
    hostile.redirect(BALANCE, f"{elsewhere.url}/0/private/AddOrder")
    result, data = plan(portfolio(tmp_path, hostile))
    failed(result, data, "kraken", "a signed request is never sent on to another URL")
    assert elsewhere.requests == []


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_signed_request_redirected_on_the_same_host_is_never_followed(tmp_path, hostile, status):
    serve(hostile)
    hostile.redirect(ACCOUNT, f"{hostile.url}/b/api/v3/account?again=1", status)
    result, data = plan(portfolio(tmp_path, hostile))
    failed(result, data, "binance-main", f"HTTP {status} redirect refused")
    assert len(hostile.requests_to(ACCOUNT)) == 1


def test_public_redirect_on_the_same_host_to_an_allowed_path_is_followed(tmp_path, hostile):
    serve(hostile)
    serve(hostile, "/k2", "/b2")
    hostile.redirect("GET /k/0/public/AssetPairs", f"{hostile.url}/k2/0/public/AssetPairs")
    result, data = plan(portfolio(tmp_path, hostile))
    assert result.exit_code == 0, result.output
    assert data["complete"] is True
    assert hostile.requests_to("GET /k2/0/public/AssetPairs")


@pytest.mark.parametrize(
    ("where", "refusal"),
    [
        ("elsewhere", "to another host refused"),
        ("/k/0/private/AddOrder", "to a path rotator does not read refused"),
    ],
)
def test_public_redirect_elsewhere_is_refused(tmp_path, hostile, elsewhere, where, refusal):
    serve(hostile)
    target = f"{elsewhere.url}/k/0/public/AssetPairs" if where == "elsewhere" else where
    hostile.redirect("GET /k/0/public/AssetPairs", target)
    result, data = plan(portfolio(tmp_path, hostile))
    failed(result, data, "kraken", refusal)
    assert elsewhere.requests == [] and not hostile.requests_to("POST /k/0/private/AddOrder")


@pytest.mark.parametrize("body", [b"{}", b"[]", b"null", b""])
@pytest.mark.parametrize(("route", "account"), [(BALANCE, "kraken"), (ACCOUNT, "binance-main")])
def test_empty_balance_answers_fail_the_account(tmp_path, hostile, route, account, body):
    serve(hostile)
    hostile.fault(route, status=200, body=body)
    result, data = plan(portfolio(tmp_path, hostile))
    failed(result, data, account, "the exchange answered an empty")
    held = {(r["account"], r["asset"]) for r in data.get("holdings", [])}
    assert not any(a == account for a, _ in held)


def test_empty_ticker_answer_leaves_the_price_missing(tmp_path, hostile):
    serve(hostile)
    hostile.fault("GET /b/api/v3/ticker/24hr", status=200, body=b"{}")
    result, data = plan(portfolio(tmp_path, hostile))
    failed(result, data, "binance-main", "empty response")


def test_flooding_answer_is_cut_off(tmp_path, hostile, monkeypatch):
    monkeypatch.setattr(bounded, "MAX_RESPONSE_BYTES", 2**20)
    serve(hostile)
    hostile.flood(BALANCE, 3 * 2**20)
    result, data = plan(portfolio(tmp_path, hostile))
    failed(result, data, "kraken", "larger than 1 MiB")


def test_dripping_answer_ends_at_the_timeout(tmp_path, hostile):
    serve(hostile)
    hostile.drip(BALANCE, interval=0.05, size=10_000)
    result, data = plan(portfolio(tmp_path, hostile, timeout_ms=400))
    asked = hostile.requests_to(BALANCE)
    assert asked and time.monotonic() - asked[0].at < 4  # the drip alone would take 500 s
    failed(result, data, "kraken", "timed out")


def test_deeply_nested_answer_is_a_clear_failure(tmp_path, hostile):
    serve(hostile)
    hostile.nest(BALANCE, 200_000)
    result, data = plan(portfolio(tmp_path, hostile))
    failed(result, data, "kraken", "not JSON")


def test_run_deadline_bounds_every_exchange_read(hostile):
    """A drip slower than any per-request timeout still ends at the run's deadline."""
    from rotator.adapters.exchanges import fetch_accounts
    from rotator.adapters.exchanges.session import AccountSettings

    serve(hostile)
    hostile.drip(BALANCE, interval=0.05, size=10_000)
    account = AccountSettings(
        name="kraken",
        exchange="kraken",
        api_key_env="KRAKEN_API_KEY",
        secret_env="KRAKEN_SECRET",
        ccxt={
            "urls": api_urls_for("kraken", hostile.url + "/k"),
            "timeout": 60_000,
            "rateLimit": 1,
            "timeout_on_exit": 0,
        },
    )
    [snapshot] = fetch_accounts(
        [account],
        {"USDT"},
        environ=ENV,
        clock=FakeClock(datetime(2021, 10, 22, 23, 20, tzinfo=UTC), frozen=True).clock,
        cache_dir=None,
        retries=0,
        run_deadline_seconds=0.8,
    )
    asked = hostile.requests_to(BALANCE)
    assert asked and time.monotonic() - asked[0].at < 3  # the drip alone would take 500 s
    assert not snapshot.ok and snapshot.holdings == ()
    assert "run's deadline for exchange reads" in snapshot.problems[0].message
