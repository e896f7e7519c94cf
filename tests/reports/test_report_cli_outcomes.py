"""`rotator report` outcomes through the real CLI: delivery sent, delivery failed (exit 5, the
report kept), an account that cannot be read (exit 3, the report says so prominently)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer
from simulation import demo_environ, simulated_market

from rotator.adapters.storage import report_store, run_queries
from rotator.adapters.storage.db import open_engine
from rotator.cli.app import cli


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in demo_environ().items():
        monkeypatch.setenv(name, value)


def run_report(config: Path, db: str):
    return CliRunner().invoke(cli, ["report", "--config", str(config), "--db", db])


def test_delivery_sent_and_recorded(tmp_path: Path, environ: None, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    db = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    with simulated_market(tmp_path) as market:
        delivery = {"webhooks": [{"name": "relay", "url": httpserver.url_for("/hook")}]}
        config = market.write_config(tmp_path / "p.yaml", tmp_path / "out", {"delivery": delivery})
        result = run_report(config, db)
    assert result.exit_code == 0, result.output
    assert "delivery webhook relay: sent" in result.output
    body = json.loads(httpserver.log[0][0].get_data())
    assert Path(body["report_html"]).exists()
    assert body["orders"] >= 1
    engine = open_engine(db)
    assert report_store.list_reports(engine)[0].delivery[0]["ok"] is True
    engine.dispose()


def test_failed_delivery_exits_5_and_keeps_the_report(
    tmp_path: Path, environ: None, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request("/hook").respond_with_data("down", status=500)
    db = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    with simulated_market(tmp_path) as market:
        delivery = {
            "webhooks": [{"name": "relay", "url": httpserver.url_for("/hook")}],
            "retry_delay_seconds": 0,
        }
        config = market.write_config(tmp_path / "p.yaml", tmp_path / "out", {"delivery": delivery})
        result = run_report(config, db)
    assert result.exit_code == 5, result.output
    assert "FAILED after 2 attempt(s): HTTP 500" in result.output
    assert len(httpserver.log) == 2
    assert len(list((tmp_path / "out").glob("report-*.html"))) == 1
    assert len(list((tmp_path / "out").glob("report-*.md"))) == 1
    engine = open_engine(db)
    record = report_store.list_reports(engine)[0]
    assert record.delivery[0]["ok"] is False and record.delivery[0]["attempts"] == 2
    engine.dispose()


def test_unreadable_account_exits_3_with_a_prominent_warning(tmp_path: Path, environ: None) -> None:
    db = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    with simulated_market(tmp_path) as market:
        config = market.write_config(tmp_path / "p.yaml", tmp_path / "out")
        import yaml

        data = yaml.safe_load(config.read_text())
        # kraken's API answers from a port where nothing listens
        dead = json.loads(
            json.dumps(data["accounts"][1]["ccxt"]).replace(market.server.url, "http://127.0.0.1:9")
        )
        data["accounts"][1]["ccxt"] = {**dead, "timeout": 2000}
        config.write_text(yaml.safe_dump(data))
        result = run_report(config, db)
    assert result.exit_code == 3, result.output
    html = next((tmp_path / "out").glob("report-*.html")).read_text()
    assert '<section id="warnings" class="warnings">' in html
    assert "Incomplete data" in html
    assert "kraken" in html.split('id="warnings"')[1].split("</section>")[0]
    engine = open_engine(db)
    stored = run_queries.list_runs(engine)
    assert stored[0].complete is False
    assert run_queries.daily_values(engine, until=stored[0].day) == []  # not a fake value drop
    engine.dispose()


def test_credentials_never_reach_report_files_or_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sentinel_key = "SENTINELkey0123456789abcdef"
    sentinel_secret = "SENTINELsecret0123456789abcdef"
    for name, value in demo_environ().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("BINANCE_API_KEY", sentinel_key)
    monkeypatch.setenv("BINANCE_SECRET", sentinel_secret)
    db_file = tmp_path / "r.sqlite3"

    def echo(request) -> bytes:
        # an exchange error that quotes the request back, headers and query included
        return json.dumps(
            {"code": -2015, "msg": f"Invalid API-key {dict(request.headers)} {request.raw_query}"}
        ).encode()

    with simulated_market(tmp_path) as market:
        market.server.fault("GET /binance/api/v3/account", status=401, body=echo)
        config = market.write_config(tmp_path / "p.yaml", tmp_path / "out")
        result = run_report(config, f"sqlite:///{db_file}")
        echoed = [r for r in market.server.requests if "/api/v3/account" in r.path]
    assert result.exit_code == 3, result.output
    assert echoed and sentinel_key in str(echoed[0].headers)  # the server did get it
    # the database file and its write-ahead log
    outputs = [result.output]
    outputs += [f.read_bytes().decode("latin-1") for f in tmp_path.glob("r.sqlite3*")]
    outputs += [p.read_text() for p in (tmp_path / "out").iterdir()]
    for text in outputs:
        assert sentinel_key not in text
        assert sentinel_secret not in text
    html = next((tmp_path / "out").glob("report-*.html")).read_text()
    assert "binance-main" in html.split('id="warnings"')[1].split("</section>")[0]


PAGE_PROBE = """
(() => ({
  sections: [...document.querySelectorAll('section')].map(s => s.id),
  text: document.body.innerText,
  warnings: [...document.querySelectorAll('#warnings li')].map(li => li.textContent.trim()),
  images: [...document.images].map(i => i.dataset.chart),
  noData: (document.getElementById('value-no-data') || {}).textContent || '',
}))()
"""


def test_incomplete_run_report_shows_no_made_up_numbers(tmp_path: Path, environ: None) -> None:
    from browser import chromium_path, inspect_page

    db = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    with simulated_market(tmp_path) as market:
        config = market.write_config(tmp_path / "p.yaml", tmp_path / "out")
        # every ticker unreadable: nothing has a fresh price
        market.server.fault("GET /binance/api/v3/ticker/bookTicker", status=503)
        market.server.fault("GET /binance/api/v3/ticker/24hr", status=503)
        result = run_report(config, db)
    assert result.exit_code == 3, result.output
    page = next((tmp_path / "out").glob("report-*.html"))
    html = page.read_text()
    markdown = next((tmp_path / "out").glob("report-*.md")).read_text()
    allocation = html.split('id="allocation"')[1].split("</section>")[0]
    # The total is unknown: no weight, drift or post-order weight is made up.
    rows = re.findall(r"<tr><td>(\w+)</td>((?:<td[^>]*>[^<]*</td>)+)</tr>", allocation)
    assert rows
    for _asset, cells in rows:
        _value, weight, _target, drift, after = re.findall(r">([^<]*)</td>", cells)
        assert (weight, drift, after) == ("-", "-", "-"), cells
    assert "No data yet" in html and "No data yet" in markdown
    holdings = html.split('id="holdings"')[1].split("</section>")[0]
    assert "binance-main" in holdings and "cold-storage" in holdings  # wallet names appear
    assert "no price" in holdings and "no price" in markdown
    if chromium_path() is None:
        return
    found = inspect_page(page, PAGE_PROBE)
    assert "holdings" in found["sections"]
    assert "`" not in found["text"]  # commands quoted in messages render as code
    assert len(found["warnings"]) == len(set(found["warnings"]))  # each warning once
    assert "value" not in found["images"] and "No data yet" in found["noData"]
