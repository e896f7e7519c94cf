"""`rotator signals`, `rotator history import/fetch` and `plan --explain` through the real CLI."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from rotator.adapters.storage.db import open_engine
from rotator.adapters.storage.market import load_evaluations, load_history
from rotator.cli.app import cli
from rotator.demo.replay import ReplayServer, api_urls_for

ROOT = Path(__file__).resolve().parents[1]
HISTORY = ROOT / "tests" / "fixtures" / "history"
BTC = HISTORY / "coingecko_btc-usd_daily_2013-2021.csv"
DOMINANCE = HISTORY / "btc_dominance_pct_daily_2018-2021.csv"
COINGECKO = ROOT / "tests" / "fixtures" / "coingecko"
EXCHANGES = ROOT / "tests" / "fixtures" / "exchanges" / "binance"


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    assert invoke("history", "import", str(BTC), "--db", url).exit_code == 0
    result = invoke("history", "import", str(DOMINANCE), "--kind", "dominance", "--db", url)
    assert result.exit_code == 0 and "1461 days of BTC dominance" in result.output
    return url


def signals_json(db: str, *args: str) -> dict:
    rules = str(ROOT / "rules" / "cycle.yaml")
    result = invoke("signals", "--rules", rules, "--db", db, "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_what_did_my_rules_say_on_a_day(db: str):
    report = signals_json(db, "--as-of", "2021-01-07")
    values = {r["rule"]: r["value"] for r in report["rules"]}
    assert values["btc_above_prior_high"] == "true"
    assert report["rules_as_of"] == "2021-01-07"
    btc = next(r for r in report["rules"] if r["rule"] == "btc_above_prior_high")
    with BTC.open() as handle:
        close = next(
            float(r["price"]) for r in csv.DictReader(handle) if "2021-01-07" in r["snapped_at"]
        )
    assert float(btc["inputs"]["close"]) == round(close, 2)  # a decimal string
    assert btc["data_as_of"] == "2021-01-07" and btc["age_days"] == 0
    assert report["regime"] in {"rotate", "ride_btc"}


def test_evaluations_are_stored(db: str):
    signals_json(db, "--as-of", "2020-06-01")
    stored = load_evaluations(open_engine(db), as_of=date(2020, 6, 1))
    assert {e.rule for e in stored} >= {"btc_above_prior_high", "dominance_rolling_over"}
    assert all(e.run_id is None for e in stored)


def test_stale_inputs_are_unknown_and_regime_falls_through(db: str):
    report = signals_json(db, "--as-of", "2022-02-01")  # history ends 2021-12-31
    values = {r["rule"]: r["value"] for r in report["rules"]}
    assert values == {
        "btc_above_prior_high": "unknown",
        "dominance_rolling_over": "unknown",
        "dominance_rising": "unknown",
        "rotate_now": "unknown",
    }
    assert report["regime"] == "accumulate"
    text = "\n".join(report["explanation"])
    assert "regime rotate: skipped: rotate_now is unknown" in text
    assert "close:BTC is stale: newest value 2021-12-31 is 32 days old (max_age 2)" in text


def test_signals_table_output(db: str):
    rules = str(ROOT / "rules" / "cycle.yaml")
    result = invoke("signals", "--rules", rules, "--db", db, "--as-of", "2021-05-20")
    assert result.exit_code == 0
    assert "regime: rotate" in result.output
    assert "dominance_rolling_over" in result.output and "2021-05-20" in result.output


def test_signals_demo_offline_basket_holds_each_exchange_code_once():
    result = invoke("signals", "--demo", "--format", "json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["rules_as_of"] == "2021-05-20" and report["regime"] == "rotate"
    # The demo's universe has two tokens called VELO (velodrome-finance, velo): neither may be
    # bought under that code, as `rotator screen` says, and none's weight turns into cash.
    rule = next(r for r in report["rules"] if r["rule"] == "revenue_basket")
    members = rule["inputs"]["basket"]
    codes = [m["symbol"] for m in members]
    assert len(codes) == len(set(codes))
    assert {m["symbol"]: m["weight"] for m in members} == {
        code: weight for code, weight in rule["basket"].items() if code != "CASH"
    }
    assert sum(Decimal(w) for w in rule["basket"].values()) == 1
    assert "VELO" not in rule["basket"] and "VELO" not in report["targets"]
    left_out = {m["gecko_id"]: m["reason"] for m in rule["inputs"]["left_out"]}
    assert set(left_out) == {"velodrome-finance", "velo"}
    assert "left out: symbol VELO is shared by velo, velodrome-finance" in rule["reason"]


def test_plan_demo_explain_shows_regime_and_rules():
    result = invoke("plan", "--demo", "--explain", "--format", "json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["regime"] == "rotate"
    assert any("regime rotate: chosen" in line for line in plan["explanation"])


def test_plan_demo_forced_regime_and_bad_regime():
    forced = invoke("plan", "--demo", "--regime", "accumulate", "--format", "json")
    assert forced.exit_code == 0
    assert json.loads(forced.stdout)["regime"] == "accumulate"
    bad = CliRunner().invoke(cli, ["plan", "--demo", "--regime", "moon"])
    assert bad.exit_code == 2
    assert (
        "--regime moon: no such regime" in bad.output
        and "rotate, ride_btc, accumulate" in bad.output
    )


def test_plan_explain_stale_history_falls_through():
    result = invoke("plan", "--demo", "--explain", "--as-of", "2023-01-01", "--format", "json")
    plan = json.loads(result.stdout)
    assert plan["regime"] == "accumulate"
    assert any(
        "is unknown (does not fire on missing or stale data)" in x for x in plan["explanation"]
    )


def test_reimport_is_idempotent(db: str):
    before = load_history(open_engine(db), ["close:BTC"], date(2021, 12, 31))["close:BTC"]
    assert invoke("history", "import", str(BTC), "--db", db).exit_code == 0
    after = load_history(open_engine(db), ["close:BTC"], date(2021, 12, 31))["close:BTC"]
    assert len(before) == len(after) == 3168


def test_bad_as_of_is_usage_error(db: str):
    result = CliRunner().invoke(cli, ["signals", "--db", db, "--as-of", "07/01/2021"])
    assert result.exit_code == 2 and "expected a date like 2021-01-07" in result.output


# -- history fetch: CoinGecko on pytest-httpserver, candles from a local exchange server --------


def klines_route(closes: dict[date, float]):
    """Binance GET /api/v3/klines in its documented layout, from real daily closes."""

    def body(request) -> bytes:
        start = int(request.query.get("startTime", ["0"])[0])
        limit = int(request.query.get("limit", ["500"])[0])
        rows = []
        for day in sorted(closes):
            ms = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)
            if ms >= start:
                c = f"{closes[day]:.2f}"
                rows.append([ms, c, c, c, c, "100.0", ms + 86_399_999, "0", 10, "0", "0", "0"])
        return json.dumps(rows[:limit]).encode()

    return body


def test_history_fetch_candles_and_dominance(tmp_path: Path, httpserver: HTTPServer, monkeypatch):
    today = datetime.now(UTC).date()
    closes = {today - timedelta(days=k): 50_000.0 + k for k in range(0, 40)}
    routes = {
        "GET /api/v3/exchangeInfo": (EXCHANGES / "api_v3_exchangeInfo.json").read_bytes(),
        "GET /api/v3/klines": klines_route(closes),
    }
    glob = json.loads((COINGECKO / "global.composed.json").read_text())
    glob["data"]["updated_at"] = int(datetime.now(UTC).timestamp())  # the value is dated by it
    httpserver.expect_request("/api/v3/global").respond_with_json(glob)
    monkeypatch.setenv("CG_KEY", "sentinel-cg-key-123")
    with ReplayServer(routes) as server:
        settings = {"rateLimit": 1, "timeout": 2000, "urls": api_urls_for("binance", server.url)}
        (tmp_path / "portfolio.yaml").write_text(
            "rules: rules.yaml\n"
            "targets: {BTC: 1}\n"
            "accounts:\n"
            "  - {name: main, exchange: binance, api_key_env: NOPE_KEY, secret_env: NOPE_SECRET,\n"
            f"     ccxt: {json.dumps(settings)}}}\n"
        )
        (tmp_path / "rules.yaml").write_text(
            "rules:\n"
            "  up: {kind: prior_high_break, asset: BTC, level: 10000}\n"
            "  dom: {kind: dominance, test: above, level: 40}\n"
            "regimes:\n  - name: hold\n    targets: {BTC: 1}\n"
        )
        db = f"sqlite:///{tmp_path / 'store.sqlite3'}"
        args = [
            "history",
            "fetch",
            "--config",
            str(tmp_path / "portfolio.yaml"),
            "--db",
            db,
            "--since",
            (today - timedelta(days=30)).isoformat(),
            "--coingecko-url",
            httpserver.url_for("/api/v3"),
            "--coingecko-key-env",
            "CG_KEY",
            "--dominance-method",
            "global",  # today's value only (the default fetches history)
        ]
        first = invoke(*args)
        assert first.exit_code == 0, first.output
        assert "binance BTC/USDT: 30 daily closes saved" in first.output  # today is not closed
        assert "coingecko/global: BTC dominance 46.91%" in first.output
        again = invoke(*args)  # incremental: only from the newest stored day on
        assert "binance BTC/USDT: 1 daily closes saved" in again.output
        klines = server.requests_to("GET /api/v3/klines")
    assert klines and all(r.query["interval"] == ["1d"] for r in klines)
    key_headers = [r.headers.get("x-cg-demo-api-key") for r, _ in httpserver.log]
    assert key_headers == ["sentinel-cg-key-123"] * 2
    assert "sentinel-cg-key-123" not in first.output + again.output
    history = load_history(open_engine(db), ["close:BTC", "btc_dominance"], today)
    assert history["close:BTC"].index[-1].date() == today - timedelta(days=1)
    assert history["btc_dominance"].iloc[-1] == pytest.approx(46.9051)
    report = json.loads(
        invoke(
            "signals", "--config", str(tmp_path / "portfolio.yaml"), "--db", db, "--format", "json"
        ).output
    )
    assert {r["rule"]: r["value"] for r in report["rules"]} == {"up": "true", "dom": "true"}


def test_history_fetch_reports_source_failure(tmp_path: Path, httpserver: HTTPServer):
    httpserver.expect_request("/api/v3/global").respond_with_data("no", status=401)
    (tmp_path / "rules.yaml").write_text(
        "rules:\n  dom: {kind: dominance, test: above, level: 40}\n"
        "regimes:\n  - name: hold\n    targets: {BTC: 1}\n"
    )
    result = CliRunner().invoke(
        cli,
        [
            "history",
            "fetch",
            "--rules",
            str(tmp_path / "rules.yaml"),
            "--db",
            f"sqlite:///{tmp_path / 's.sqlite3'}",
            "--no-ohlcv",
            "--dominance-method",
            "global",
            "--coingecko-url",
            httpserver.url_for("/api/v3"),
        ],
    )
    assert result.exit_code == 3
    assert "failed: CoinGecko GET /global: HTTP 401 (check the API key)" in result.output


def test_demo_uses_its_own_database(isolated_dirs: Path):
    assert invoke("signals", "--demo").exit_code == 0
    data = isolated_dirs / "data"
    assert (data / "demo.sqlite3").exists()
    assert not (data / "rotator.sqlite3").exists()  # the user's default database is untouched


def test_import_prices_with_symbol_column(tmp_path: Path):
    # Kaggle/CoinMarketCap layout: the asset comes from the Symbol column.
    path = tmp_path / "coin_Ethereum.csv"
    path.write_text(
        "SNo,Name,Symbol,Date,High,Low,Open,Close,Volume,Marketcap\n"
        "1,Ethereum,ETH,2021-07-05 23:59:59,2350.1,2200.2,2321.9,2226.1,18787107145.0,259.5e9\n"
        "2,Ethereum,ETH,2021-07-06 23:59:59,2346.3,2215.5,2226.5,2322.7,24354670783.0,270.8e9\n"
    )
    db = f"sqlite:///{tmp_path / 's.sqlite3'}"
    result = invoke("history", "import", str(path), "--db", db)
    assert result.exit_code == 0 and "2 daily closes of ETH/USD" in result.output
    history = load_history(open_engine(db), ["close:ETH", "high:ETH", "mcap:ETH"], date(2021, 7, 6))
    assert history["close:ETH"].tolist() == [2226.1, 2322.7]
    assert history["high:ETH"].iloc[-1] == 2346.3 and history["mcap:ETH"].iloc[-1] == 270.8e9


def test_signals_say_when_a_regime_is_held_by_hysteresis():
    rules = str(ROOT / "rules" / "cycle.yaml")
    args = ["--demo", "--rules", rules, "--no-save"]
    held = json.loads(invoke("signals", *args, "--as-of", "2021-01-05", "--format", "json").output)
    assert held["regime"] == "rotate" and held["regime_held_by_hysteresis"] is True
    assert held["explanation"][0].startswith(
        "regime rotate: held by hysteresis (min_days 30: entered 2020-12-19"
    )
    assert "its conditions now choose ride_btc" in held["explanation"][0]
    table = invoke("signals", *args, "--as-of", "2021-01-05").output
    assert "regime: rotate (held by hysteresis)" in table
    free = json.loads(invoke("signals", *args, "--as-of", "2021-02-20", "--format", "json").output)
    assert free["regime_held_by_hysteresis"] is False
