"""DefiLlama + CoinGecko adapters against documented response shapes served on 127.0.0.1.

The fixtures (tests/fixtures/defillama, see its SOURCES.md) are served by pytest-httpserver; the
real adapters fetch and parse them, the real screen joins them. Expected figures are recomputed
here by hand from the fixture numbers, never by calling the screen.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from fake_clock import FakeClock
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from rotator.adapters.sources.screen_inputs import ScreenSources, gather_screen_data
from rotator.adapters.storage.db import open_engine
from rotator.adapters.storage.source_cache import SourceCache
from rotator.core.screen.screening import ScreenParams, screen
from rotator.errors import Severity

FIXTURES = Path(__file__).parents[1] / "fixtures" / "defillama"
AS_OF = datetime(2023, 7, 29, 0, 0, tzinfo=UTC)
AT_AS_OF = FakeClock(AS_OF, frozen=True).clock  # the run's clock, its waits recorded
ACCOUNTS_MARKETS = pd.DataFrame(
    [
        ("binance-main", "MKR", "USDT", True),
        ("binance-main", "GMX", "USDT", True),
        ("kraken", "AAVE", "USD", True),
        ("binance-main", "TRX", "BTC", True),
        ("binance-main", "CAKE", "BUSD", True),  # BUSD is not a configured quote
        ("binance-main", "SOL", "USDT", True),
    ],
    columns=["account", "base", "quote", "active"],
)


def load(name: str) -> object:
    return json.loads((FIXTURES / name).read_text())


def serve(server: HTTPServer, *, fees_status: int = 200) -> None:
    """Route every endpoint the screen reads to its fixture."""

    def fees(request: Request) -> Response:
        if fees_status != 200:
            return Response("upstream error", status=fees_status)
        data_type = request.args.get("dataType", "dailyFees")
        body = (FIXTURES / f"overview_fees_{data_type}.json").read_text()
        return Response(body, content_type="application/json")

    def summary(request: Request) -> Response:
        slug = request.path.rsplit("/", 1)[-1]
        path = FIXTURES / f"summary_fees_{slug}.json"
        if not path.exists():
            return Response('{"message":"protocol not found"}', status=404)
        return Response(path.read_text(), content_type="application/json")

    def chart(request: Request) -> Response:
        gecko_id = request.path.split("/")[-2]
        path = FIXTURES / "coingecko" / f"market_chart_{gecko_id}.json"
        if not path.exists():
            return Response('{"error":"coin not found"}', status=404)
        return Response(path.read_text(), content_type="application/json")

    server.expect_request("/llama/overview/fees").respond_with_handler(fees)
    server.expect_request("/llama/protocols").respond_with_json(load("protocols.json"))
    server.expect_request("/llama/v2/chains").respond_with_json(load("v2_chains.json"))
    server.expect_request("/llama/lite/protocols2").respond_with_json(load("lite_protocols2.json"))
    server.expect_request("/yields/pools").respond_with_json(load("pools.json"))
    server.expect_request("/cg/coins/markets").respond_with_json(
        load("coingecko/coins_markets.json")
    )
    server.expect_request(re.compile(r"/llama/summary/fees/.+")).respond_with_handler(summary)
    server.expect_request(re.compile(r"/cg/coins/[^/]+/market_chart")).respond_with_handler(chart)


def sources(server: HTTPServer) -> ScreenSources:
    return ScreenSources(
        defillama_api=server.url_for("/llama"),
        defillama_yields=server.url_for("/yields"),
        coingecko_api=server.url_for("/cg"),
        coingecko_per_minute=0,
        history_limit=10,
        retries=0,
    )


@pytest.fixture
def gathered(httpserver: HTTPServer, tmp_path: Path):
    serve(httpserver)
    cache = SourceCache(open_engine(f"sqlite:///{tmp_path / 'screen.sqlite3'}"))
    data = gather_screen_data(sources(httpserver), clock=AT_AS_OF, cache=cache)
    return data, cache


def overview_entry(data_type: str, slug: str) -> dict:
    payload = load(f"overview_fees_{data_type}.json")
    return next(p for p in payload["protocols"] if p["slug"] == slug)


def market(gecko_id: str) -> dict:
    return next(c for c in load("coingecko/coins_markets.json") if c["id"] == gecko_id)


def row(table: pd.DataFrame, gecko_id: str) -> pd.Series:
    return table.set_index("gecko_id").loc[gecko_id]


def test_figures_match_a_hand_computation(gathered) -> None:
    data, _ = gathered
    outcome = screen(data, ScreenParams(max_decline_vs_90d=0.5), ACCOUNTS_MARKETS, AS_OF)
    table = outcome.table

    # Maker: one protocol with its own gecko_id.
    mkr = overview_entry("dailyHoldersRevenue", "makerdao")
    annual = mkr["total30d"] * 365 / 30
    maker = row(table, "maker")
    assert maker["holders_revenue_annual"] == pytest.approx(annual)
    assert maker["revenue_yield"] == pytest.approx(annual / market("maker")["market_cap"])
    assert maker["trend_30d"] == pytest.approx(mkr["total30d"] / mkr["total60dto30d"] - 1)
    chart = [v for _, v in load("summary_fees_makerdao.json")["totalDataChart"]]
    last_90 = sum(chart[-90:])  # the chart ends on the last complete day before AS_OF
    assert maker["trend_90d"] == pytest.approx(sum(chart[-30:]) / (last_90 / 3) - 1)
    assert maker["fdv_ratio"] == pytest.approx(
        market("maker")["fully_diluted_valuation"] / market("maker")["market_cap"]
    )

    # AAVE: v3 has no gecko_id of its own (token on parent#aave), v2 has; v1 is disabled.
    aave_total = sum(
        overview_entry("dailyHoldersRevenue", s)["total30d"] for s in ("aave-v3", "aave-v2")
    )
    aave = row(table, "aave")
    assert aave["holders_30d"] == pytest.approx(aave_total)
    assert aave["revenue_yield"] == pytest.approx(
        aave_total * 365 / 30 / market("aave")["market_cap"]
    )
    pool = next(p for p in load("pools.json")["data"] if p["symbol"] == "AAVE")
    assert aave["emission_share"] == pytest.approx(pool["apyReward"] / pool["apy"])
    assert aave["staking_apy"] == pytest.approx(pool["apy"] / 100)

    # GMX: two products, one token; previous 30 days summed the same way.
    gmx_now = sum(
        overview_entry("dailyHoldersRevenue", s)["total30d"] for s in ("gmx-v1", "gmx-v2")
    )
    gmx_prev = sum(
        overview_entry("dailyHoldersRevenue", s)["total60dto30d"] for s in ("gmx-v1", "gmx-v2")
    )
    gmx = row(table, "gmx")
    assert gmx["holders_30d"] == pytest.approx(gmx_now)
    assert gmx["trend_30d"] == pytest.approx(gmx_now / gmx_prev - 1)
    # gmx-v2's summary holds 45 days only: no honest 90-day figure for the token.
    assert pd.isna(gmx["trend_90d"])
    assert "less than 90 days of holders revenue history" in gmx["reasons"]

    # Tron: a chain; supply growth = market cap / price over the chart's 90 days, annualised.
    points = load("coingecko/market_chart_tron.json")
    first = points["market_caps"][0][1] / points["prices"][0][1]
    last = points["market_caps"][-1][1] / points["prices"][-1][1]
    growth = (last / first) ** (365 / 90) - 1
    tron = row(table, "tron")
    assert tron["supply_growth"] == pytest.approx(growth, rel=1e-6)
    tron_yield = overview_entry("dailyHoldersRevenue", "tron")["total30d"] * 365 / 30
    assert tron["revenue_yield"] == pytest.approx(tron_yield / market("tron")["market_cap"])
    assert tron["net_yield"] == pytest.approx(tron["revenue_yield"] - growth, rel=1e-6)


def test_chain_burn_that_does_not_beat_issuance_fails(gathered) -> None:
    data, _ = gathered
    table = screen(data, ScreenParams(), ACCOUNTS_MARKETS, AS_OF).table
    solana = row(table, "solana")
    assert not solana["passed"]
    assert "do not outpace issuance" in solana["reasons"]
    assert "supply growth is unknown" in row(table, "ethereum")["reasons"]  # no chart served
    assert "do not outpace issuance" not in row(table, "tron")["reasons"]


def test_basket_holds_only_tradable_passing_tokens(gathered) -> None:
    data, _ = gathered
    outcome = screen(data, ScreenParams(max_weight=0.5), ACCOUNTS_MARKETS, AS_OF)
    table = outcome.table
    basket = table[table["in_basket"]]
    assert set(basket["symbol"]) == {"MKR", "GMX", "TRX", "AAVE"}
    assert basket["weight"].sum() == pytest.approx(1.0)
    assert (basket["weight"] <= 0.5 + 1e-9).all()
    cake = row(table, "pancakeswap-token")  # resolved through parent#pancakeswap
    assert cake["symbol"] == "CAKE"
    assert "no market CAKE/" in cake["reasons"]  # only a BUSD market, not a configured quote
    assert outcome.unmapped == ("morpho-blue (Morpho Blue)",)


def test_second_run_within_ttl_reads_the_cache(gathered, httpserver: HTTPServer) -> None:
    data, cache = gathered
    httpserver.clear_log()
    again = gather_screen_data(sources(httpserver), clock=AT_AS_OF, cache=cache)
    asked = {request.path for request, _ in httpserver.log}
    # Only what failed the first time (404s: summaries and charts not served) is asked again.
    assert all("/summary/fees/" in p or "/market_chart" in p for p in asked), asked
    assert not asked & {"/llama/summary/fees/makerdao", "/cg/coins/tron/market_chart"}
    assert again.as_of == data.as_of
    pd.testing.assert_frame_equal(
        again.fees.reset_index(drop=True), data.fees.reset_index(drop=True), check_dtype=False
    )
    first = screen(data, ScreenParams(), ACCOUNTS_MARKETS, AS_OF).table
    second = screen(again, ScreenParams(), ACCOUNTS_MARKETS, AS_OF).table
    assert list(first["gecko_id"]) == list(second["gecko_id"])
    assert list(first["reasons"]) == list(second["reasons"])


def test_unreadable_fees_overview_fails_every_token_with_the_reason(
    httpserver: HTTPServer,
) -> None:
    serve(httpserver, fees_status=502)
    data = gather_screen_data(sources(httpserver), clock=AT_AS_OF)
    errors = [p for p in data.problems if p.severity is Severity.ERROR]
    assert errors and "HTTP 502" in errors[0].message
    outcome = screen(data, ScreenParams(include=("maker",)), ACCOUNTS_MARKETS, AS_OF)
    assert not outcome.table["passed"].any()
    assert "screen fees" in outcome.table.set_index("gecko_id").loc["maker", "reasons"]
