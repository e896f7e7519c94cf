"""Price oracles: CoinGecko simple/price (recorded), DefiLlama fallback (recorded), LST ratios."""

from __future__ import annotations

from decimal import Decimal

from conftest import NOW, fixture
from fake_clock import FakeClock

from rotator.adapters.chains.oracle import fetch_oracle_quotes
from rotator.config.chains import OracleAsset, OraclesConfig
from rotator.pipeline.chains import oracle_settings

CLOCK = FakeClock().clock  # a client's waits are recorded, never slept


def settings(server, **assets):
    config = OraclesConfig(
        coingecko_url=f"{server.url}/cg",
        defillama_url=f"{server.url}/llama",
        assets={k: OracleAsset(**v) for k, v in assets.items()},
    )
    return oracle_settings(config, {})


def test_coingecko_recorded_price(server):
    server.add_route(
        "GET /cg/simple/price", fixture("coingecko.simple_price.bitcoin.usd.2026-04-24.json")
    )
    quotes, problems = fetch_oracle_quotes(["BTC"], "USD", settings(server), now=NOW, clock=CLOCK)
    [q] = quotes
    assert (q.asset, q.price, q.source, q.as_of) == (
        "BTC",
        Decimal("77705"),
        "coingecko:bitcoin",
        NOW,
    )
    assert problems == ()
    [request] = server.requests
    assert request.query["ids"] == ["bitcoin"] and request.query["vs_currencies"] == ["usd"]


def test_defillama_is_the_fallback_when_coingecko_fails(server):
    server.add_route("GET /cg/simple/price", b"{}")
    server.fault("GET /cg/simple/price", status=429, headers={"Retry-After": "0"})
    server.add_route(
        "GET /llama/prices/current/coingecko:bitcoin,coingecko:ethereum",
        fixture("defillama.prices_current.coingecko_bitcoin+ethereum.2026-06-24.json"),
    )
    fake = FakeClock()
    quotes, problems = fetch_oracle_quotes(
        ["ETH", "BTC"], "USD", settings(server), now=NOW, clock=fake.clock
    )
    prices = {q.asset: (q.price, q.source) for q in quotes}
    assert prices["BTC"] == (Decimal("60580.28121336298"), "defillama:coingecko:bitcoin")
    assert prices["ETH"][1] == "defillama:coingecko:ethereum"
    assert any("CoinGecko" in p.subject and "429" in p.message for p in problems)
    assert len(server.requests_to("GET /cg/simple/price")) == 2  # one retry, then the fallback
    assert fake.waits == [1.0]  # the oracle's 1 s back-off (Retry-After: 0 is shorter)


def test_unknown_coin_gets_no_quote(server):
    server.add_route("GET /cg/simple/price", b"{}")
    server.add_route(
        "GET /llama/prices/current/coingecko:my-token",
        fixture("defillama.prices_current.unknown_token_empty.arbitrum.2026-01-01.json"),
    )
    quotes, problems = fetch_oracle_quotes(
        ["MYT", "NOID"],
        "USD",
        settings(server, MYT={"coingecko": "my-token"}),
        now=NOW,
        clock=CLOCK,
    )
    assert quotes == ()
    messages = " ".join(p.message for p in problems)
    assert (
        "no oracle price for my-token" in messages and "oracles.assets.NOID.coingecko" in messages
    )


def test_liquid_staking_ratio_from_the_oracle_and_declared(server):
    def body(request):
        return b'{"staked-ether": {"usd": 3000}, "ethereum": {"usd": 3030}}'

    server.add_route("GET /cg/simple/price", body)
    cfg = settings(
        server,
        STETH={"underlying": "ETH", "ratio": "oracle"},
        JITOSOL={"underlying": "SOL", "ratio": "1.18"},
    )
    quotes, problems = fetch_oracle_quotes(["STETH", "JITOSOL"], "USD", cfg, now=NOW, clock=CLOCK)
    by = {q.asset: q for q in quotes}
    assert by["STETH"].underlying == "ETH" and by["STETH"].ratio == Decimal(3000) / Decimal(3030)
    assert by["STETH"].ratio_source == "coingecko:staked-ether / coingecko:ethereum"
    assert by["JITOSOL"].ratio == Decimal("1.18") and by["JITOSOL"].ratio_source == "portfolio.yaml"
    assert by["ETH"].price == 3030  # the underlying's own oracle price rides along
    assert problems == ()


def test_non_usd_base_uses_coingecko_only(server):
    server.add_route(
        "GET /cg/simple/price",
        fixture("coingecko.simple_price.bitcoin+ethereum.eur.2026-06-05.json"),
    )
    quotes, _ = fetch_oracle_quotes(["BTC", "ETH"], "EUR", settings(server), now=NOW, clock=CLOCK)
    assert {q.asset: q.price for q in quotes} == {
        "BTC": Decimal("53953"),
        "ETH": Decimal("1441.93"),
    }
    assert server.requests_to("/llama") == []
