"""Valuation: direct and bridged prices, stale and missing quotes, ties, holdings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from rotator.core.models import Holding, Price, Quote, WalletKind
from rotator.core.valuation import price_assets, value_holdings
from rotator.errors import Severity

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def q(symbol: str, bid: str, ask: str, *, age: int = 5, source: str = "binance") -> Quote:
    return Quote(symbol, D(bid), D(ask), None, NOW - timedelta(seconds=age), source)


def price(quotes: list[Quote], *assets: str, base: str = "USD", max_age: int = 900):
    return price_assets(quotes, assets, base, now=NOW, max_age_seconds=max_age)


def test_base_is_one_with_empty_route() -> None:
    prices, problems = price([], "USD")
    assert prices == {"USD": Price("USD", D(1), (), None)}
    assert problems == ()


def test_direct_market_uses_mid() -> None:
    prices, problems = price([q("BTC/USD", "99990", "100010")], "BTC")
    assert prices["BTC"].in_base == D("100000")
    assert prices["BTC"].route == ("BTC/USD",)
    assert problems == ()


def test_stablecoin_is_not_assumed_to_be_one() -> None:
    prices, problems = price([q("USDT/USD", "0.9980", "0.9990")], "USDT")
    assert prices["USDT"].in_base == D("0.9985")
    assert problems == ()


def test_bridged_chain_multiplies_and_reports_oldest_quote() -> None:
    quotes = [
        q("SOL/BTC", "0.0019", "0.0021", age=30),
        q("BTC/USDT", "60000", "60000", age=10, source="okx"),
        q("USDT/USD", "1.001", "1.001", age=400, source="kraken"),
    ]
    prices, problems = price(quotes, "SOL")
    sol = prices["SOL"]
    assert sol.route == ("SOL/BTC", "BTC/USDT", "USDT/USD")
    assert sol.in_base == D("0.002") * D("60000") * D("1.001")
    assert sol.as_of == NOW - timedelta(seconds=400)
    assert problems == ()


def test_inverse_direction_divides() -> None:
    # Only USD/EUR is quoted: one EUR is 1 / 0.8 USD.
    prices, _ = price([q("USD/EUR", "0.8", "0.8")], "EUR")
    assert prices["EUR"].in_base == D("1.25")
    assert prices["EUR"].route == ("USD/EUR",)


def test_direct_route_beats_bridge_and_bridges_follow_given_order() -> None:
    quotes = [
        q("ETH/USDT", "3000", "3000"),
        q("USDT/USD", "1", "1"),
        q("ETH/USDC", "3100", "3100"),
        q("USDC/USD", "1", "1"),
        q("ETH/USD", "3050", "3050"),
    ]
    prices, _ = price(quotes, "ETH")
    assert prices["ETH"].route == ("ETH/USD",)
    prices, _ = price(quotes[:4], "ETH")
    assert prices["ETH"].route == ("ETH/USDT", "USDT/USD")  # USDT listed before USDC
    prices, _ = price_assets(
        quotes[:4], ["ETH"], "USD", now=NOW, max_age_seconds=900, bridges=("USDC", "USDT")
    )
    assert prices["ETH"].route == ("ETH/USDC", "USDC/USD")


def test_same_pair_on_two_accounts_uses_freshest() -> None:
    quotes = [q("BTC/USD", "100", "100", age=60, source="a"), q("BTC/USD", "101", "101", age=1)]
    prices, _ = price(quotes, "BTC")
    assert prices["BTC"].in_base == D("101")


def test_stale_quote_is_ignored_and_named() -> None:
    quotes = [q("SOL/USDT", "150", "150", age=7200), q("USDT/USD", "1", "1")]
    prices, problems = price(quotes, "SOL", "USDT")
    assert "SOL" not in prices
    assert prices["USDT"].in_base == D(1)
    (p,) = problems
    assert p.severity is Severity.ERROR
    assert p.subject == "price SOL/USD"
    assert p.message.startswith("stale:")
    assert "SOL/USDT from binance is 2 h 0 min old" in p.message
    assert "limit 900 s" in p.message


def test_fresh_longer_route_beats_stale_direct_one() -> None:
    quotes = [
        q("SOL/USD", "1", "1", age=5000),
        q("SOL/BTC", "0.002", "0.002"),
        q("BTC/USD", "50000", "50000"),
    ]
    prices, problems = price(quotes, "SOL")
    assert prices["SOL"].route == ("SOL/BTC", "BTC/USD")
    assert problems == ()


def test_unpriceable_asset_is_an_error_not_zero() -> None:
    prices, problems = price([q("BTC/USD", "1", "1")], "FOO")
    assert prices == {}
    (p,) = problems
    assert p.severity is Severity.ERROR
    assert p.message == "unpriceable: no market connects FOO to USD on any account"


def test_quote_without_any_price_and_derivatives_are_not_used() -> None:
    empty = Quote("ETH/USD", None, None, None, NOW, "x")
    perp = q("BTC/USD:BTC", "100", "100")
    last_only = Quote("ADA/USD", None, None, D("0.5"), NOW, "x")
    prices, problems = price([empty, perp, last_only], "ETH", "BTC", "ADA")
    assert set(prices) == {"ADA"}
    assert prices["ADA"].in_base == D("0.5")
    assert {p.subject for p in problems} == {"price ETH/USD", "price BTC/USD"}


def test_value_holdings_attaches_price_or_none() -> None:
    prices, _ = price([q("BTC/USD", "100", "100")], "BTC", "FOO")
    hs = [
        Holding("a", "BTC", D("2"), D("1")),
        Holding("cold", "FOO", D("5"), D(0), WalletKind.MANUAL),
    ]
    btc, foo = value_holdings(hs, prices)
    assert btc.value == D("200")
    assert foo.price is None and foo.value is None
