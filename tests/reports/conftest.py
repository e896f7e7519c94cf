"""Records for report tests: a realistic plan built inline (no fetching, no mocks)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from rotator.core.models import Allocation, Order, Plan, Side, TargetWeights
from rotator.core.records import BasketMember, BasketReport, RuleReport, RulesReport
from rotator.errors import Problem

DAY = date(2026, 3, 30)
AS_OF = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


def make_plan(
    as_of: datetime = AS_OF,
    *,
    total: str = "100000",
    btc_weight: str = "0.50",
    regime: str | None = "accumulate",
    rules_state: str = "false",
    problems: tuple[Problem, ...] = (),
    basket: dict[str, str] | None = None,
) -> Plan:
    value = Decimal(total)
    w_btc = Decimal(btc_weight)
    w_eth = Decimal("0.30")
    w_cash = 1 - w_btc - w_eth
    targets = {"BTC": Decimal("0.60"), "ETH": Decimal("0.20"), "CASH": Decimal("0.20")}
    before = (
        Allocation("BTC", value * w_btc, w_btc, targets["BTC"]),
        Allocation("ETH", value * w_eth, w_eth, targets["ETH"]),
        Allocation("CASH", value * w_cash, w_cash, targets["CASH"]),
    )
    orders = (
        Order(
            "binance-main",
            "ETH/USDT",
            Side.SELL,
            Decimal("3.1234"),
            Decimal("3200.5"),
            Decimal("9996.44"),
            Decimal("10.00"),
            "ETH",
            "ETH 30.0% vs target 20.0% (+10.0 pp)",
        ),
        Order(
            "binance-main",
            "BTC/USDT",
            Side.BUY,
            Decimal("0.15"),
            Decimal("66000"),
            Decimal("9900"),
            Decimal("9.90"),
            "BTC",
            "BTC 50.0% vs target 60.0% (-10.0 pp)",
        ),
    )
    rules = RulesReport(
        ruleset="rules/cycle.yaml",
        as_of=DAY,
        rules=(
            RuleReport(
                name="btc_above_prior_high",
                kind="prior_high_break",
                state=rules_state,
                reason="BTC closed below 110,000",
                inputs={"level": 110000.0, "close": 66000.0},
                data_as_of=as_of.date() - timedelta(days=1),
            ),
            RuleReport(
                name="dominance_rolling_over",
                kind="dominance",
                state="unknown",
                reason="btc_dominance is stale: newest value 2026-03-20 is 10 days old",
                inputs={},
                data_as_of=None,
            ),
        ),
    )
    baskets: tuple[BasketReport, ...] = ()
    if basket:
        members = tuple(
            BasketMember(asset, Decimal(w) / sum(map(Decimal, basket.values())), Decimal(w))
            for asset, w in basket.items()
        )
        total = sum((m.portfolio_weight for m in members), Decimal(0))
        baskets = (BasketReport("revenue_basket", total, members, "screened"),)
    return Plan(
        as_of=as_of,
        base_currency="USD",
        total_value=value,
        targets=TargetWeights(targets, f"regime {regime}" if regime else "portfolio.yaml"),
        before=before,
        after=before,
        orders=orders,
        problems=problems,
        notes=("SOL: below the minimum order value (12.00 < 50), dropped",),
        regime=regime,
        explanation=(f"regime {regime}: default (no condition)",),
        rules=rules,
        baskets=baskets,
    )


@pytest.fixture
def plan() -> Plan:
    return make_plan()


def series(days: int, start: float, step: float, end: date = DAY) -> list[tuple[date, float]]:
    first = end - timedelta(days=days - 1)
    return [(first + timedelta(days=i), start + i * step) for i in range(days)]
