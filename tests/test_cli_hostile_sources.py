"""Hostile data-source answers through `rotator screen`: redirects, floods, nesting, wrong shapes.

Every DefiLlama and CoinGecko request goes to a `HostileServer` on 127.0.0.1. A hostile answer
must leave the screen without that source (exit 3, a problem naming the source), never with a
traceback and never a redirect followed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hostile_server import HostileServer

from rotator.adapters.sources import http
from rotator.cli.app import cli


def portfolio(tmp_path: Path) -> Path:
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


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        ("redirect", "redirect not followed"),
        ("flood", "answer larger than 1 MiB"),
        ("nest", "nested too deeply"),
        ("object", "expected"),
        ("rows", "expected a list of objects"),
    ],
)
def test_hostile_defillama_answers_leave_the_screen_incomplete(
    tmp_path, hostile: HostileServer, monkeypatch, behaviour, message
):
    monkeypatch.setattr(http, "MAX_RESPONSE_BYTES", 2**20)
    with HostileServer() as elsewhere:
        elsewhere.echo("/")
        if behaviour == "redirect":
            hostile.redirect("/llama/", f"{elsewhere.url}/llama/protocols")
        elif behaviour == "flood":
            hostile.flood("/llama/", 3 * 2**20)
        elif behaviour == "nest":
            hostile.nest("/llama/", 100_000)
        elif behaviour == "object":
            hostile.fault("/llama/", status=200, body=b"{}")
        else:
            hostile.fault("/llama/", status=200, body=b'[1, "two", null]')
        hostile.fault("/yields/", status=200, body=b'{"data": []}')
        hostile.fault("/cg/", status=200, body=b"[]")
        env = {
            "ROTATOR_DEFILLAMA_API_URL": f"{hostile.url}/llama",
            "ROTATOR_DEFILLAMA_YIELDS_URL": f"{hostile.url}/yields",
            "ROTATOR_COINGECKO_URL": f"{hostile.url}/cg",
            "ROTATOR_COINGECKO_CALLS_PER_MINUTE": "0",
        }
        args = ["screen", "--config", str(portfolio(tmp_path)), "--format", "json"]
        result = CliRunner().invoke(cli, [*args, "--now", "2023-07-29T00:00:00"], env=env)
        assert elsewhere.requests == []
    assert "Traceback" not in result.output
    assert result.exit_code == 3, result.output
    report = json.loads(result.stdout)
    texts = " | ".join(p["message"] for p in report["problems"])
    assert "DefiLlama" in texts and message in texts, texts
