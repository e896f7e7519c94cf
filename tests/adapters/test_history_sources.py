"""The keyless history sources against pytest-httpserver on 127.0.0.1, in documented layouts.

CoinGecko's market_chart is parsed from a recorded response and from daily charts composed of
real market caps; LiveCoinWatch and Yahoo responses are composed in their documented layouts
(tests/fixtures/coingecko/SOURCES.md); FRED's CSV download is a real file.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fake_clock import FakeClock
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from rotator.adapters.sources.coingecko import coingecko_client
from rotator.adapters.sources.coingecko_history import (
    fetch_dominance_proxy,
    fetch_global_dominance,
    parse_market_chart,
)
from rotator.adapters.sources.fred import fetch_fredgraph, fredgraph_client, parse_fredgraph_csv
from rotator.adapters.sources.http import SourceError
from rotator.adapters.sources.livecoinwatch import fetch_dominance_history, livecoinwatch_client
from rotator.adapters.sources.yahoo import fetch_index, parse_chart, yahoo_client

CLOCK = FakeClock().clock  # a client's waits are recorded, never slept

RECORDED_AT = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)  # the run time rows are stored with

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def daily_chart(caps: dict[date, float], until: date) -> dict[str, list[list[float]]]:
    """A market_chart response: one point a day at 00:00 UTC, then one at 'now' (until, noon)."""
    points = [[ms(d), v] for d, v in sorted(caps.items()) if d < until]
    now = [ms(until) + 43_200_000, points[-1][1] * 1.5]  # today's moving value: dropped
    return {"prices": [*points, now], "market_caps": [*points, now], "total_volumes": points}


def test_recorded_market_chart_keeps_closed_days_only():
    payload = json.loads(
        (FIXTURES / "coingecko/market_chart.matic-network.days1.2023-03-15.json").read_text()
    )
    prices, caps = parse_market_chart(payload, "matic-network", until=date(2023, 3, 15))
    assert list(caps) == [date(2023, 3, 14)]  # the 5-minute points of 03-15 are the open day
    assert caps[date(2023, 3, 14)] == pytest.approx(10790041353.241419)  # its first point
    assert prices[date(2023, 3, 14)] == pytest.approx(payload["prices"][0][1])


def test_market_chart_rejects_a_payload_without_caps():
    with pytest.raises(SourceError, match="no `market_caps` list"):
        parse_market_chart({"prices": []}, "bitcoin", date(2024, 1, 1))


def test_proxy_from_composed_daily_charts(httpserver: HTTPServer):
    until = date(2024, 1, 11)
    days = [until - timedelta(days=k) for k in range(1, 11)]
    btc = {d: 800.0 + k for k, d in enumerate(days)}
    eth = {d: 200.0 for d in days}
    httpserver.expect_request("/coins/markets").respond_with_json(
        [{"id": "bitcoin", "symbol": "btc"}, {"id": "ethereum", "symbol": "eth"}]
    )
    httpserver.expect_request("/coins/bitcoin/market_chart").respond_with_json(
        daily_chart(btc, until)
    )
    httpserver.expect_request("/coins/ethereum/market_chart").respond_with_json(
        daily_chart(eth, until)
    )
    steps: list[int] = []
    with coingecko_client(
        {}, base_url=httpserver.url_for("/"), calls_per_minute=0, clock=CLOCK
    ) as client:
        rows = fetch_dominance_proxy(client, 2, 10, until, progress=steps.append)
    assert [r.day for r in rows] == sorted(days)
    assert {r.source for r in rows} == {"proxy:coingecko-top2"}
    first = min(days)
    assert rows[0].dominance_pct == pytest.approx(btc[first] / (btc[first] + 200) * 100)
    assert steps == [1, 1]
    chart = [r for r, _ in httpserver.log if r.path.endswith("market_chart")]
    assert all(r.args["days"] == "10" and r.args["interval"] == "daily" for r in chart)


def test_proxy_fails_whole_when_one_coin_fails(httpserver: HTTPServer):
    httpserver.expect_request("/coins/markets").respond_with_json(
        [{"id": "bitcoin", "symbol": "btc"}, {"id": "ethereum", "symbol": "eth"}]
    )
    chart = daily_chart({date(2024, 1, 1): 1.0}, date(2024, 1, 2))
    httpserver.expect_request("/coins/bitcoin/market_chart").respond_with_json(chart)
    httpserver.expect_request("/coins/ethereum/market_chart").respond_with_data("gone", status=404)
    client = coingecko_client({}, base_url=httpserver.url_for("/"), calls_per_minute=0, clock=CLOCK)
    with client, pytest.raises(SourceError, match="ethereum/market_chart: HTTP 404"):
        fetch_dominance_proxy(client, 2, 5, date(2024, 1, 2))


def test_rate_limit_is_retried_after_the_servers_delay(httpserver: HTTPServer):
    limited = Response("slow down", status=429, headers={"Retry-After": "7"})
    httpserver.expect_ordered_request("/coins/markets").respond_with_response(limited)
    httpserver.expect_ordered_request("/coins/markets").respond_with_json(
        [{"id": "bitcoin", "symbol": "btc"}]
    )
    chart = daily_chart({date(2024, 1, 1): 5.0}, date(2024, 1, 2))
    httpserver.expect_ordered_request("/coins/bitcoin/market_chart").respond_with_json(chart)
    fake = FakeClock()
    with coingecko_client(
        {}, base_url=httpserver.url_for("/"), calls_per_minute=0, clock=fake.clock, backoff=1
    ) as client:
        rows = fetch_dominance_proxy(client, 1, 2, date(2024, 1, 2))
    assert fake.waits == [7.0] and rows[0].dominance_pct == pytest.approx(100.0)


def lcw_history(dominance: dict[date, float]):
    """POST /overview/history: every point between start and end, in the documented layout."""

    def handler(request: Request) -> Response:
        assert request.headers.get("x-api-key") == "lcw-sentinel-key"
        body = json.loads(request.data)
        points = [
            {"date": ms(d) + 3_600_000 * h, "cap": 1e12, "volume": 1e10, "liquidity": 1e9,
             "btcDominance": share + h / 1000}
            for d, share in sorted(dominance.items())
            for h in (0, 12)  # two points a day: the later one is the day's
            if body["start"] <= ms(d) <= body["end"]
        ]  # fmt: skip
        return Response(json.dumps(points), content_type="application/json")

    return handler


def test_livecoinwatch_pages_windows_and_keeps_each_days_last_point(httpserver: HTTPServer):
    until = date(2024, 6, 1)
    start = until - timedelta(days=200)
    dominance = {start + timedelta(days=k): 0.50 for k in range(200)}
    httpserver.expect_request("/overview/history", method="POST").respond_with_handler(
        lcw_history(dominance)
    )
    env = {"LCW": "lcw-sentinel-key"}
    with livecoinwatch_client(
        env, base_url=httpserver.url_for("/"), key_env="LCW", clock=CLOCK
    ) as client:
        client.min_interval = 0
        rows = fetch_dominance_history(client, start, until)
    assert len(rows) == 200 and rows[0].day == start and rows[-1].day == until - timedelta(days=1)
    assert rows[0].dominance_pct == pytest.approx(51.2)  # 0.512 (12:00 point) as percent
    assert {r.source for r in rows} == {"livecoinwatch"}
    assert len(httpserver.log) == 3  # 90 + 90 + 20 days


def test_livecoinwatch_without_its_key_says_which_variable():
    with pytest.raises(SourceError, match="set LCW to a"):
        livecoinwatch_client({}, key_env="LCW", clock=CLOCK)


def yahoo_payload(closes: dict[date, float | None]) -> dict:
    stamps = [int(ms(d) / 1000) + 48_600 for d in sorted(closes)]  # 13:30 UTC, the NY open
    return {
        "chart": {
            "result": [
                {
                    "meta": {"symbol": "^MOVE", "currency": "USD", "dataGranularity": "1d"},
                    "timestamp": stamps,
                    "indicators": {"quote": [{"close": [closes[d] for d in sorted(closes)]}]},
                }
            ],
            "error": None,
        }
    }


def test_yahoo_move_closes_skip_nulls_and_the_open_day(httpserver: HTTPServer):
    closes = {date(2024, 3, 4): 110.5, date(2024, 3, 5): None, date(2024, 3, 6): 101.25}
    closes[date(2024, 3, 7)] = 99.0  # today: still trading
    httpserver.expect_request("/v8/finance/chart/^MOVE").respond_with_json(yahoo_payload(closes))
    with yahoo_client(base_url=httpserver.url_for("/"), clock=CLOCK) as client:
        rows = fetch_index(client, "^MOVE", "index:MOVE", date(2024, 3, 1), date(2024, 3, 7))
    assert [(r.day, r.value) for r in rows] == [
        (date(2024, 3, 4), 110.5),
        (date(2024, 3, 6), 101.25),
    ]
    assert {r.series for r in rows} == {"index:MOVE"} and {r.source for r in rows} == {"yahoo"}
    ((request, _),) = httpserver.log
    assert request.args["interval"] == "1d" and request.args["period2"] == str(
        ms(date(2024, 3, 7)) // 1000
    )


def test_yahoo_error_object_is_a_source_error():
    payload = {
        "chart": {
            "result": None,
            "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"},
        }
    }
    with pytest.raises(SourceError, match="symbol may be delisted"):
        parse_chart(payload, "index:MOVE", date(2024, 1, 1))


def test_fredgraph_csv_real_file(httpserver: HTTPServer):
    text = (FIXTURES / "fred/DGS10.fredgraph.csv").read_text()
    httpserver.expect_request("/graph/fredgraph.csv").respond_with_data(
        text, content_type="text/csv"
    )
    with fredgraph_client(base_url=httpserver.url_for("/"), clock=CLOCK) as client:
        rows = fetch_fredgraph(client, "DGS10", date(2021, 12, 1))
    assert rows[0].day == date(2021, 12, 1) and rows[-1].day == date(2021, 12, 31)
    assert rows[-1].value == 1.52 and {r.series for r in rows} == {"DGS10"}
    assert date(2021, 12, 24) not in {r.day for r in rows}  # holiday: empty value, not 0
    ((request, _),) = httpserver.log
    assert request.args["id"] == "DGS10" and request.args["cosd"] == "2021-12-01"


def test_fredgraph_rejects_an_html_page():
    with pytest.raises(SourceError, match="not a FRED CSV"):
        parse_fredgraph_csv("WALCL", "<!DOCTYPE html><html>maintenance</html>\n")
    with pytest.raises(SourceError, match="holds DGS10, not WALCL"):
        parse_fredgraph_csv("WALCL", "observation_date,DGS10\n2024-01-02,3.9\n")


def test_store_never_splices_the_proxy_into_real_dominance(tmp_path: Path):
    from rotator.adapters.storage.coverage import stored_extents
    from rotator.adapters.storage.db import open_engine
    from rotator.adapters.storage.market import load_history, save_dominance
    from rotator.core.history import DominanceObservation

    engine = open_engine(f"sqlite:///{tmp_path / 's.sqlite3'}")
    day = [date(2024, 1, 1) + timedelta(days=k) for k in range(5)]
    save_dominance(
        engine,
        [DominanceObservation("proxy:coingecko-top10", d, 70.0) for d in day[:3]],
        recorded_at=RECORDED_AT,
    )
    save_dominance(
        engine, [DominanceObservation("livecoinwatch", day[3], 55.0)], recorded_at=RECORDED_AT
    )
    proxy = load_history(engine, ["btc_dominance"], day[4])["btc_dominance"]
    assert proxy.tolist() == [70.0, 70.0, 70.0]  # more proxy days: the proxy alone
    assert stored_extents(engine, ["btc_dominance"])["btc_dominance"].sources == (
        "proxy:coingecko-top10",
    )
    save_dominance(
        engine,
        [DominanceObservation("livecoinwatch", d, 55.0) for d in day],
        recorded_at=RECORDED_AT,
    )
    real = load_history(engine, ["btc_dominance"], day[4])["btc_dominance"]
    assert real.tolist() == [55.0] * 5  # real dominance covers as much: never mixed
    engine.dispose()


def test_paid_global_chart_gives_real_dominance(httpserver: HTTPServer):
    import csv

    history = FIXTURES / "history"
    with (history / "coingecko_btc-usd_daily_2013-2021.csv").open() as handle:
        btc = {date.fromisoformat(r["snapped_at"][:10]): float(r["market_cap"])
               for r in csv.DictReader(handle) if r["market_cap"]}  # fmt: skip
    with (history / "coingecko_global_total_market_cap_daily_2013-2021.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    total = {datetime.fromtimestamp(int(r["snapped_at"]) / 1000, UTC).date(): float(r["market_cap"])
             for r in rows}  # fmt: skip
    with (history / "btc_dominance_pct_daily_2018-2021.csv").open() as handle:
        reference = {
            date.fromisoformat(r["Date"]): float(r["value"]) for r in csv.DictReader(handle)
        }
    until = date(2021, 6, 1)
    window = {d: v for d, v in total.items() if until - timedelta(days=30) <= d < until}
    httpserver.expect_request("/coins/bitcoin/market_chart").respond_with_json(
        daily_chart({d: v for d, v in btc.items() if d in window}, until)
    )
    chart = daily_chart(window, until)
    httpserver.expect_request("/global/market_cap_chart").respond_with_json(
        {"market_cap_chart": {"market_cap": chart["market_caps"], "volume": chart["total_volumes"]}}
    )
    env = {"CG_PRO": "cg-pro-sentinel"}
    with coingecko_client(env, base_url=httpserver.url_for("/"), key_env="CG_PRO", plan="pro",
                          calls_per_minute=0, clock=CLOCK) as client:  # fmt: skip
        rows = fetch_global_dominance(client, 30, until)
    # Every day both series have (the upstream total misses a few days in May 2021).
    assert [r.day for r in rows] == sorted(set(window) & set(btc)) and len(rows) >= 25
    assert {r.source for r in rows} == {"coingecko/market_cap_chart"}
    for row in rows:  # the reference was built the same way from CoinGecko's Pro API
        assert row.dominance_pct == pytest.approx(reference[row.day], abs=0.01)
    assert all(r.headers.get("x-cg-pro-api-key") == "cg-pro-sentinel" for r, _ in httpserver.log)
