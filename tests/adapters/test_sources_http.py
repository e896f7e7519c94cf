"""CoinGecko and FRED sources against pytest-httpserver on 127.0.0.1 (documented shapes)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from email.utils import formatdate
from pathlib import Path

import pytest
from fake_clock import FakeClock
from pytest_httpserver import HTTPServer

from rotator.adapters.sources.coingecko import coingecko_client, fetch_dominance
from rotator.adapters.sources.fred import fetch_series, fred_client
from rotator.adapters.sources.http import JsonClient, SourceError

CLOCK = FakeClock().clock  # a client's waits are recorded, never slept

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NOW = datetime(2023, 7, 28, 21, 0, tzinfo=UTC)


def fast(client: JsonClient) -> JsonClient:
    client.backoff = 0.0
    client.min_interval = 0.0
    return client


def test_global_dominance(httpserver: HTTPServer):
    payload = json.loads((FIXTURES / "coingecko" / "global.composed.json").read_text())
    httpserver.expect_request("/api/v3/global").respond_with_json(payload)
    with coingecko_client({}, base_url=httpserver.url_for("/api/v3"), clock=CLOCK) as client:
        obs = fetch_dominance(client, NOW)
    assert obs.dominance_pct == payload["data"]["market_cap_percentage"]["btc"]
    assert obs.day == date(2023, 7, 28) and obs.source == "coingecko/global"
    assert obs.total_market_cap == payload["data"]["total_market_cap"]["usd"]


def test_dominance_from_coins_markets(httpserver: HTTPServer):
    coins = json.loads(
        (FIXTURES / "coingecko" / "dominance_coins_markets.usd.2023-07-28.json").read_text()
    )
    httpserver.expect_request(
        "/api/v3/coins/markets",
        query_string={
            "vs_currency": "usd",
            "order": "market_cap_desc",
            "per_page": "250",
            "page": "1",
        },
    ).respond_with_json(coins)
    with coingecko_client({}, base_url=httpserver.url_for("/api/v3"), clock=CLOCK) as client:
        obs = fetch_dominance(client, NOW, method="markets")
    caps = [c["market_cap"] for c in coins]
    assert obs.dominance_pct == pytest.approx(coins[0]["market_cap"] / sum(caps) * 100)
    assert obs.day == date(2023, 7, 28)


def test_retries_429_then_succeeds(httpserver: HTTPServer):
    httpserver.expect_ordered_request("/api/v3/global").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "0"}
    )
    httpserver.expect_ordered_request("/api/v3/global").respond_with_json(
        {"data": {"market_cap_percentage": {"btc": 51.2}, "updated_at": 1690574400}}
    )
    client = fast(coingecko_client({}, base_url=httpserver.url_for("/api/v3"), clock=CLOCK))
    with client:
        assert fetch_dominance(client, NOW).dominance_pct == 51.2
    assert len(httpserver.log) == 2


def test_retry_after_as_an_http_date_is_honoured(httpserver: HTTPServer):
    # RFC 9110 allows an HTTP date as well as seconds; both are waited out (capped).
    # Read against the run's clock: the fake's wall time, whatever the real date.
    fake = FakeClock()
    when = formatdate(fake.now().timestamp() + 20, usegmt=True)
    httpserver.expect_ordered_request("/api/v3/global").respond_with_data(
        "slow down", status=429, headers={"Retry-After": when}
    )
    httpserver.expect_ordered_request("/api/v3/global").respond_with_json(
        {"data": {"market_cap_percentage": {"btc": 51.2}, "updated_at": 1690574400}}
    )
    client = fast(coingecko_client({}, base_url=httpserver.url_for("/api/v3"), clock=fake.clock))
    with client:
        assert fetch_dominance(client, NOW).dominance_pct == 51.2
    assert fake.waits == [20.0]


def test_gives_up_after_bounded_retries(httpserver: HTTPServer):
    httpserver.expect_request("/api/v3/global").respond_with_data("down", status=502)
    client = fast(coingecko_client({}, base_url=httpserver.url_for("/api/v3"), clock=CLOCK))
    client.retries = 2
    with client, pytest.raises(SourceError, match=r"GET /global: HTTP 502 \(3 attempts\)"):
        fetch_dominance(client, NOW)
    assert len(httpserver.log) == 3


def test_key_header_sent_and_never_echoed(httpserver: HTTPServer):
    httpserver.expect_request(
        "/api/v3/global", headers={"x-cg-pro-api-key": "s3cret-pro"}
    ).respond_with_data("bad key s3cret-pro", status=401)
    env = {"MY_CG": "s3cret-pro"}
    client = coingecko_client(
        env, base_url=httpserver.url_for("/api/v3"), key_env="MY_CG", plan="pro",
        clock=CLOCK,
    )  # fmt: skip
    with client, pytest.raises(SourceError) as info:
        fetch_dominance(client, NOW)
    assert "HTTP 401 (check the API key)" in str(info.value)
    assert "s3cret-pro" not in str(info.value)


def test_malformed_global_is_an_error(httpserver: HTTPServer):
    httpserver.expect_request("/api/v3/global").respond_with_json({"data": {}})
    with (
        coingecko_client({}, base_url=httpserver.url_for("/api/v3"), clock=CLOCK) as client,
        pytest.raises(SourceError, match=r"no data\.market_cap_percentage\.btc"),
    ):
        fetch_dominance(client, NOW)


def test_fred_observations(httpserver: HTTPServer):
    payload = json.loads((FIXTURES / "fred" / "walcl_observations.composed.json").read_text())
    httpserver.expect_request(
        "/fred/series/observations",
        query_string={
            "series_id": "WALCL",
            "api_key": "k",
            "file_type": "json",
            "observation_start": "2024-01-01",
        },
    ).respond_with_json(payload)
    with fred_client({}, base_url=httpserver.url_for("/fred"), clock=CLOCK) as client:
        rows = fetch_series(client, "WALCL", "k", date(2024, 1, 1))
    assert [(r.day.isoformat(), r.value) for r in rows] == [
        ("2024-01-03", 7713506.0),
        ("2024-01-10", 7681569.0),
        ("2024-01-17", 7674436.0),
    ]  # the "." row (no observation) is skipped


def test_rate_limit_spaces_calls(httpserver: HTTPServer):
    httpserver.expect_request("/api/v3/global").respond_with_json(
        {"data": {"market_cap_percentage": {"btc": 50.0}}}
    )
    fake = FakeClock()
    client = coingecko_client({}, base_url=httpserver.url_for("/api/v3"), clock=fake.clock)
    with client:
        fetch_dominance(client, NOW)
        fake.elapsed += 1.0
        fetch_dominance(client, NOW)
    assert fake.waits == [pytest.approx(5.0)]  # free tier: 10 calls a minute -> 6 s apart
