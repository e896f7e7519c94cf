"""Asset codes from an exchange are somebody's spreadsheet: no formula cell, no broken table.

Binance's recorded exchangeInfo, account and ticker are served on 127.0.0.1 with two more
markets whose base assets are hostile codes (composed, not recorded): `=EVIL` (a CSV formula)
`+EVIL`, `-EVIL`, `@EVIL` (CSV formulas) that the plan sells (they are not in the targets), so
they reach the order columns of `plan --format csv`; and a balance of `[/]X` (rich markup that
used to break the table), which has no market: the plan is incomplete, the table still renders.
"""

from __future__ import annotations

import copy
import csv
import io
import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from rotator.cli.app import cli
from rotator.demo.replay import ReplayServer, api_urls_for

BINANCE = Path(__file__).resolve().parent / "fixtures" / "exchanges" / "binance"
NOW = "2021-10-22T23:20:00+00:00"
TRADED = ("=EVIL", "+EVIL", "-EVIL", "@EVIL")
MARKUP = "[/]X"  # no market: shown in the holdings table of an incomplete plan
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _routes(markup: bool = False) -> dict[str, bytes]:
    info = json.loads((BINANCE / "api_v3_exchangeInfo.json").read_text())
    account = json.loads((BINANCE / "api_v3_account.json").read_text())
    ticker = json.loads((BINANCE / "api_v3_ticker_24hr.BTCUSDT.json").read_text())
    template = next(s for s in info["symbols"] if s["symbol"] == "BTCUSDT")
    tickers = [ticker]
    if markup:
        account["balances"].append({"asset": MARKUP, "free": "1.0", "locked": "0.0"})
    for code in TRADED:
        market = copy.deepcopy(template)
        market.update(symbol=f"{code}USDT", baseAsset=code)
        info["symbols"].append(market)
        account["balances"].append({"asset": code, "free": "2.00000000", "locked": "0.00000000"})
        tickers.append({**ticker, "symbol": f"{code}USDT"})
    return {
        "GET /api/v3/exchangeInfo": json.dumps(info).encode(),
        "GET /api/v3/account": json.dumps(account).encode(),
        "GET /api/v3/ticker/24hr": json.dumps(tickers).encode(),
    }


def _portfolio(tmp_path: Path, server: ReplayServer) -> Path:
    data = {
        "base_currency": "USDT",
        "accounts": [
            {
                "name": "binance-main",
                "exchange": "binance",
                "api_key_env": "BINANCE_API_KEY",
                "secret_env": "BINANCE_SECRET",
                "ccxt": {"urls": api_urls_for("binance", server.url), "rateLimit": 1},
            }
        ],
        "targets": {"BTC": 0.5, "CASH": 0.5},
        "rebalance": {"min_order_value": 10, "ignore_assets": ["LTC"]},
    }
    path = tmp_path / "portfolio.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _plan(tmp_path: Path, *args: str, markup: bool = False):  # type: ignore[no-untyped-def]
    env = {"BINANCE_API_KEY": "k" * 16, "BINANCE_SECRET": "s" * 16, "COLUMNS": "300"}
    with ReplayServer() as server:
        for route, body in _routes(markup).items():
            server.add_route(route, body)
        config = _portfolio(tmp_path, server)
        base = ["plan", "--config", str(config), "--now", NOW, "--no-save"]
        return CliRunner().invoke(cli, [*base, *args], env=env)


def test_formula_asset_codes_never_make_formula_cells(tmp_path: Path) -> None:
    result = _plan(tmp_path, "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {row["asset"] for row in rows} >= {f"'{code}" for code in TRADED}, rows
    for row in rows:
        for field in ("account", "symbol", "side", "asset", "leg", "reason"):
            assert not row[field].startswith(FORMULA_START), (field, row[field])
        for field in ("amount", "price", "notional", "fee"):  # numbers stay numbers
            float(row[field])


def test_markup_in_an_asset_code_never_breaks_the_table(tmp_path: Path) -> None:
    result = _plan(tmp_path, markup=True)
    assert result.exit_code == 3, result.output  # [/]X has no price: incomplete, not a crash
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output and "PLAN INCOMPLETE" in result.stdout
    assert MARKUP in result.stdout and "=EVIL" in result.stdout
