"""Oracle prices in valuation and planning (pure): only without an exchange route, never traded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from rotator.core.models import (
    AccountSnapshot,
    ChainSource,
    Holding,
    MarketInfo,
    OracleQuote,
    Quote,
    RebalancePolicy,
    Snapshot,
    TargetWeights,
    WalletKind,
)
from rotator.core.planner import plan_orders
from rotator.core.valuation import price_assets

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def quote(symbol: str, mid: str, age: int = 0) -> Quote:
    m = Decimal(mid)
    return Quote(symbol, m, m, m, NOW - timedelta(seconds=age), "ex")


def test_oracle_prices_only_assets_no_exchange_connects():
    quotes = [quote("ETH/USD", "3000")]
    oracle = [
        OracleQuote("ETH", Decimal("2900"), "coingecko:ethereum", NOW),
        OracleQuote("LDO", Decimal("1.5"), "coingecko:lido-dao", NOW),
    ]
    prices, problems = price_assets(
        quotes, ["ETH", "LDO"], "USD", now=NOW, max_age_seconds=60, oracle=oracle
    )
    assert prices["ETH"].in_base == 3000 and not prices["ETH"].from_oracle
    assert prices["LDO"].in_base == Decimal("1.5") and prices["LDO"].oracle == "coingecko:lido-dao"
    assert problems == ()


def test_stale_exchange_route_is_not_papered_over_by_the_oracle():
    quotes = [quote("LDO/USD", "2", age=3600)]
    oracle = [OracleQuote("LDO", Decimal("1.5"), "coingecko:lido-dao", NOW)]
    prices, problems = price_assets(
        quotes, ["LDO"], "USD", now=NOW, max_age_seconds=60, oracle=oracle
    )
    assert "LDO" not in prices and problems[0].message.startswith("stale")


def test_stale_oracle_quote_is_not_used():
    oracle = [OracleQuote("LDO", Decimal("1.5"), "coingecko:lido-dao", NOW - timedelta(hours=1))]
    prices, problems = price_assets([], ["LDO"], "USD", now=NOW, max_age_seconds=60, oracle=oracle)
    assert "LDO" not in prices and problems[0].message.startswith("unpriceable")


def test_liquid_staking_token_valued_through_the_exchange_price_of_its_underlying():
    quotes = [quote("ETH/USD", "3000")]
    oracle = [
        OracleQuote("STETH", None, "portfolio.yaml", NOW, "ETH", Decimal("0.99"), "portfolio.yaml")
    ]
    prices, _ = price_assets(quotes, ["STETH"], "USD", now=NOW, max_age_seconds=60, oracle=oracle)
    assert prices["STETH"].in_base == Decimal("2970")
    assert prices["STETH"].route == ("ETH/USD",) and "0.99 ETH per STETH" in prices["STETH"].oracle


def test_oracle_priced_holdings_count_but_are_never_traded():
    source = ChainSource("ethereum", "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045", NOW, 5)
    wallet = AccountSnapshot(
        "w",
        "chain:ethereum",
        (Holding("w", "LDO", Decimal(100), Decimal(0), WalletKind.ONCHAIN, source),),
        fetched_at=NOW,
    )
    exchange = AccountSnapshot(
        "ex",
        "binance",
        (Holding("ex", "USDT", Decimal(850), Decimal(850)),),
        (MarketInfo("ex", "LDO/USDT", "LDO", "USDT", active=False),),
        (quote("USDT/USD", "1"),),
        NOW,
    )
    snap = Snapshot(
        NOW,
        "USD",
        (exchange, wallet),
        oracle=(OracleQuote("LDO", Decimal("1.5"), "coingecko:lido-dao", NOW),),
    )
    plan = plan_orders(
        snap, TargetWeights({"LDO": Decimal("0.5"), "CASH": Decimal("0.5")}, "t"), RebalancePolicy()
    )
    assert plan.complete and plan.total_value == Decimal(1000)
    assert plan.orders == ()
    assert any("only a price oracle values it" in n for n in plan.notes)
    [row] = plan.onchain
    assert row.holding.source == source and row.value == Decimal(150)
    assert [p.asset for p in plan.oracle_prices] == ["LDO"]


def test_unpriced_onchain_asset_makes_the_plan_incomplete():
    source = ChainSource("ethereum", "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045", NOW, 5)
    wallet = AccountSnapshot(
        "w",
        "chain:ethereum",
        (Holding("w", "ZZZ", Decimal(1), Decimal(0), WalletKind.ONCHAIN, source),),
    )
    plan = plan_orders(
        Snapshot(NOW, "USD", (wallet,)), TargetWeights({"CASH": Decimal(1)}, "t"), RebalancePolicy()
    )
    assert not plan.complete and plan.total_value is None


def test_disputed_exchange_quotes_are_not_papered_over_by_the_oracle():
    # Two accounts disagree on ETH tenfold: ETH gets no price, and neither LDO (its only fresh
    # route is LDO/ETH) nor STETH (valued through ETH) falls back to an oracle price.
    quotes = [
        quote("ETH/USD", "3000"),
        Quote("ETH/USD", Decimal(30000), Decimal(30000), None, NOW, "other"),
        quote("LDO/ETH", "0.0005"),
    ]
    oracle = [
        OracleQuote("ETH", Decimal("2900"), "coingecko:ethereum", NOW),
        OracleQuote("LDO", Decimal("1.5"), "coingecko:lido-dao", NOW),
        OracleQuote("STETH", None, "portfolio.yaml", NOW, "ETH", Decimal("0.99"), "portfolio.yaml"),
    ]
    prices, problems = price_assets(
        quotes, ["ETH", "LDO", "STETH"], "USD", now=NOW, max_age_seconds=60, oracle=oracle
    )
    assert set(prices) == set()
    by_subject = {p.subject: p.message for p in problems}
    assert "quotes disagree" in by_subject["price ETH/USD"]
    assert "passes through ETH, whose quotes disagree" in by_subject["price LDO/USD"]
    assert "valued through ETH, whose quotes disagree" in by_subject["price STETH/USD"]


def test_oracle_still_prices_what_no_exchange_reaches_beside_a_dispute():
    quotes = [
        quote("ETH/USD", "3000"),
        Quote("ETH/USD", Decimal(30000), Decimal(30000), None, NOW, "other"),
    ]
    oracle = [OracleQuote("LDO", Decimal("1.5"), "coingecko:lido-dao", NOW)]
    prices, problems = price_assets(
        quotes, ["LDO"], "USD", now=NOW, max_age_seconds=60, oracle=oracle
    )
    assert prices["LDO"].oracle == "coingecko:lido-dao" and problems == ()


def test_oracle_price_of_a_tracking_token_is_held_against_the_exchange_price():
    quotes = [quote("ETH/USD", "3000")]
    for price, priced in (("3180000000000", False), ("30000", False), ("1000", False),
                          ("3010", True), ("1600", True)):  # fmt: skip
        oracle = [OracleQuote("STETH", Decimal(price), "coingecko:staked-ether", NOW, tracks="ETH")]
        prices, problems = price_assets(
            quotes, ["STETH"], "USD", now=NOW, max_age_seconds=60, oracle=oracle
        )
        assert ("STETH" in prices) is priced, (price, problems)
        if not priced:
            assert "times the exchange price of ETH, which it tracks" in problems[0].message


def test_tracking_token_without_an_exchange_route_for_what_it_tracks_keeps_its_oracle_price():
    oracle = [OracleQuote("STETH", Decimal("3010"), "coingecko:staked-ether", NOW, tracks="ETH")]
    prices, problems = price_assets(
        [], ["STETH"], "USD", now=NOW, max_age_seconds=60, oracle=oracle
    )
    assert prices["STETH"].in_base == Decimal("3010") and problems == ()
