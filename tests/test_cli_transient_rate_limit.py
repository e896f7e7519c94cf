"""A transient 429 ends in a complete plan, through the real CLI (OKX, which ccxt maps 429 to
ExchangeNotAvailable for, with OKX's own rate-limit code in the body and a Retry-After)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from rotator.cli.app import cli
from rotator.demo.replay import ReplayServer, api_urls_for

OKX = Path(__file__).resolve().parent / "fixtures" / "exchanges" / "okx"
ENV = {
    "OKX_API_KEY": "cli-okx-key-0001",
    "OKX_SECRET": "cli-okx-secret-0001",
    "OKX_PASS": "pass-0001",
}
NOW = "2025-11-24T12:05:00+00:00"  # the composed tickers are stamped 12:00 UTC


def test_transient_429_ends_in_a_complete_plan(tmp_path: Path) -> None:
    with ReplayServer() as server:
        server.mount(
            "/o",
            {
                "GET /api/v5/public/instruments": (
                    OKX / "api_v5_public_instruments.SPOT.json"
                ).read_bytes(),
                "GET /api/v5/account/balance": (OKX / "api_v5_account_balance.json").read_bytes(),
                "GET /api/v5/market/tickers": (
                    OKX / "api_v5_market_tickers.SPOT.json"
                ).read_bytes(),
            },
        )
        server.fault(
            "GET /o/api/v5/account/balance",
            status=429,
            headers={"Retry-After": "1"},
            body=json.dumps({"code": "50011", "msg": "Too Many Requests", "data": []}).encode(),
            times=1,
        )
        config = tmp_path / "portfolio.yaml"
        account = {
            "name": "okx",
            "exchange": "okx",
            "api_key_env": "OKX_API_KEY",
            "secret_env": "OKX_SECRET",
            "password_env": "OKX_PASS",
            "ccxt": {"urls": api_urls_for("okx", server.url + "/o"), "rateLimit": 1},
        }
        data = {
            "base_currency": "USDT",
            "accounts": [account],
            "targets": {"BTC": 0.5, "CASH": 0.5},
        }
        config.write_text(yaml.safe_dump(data, sort_keys=False))

        result = CliRunner().invoke(
            cli, ["plan", "--config", str(config), "--now", NOW, "--format", "json"], env=ENV
        )

        assert result.exit_code == 0, result.output
        plan = json.loads(result.stdout)
        assert plan["complete"] is True
        assert len(server.requests_to("GET /o/api/v5/account/balance")) == 2
