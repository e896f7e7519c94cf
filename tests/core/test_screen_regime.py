"""A rotation regime naming the screen's basket, through the real rule engine, regimes and planner.

The universe has four tokens that pass the screen on their figures; one of them (MKR) has no
market on the account, so only the other three may enter the basket and receive buy orders, and
their target weights must add up to the regime's basket weight.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pandas as pd

from rotator.core.models import (
    CASH_BUCKET,
    AccountSnapshot,
    Holding,
    MarketInfo,
    Quote,
    RebalancePolicy,
    Side,
    Snapshot,
)
from rotator.core.planner import plan_orders
from rotator.core.rules.engine import RuleSet, RuleSpec, evaluate
from rotator.core.rules.regimes import Ref, Regime, choose_regime
from rotator.core.rules.registry import RuleResult, default_registry
from rotator.core.screen.params import ScreenParams
from rotator.core.screen.screening import ScreenData

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
TOKENS = {  # gecko_id: (symbol, holders revenue 30 d, market cap, USD price)
    "kyber-network-crystal": ("KNC", 300_000.0, 54e6, Decimal("0.30")),
    "loopring": ("LRC", 350_000.0, 103e6, Decimal("0.075")),
    "tron": ("TRX", 88e6, 26.5e9, Decimal("0.28")),
    "maker": ("MKR", 6e6, 1.05e9, Decimal("1200")),
}


def screen_data(tokens: dict[str, tuple[str, float, float, Decimal]] = TOKENS) -> ScreenData:
    fees = pd.DataFrame(
        [
            {
                "slug": g,
                "name": g,
                "parent": None,
                "protocol_type": "protocol",
                "disabled": False,
                "holders_30d": h,
                "holders_prev_30d": h,
                "revenue_30d": 2 * h,
                "has_holders": True,
            }
            for g, (_s, h, _m, _p) in tokens.items()
        ]
    )
    protocols = pd.DataFrame(
        [{"slug": g, "gecko_id": g, "symbol": s, "parent": None} for g, (s, *_r) in tokens.items()]
    )
    markets = pd.DataFrame(
        [
            {
                "gecko_id": g,
                "symbol": s.lower(),
                "name": g,
                "market_cap": m,
                "fdv": m,
                "volume_24h": 5e7,
                "last_updated": pd.Timestamp(NOW - timedelta(hours=1)),
                "supply_growth": float("nan"),
            }
            for g, (s, _h, m, _p) in tokens.items()
        ]
    )
    fetched = NOW - timedelta(hours=1)
    return ScreenData(
        fees=fees,
        protocols=protocols,
        parents=pd.DataFrame(columns=["id", "gecko_id", "name"]),
        pools=pd.DataFrame(
            columns=["project", "symbol", "tvl_usd", "apy", "apy_base", "apy_reward"]
        ),
        markets=markets,
        as_of={k: fetched for k in ("fees", "protocols", "pools", "markets")},
    )


def quote(symbol: str, mid: Decimal) -> Quote:
    return Quote(symbol, mid * Decimal("0.999"), mid * Decimal("1.001"), mid, NOW, "binance")


def snapshot() -> Snapshot:
    usdt = [("BTC", Decimal("60000")), ("KNC", TOKENS["kyber-network-crystal"][3]),
            ("LRC", TOKENS["loopring"][3]), ("TRX", TOKENS["tron"][3])]  # fmt: skip
    markets = tuple(
        MarketInfo("binance", f"{base}/USDT", base, "USDT", amount_step=Decimal("0.0001"),
                   min_cost=Decimal("5"))
        for base, _ in usdt
    )  # fmt: skip
    account = AccountSnapshot(
        name="binance",
        exchange="binance",
        holdings=(
            Holding("binance", "BTC", Decimal("1"), Decimal("1")),
            Holding("binance", "USDT", Decimal("40000"), Decimal("40000")),
        ),
        markets=markets,
        quotes=tuple(quote(f"{b}/USDT", p) for b, p in usdt),
        fetched_at=NOW,
    )
    return Snapshot(
        as_of=NOW,
        base_currency="USDT",
        accounts=(account,),
        datasets={"dataset:revenue_screen": screen_data()},
    )


def test_rotation_buys_only_tradable_basket_members_at_the_basket_weight() -> None:
    registry = default_registry()
    params = ScreenParams(min_holders_revenue=0, min_market_cap=0, max_weight=0.4)
    ruleset = RuleSet(
        name="test",
        rules=(RuleSpec("revenue_basket", "revenue_screen", params),),
        regimes=(
            Regime(
                "rotate",
                Ref("revenue_basket"),
                {"BTC": Decimal("0.5"), CASH_BUCKET: Decimal("0.25")},
                baskets={"revenue_basket": Decimal("0.25")},
            ),
            Regime("hold", None, {"BTC": Decimal("0.8"), CASH_BUCKET: Decimal("0.2")}),
        ),
        registry=registry,
    )  # fmt: skip
    snap = snapshot()
    results = evaluate(ruleset, {}, date(2025, 3, 1), snap)
    basket = results["revenue_basket"]
    assert basket.value is True
    assert set(basket.basket) == {"KNC", "LRC", "TRX"}  # MKR passes its figures but has no market
    assert "MKR" not in basket.basket

    choice = choose_regime(ruleset.regimes, results, frozenset({"USDT"}))
    assert choice.regime == "rotate"
    members = {a: w for a, w in choice.targets.weights.items() if a in basket.basket}
    assert sum(members.values()) == Decimal("0.25")
    assert max(members.values()) <= Decimal("0.25") * Decimal("0.4")

    policy = RebalancePolicy(quote_preference=("USDT",), cash_assets=frozenset({"USDT"}))
    plan = plan_orders(snap, choice.targets, policy)
    assert plan.complete
    buys = {o.asset for o in plan.orders if o.side is Side.BUY}
    assert buys == {"KNC", "LRC", "TRX"}
    assert all(o.asset != "MKR" for o in plan.orders)
    after = {a.asset: a.weight for a in plan.after}
    for asset, target in members.items():  # each ends inside its band (25 % of its target)
        assert abs(after[asset] - target) <= target * Decimal("0.25")


def test_revenue_screen():
    registry = default_registry()

    def screened(snap: Snapshot | None, **params: object) -> RuleResult:
        spec = RuleSpec("basket", "revenue_screen", ScreenParams(**params))  # type: ignore[arg-type]
        return evaluate(RuleSet("t", (spec,), (), registry), {}, date(2025, 3, 1), snap)["basket"]

    loose = {"min_holders_revenue": 0, "min_market_cap": 0, "max_weight": 0.4}
    result = screened(snapshot(), **loose)
    assert result.value is True and result.as_of == date(2025, 3, 1)
    assert set(result.basket) == {"KNC", "LRC", "TRX"}
    assert sum(result.basket.values()) == 1
    assert max(result.basket.values()) <= Decimal("0.4")
    assert result.inputs["candidates"] == 4
    assert [m["symbol"] for m in result.inputs["basket"]] == sorted(
        result.basket, key=lambda s: -result.basket[s]
    )
    assert result.reason.startswith("3 of 4 tokens pass the revenue screen; basket ")

    # No token yields 500 % a year: a definite, empty answer (false), not unknown.
    strict = screened(snapshot(), **loose, min_revenue_yield=5)
    assert strict.value is False and strict.basket == {}
    assert strict.reason == "none of 4 tokens passes the revenue screen"

    # Without gathered screen data, or with a source older than allowed: unknown.
    assert screened(None, **loose).value is None
    stale_data = replace(
        screen_data(), as_of={k: NOW - timedelta(days=3) for k in ("fees", "protocols",
                                                                   "pools", "markets")}
    )  # fmt: skip
    stale = screened(replace(snapshot(), datasets={"dataset:revenue_screen": stale_data}), **loose)
    assert stale.value is None and stale.reason.startswith("revenue screen inputs: ")


def test_basket_screened_without_accounts_leaves_out_tokens_sharing_a_code_and_says_why():
    # As `rotator signals` screens: no account read. Velodrome's yield would top the basket;
    # velo also trades as VELO. Keyed by code, one would replace the other and its weight
    # would silently become cash.
    tokens = {
        **TOKENS,
        "velodrome-finance": ("VELO", 3e6, 1.5e8, Decimal("0.1")),
        "velo": ("VELO", 4e5, 9e7, Decimal("0.01")),
    }
    spec = RuleSpec("basket", "revenue_screen", ScreenParams(min_holders_revenue=0, max_count=6))
    snap = Snapshot(NOW, "USDT", (), datasets={"dataset:revenue_screen": screen_data(tokens)})
    result = evaluate(RuleSet("t", (spec,), (), default_registry()), {}, date(2025, 3, 1), snap)
    basket = result["basket"]
    assert set(basket.basket) == {"KNC", "LRC", "TRX", "MKR"}
    assert sum(basket.basket.values()) == 1
    members = basket.inputs["basket"]
    assert [m["symbol"] for m in members] == list(basket.basket)  # each code once, no cash
    assert {m["gecko_id"] for m in basket.inputs["left_out"]} == {"velodrome-finance", "velo"}
    assert basket.reason.startswith("4 of 6 tokens pass the revenue screen; basket ")
    assert (
        "; left out: symbol VELO is shared by velo, velodrome-finance: set symbols: "
        "{gecko_id: CODE} to say which one your exchanges list (tradability not checked: no "
        "account read; `rotator plan` keeps only the tokens with a market on your accounts"
    ) in basket.reason
