"""`rotator screen` and the screened basket in `rotator plan`, through the real CLI.

The demo serves composed DefiLlama/CoinGecko responses and recorded/composed exchange responses
from a local server on 127.0.0.1 (rotator/demo); the other tests point the sources at
pytest-httpserver through the documented environment variables.
"""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from rotator.cli.app import cli

FIXTURES = Path(__file__).parent / "fixtures" / "defillama"


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_screen_demo_json_lists_every_candidate_with_reasons_and_the_basket() -> None:
    result = invoke("screen", "--demo", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    basket = {k: Decimal(v) for k, v in report["basket"].items()}
    assert set(basket) == {"KNC", "LRC", "TRX"}
    assert sum(basket.values()) == 1
    assert max(basket.values()) <= Decimal("0.35")
    by_id = {c["gecko_id"]: c for c in report["candidates"]}
    assert all(c["reasons"] for c in report["candidates"] if not c["passed"])
    assert "no market MKR/" in by_id["maker"]["reasons"]
    assert "do not outpace issuance" in by_id["solana"]["reasons"]
    assert "shared by velo, velodrome-finance" in by_id["velo"]["reasons"]
    assert "missing or stale" in by_id["convex-finance"]["reasons"]
    assert by_id["tron"]["tradable_on"] == "binance-main"
    assert report["unmapped"] == ["morpho-blue (Morpho Blue)"]


def test_screen_demo_csv_and_table_carry_the_same_verdicts() -> None:
    as_json = json.loads(invoke("screen", "--demo", "--format", "json").stdout)
    result = invoke("screen", "--demo", "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["gecko_id"] for r in rows] == [c["gecko_id"] for c in as_json["candidates"]]
    assert [r["passed"] == "True" for r in rows] == [c["passed"] for c in as_json["candidates"]]
    table = invoke("screen", "--demo")
    assert table.exit_code == 0
    assert "Basket: KNC (kyber-network-crystal) 35.0%" in " ".join(table.output.split())
    assert "Why tokens fail" in table.output


def test_plan_demo_with_rotation_forced_shows_and_buys_the_basket() -> None:
    result = invoke("plan", "--demo", "--explain", "--regime", "rotate", "--format", "json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    basket = {k: Decimal(v) for k, v in plan["details"]["basket"].items()}
    assert set(basket) == {"KNC", "LRC", "TRX"}
    assert sum(basket.values()) == Decimal("0.15")  # the rotate regime's revenue_basket weight
    buys = {o["asset"] for o in plan["orders"] if o["side"] == "buy" and o["asset"] in basket}
    assert buys == {"KNC", "LRC", "TRX"}
    assert not {o["asset"] for o in plan["orders"]} & {"MKR", "GMX", "AAVE", "VELO"}
    assert any("basket revenue_basket (0.15)" in line for line in plan["explanation"])
    table = invoke("plan", "--demo", "--explain", "--regime", "rotate")
    assert "Basket" in table.output and "KNC" in table.output


def write_portfolio(tmp_path: Path) -> Path:
    (tmp_path / "rules.yaml").write_text(
        "rules:\n"
        "  revenue_basket: {kind: revenue_screen, min_market_cap: 100000000}\n"
        "regimes:\n"
        "  - name: hold\n"
        "    targets: {BTC: 1.0}\n"
    )
    path = tmp_path / "portfolio.yaml"
    path.write_text(
        "base_currency: USD\nwallets:\n  - {name: cold, holdings: {BTC: 1}}\nrules: rules.yaml\n"
    )
    return path


def source_env(server: HTTPServer) -> dict[str, str]:
    return {
        "ROTATOR_DEFILLAMA_API_URL": server.url_for("/llama"),
        "ROTATOR_DEFILLAMA_YIELDS_URL": server.url_for("/yields"),
        "ROTATOR_COINGECKO_URL": server.url_for("/cg"),
        "ROTATOR_COINGECKO_CALLS_PER_MINUTE": "0",
    }


def test_screen_reads_the_rule_set_params_and_says_nothing_is_tradable_without_accounts(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    for path, name in (
        ("/llama/protocols", "protocols.json"),
        ("/llama/v2/chains", "v2_chains.json"),
        ("/llama/lite/protocols2", "lite_protocols2.json"),
        ("/yields/pools", "pools.json"),
        ("/cg/coins/markets", "coingecko/coins_markets.json"),
    ):
        httpserver.expect_request(path).respond_with_data(
            (FIXTURES / name).read_text(), content_type="application/json"
        )
    for kind in ("dailyHoldersRevenue", "dailyRevenue"):
        httpserver.expect_request(
            "/llama/overview/fees",
            query_string={
                "excludeTotalDataChart": "true",
                "excludeTotalDataChartBreakdown": "true",
                "dataType": kind,
            },
        ).respond_with_data(
            (FIXTURES / f"overview_fees_{kind}.json").read_text(), content_type="application/json"
        )
    # Summaries and charts this test does not serve answer 404 (not retried), like DefiLlama's.
    httpserver.expect_request(re.compile(r"/(llama/summary|cg/coins/[^/]+/market_chart).*"))\
        .respond_with_data("not found", status=404)  # fmt: skip
    portfolio = write_portfolio(tmp_path)
    args = ("--config", str(portfolio), "--format", "json", "--now", "2023-07-29T00:00:00")
    result = invoke("screen", *args, env=source_env(httpserver))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["rule"] == "revenue_basket" and report["basket"] == {}
    by_id = {c["gecko_id"]: c for c in report["candidates"]}
    assert "no market MKR/{USDT,USDC,USD,BTC} on any account" in by_id["maker"]["reasons"]
    # min_market_cap comes from the rule set (100M), not the default (50M).
    assert "market cap $90.0M < $100M" in by_id["velo"]["reasons"]
    assert "market cap" not in by_id["maker"]["reasons"]


def test_unreadable_source_exits_3_and_unknown_rule_exits_2(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    # 404 is not retried (429/5xx are, with backoff: see the adapter tests for those).
    httpserver.expect_request(re.compile(".*")).respond_with_data("gone", status=404)
    portfolio = write_portfolio(tmp_path)
    env = source_env(httpserver)
    result = CliRunner().invoke(cli, ["screen", "--config", str(portfolio), "--format", "json"],
                                env=env)  # fmt: skip
    assert result.exit_code == 3
    report = json.loads(result.stdout)
    assert any("HTTP 404" in p["message"] for p in report["problems"])
    bad = CliRunner().invoke(cli, ["screen", "--config", str(portfolio), "--rule", "nope"], env=env)
    assert bad.exit_code == 2
    assert "--rule nope: no revenue_screen rule of that name" in bad.output


def test_bad_screen_parameter_in_the_rule_set_is_exit_2_naming_file_and_field(
    tmp_path: Path,
) -> None:
    portfolio = write_portfolio(tmp_path)
    (tmp_path / "rules.yaml").write_text(
        "rules:\n"
        "  revenue_basket:\n"
        "    kind: revenue_screen\n"
        "    max_weight: 35\n"
        "    weighting: by_vibes\n"
        "regimes:\n"
        "  - name: hold\n"
        "    targets: {BTC: 1.0}\n"
    )
    result = CliRunner().invoke(cli, ["screen", "--config", str(portfolio)])
    assert result.exit_code == 2
    assert "rules.yaml:4" in result.output and "max_weight" in result.output
    assert "rules.yaml:5" in result.output and "weighting" in result.output
