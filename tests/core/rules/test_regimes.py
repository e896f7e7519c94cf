"""Three-valued combinators, regime choice, fall-through on unknown, baskets."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from rotator.core.models import CASH_BUCKET
from rotator.core.rules.combinators import ManyParams, OneParams
from rotator.core.rules.decision import decide
from rotator.core.rules.engine import LazyResults, RuleSet, RuleSpec, dependency_order, evaluate
from rotator.core.rules.regimes import All, AnyOf, Not, Ref, Regime, choose_regime, truth
from rotator.core.rules.registry import Params, Registry, RuleContext, RuleResult

T, F, U = RuleResult.of(True, "t"), RuleResult.of(False, "f"), RuleResult.unknown("no data")
D = Decimal


@pytest.mark.parametrize(
    ("cond", "expected"),
    [
        (All((Ref("t"), Ref("t"))), True),
        (All((Ref("t"), Ref("u"))), None),
        (All((Ref("f"), Ref("u"))), False),
        (AnyOf((Ref("f"), Ref("u"))), None),
        (AnyOf((Ref("t"), Ref("u"))), True),
        (AnyOf((Ref("f"), Ref("f"))), False),
        (Not(Ref("u")), None),
        (Not(Ref("f")), True),
        (Ref("missing"), None),
    ],
)
def test_three_valued_logic(cond, expected):
    assert truth(cond, {"t": T, "f": F, "u": U}) is expected


REGIMES = (
    Regime("rotate", Ref("u"), {"BTC": D("0.5"), "ETH": D("0.5")}),
    Regime("ride", All((Ref("t"), Not(Ref("f")))), {"BTC": D("0.8"), "USDT": D("0.2")}),
    Regime("accumulate", None, {"BTC": D("0.7"), "CASH": D("0.3")}),
)


def test_unknown_condition_does_not_fire_and_says_why():
    choice = choose_regime(REGIMES, {"t": T, "f": F, "u": U}, frozenset({"USDT"}))
    assert choice.regime == "ride"
    assert choice.targets.weights == {"BTC": D("0.8"), CASH_BUCKET: D("0.2")}
    assert "regime rotate: skipped: u is unknown (does not fire on missing or stale data)" in (
        choice.explanation
    )
    assert "    u = unknown: no data" in choice.explanation


def test_default_regime_when_nothing_holds():
    choice = choose_regime(REGIMES, {"t": F, "f": F, "u": U})
    assert choice.regime == "accumulate"
    assert choice.explanation[-1] == "regime accumulate: chosen (default: no condition)"


def test_forced_regime_ignores_conditions():
    choice = choose_regime(REGIMES, {"t": F, "f": F, "u": U}, force="rotate")
    assert choice.regime == "rotate" and "forced" in choice.explanation[0]


def basket_registry() -> Registry:
    registry = Registry()

    class BasketParams(Params):
        assets: dict[str, float]

    @registry.rule("fixed_basket", params=BasketParams)
    def fixed_basket(p: BasketParams, ctx: RuleContext) -> RuleResult:
        return RuleResult.with_basket(
            {a: D(str(w)) for a, w in p.assets.items()}, f"{len(p.assets)} assets"
        )

    return registry


def test_basket_weight_is_spread_over_the_basket():
    registry = basket_registry()
    kind = registry.get("fixed_basket")
    assert kind is not None
    spec = RuleSpec("alts", "fixed_basket", kind.params(assets={"SOL": 3, "LINK": 1}))
    regime = Regime("rotate", None, {"BTC": D("0.6"), "CASH": D("0.2")}, {"alts": D("0.2")})
    ruleset = RuleSet("t", (spec,), (regime,), registry)
    results = evaluate(ruleset, {}, date(2021, 1, 1))
    choice = choose_regime(ruleset.regimes, results)
    assert choice.targets.weights == {
        "BTC": D("0.6"),
        CASH_BUCKET: D("0.2"),
        "SOL": D("0.15"),
        "LINK": D("0.05"),
    }


def test_conditional_regime_with_empty_basket_falls_through():
    empty = RuleResult.with_basket({}, "no asset passes the screen")
    regimes = (
        Regime("rotate", Ref("t"), {"BTC": D("0.5")}, {"alts": D("0.5")}),
        Regime("hold", None, {"BTC": D("1")}),
    )
    choice = choose_regime(regimes, {"t": T, "alts": empty})
    assert choice.regime == "hold"
    assert any(
        "basket alts unavailable (no asset passes the screen)" in x for x in choice.explanation
    )


def test_combinator_rules_and_cycle_detection():
    specs = {
        "a": RuleSpec("a", "all", ManyParams(of=("b", "c"))),
        "b": RuleSpec("b", "not", OneParams(of="c")),
        "c": RuleSpec("c", "not", OneParams(of="a")),
    }
    _, cycle = dependency_order(specs)
    assert cycle == ["a", "b", "c", "a"]
    specs["c"] = RuleSpec("c", "any", ManyParams(of=("x",)))
    order, cycle = dependency_order(specs)
    assert cycle is None and order.index("c") < order.index("b") < order.index("a")


# min_days hysteresis -------------------------------------------------------------------------

HOLD = (
    Regime("top", Ref("a"), {"BTC": D(1)}),
    Regime("mid", Ref("b"), {"BTC": D("0.5"), CASH_BUCKET: D("0.5")}, min_days=3),
    Regime("base", None, {CASH_BUCKET: D(1)}),
)


def _days(*names: str) -> list[tuple[date, str]]:
    from datetime import timedelta

    return [(date(2021, 1, 1) + timedelta(days=i), n) for i, n in enumerate(names)]


def test_min_days_holds_a_regime_against_a_lower_one():
    from rotator.core.rules.regimes import hold_regimes

    got = hold_regimes(HOLD, _days("base", "mid", "base", "base", "base", "base"))
    assert [h.regime for h in got] == ["base", "mid", "mid", "mid", "base", "base"]
    assert [h.held for h in got] == [False, False, True, True, False, False]
    assert got[2].since == date(2021, 1, 2)


def test_min_days_yields_to_a_regime_above():
    from rotator.core.rules.regimes import hold_regimes

    got = hold_regimes(HOLD, _days("mid", "base", "top", "mid"))
    # the first day counts as entered long ago: not held; a later entry is held 3 days
    assert [h.regime for h in got] == ["mid", "base", "top", "mid"]
    got = hold_regimes(HOLD, _days("base", "mid", "top", "base"))
    assert [h.regime for h in got] == ["base", "mid", "top", "base"]


def test_min_days_counts_calendar_days_across_gaps():
    from rotator.core.rules.regimes import hold_regimes

    days = [(date(2021, 1, 1), "mid"), (date(2021, 1, 2), "base"), (date(2021, 1, 10), "base")]
    got = hold_regimes(HOLD, [(date(2020, 12, 1), "base"), *days])
    assert [h.regime for h in got] == ["base", "mid", "mid", "base"]


def test_lock_days_holds_a_regime_even_against_one_above():
    from rotator.core.rules.regimes import hold_regimes

    locked = (
        Regime("top", Ref("a"), {"BTC": D(1)}, lock_days=3),
        Regime("mid", Ref("b"), {"BTC": D("0.5"), CASH_BUCKET: D("0.5")}, lock_days=3),
        Regime("base", None, {CASH_BUCKET: D(1)}, lock_days=2),
    )
    got = hold_regimes(locked, _days("base", "mid", "top", "top", "top", "base", "top", "mid"))
    # mid is entered on day 2 and locked 3 days although top (above it) fires on day 3; top
    # takes over on day 5 and is locked 3 days (base on day 6 must wait); on day 8 mid follows.
    assert [h.regime for h in got] == ["base", "mid", "mid", "mid", "top", "top", "top", "mid"]
    assert [h.held for h in got] == [False, False, True, True, False, True, False, False]
    # Without lock_days the regime above takes over at once (min_days only holds against
    # regimes listed below).
    free = hold_regimes(HOLD, _days("base", "mid", "top"))
    assert [h.regime for h in free] == ["base", "mid", "top"]


def test_decide_explains_a_regime_held_by_hysteresis():
    import pandas as pd

    from rotator.core.rules.decision import decide
    from rotator.core.rules.prior_high import PriorHighParams

    closes = [90] * 10 + [120, 121, 122] + [90] * 5
    index = pd.date_range("2021-01-01", periods=len(closes), freq="D")
    history = {"close:BTC": pd.Series(closes, index=index, dtype=float)}
    spec = RuleSpec("up", "prior_high_break", PriorHighParams(level=100, confirm_closes=2))
    from rotator.core.rules.registry import default_registry

    regimes = (
        Regime("ride", Ref("up"), {"BTC": D(1)}, min_days=4),
        Regime("wait", None, {CASH_BUCKET: D(1)}),
    )
    ruleset = RuleSet("t", (spec,), regimes, default_registry())
    # entered on 2021-01-12 (second close above 100); closes drop on 2021-01-14
    states = {}
    memo: dict = {}
    for day in pd.date_range("2021-01-11", "2021-01-18").date:
        d = decide(ruleset, history, day, memo=memo)
        states[day] = (d.choice.regime, d.choice.held)
    assert states[date(2021, 1, 12)] == ("ride", False)
    assert states[date(2021, 1, 14)] == ("ride", True)
    assert states[date(2021, 1, 15)] == ("ride", True)
    assert states[date(2021, 1, 16)] == ("wait", False)
    held = decide(ruleset, history, date(2021, 1, 15))
    assert held.choice.explanation[0].startswith("regime ride: held by hysteresis (min_days 4")
    assert "conditions now choose wait" in held.choice.explanation[0]
    # a single evaluation (no memo) agrees with the day-by-day one
    assert (held.choice.regime, held.choice.held) == states[date(2021, 1, 15)]


# The look-back days of min_days evaluate only what the regime choice reads ---------------------


def test_look_back_days_evaluate_a_basket_only_where_its_regime_may_fire():
    registry = Registry()
    screened: list[date] = []

    class DaysParams(Params):
        days: list[int]

    @registry.rule("day_of_month_in", params=DaysParams)
    def day_of_month_in(p: DaysParams, ctx: RuleContext) -> RuleResult:
        return RuleResult.of(ctx.as_of.day in p.days, f"day {ctx.as_of.day}")

    @registry.rule("screened_basket", params=Params)
    def screened_basket(p: Params, ctx: RuleContext) -> RuleResult:
        screened.append(ctx.as_of)  # a screen is the costly rule of a day
        return RuleResult.with_basket({"SOL": D(1)}, "SOL passes")

    flag, basket = registry.get("day_of_month_in"), registry.get("screened_basket")
    assert flag is not None and basket is not None
    ruleset = RuleSet(
        "t",
        (
            RuleSpec("alts", "screened_basket", basket.params()),
            RuleSpec("rally", "day_of_month_in", flag.params(days=[3, 4, 5])),
        ),
        (
            Regime("rotate", Ref("rally"), {"BTC": D("0.5")}, {"alts": D("0.5")}, min_days=3),
            Regime("hold", None, {"BTC": D(1)}),
        ),
        registry,
    )
    decision = decide(ruleset, {}, date(2021, 1, 10))
    # min_days 3 looks back 9 days: the basket is computed on the rally days and on the day
    # decided (every rule of the day itself is evaluated), never on the others.
    assert sorted(screened) == [date(2021, 1, d) for d in (3, 4, 5, 10)]
    assert decision.choice.regime == "hold" and set(decision.results) == {"alts", "rally"}
    # What is read is what `evaluate` gives; reading everything evaluates everything.
    day = date(2021, 1, 4)
    assert dict(LazyResults(ruleset, {}, day)) == evaluate(ruleset, {}, day)
    assert LazyResults(ruleset, {}, day).get("no such rule") is None


def test_a_rule_computed_from_the_snapshot_alone_runs_once_per_decision():
    from rotator.core.rules.engine import history_only

    registry = Registry()
    screened: list[date] = []

    @registry.rule("screened_once", params=Params)
    def screened_once(p: Params, ctx: RuleContext) -> RuleResult:
        def screen() -> RuleResult:
            screened.append(ctx.as_of)
            return RuleResult.with_basket({"SOL": D(1)}, f"screened on {ctx.snapshot.as_of:%F}")

        return ctx.once(screen)

    @registry.rule("every_day", params=Params)
    def every_day(p: Params, ctx: RuleContext) -> RuleResult:
        return RuleResult.of(True, f"day {ctx.as_of.day}")

    ruleset = RuleSet(
        "t",
        (
            RuleSpec("alts", "screened_once", Params()),
            RuleSpec("rally", "every_day", Params()),
        ),
        (
            Regime("rotate", Ref("rally"), {"BTC": D("0.5")}, {"alts": D("0.5")}, min_days=3),
            Regime("hold", None, {"BTC": D(1)}),
        ),
        registry,
    )
    day = date(2021, 1, 10)
    snapshot = history_only(date(2021, 1, 10), {})
    decision = decide(ruleset, {}, day, snapshot=snapshot)
    # the day and its nine look-back days read the basket: it was screened once
    assert screened == [day]
    assert decision.choice.regime == "rotate"
    assert decision.results["alts"].reason == "screened on 2021-01-10"
    # another decision is another computation; without a snapshot each day has its own
    decide(ruleset, {}, day, snapshot=snapshot)
    assert screened == [day, day]
    screened.clear()
    decide(ruleset, {}, day)
    assert len(screened) == 10 and len(set(screened)) == 10
