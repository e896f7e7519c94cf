"""Day one, end to end: `rotator check` -> `rotator history fetch` -> `rotator plan`.

The real CLI, real ccxt against recorded Binance responses on a loopback replay server (daily
candles composed from CoinGecko's real BTC export in Binance's documented klines layout), and
CoinGecko's documented market_chart layout on pytest-httpserver built from the real BTC and ETH
market caps (tests/fixtures/history). No source is mocked; every URL is 127.0.0.1.
"""

from __future__ import annotations

import csv
import json
import socket
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from rotator.cli.app import cli
from rotator.demo.replay import ReplayServer, api_urls_for

REPO = Path(__file__).resolve().parents[1]
HISTORY = REPO / "tests" / "fixtures" / "history"
BINANCE = REPO / "tests" / "fixtures" / "exchanges" / "binance"
# The recorded Binance ticker closed at 2021-10-22 23:13:21 UTC: the user's "today".
NOW = "2021-10-22T23:20:00+00:00"
TODAY = date(2021, 10, 22)
ENV = {"BINANCE_API_KEY": "day-one-binance-key", "BINANCE_SECRET": "day-one-binance-secret"}
# The cycle rules of rules/cycle.yaml, with regimes on the one pair the recordings price.
RULES = {
    "rules": {
        "btc_above_prior_high": {
            "kind": "prior_high_break",
            "asset": "BTC",
            "find": "drawdown",
            "drawdown_pct": 50,
            "confirm_closes": 3,
            "margin_pct": 1.0,
            "max_age": 2,
        },
        "dominance_rolling_over": {
            "kind": "dominance",
            "test": "fallen_from_peak",
            "window": 90,
            "fallen_pp": 3.0,
            "confirm_days": 3,
            "max_age": 3,
        },
        "dominance_rising": {"kind": "dominance", "test": "change", "window": 30, "max_age": 3,
                             "min_change_pp": 0.0},
    },
    "regimes": [
        {"name": "ride_btc", "when": "btc_above_prior_high", "targets": {"BTC": 0.8, "CASH": 0.2}},
        {"name": "accumulate", "targets": {"BTC": 0.7, "CASH": 0.3}},
    ],
}  # fmt: skip


def coingecko_export(name: str) -> dict[date, tuple[float, float]]:
    """day -> (price, market cap) from CoinGecko's real 'max' CSV export."""
    with (HISTORY / name).open() as handle:
        return {
            date.fromisoformat(row["snapped_at"][:10]): (
                float(row["price"]),
                float(row["market_cap"]),
            )
            for row in csv.DictReader(handle)
            if row["market_cap"]
        }


BTC = coingecko_export("coingecko_btc-usd_daily_2013-2021.csv")
ETH = coingecko_export("coingecko_eth-usd_daily_2015-2021.csv")


def ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def klines(request: Any) -> bytes:
    """Binance GET /api/v3/klines (documented layout) from the real BTC closes, paged."""
    start = int(request.query["startTime"][0])
    limit = int(request.query["limit"][0])
    rows = []
    for day in sorted(BTC):
        if start <= ms(day) and day <= TODAY:
            c = f"{BTC[day][0]:.2f}"
            rows.append(
                [ms(day), c, c, c, c, "100.0", ms(day) + 86_399_999, "0", 10, "0", "0", "0"]
            )
    return json.dumps(rows[:limit]).encode()


def market_chart(series: dict[date, tuple[float, float]]):
    """CoinGecko /coins/{id}/market_chart?days=N&interval=daily for TODAY (documented layout:
    one point a day at 00:00 UTC, then the current value)."""

    def handler(request: Request) -> Response:
        days = int(request.args["days"])
        picked = [d for d in sorted(series) if TODAY - timedelta(days=days) <= d < TODAY]
        now = ms(TODAY) + 80_000_000
        payload = {
            "prices": [[ms(d), series[d][0]] for d in picked] + [[now, series[TODAY][0]]],
            "market_caps": [[ms(d), series[d][1]] for d in picked] + [[now, series[TODAY][1]]],
            "total_volumes": [[ms(d), 1.0] for d in picked],
        }
        return Response(json.dumps(payload), content_type="application/json")

    return handler


@pytest.fixture
def coingecko(httpserver: HTTPServer) -> HTTPServer:
    httpserver.expect_request("/coins/markets").respond_with_json(
        [{"id": "bitcoin", "symbol": "btc"}, {"id": "ethereum", "symbol": "eth"}]
    )
    httpserver.expect_request("/coins/bitcoin/market_chart").respond_with_handler(market_chart(BTC))
    httpserver.expect_request("/coins/ethereum/market_chart").respond_with_handler(
        market_chart(ETH)
    )
    return httpserver


def write_portfolio(tmp_path: Path, exchange_url: str, rules: dict[str, Any] = RULES) -> Path:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules, sort_keys=False))
    data = {
        "base_currency": "USDT",
        "rules": "rules.yaml",
        "accounts": [
            {
                "name": "binance-main",
                "exchange": "binance",
                "api_key_env": "BINANCE_API_KEY",
                "secret_env": "BINANCE_SECRET",
                "ccxt": {"urls": api_urls_for("binance", exchange_url), "timeout": 1500,
                         "rateLimit": 1},
            }
        ],
        "rebalance": {"min_order_value": 10, "ignore_assets": ["LTC"]},
    }  # fmt: skip
    path = tmp_path / "portfolio.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def invoke(*args: str, env: dict[str, str]) -> Any:
    return CliRunner().invoke(cli, list(args), env=env)


def binance_routes() -> dict[str, Any]:
    ticker = json.loads((BINANCE / "api_v3_ticker_24hr.BTCUSDT.json").read_text())
    return {
        "GET /api/v3/exchangeInfo": (BINANCE / "api_v3_exchangeInfo.json").read_bytes(),
        "GET /api/v3/account": (BINANCE / "api_v3_account.json").read_bytes(),
        "GET /api/v3/ticker/24hr": json.dumps([ticker]).encode(),
        "GET /api/v3/klines": klines,
    }


def test_quick_start_check_fetch_plan_evaluates_every_rule(tmp_path: Path, coingecko: HTTPServer):
    env = {
        **ENV,
        "ROTATOR_DB_URL": f"sqlite:///{tmp_path / 'rotator.sqlite3'}",
        "ROTATOR_COINGECKO_URL": coingecko.url_for("/"),
        "ROTATOR_COINGECKO_CALLS_PER_MINUTE": "0",
    }
    with ReplayServer(binance_routes()) as exchange:
        config = str(write_portfolio(tmp_path, exchange.url))
        before = invoke("check", "--config", config, "--now", NOW, "--format", "json", env=env)
        assert before.exit_code == 0, before.output
        statuses = {h["series"]: h["status"] for h in json.loads(before.stdout)["history"]}
        assert statuses == {"close:BTC": "missing", "btc_dominance": "missing"}
        assert not (tmp_path / "rotator.sqlite3").exists()  # checking creates no database
        unknown = invoke("plan", "--config", config, "--now", NOW, "--no-save", env=env)
        assert unknown.exit_code == 0, unknown.output
        second = unknown.output.splitlines()[1]  # after the dry-run banner
        assert second.startswith("3 rules unknown for lack of history (btc_above_prior_high, ")
        assert second.endswith(
            "run `rotator history fetch`, then `rotator check` shows the coverage"
        )

        fetched = invoke("history", "fetch", "--config", config, "--now", NOW, "--proxy-coins",
                         "2", env=env)  # fmt: skip
        assert fetched.exit_code == 0, fetched.output
        assert "binance BTC/USDT: 1467 daily closes saved (2017-10-16 to 2021-10-21)" in (
            fetched.output
        )
        assert "proxy:coingecko-top2: 93 days of a BTC dominance PROXY saved" in fetched.output
        assert fetched.stdout == "" and "daily closes saved" in fetched.stderr  # messages
        assert f"rule set rules.yaml (from {config})" in fetched.stderr  # no absolute path

        after = invoke("check", "--config", config, "--now", NOW, env=env)
        assert after.exit_code == 0, after.output
        assert "close:BTC: 1467 days stored (2017-10-16 to 2021-10-21) from binance; rules need " \
            "1460 days; ok" in after.output  # fmt: skip
        assert "btc_dominance: 93 days stored (2021-07-21 to 2021-10-21) from " \
            "proxy:coingecko-top2; rules need 93 days; ok" in after.output  # fmt: skip

        plan = invoke("plan", "--config", config, "--now", NOW, "--format", "json", env=env)
    assert plan.exit_code == 0, plan.output
    details = json.loads(plan.stdout)["details"]
    values = {r["rule"]: r["value"] for r in details["rules"]}
    assert set(values) == set(RULES["rules"])
    assert "unknown" not in values.values(), details["rules"]
    assert details["history_note"] is None


def test_fetch_is_incremental(tmp_path: Path, coingecko: HTTPServer):
    env = {**ENV, "ROTATOR_COINGECKO_URL": coingecko.url_for("/"),
           "ROTATOR_COINGECKO_CALLS_PER_MINUTE": "0"}  # fmt: skip
    db = f"sqlite:///{tmp_path / 's.sqlite3'}"
    with ReplayServer(binance_routes()) as exchange:
        config = str(write_portfolio(tmp_path, exchange.url))
        args = ("history", "fetch", "--config", config, "--db", db, "--proxy-coins", "2")
        first = invoke(*args, "--now", "2021-10-20T12:00:00+00:00", env=env)
        assert first.exit_code == 0, first.output
        klines_before = len(exchange.requests_to("GET /api/v3/klines"))
        coingecko.clear_log()
        again = invoke(*args, "--now", NOW, env=env)
        assert again.exit_code == 0, again.output
        late = exchange.requests_to("GET /api/v3/klines")[klines_before:]
    # Candles: from the newest stored day (2021-10-19, re-read) on; one page.
    assert [r.query["startTime"] for r in late] == [[str(ms(date(2021, 10, 19)))]]
    assert "binance BTC/USDT: 3 daily closes saved (2021-10-19 to 2021-10-21)" in again.output
    # The proxy: only the days since its newest stored day, for both coins.
    charts = [r for r, _ in coingecko.log if r.path.endswith("market_chart")]
    assert [r.args["days"] for r in charts] == ["3", "3"]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_offline_fetch_fails_per_source_with_exit_3(tmp_path: Path):
    dead = f"http://127.0.0.1:{closed_port()}"
    config = write_portfolio(tmp_path, dead, rules={"rules": {}, "regimes": []})
    (tmp_path / "portfolio.yaml").write_text(
        config.read_text().replace("rules: rules.yaml", f"rules: {REPO / 'rules' / 'thesis.yaml'}")
    )
    env = {**ENV, "ROTATOR_DB_URL": f"sqlite:///{tmp_path / 'o.sqlite3'}"}
    started = time.monotonic()
    result = invoke(
        "history", "fetch", "--config", str(config), "--now", NOW, "--retries", "0",
        "--timeout", "2", "--coingecko-url", dead, "--yahoo-url", dead, "--fredgraph-url", dead,
        "--fiscaldata-url", dead, env=env,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # the clean exit, not a crash
    failed = [line for line in result.output.splitlines() if line.startswith("failed: ")]
    for name in ("binance-main", "btc_dominance", "fred:WALCL", "fred:DGS10", "index:MOVE"):
        assert any(name in line for line in failed), (name, result.output)
    assert any("Fiscal Data" in line for line in failed), result.output
    missing = next(line for line in result.output.splitlines() if line.startswith("missing after"))
    for name in ("close:BTC", "btc_dominance", "index:MOVE", "fred:WALCL", "treasury:buybacks"):
        assert f"{name} (missing)" in missing
    assert elapsed < 90


def test_check_reports_short_and_stale_history(tmp_path: Path):
    db = f"sqlite:///{tmp_path / 's.sqlite3'}"
    imported = invoke("history", "import", str(HISTORY / "btc_dominance_pct_daily_2018-2021.csv"),
                      "--kind", "dominance", "--db", db, env={})  # fmt: skip
    assert imported.exit_code == 0, imported.output
    rules = {"rules": {"long": {"kind": "dominance", "test": "change", "window": 2000,
                                "min_change_pp": 1}},
             "regimes": [{"name": "hold", "targets": {"BTC": 1}}]}  # fmt: skip
    config = str(write_portfolio(tmp_path, "http://127.0.0.1:9", rules=rules))
    args = ("check", "--config", config, "--db", db, "--format", "json")

    def status(now: str) -> dict[str, Any]:
        result = invoke(*args, "--now", now, env=ENV)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)["history"][0]

    short = status("2022-01-01T00:00:00")
    assert short == {
        "series": "btc_dominance",
        "stored_days": 1461,
        "first": "2018-01-01",
        "last": "2021-12-31",
        "needed_days": 2001,
        "status": "short",
        "sources": ["import"],
        "fill": "rotator history fetch",
    }
    assert status("2022-03-01T00:00:00")["status"] == "stale"


def test_signals_say_at_the_top_when_rules_lack_history(tmp_path: Path):
    config = str(write_portfolio(tmp_path, "http://127.0.0.1:9"))
    db = f"sqlite:///{tmp_path / 's.sqlite3'}"
    table = invoke("signals", "--config", config, "--db", db, "--no-save", env=ENV)
    assert table.exit_code == 0, table.output
    first = table.stdout.splitlines()[0]  # the table's top (the rule set's note: stderr)
    assert first.startswith("3 rules unknown for lack of history") and "history fetch" in first
    report = json.loads(
        invoke("signals", "--config", config, "--db", db, "--format", "json", env=ENV).stdout
    )
    assert "close:BTC missing" in report["history_note"]


def test_report_and_history_list_attribute_sources_and_name_the_proxy(
    tmp_path: Path, coingecko: HTTPServer
):
    env = {
        **ENV,
        "ROTATOR_DB_URL": f"sqlite:///{tmp_path / 'rotator.sqlite3'}",
        "ROTATOR_COINGECKO_URL": coingecko.url_for("/"),
        "ROTATOR_COINGECKO_CALLS_PER_MINUTE": "0",
        "COLUMNS": "200",
    }
    with ReplayServer(binance_routes()) as exchange:
        config = str(write_portfolio(tmp_path, exchange.url))
        report = ("report", "--config", config, "--now", NOW, "--no-deliver", "--force")
        empty = invoke(*report, "--out", str(tmp_path / "before"), env=env)
        assert empty.exit_code == 0, empty.output
        fetched = invoke("history", "fetch", "--config", config, "--now", NOW, "--proxy-coins",
                         "2", env=env)  # fmt: skip
        assert fetched.exit_code == 0, fetched.output
        full = invoke(*report, "--out", str(tmp_path / "after"), env=env)
        assert full.exit_code == 0, full.output
        listed = invoke("history", "list", env=env)
    before = next((tmp_path / "before").glob("report-*.md")).read_text()
    top = before.split("## ")[0]  # the lines above the first section
    assert "3 rules unknown for lack of history" in top and "rotator history fetch" in top
    after = next((tmp_path / "after").glob("report-*.md")).read_text()
    assert "unknown for lack of history" not in after
    assert "close:BTC from binance" in after
    assert "btc_dominance from proxy:coingecko-top2 (a PROXY" in after
    assert listed.exit_code == 0, listed.output
    assert "proxy:coingecko-top2 (PROXY)" in listed.output and "BTC/USDT" in listed.output


def test_one_failing_source_does_not_stop_the_others(tmp_path: Path, httpserver: HTTPServer):
    httpserver.expect_request("/v8/finance/chart/^MOVE").respond_with_data("busy", status=503)
    rules = {"rules": {"up": RULES["rules"]["btc_above_prior_high"],
                       "stress": {"kind": "bond_volatility", "test": "above", "level": 120,
                                  "source": "move"}},
             "regimes": [{"name": "hold", "targets": {"BTC": 1}}]}  # fmt: skip
    db = f"sqlite:///{tmp_path / 's.sqlite3'}"
    with ReplayServer(binance_routes()) as exchange:
        config = str(write_portfolio(tmp_path, exchange.url, rules=rules))
        yahoo = httpserver.url_for("/")
        result = invoke("history", "fetch", "--config", config, "--db", db, "--now", NOW,
                        "--retries", "1", "--yahoo-url", yahoo, env=ENV)  # fmt: skip
        assert result.exit_code == 3, result.output
        assert "binance BTC/USDT: 1467 daily closes saved" in result.output  # saved anyway
        assert "failed: index:MOVE: Yahoo Finance GET /v8/finance/chart/^MOVE: HTTP 503 " in (
            result.output
        )
        assert "missing after this fetch: index:MOVE (missing)" in result.output
        checked = invoke("check", "--config", config, "--db", db, "--now", NOW, env=ENV)
    assert "close:BTC: 1467 days stored" in checked.output and "; ok" in checked.output
    assert len(httpserver.log) == 2  # the first attempt and one retry


def test_livecoinwatch_key_gives_real_dominance_and_never_leaks(
    tmp_path: Path, httpserver: HTTPServer
):
    with (HISTORY / "btc_dominance_pct_daily_2018-2021.csv").open() as handle:
        reference = {
            date.fromisoformat(r["Date"]): float(r["value"]) for r in csv.DictReader(handle)
        }

    def history(request: Request) -> Response:
        if request.headers.get("x-api-key") != "lcw-day-one-secret":
            return Response('{"error": {"code": 401}}', status=401)
        body = json.loads(request.data)
        points = [{"date": ms(d), "cap": 1e12, "volume": 1e10, "liquidity": 1e9,
                   "btcDominance": v / 100} for d, v in sorted(reference.items())
                  if body["start"] <= ms(d) <= body["end"]]  # fmt: skip
        return Response(json.dumps(points), content_type="application/json")

    httpserver.expect_request("/overview/history", method="POST").respond_with_handler(history)
    rules = {"rules": {"dom": RULES["rules"]["dominance_rolling_over"]},
             "regimes": [{"name": "hold", "targets": {"BTC": 1}}]}  # fmt: skip
    config = str(write_portfolio(tmp_path, "http://127.0.0.1:9", rules=rules))
    env = {**ENV, "LIVECOINWATCH_API_KEY": "lcw-day-one-secret",
           "ROTATOR_LIVECOINWATCH_URL": httpserver.url_for("/")}  # fmt: skip
    db = f"sqlite:///{tmp_path / 's.sqlite3'}"
    fetch = ("history", "fetch", "--config", config, "--db", db, "--now", NOW, "--no-ohlcv")
    result = invoke(*fetch, env=env)
    assert result.exit_code == 0, result.output
    assert "livecoinwatch: 93 days of BTC dominance saved (2021-07-21 to 2021-10-21)" in (
        result.output
    )
    signals = invoke("signals", "--config", config, "--db", db, "--as-of", "2021-10-21",
                     "--format", "json", env=env)  # fmt: skip
    (rule,) = json.loads(signals.stdout)["rules"]
    assert rule["value"] in ("true", "false")
    dominance = float(rule["inputs"]["dominance_pct"])  # a decimal string
    assert dominance == pytest.approx(reference[date(2021, 10, 21)], abs=0.01)
    wrong = invoke(*fetch, env={**env, "LIVECOINWATCH_API_KEY": "lcw-wrong-secret"})
    assert wrong.exit_code == 3
    assert "LiveCoinWatch POST /overview/history: HTTP 401 (check the API key)" in wrong.output
    assert "secret" not in result.output + wrong.output + signals.output
