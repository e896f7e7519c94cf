"""`rotator plan` end to end: the real CLI, real ccxt, recorded responses on 127.0.0.1.

The portfolio file is written the way a user writes one for a testnet or proxy: each account's
`ccxt: urls` points at the local replay server.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from rotator.cli.app import cli
from rotator.demo.replay import Body, ReplayServer, api_urls_for
from rotator.reports.plan import ORDER_FIELDS

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "exchanges"
# The recorded Binance ticker closed at 2021-10-22 23:13:21 UTC; plan as of a few minutes later.
NOW = "2021-10-22T23:20:00+00:00"
KRAKEN_SECRET = "a3Jha2VuLXRlc3Qtc2VjcmV0LW5vdC1yZWFsLTAwMDA="  # valid base64, not a key
ENV = {
    "BINANCE_API_KEY": "cli-test-binance-key",
    "BINANCE_SECRET": "cli-test-binance-secret",
    "KRAKEN_API_KEY": "cli-test-kraken-key",
    "KRAKEN_SECRET": KRAKEN_SECRET,
}
BINANCE_FREE_BTC = Decimal("4723846.89208129")  # recorded api_v3_account.json
KRAKEN_FREE_BTC = Decimal("0.4")  # composed BalanceEx: 0.5 with 0.1 on hold


def recorded_routes() -> tuple[dict[str, Body], dict[str, Body]]:
    binance = FIXTURES / "binance"
    kraken = FIXTURES / "kraken"
    ticker = json.loads((binance / "api_v3_ticker_24hr.BTCUSDT.json").read_text())
    return (
        {
            "GET /api/v3/exchangeInfo": (binance / "api_v3_exchangeInfo.json").read_bytes(),
            "GET /api/v3/account": (binance / "api_v3_account.json").read_bytes(),
            # Binance answers a symbols= query with an array; the recorded object is its element.
            "GET /api/v3/ticker/24hr": json.dumps([ticker]).encode(),
        },
        {
            "GET /0/public/Assets": (kraken / "0_public_Assets.json").read_bytes(),
            "GET /0/public/AssetPairs": (kraken / "0_public_AssetPairs.json").read_bytes(),
            "GET /0/public/Ticker": (kraken / "0_public_Ticker.json").read_bytes(),
            "POST /0/private/BalanceEx": (kraken / "0_private_BalanceEx.json").read_bytes(),
        },
    )


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    binance, kraken = recorded_routes()
    with ReplayServer() as replay:
        replay.mount("/b", binance)
        replay.mount("/k", kraken)
        yield replay


def write_portfolio(
    tmp_path: Path, server: ReplayServer, timeout_ms: int = 1500, **rebalance: Any
) -> Path:
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
        "wallets": [{"name": "cold", "holdings": {"BTC": 1}}],
        "targets": {"BTC": 0.5, "CASH": 0.5},
        # The two recordings are four years apart (BTC ~60.8k vs ~105.9k): tolerate that here;
        # test_disagreeing_exchanges_leave_the_price_missing keeps the default.
        "rebalance": {"min_order_value": 10, "max_price_disagreement": 0.9, **rebalance},
    }
    path = tmp_path / "portfolio.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def run(config: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(
        cli, ["plan", "--config", str(config), "--now", NOW, *args], env=env or ENV
    )


def test_plan_over_two_recorded_exchanges(tmp_path: Path, server: ReplayServer) -> None:
    config = write_portfolio(tmp_path, server, ignore_assets=["LTC"])

    result = run(config, "--format", "json")

    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["complete"] is True and plan["dry_run"] is True
    before = {row["asset"]: row for row in plan["before"]}
    assert set(before) == {"BTC", "CASH"}
    # BTC dwarfs the cash: the plan sells BTC for USDT, never more than is free.
    assert plan["orders"], plan
    for order in plan["orders"]:
        assert order["symbol"] == "BTC/USDT" and order["side"] == "sell"
        free = BINANCE_FREE_BTC if order["account"] == "binance-main" else KRAKEN_FREE_BTC
        assert Decimal(order["amount"]) <= free
    # The two recordings are four years apart (BTC ~60.8k on Binance, ~105.9k on Kraken), so
    # proceeds differ from the valuation: the weight moves toward target without overshooting.
    after = {row["asset"]: Decimal(row["weight"]) for row in plan["after"]}
    assert Decimal("0.5") <= after["BTC"] < Decimal(before["BTC"]["weight"])
    # Both exchanges were really asked, through their own endpoints.
    assert server.requests_to("GET /b/api/v3/account")
    assert server.requests_to("POST /k/0/private/BalanceEx")


def test_csv_carries_the_same_order_fields_as_json(tmp_path: Path, server: ReplayServer) -> None:
    config = write_portfolio(tmp_path, server, ignore_assets=["LTC"])
    as_json = json.loads(run(config, "--format", "json").stdout)
    out = tmp_path / "orders.csv"

    result = run(config, "--format", "csv", "--output", str(out))

    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert tuple(rows[0]) == ORDER_FIELDS
    assert rows == [{k: str(v) for k, v in order.items()} for order in as_json["orders"]]


def test_table_output_says_dry_run_and_lists_orders(tmp_path: Path, server: ReplayServer) -> None:
    config = write_portfolio(tmp_path, server, ignore_assets=["LTC"])

    result = run(config)

    assert result.exit_code == 0, result.output
    assert "DRY RUN" in result.stdout
    assert "BTC/USDT" in result.stdout and "sell" in result.stdout
    assert "Allocation" in result.stdout


def test_unpriceable_asset_makes_the_plan_incomplete(tmp_path: Path, server: ReplayServer) -> None:
    # The recorded Binance account holds LTC, and no recorded market prices LTC.
    config = write_portfolio(tmp_path, server)

    result = run(config, "--format", "json")

    assert result.exit_code == 3
    plan = json.loads(result.stdout)
    assert plan["complete"] is False
    assert plan["orders"] == []
    messages = " ".join(p["message"] for p in plan["problems"] if p["severity"] == "error")
    assert "LTC" in " ".join(p["subject"] + p["message"] for p in plan["problems"])
    assert "ignore_assets" in messages


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        pytest.param({"status": 429, "headers": {"Retry-After": "0"}}, "429", id="rate-limited"),
        pytest.param({"hang": 5.0}, "timed out", id="timeout"),
        pytest.param(
            {"status": 200, "body": b'{"error": ["EAPI:Invalid key"], "result": {}}'},
            "KRAKEN_API_KEY",
            id="bad-credentials",
        ),
    ],
)
def test_failing_account_leaves_the_plan_incomplete(
    tmp_path: Path, server: ReplayServer, fault: dict[str, Any], expected: str
) -> None:
    server.fault("POST /k/0/private/BalanceEx", **fault)
    # A real socket timeout, kept short: three attempts of 0.3 s against a 5 s hang.
    timeout_ms = 300 if "hang" in fault else 1500
    config = write_portfolio(tmp_path, server, timeout_ms, ignore_assets=["LTC"])

    result = run(config, "--format", "json")

    assert result.exit_code == 3, result.output
    plan = json.loads(result.stdout)
    assert plan["complete"] is False
    assert plan["orders"] == []
    kraken = [p for p in plan["problems"] if "kraken" in p["subject"] + p["message"]]
    assert kraken and expected.lower() in " ".join(p["message"] for p in kraken).lower()
    # The healthy account is still reported.
    assert "BTC" in {row["asset"] for row in plan["before"]}

    table = run(config)
    assert table.exit_code == 3
    assert "PLAN INCOMPLETE" in table.stdout


def test_secrets_never_reach_any_output(tmp_path: Path, server: ReplayServer) -> None:
    sentinel_key, sentinel_secret = "SENTINELKEYcli4242", "SENTINELSECRETcli4242"

    def echo(request: Any) -> bytes:
        # Like some exchanges/proxies, the error echoes the request back.
        echoed = {"url": request.path + "?" + request.raw_query, "headers": dict(request.headers)}
        return json.dumps({"code": -2015, "msg": f"Invalid API-key {echoed}"}).encode()

    server.fault("GET /b/api/v3/account", status=401, body=echo)
    env = {**ENV, "BINANCE_API_KEY": sentinel_key, "BINANCE_SECRET": sentinel_secret}
    config = write_portfolio(tmp_path, server, ignore_assets=["LTC"])
    out = tmp_path / "plan.json"

    as_json = run(config, "--format", "json", "--output", str(out), env=env)
    as_table = run(config, "--explain", env=env)

    assert server.requests_to("GET /b/api/v3/account")[0].headers["X-MBX-APIKEY"] == sentinel_key
    assert as_json.exit_code == as_table.exit_code == 3
    for result in (as_json, as_table):
        for stream in (result.stdout, result.stderr):
            assert sentinel_key not in stream and sentinel_secret not in stream
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p != config]
    assert out in written
    for path in written:
        data = path.read_bytes()
        assert sentinel_key.encode() not in data, path
        assert sentinel_secret.encode() not in data, path


def test_demo_runs_offline_as_a_subprocess(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "ROTATOR_DATA_DIR": str(tmp_path / "data"),
        "ROTATOR_CACHE_DIR": str(tmp_path / "cache"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "rotator", "plan", "--demo", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert plan["complete"] is True
    accounts = {order["account"] for order in plan["orders"]}
    assert accounts, "the demo portfolio is off target: it should suggest orders"
    assert "cold-storage" not in accounts  # the cold wallet is never sold from
    # No market is traded both ways on one account, and one order per market and side (the
    # greedy planner used to sell BTC for USDT and buy it back, and to buy TRX/BTC twice).
    sides: dict[tuple[str, str], list[str]] = {}
    for order in plan["orders"]:
        sides.setdefault((order["account"], order["symbol"]), []).append(order["side"])
    assert all(len(s) == 1 for s in sides.values()), sides
    # The basket is bought on the cheapest markets (ETH-quoted), paid with what is over target.
    buys = {o["symbol"].split("/")[0] for o in plan["orders"] if o["side"] == "buy"}
    assert {"KNC", "LRC", "TRX"} <= buys


def test_every_plan_is_stored_unless_told_not_to(tmp_path: Path, server: ReplayServer) -> None:
    config = write_portfolio(tmp_path, server, ignore_assets=["LTC"])
    db = f"sqlite:///{tmp_path / 'runs.sqlite3'}"

    first = run(config, "--format", "json", "--db", db)
    run(config, "--format", "json", "--db", db, "--no-save")
    listed = CliRunner().invoke(cli, ["history", "list", "--db", db, "--format", "json"])

    assert first.exit_code == 0, first.output
    assert "saved as run #1" in first.stderr
    runs = json.loads(listed.stdout)
    assert [r["kind"] for r in runs] == ["plan"]
    plan = json.loads(first.stdout)
    assert runs[0]["order_count"] == len(plan["orders"])
    assert Decimal(runs[0]["total_value"]) == Decimal(plan["total_value"])
    shown = CliRunner().invoke(cli, ["history", "show", "1", "--db", db, "--format", "json"])
    assert shown.exit_code == 0 and "binance-main" in shown.stdout


def test_disagreeing_exchanges_leave_the_price_missing(
    tmp_path: Path, server: ReplayServer
) -> None:
    # With the default tolerance (10 %) the two recordings' BTC prices cannot both be right:
    # BTC gets no price, the plan is incomplete and suggests nothing, yet every holding read
    # is listed, priced where a fresh price exists.
    config = write_portfolio(tmp_path, server, ignore_assets=["LTC"])
    data = yaml.safe_load(config.read_text())
    del data["rebalance"]["max_price_disagreement"]
    config.write_text(yaml.safe_dump(data, sort_keys=False))

    result = run(config, "--format", "json")

    assert result.exit_code == 3, result.output
    plan = json.loads(result.stdout)
    assert plan["complete"] is False and plan["orders"] == []
    [problem] = [p for p in plan["problems"] if p["subject"] == "price BTC/USDT"]
    assert "quotes disagree by more than 10%" in problem["message"]
    held = {(h["account"], h["wallet"], h["asset"]): h for h in plan["holdings"]}
    assert held[("cold", "manual", "BTC")] == {
        "account": "cold",
        "wallet": "manual",
        "asset": "BTC",
        "amount": "1",
        "price": None,
        "value": None,
    }
    assert ("binance-main", "spot", "LTC") in held  # ignored, yet read: listed
    assert held[("kraken", "spot", "USDT")]["price"] == "1"  # the base currency

    table = run(config)
    assert table.exit_code == 3
    assert "Holdings read" in table.stdout and "no fresh price" in table.stdout
    assert "-50.0 pp" not in table.stdout  # no drift made up for an unpriced asset


def test_complete_plan_json_lists_holdings_and_history_show_too(
    tmp_path: Path, server: ReplayServer
) -> None:
    config = write_portfolio(tmp_path, server, ignore_assets=["LTC"])
    db = f"sqlite:///{tmp_path / 'runs.sqlite3'}"

    plan = json.loads(run(config, "--format", "json", "--db", db).stdout)

    assert plan["complete"] is True
    rows = {(h["account"], h["asset"]): h for h in plan["holdings"]}
    cold = rows[("cold", "BTC")]
    assert Decimal(cold["value"]) == Decimal(cold["price"]).quantize(Decimal("0.01"))
    shown = CliRunner().invoke(cli, ["history", "show", "1", "--db", db, "--format", "json"])
    assert shown.exit_code == 0, shown.output
    stored = json.loads(shown.stdout)["plan"]["holdings"]
    assert {(h["account"], h["asset"]) for h in stored} == set(rows)
    table = CliRunner().invoke(cli, ["history", "show", "1", "--db", db])
    assert "Holdings read" in table.stdout and "cold" in table.stdout


def test_huge_balance_is_rendered_and_stored(tmp_path: Path, server: ReplayServer) -> None:
    config = write_portfolio(tmp_path, server, ignore_assets=["LTC"])
    data = yaml.safe_load(config.read_text())
    data["wallets"][0]["holdings"] = {"BTC": "1e30"}
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    db = f"sqlite:///{tmp_path / 'runs.sqlite3'}"

    result = run(config, "--format", "json", "--db", db)

    assert result.exit_code in (0, 3), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    plan = json.loads(result.stdout)
    cold = next(h for h in plan["holdings"] if h["account"] == "cold")
    assert cold["amount"] == "1" + "0" * 30
    for args in (("--format", "json"), ()):
        shown = CliRunner().invoke(cli, ["history", "show", "1", "--db", db, *args])
        assert shown.exit_code == 0, shown.output
    assert "1" + "0" * 30 in shown.stdout
