"""Bad market data: disagreeing prices, crossed books, unusable steps, negative and huge balances.

A plan must never rest on them: the price goes missing (plan incomplete), the quote or market
is refused with a note, and no order may exceed what its account holds.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from io import StringIO

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from rotator.core.market_checks import check_orders
from rotator.core.models import (
    AccountSnapshot,
    Holding,
    MarketInfo,
    Order,
    Price,
    Quote,
    RebalancePolicy,
    Side,
    Snapshot,
    TargetWeights,
)
from rotator.core.planner import plan_orders
from rotator.core.valuation import price_assets
from rotator.errors import Severity
from rotator.reports.plan import render_csv, render_json, render_table

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
POLICY = RebalancePolicy()
TARGETS = TargetWeights({"BTC": D("0.5"), "CASH": D("0.5")}, "test")


def quote(symbol: str, bid: str, ask: str | None = None, source: str = "a") -> Quote:
    return Quote(symbol, D(bid), D(ask or bid), None, NOW - timedelta(seconds=5), source)


def market(account: str, symbol: str, step: str | None = "0.0001") -> MarketInfo:
    base, quote_ = symbol.split("/")
    return MarketInfo(account, symbol, base, quote_, amount_step=None if step is None else D(step))


def account(
    name: str,
    holdings: dict[str, str],
    quotes: tuple[Quote, ...],
    symbols: tuple[str, ...] = ("BTC/USDT",),
    step: str | None = "0.0001",
) -> AccountSnapshot:
    return AccountSnapshot(
        name,
        "binance",
        holdings=tuple(Holding(name, a, D(v), max(D(v), D(0))) for a, v in holdings.items()),
        markets=tuple(market(name, s, step) for s in symbols),
        quotes=quotes,
        fetched_at=NOW,
    )


def snapshot(*accounts: AccountSnapshot) -> Snapshot:
    return Snapshot(NOW, "USD", accounts)


def errors(plan: object) -> list[str]:
    return [str(p) for p in plan.problems if p.severity is Severity.ERROR]  # type: ignore[attr-defined]


USDT = quote("USDT/USD", "1", source="k")


def test_one_accounts_absurd_ticker_makes_the_price_missing_not_a_huge_sell() -> None:
    # The case: one account's BTC/USDT at 1e12, the other's at 96k.
    snap = snapshot(
        account("a", {"BTC": "1", "USDT": "10000"}, (quote("BTC/USDT", "1e12", source="a"),)),
        account("b", {"BTC": "0.4"}, (quote("BTC/USDT", "96000", source="b"), USDT)),
    )
    plan = plan_orders(snap, TARGETS, POLICY)
    assert not plan.complete
    assert plan.orders == ()
    [missing] = [p for p in plan.problems if p.subject == "price BTC/USD"]
    assert "quotes disagree by more than 10%" in missing.message
    assert "BTC/USDT from" in missing.message


def test_a_bridge_cross_checks_a_direct_quote() -> None:
    quotes = [
        quote("BTC/USDT", "1e12", source="a"),
        quote("BTC/USD", "96000", source="b"),
        quote("USDT/USD", "1", source="b"),
    ]
    prices, problems = price_assets(quotes, ["BTC", "USDT"], "USD", now=NOW, max_age_seconds=900)
    assert "BTC" not in prices and prices["USDT"].in_base == 1
    [p] = problems
    assert p.severity is Severity.ERROR and "disagree" in p.message


def test_agreeing_quotes_within_the_tolerance_still_price() -> None:
    quotes = [quote("BTC/USDT", "96000", source="a"), quote("BTC/USDT", "96500", source="b"), USDT]
    prices, problems = price_assets(quotes, ["BTC"], "USD", now=NOW, max_age_seconds=900)
    assert problems == () and D(96000) <= prices["BTC"].in_base <= D(96500)


def test_the_tolerance_is_a_policy_parameter() -> None:
    quotes = [quote("BTC/USDT", "96000", source="a"), quote("BTC/USDT", "99000", source="b"), USDT]
    kwargs = {"now": NOW, "max_age_seconds": 900}
    assert "BTC" in price_assets(quotes, ["BTC"], "USD", **kwargs)[0]
    tight = price_assets(quotes, ["BTC"], "USD", max_disagreement=D("0.01"), **kwargs)
    assert "BTC" not in tight[0]


def test_an_asset_behind_a_disputed_bridge_says_so() -> None:
    quotes = [
        quote("SOL/BTC", "0.002", source="a"),
        quote("BTC/USDT", "1e12", source="a"),
        quote("BTC/USDT", "96000", source="b"),
        USDT,
    ]
    prices, problems = price_assets(quotes, ["SOL"], "USD", now=NOW, max_age_seconds=900)
    assert "SOL" not in prices
    [p] = problems
    assert "passes through BTC, whose quotes disagree" in p.message


def test_crossed_book_is_refused_and_does_not_price_a_sell() -> None:
    crossed = quote("BTC/USDT", "192000", "96000", source="a")  # bid twice the ask
    snap = snapshot(account("a", {"BTC": "1", "USDT": "10000"}, (crossed, USDT)))
    plan = plan_orders(snap, TARGETS, POLICY)
    assert not plan.complete and plan.orders == ()
    assert any("crossed book" in str(p) for p in plan.problems)
    assert any("price BTC/USD" in e for e in errors(plan))


def test_crossed_book_on_one_account_leaves_the_other_to_price() -> None:
    crossed = quote("BTC/USDT", "192000", "96000", source="a")
    snap = snapshot(
        account("a", {"BTC": "1", "USDT": "10000"}, (crossed,)),
        account("b", {}, (quote("BTC/USDT", "96000", "96010", source="b"), USDT)),
    )
    plan = plan_orders(snap, TARGETS, POLICY)
    assert plan.complete, errors(plan)
    [sell] = [o for o in plan.orders if o.side is Side.SELL]
    assert sell.price == D(96000)  # the other account's bid, not the crossed 192,000


def test_zero_or_negative_step_makes_the_market_unusable_with_a_note() -> None:
    for step in ("0", "-0.01"):
        snap = snapshot(
            account(
                "a", {"BTC": "1", "USDT": "10000"}, (quote("BTC/USDT", "96000"), USDT), step=step
            )
        )
        plan = plan_orders(snap, TARGETS, POLICY)
        assert plan.orders == ()
        [note] = [p for p in plan.problems if "market BTC/USDT is unusable" in str(p)]
        assert note.severity is Severity.WARNING and f"amount step is {D(step)}" in note.message


def test_negative_balance_is_an_error_and_the_plan_incomplete() -> None:
    snap = snapshot(
        account("a", {"BTC": "-0.5", "USDT": "10000"}, (quote("BTC/USDT", "96000"), USDT))
    )
    plan = plan_orders(snap, TARGETS, POLICY)
    assert not plan.complete and plan.orders == ()
    assert any("balance of -0.5 BTC" in e for e in errors(plan))


def test_huge_balance_renders_in_every_format() -> None:
    snap = snapshot(
        account("a", {"BTC": "1e30", "USDT": "10000"}, (quote("BTC/USDT", "96000"), USDT))
    )
    plan = plan_orders(snap, TARGETS, POLICY)
    data = json.loads(render_json(plan))
    assert data["holdings"][0]["amount"] == "1" + "0" * 30
    assert data["total_value"].startswith("96")
    render_csv(plan)
    out = StringIO()
    render_table(plan, Console(file=out, width=200))
    assert "BTC" in out.getvalue()


def test_an_order_beyond_the_account_is_withheld() -> None:
    holdings = [Holding("a", "BTC", D("0.5"), D("0.5")), Holding("a", "USDT", D(100), D(100))]
    prices = {
        "BTC": Price("BTC", D(96000), ("BTC/USD",), NOW),
        "USDT": Price("USDT", D(1), (), NOW),
    }
    markets = [market("a", "BTC/USDT")]

    def order(side: Side, amount: str, price: str) -> Order:
        notional = D(amount) * D(price)
        return Order("a", "BTC/USDT", side, D(amount), D(price), notional, D(0), "BTC", "r")

    kept, problems = check_orders([order(Side.SELL, "0.5", "96000")], holdings, prices, markets)
    assert len(kept) == 1 and problems == ()
    kept, problems = check_orders([order(Side.SELL, "0.6", "96000")], holdings, prices, markets)
    assert kept == () and "spend more BTC than it holds free" in problems[0].message
    kept, problems = check_orders([order(Side.BUY, "0.01", "96000")], holdings, prices, markets)
    assert kept == () and "more USDT" in problems[0].message
    # Selling what is held, at a price from nowhere, is worth more than the account.
    kept, problems = check_orders([order(Side.SELL, "0.5", "1e12")], holdings, prices, markets)
    assert kept == () and "more than everything a holds" in problems[0].message


@settings(max_examples=60, deadline=None)
@given(
    factor=st.decimals(min_value=D("0.000001"), max_value=D("1e12"), places=6).filter(
        lambda f: f > 0
    ),
    btc=st.decimals(min_value=D("0.01"), max_value=D("100"), places=4),
)
def test_no_order_ever_exceeds_its_account_whatever_one_ticker_says(factor: D, btc: D) -> None:
    bad = quote("BTC/USDT", str(D(96000) * factor), source="a")
    snap = snapshot(
        account("a", {"BTC": str(btc), "USDT": "5000"}, (bad,)),
        account("b", {"USDT": "5000"}, (quote("BTC/USDT", "96000", source="b"), USDT)),
    )
    plan = plan_orders(snap, TARGETS, POLICY)
    off = max(factor, 1 / factor) - 1
    if off > POLICY.max_price_disagreement:
        assert not plan.complete and plan.orders == ()
    worth = {"a": btc * 96000 + 5000, "b": D(5000)}
    for o in plan.orders:
        assert o.notional <= worth[o.account] * D("1.2")
        if o.side is Side.SELL:
            assert o.amount <= btc
    assert {(h.holding.account, h.holding.asset) for h in plan.holdings} == {
        ("a", "BTC"),
        ("a", "USDT"),
        ("b", "USDT"),
    }
