"""Macro sources: every CSV layout `history import` takes, and the Fiscal Data buyback pager
against pytest-httpserver on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from fake_clock import FakeClock
from pytest_httpserver import HTTPServer

from rotator.adapters.sources.csv_import import import_csv
from rotator.adapters.sources.fiscaldata import (
    FiscalDataSettings,
    daily_accepted,
    fetch_buyback_operations,
    fiscaldata_client,
)
from rotator.adapters.sources.http import SourceError
from rotator.adapters.storage.db import open_engine
from rotator.adapters.storage.market import load_history
from rotator.cli.app import cli
from rotator.errors import ConfigError

CLOCK = FakeClock().clock  # a client's waits are recorded, never slept

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "rotator" / "demo" / "history"
FISCAL = ROOT / "tests" / "fixtures" / "fiscaldata"


def write(tmp_path: Path, name: str, text: str, bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return path


def imported(path: Path, *args: str, db: str) -> str:
    result = CliRunner().invoke(cli, ["history", "import", str(path), *args, "--db", db])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.sqlite3'}"


def history(db: str, *names: str, as_of: date = date(2030, 1, 1)) -> dict:
    return {
        k: dict(zip(v.index.date, v, strict=True))
        for k, v in load_history(open_engine(db), names, as_of).items()
    }


def test_fred_current_layout_with_blanks(tmp_path: Path, db: str):
    path = write(
        tmp_path,
        "DGS10.csv",
        "observation_date,DGS10\n2021-12-23,1.50\n2021-12-24,\n2021-12-27,1.48\n",
    )
    out = imported(path, db=db)
    assert "2 observations of fred:DGS10 (2021-12-23 to 2021-12-27), 1 blank days skipped" in out
    assert history(db, "fred:DGS10")["fred:DGS10"] == {
        date(2021, 12, 23): 1.5,
        date(2021, 12, 27): 1.48,
    }


def test_fred_legacy_layout_with_dots(tmp_path: Path, db: str):
    path = write(tmp_path, "RRPONTSYD.csv", "DATE,VALUE\n2021-12-30,1696.476\n2021-12-31,.\n")
    imported(path, db=db)
    assert history(db, "fred:RRPONTSYD")["fred:RRPONTSYD"] == {date(2021, 12, 30): 1696.476}
    # A legacy file not named after its series needs --series.
    other = write(tmp_path, "fredgraph.csv", "DATE,VALUE\n2021-12-29,8757460\n")
    with pytest.raises(ConfigError, match="pass --series fred:WALCL"):
        import_csv(other)
    imported(other, "--series", "fred:WALCL", db=db)
    assert history(db, "fred:WALCL")["fred:WALCL"] == {date(2021, 12, 29): 8757460.0}


def test_move_plain_layout_with_bom_and_the_real_file(tmp_path: Path, db: str):
    path = write(
        tmp_path,
        "MOVE.csv",
        "Date,Value\n2013-08-21,98.8\n2013-08-22,58.3\n2013-08-23,99.8\n",
        bom=True,
    )
    result = CliRunner().invoke(cli, ["history", "import", str(path), "--db", db])
    assert result.exit_code == 0
    assert "index:MOVE on 2013-08-22 is 58.3, far from 98.8" in result.output  # reported, kept
    assert history(db, "index:MOVE")["index:MOVE"][date(2013, 8, 22)] == 58.3
    real = import_csv(DEMO / "MOVE.csv")  # the bundled copy starts with a BOM
    assert len(real.macro) == 4735 and real.macro[0].day == date(2002, 11, 13)
    assert real.macro[0].series == "index:MOVE" and real.macro[-1].value == 77.1


def test_move_yahoo_layout(tmp_path: Path, db: str):
    path = write(
        tmp_path,
        "^MOVE.csv",
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "2025-04-07,120.1,141.2,118.0,139.88,139.88,0\n"
        "2025-04-08,null,null,null,null,null,null\n"
        "2025-04-09,140.0,140.5,128.3,130.01,130.01,0\n",
    )
    imported(path, db=db)
    assert history(db, "index:MOVE")["index:MOVE"] == {
        date(2025, 4, 7): 139.88,
        date(2025, 4, 9): 130.01,
    }


def test_date_value_file_of_a_known_series_and_the_real_files(tmp_path: Path, db: str):
    # The shared WTREGEN copy: `date,value`, pandas floats, blanks before 2002-12-18.
    tga = import_csv(DEMO / "WTREGEN.csv")
    assert tga.macro[0].series == "WTREGEN" and tga.macro[0].day == date(2002, 12, 18)
    assert tga.macro[-1].value == 211849.0 and len(tga.macro) == 994
    dgs10 = import_csv(DEMO / "DGS10.csv")
    assert len(dgs10.macro) == 14986 and "668 blank days skipped" in dgs10.description
    rrp = import_csv(DEMO / "RRPONTSYD.csv")
    assert all(o.value != 0 or o.day.year > 2012 for o in rrp.macro)  # blanks never zeros
    # An unknown `date,value` file stays ambiguous.
    plain = write(tmp_path, "series.csv", "date,value\n2021-01-01,5\n")
    with pytest.raises(ConfigError, match="--kind dominance or --kind prices"):
        import_csv(plain)


def test_bad_value_names_file_and_line(tmp_path: Path, db: str):
    path = write(
        tmp_path, "WALCL.csv", "observation_date,WALCL\n2021-12-22,8790495\n2021-12-29,n/a\n"
    )
    result = CliRunner().invoke(cli, ["history", "import", str(path), "--db", db])
    assert result.exit_code == 2
    assert f"{path}:3: WALCL: expected a number, got 'n/a'" in result.output


def pages() -> list[dict]:
    return [
        json.loads((FISCAL / f"buybacks_operations_page{n}.composed.json").read_text())
        for n in (1, 2)
    ]


def serve_pages(httpserver: HTTPServer, since: str, size: int = 3) -> None:
    for number, page in enumerate(pages(), start=1):
        httpserver.expect_ordered_request(
            "/v1/accounting/od/buybacks_operations",
            query_string={
                "filter": f"operation_date:gte:{since}",
                "sort": "-operation_date",
                "page[number]": str(number),
                "page[size]": str(size),
            },
        ).respond_with_json(page)


def test_fiscaldata_pager(httpserver: HTTPServer):
    serve_pages(httpserver, "2025-04-01")
    settings = FiscalDataSettings(base_url=httpserver.url_for("/"), page_size=3)
    with fiscaldata_client(settings, CLOCK) as client:
        client.min_interval = 0.0
        ops = fetch_buyback_operations(client, date(2025, 4, 1), settings)
    httpserver.check_assertions()
    assert [o.operation_date.isoformat() for o in ops] == [
        "2025-05-08",
        "2025-05-06",
        "2025-04-30",
        "2025-04-23",
        "2025-04-16",
    ]
    assert ops[0].total_par_amt_accepted is None  # announced, no results ("null")
    expected = {
        row["operation_date"]: float(row["total_par_amt_accepted"])
        for page in pages()
        for row in page["data"]
        if row["total_par_amt_accepted"] != "null"
    }
    daily = daily_accepted(ops, date(2025, 4, 1), date(2025, 5, 8))
    assert daily[0].day == date(2025, 4, 1) and daily[-1].day == date(2025, 5, 7)
    assert {o.day.isoformat(): o.value for o in daily if o.value} == expected
    assert sum(1 for o in daily if o.value == 0) == len(daily) - len(expected)


def test_fiscaldata_malformed_page(httpserver: HTTPServer):
    httpserver.expect_request("/v1/accounting/od/buybacks_operations").respond_with_json(
        {"data": [{"operation_date": "not a date"}], "meta": {"total-pages": 1}}
    )
    settings = FiscalDataSettings(base_url=httpserver.url_for("/"))
    with (
        fiscaldata_client(settings, CLOCK) as client,
        pytest.raises(SourceError, match="operation_date"),
    ):
        fetch_buyback_operations(client, date(2025, 4, 1), settings)


def test_history_fetch_gets_buybacks(httpserver: HTTPServer, tmp_path: Path, db: str):
    serve_pages(httpserver, "2025-04-01", size=100)
    rules = write(
        tmp_path,
        "rules.yaml",
        "rules:\n  bb: {kind: treasury_buybacks, test: rising}"
        "\nregimes:\n  - name: hold\n    targets: {BTC: 1}\n",
    )
    # Page 1 of 2 then page 2, both with page[size]=100 (the fixtures hold 3 and 2 rows).
    result = CliRunner().invoke(
        cli,
        [
            "history",
            "fetch",
            "--rules",
            str(rules),
            "--since",
            "2025-04-01",
            "--fiscaldata-url",
            httpserver.url_for("/"),
            "--no-ohlcv",
            "--db",
            db,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Fiscal Data buybacks: 4 operations with results" in result.output
    stored = history(db, "treasury:buybacks")["treasury:buybacks"]
    assert stored[date(2025, 4, 30)] == 2e9 and stored[date(2025, 4, 29)] == 0.0


def test_history_fetch_retries_fiscal_data_as_often_as_told(
    httpserver: HTTPServer, tmp_path: Path, db: str
):
    # --retries applies to Fiscal Data like every other source: with 0, one 503 is one call.
    httpserver.expect_request("/v1/accounting/od/buybacks_operations").respond_with_data(
        "busy", status=503
    )
    rules = write(
        tmp_path,
        "rules.yaml",
        "rules:\n  bb: {kind: treasury_buybacks, test: rising}"
        "\nregimes:\n  - name: hold\n    targets: {BTC: 1}\n",
    )
    args = ["history", "fetch", "--rules", str(rules), "--since", "2025-04-01", "--no-ohlcv"]
    args += ["--fiscaldata-url", httpserver.url_for("/"), "--retries", "0", "--db", db]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 3, result.output
    assert "Fiscal Data" in result.output and "HTTP 503 (1 attempts)" in result.output
    assert len(httpserver.log) == 1
