"""The revenue screen on real-shaped payloads, through the real CLI against loopback servers.

Served from 127.0.0.1: the screen fixtures (tests/fixtures/defillama, composed in the documented
layouts), the real DEX-only pools rows (pools_dex_only.*.json, see SOURCES.md), `/v2/chains`
answering 404, and curve-dex as the real `/protocols` lists it: `gecko_id: null` under
`parent#curve-finance`, which the parents feed here does not name.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from rotator.cli.app import cli

FIXTURES = Path(__file__).parent / "fixtures" / "defillama"
NOW = "2023-07-29T00:00:00"
HOSTILE_NAMES = (
    '=HYPERLINK("https://evil.example","x")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\tTab",
    "[/] markup \x1b]52;c;ZXZpbA==\x07",
)
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def _protocols() -> list[dict[str, Any]]:
    protocols = _load("protocols.json")
    for entry in protocols:
        if entry["slug"] == "curve-dex":  # as in the real /protocols
            entry.update(gecko_id=None, parentProtocol="parent#curve-finance")
    sibling = dict(next(e for e in protocols if e["slug"] == "curve-dex"))
    sibling.update(
        id="2892", name="Curve LlamaLend", slug="curve-llamalend", gecko_id="curve-dao-token"
    )
    return [*protocols, sibling]


def _markets(age: timedelta, hostile: bool = False) -> list[dict[str, Any]]:
    stamp = (datetime(2023, 7, 29, tzinfo=UTC) - age).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    out = [{**m, "last_updated": stamp} for m in _load("coingecko/coins_markets.json")]
    if hostile:  # names as a hostile source could send them
        for market, name in zip(out, HOSTILE_NAMES, strict=False):
            market["name"] = name
    return out


def _serve(server: HTTPServer, markets_age: timedelta, hostile: bool = False) -> None:
    def json_route(path: str, body: Any) -> None:
        server.expect_request(path).respond_with_json(body)

    json_route("/llama/protocols", _protocols())
    json_route("/llama/lite/protocols2", _load("lite_protocols2.json"))
    json_route("/yields/pools", _load("pools_dex_only.2025-09-25.json"))
    json_route("/cg/coins/markets", _markets(markets_age, hostile))
    server.expect_request("/llama/v2/chains").respond_with_data("Not Found", status=404)
    for kind in ("dailyHoldersRevenue", "dailyRevenue"):
        server.expect_request(
            "/llama/overview/fees",
            query_string={
                "excludeTotalDataChart": "true",
                "excludeTotalDataChartBreakdown": "true",
                "dataType": kind,
            },
        ).respond_with_json(_load(f"overview_fees_{kind}.json"))
    server.expect_request(re.compile(r"/(llama/summary|cg/coins/[^/]+/market_chart).*"))\
        .respond_with_data("not found", status=404)  # fmt: skip


def _screen(tmp_path: Path, server: HTTPServer, fmt: str = "json") -> Any:
    (tmp_path / "rules.yaml").write_text(
        "rules:\n  revenue_basket: {kind: revenue_screen}\n"
        "regimes:\n  - name: hold\n    targets: {BTC: 1.0}\n"
    )
    config = tmp_path / "portfolio.yaml"
    config.write_text(
        "base_currency: USD\nwallets:\n  - {name: cold, holdings: {BTC: 1}}\nrules: rules.yaml\n"
    )
    env = {
        "ROTATOR_DEFILLAMA_API_URL": server.url_for("/llama"),
        "ROTATOR_DEFILLAMA_YIELDS_URL": server.url_for("/yields"),
        "ROTATOR_COINGECKO_URL": server.url_for("/cg"),
        "ROTATOR_COINGECKO_CALLS_PER_MINUTE": "0",
        "ROTATOR_SCREEN_NO_CACHE": "1",
        "ROTATOR_DATA_DIR": str(tmp_path / "data"),
    }
    args = ["screen", "--config", str(config), "--format", fmt, "--now", NOW]
    return CliRunner().invoke(cli, args, env=env)


def test_chains_404_keeps_the_protocols_and_children_inherit_and_dex_pools_are_noted(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    _serve(httpserver, markets_age=timedelta(hours=4))
    result = _screen(tmp_path, httpserver)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    problems = {p["subject"]: p for p in report["problems"]}
    # /v2/chains failed: a warning; the /protocols mapping read before it is kept.
    assert problems["screen chains"]["severity"] == "warning"
    assert "HTTP 404" in problems["screen chains"]["message"]
    assert "screen protocols" not in problems
    by_id = {c["gecko_id"]: c for c in report["candidates"]}
    assert {"aave", "maker", "gmx", "uniswap"} <= set(by_id)
    # curve-dex has no gecko_id of its own: its sibling names the parent's token.
    assert "curve-dex" in by_id["curve-dao-token"]["protocols"]
    assert not any(u.startswith("curve-dex") for u in report["unmapped"])
    # Chains are unmapped without /v2/chains, and say so.
    assert any(u.startswith("ethereum") for u in report["unmapped"])
    # Only DEX pools: the emission check could not run, and the note names the tokens.
    note = problems["screen pools"]
    assert note["severity"] == "info" and "emission check skipped for" in note["message"]
    assert "AAVE" in note["message"]
    assert not CONTROL.search(result.output)


def test_stale_market_data_for_every_token_exits_3(tmp_path: Path, httpserver: HTTPServer) -> None:
    _serve(httpserver, markets_age=timedelta(days=30))
    result = _screen(tmp_path, httpserver)
    assert result.exit_code == 3, result.output
    assert "screen incomplete" in result.stderr and "Traceback" not in result.output
    report = json.loads(result.stdout)
    stale = next(p for p in report["problems"] if p["subject"] == "screen markets")
    assert stale["severity"] == "error"
    assert re.search(r"stale for all \d+ tokens", stale["message"])
    assert "newest update 2023-06-29 00:00 UTC" in stale["message"]
    assert report["basket"] == {}


def test_hostile_names_never_make_formula_cells_or_break_the_table(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    _serve(httpserver, markets_age=timedelta(hours=4), hostile=True)
    as_csv = _screen(tmp_path, httpserver, "csv")
    table = _screen(tmp_path, httpserver, "table")
    assert as_csv.exit_code == 0, as_csv.output
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert any(row["name"].startswith("'=HYPERLINK") for row in rows)
    for row in rows:
        for field, value in row.items():
            assert not value.startswith(("=", "+", "@", "\t", "\r")), (field, value)
            if value.startswith("-"):
                float(value)  # only real negative numbers may start with '-'
    assert table.exit_code == 0, table.output
    assert not CONTROL.search(as_csv.output) and not CONTROL.search(table.output)
    assert "Traceback" not in table.output
