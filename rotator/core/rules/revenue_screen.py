"""Rule kind `revenue_screen`: a weighted basket of tokens whose holders are paid from revenue.

Example (rules/cycle.yaml)::

    rules:
      revenue_basket:
        kind: revenue_screen
        min_revenue_yield: 0.03      # annualised holders revenue / market cap
        min_holders_revenue: 5000000 # USD a year
        max_emission_share: 0.5      # apyReward / apy of the token's staking pools
        weighting: revenue_yield     # or equal, market_cap
        max_weight: 0.35
        max_count: 6
    regimes:
      - name: rotate
        when: {all: [btc_above_prior_high, dominance_rolling_over]}
        targets: {BTC: 0.55, revenue_basket: 0.25, CASH: 0.20}

The screen's inputs (DefiLlama fees/protocols/pools, CoinGecko markets) are the declared input
`dataset:revenue_screen`: its loader (rotator.pipeline.gather) fetches them once, before the
rules run, into `Snapshot.datasets`; the rule only reads them. With a stale/missing source the
answer is unknown, so a rotation never aims at a basket that could not be established. Replays
(`rotator signals`, `rotator backtest`) do not fetch the inputs: they read the basket
`rotator screen` stored on or before the day (`dataset:screen_history`, at most
`history_max_age_days` old), else the rule's declared `fallback_basket` (said in the reason),
else the answer is unknown. Every parameter: see `ScreenParams` and docs/reference/rules.md;
the screen itself: docs/screen.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from rotator.core.rules.registry import RuleContext, RuleResult, rule
from rotator.core.screen.params import ScreenParams
from rotator.errors import Severity

if TYPE_CHECKING:
    from rotator.core.screen.screening import ScreenOutcome

KIND = "revenue_screen"
DATASET = "dataset:revenue_screen"
# Said by a basket screened without accounts (`rotator signals`): `plan` reads the accounts'
# markets and screens only the tokens they list, so its basket can differ (docs/screen.md).
UNCHECKED = (
    "tradability not checked: no account read; `rotator plan` keeps only the tokens with a market "
    "on your accounts and weighs those anew, so its basket can differ or be empty"
)


def basket_members(outcome: ScreenOutcome) -> list[dict[str, Any]]:
    """The basket's tokens with the figures that put them there (for --explain and JSON)."""
    members = outcome.table[outcome.table["in_basket"]]
    rows: Iterable[Any] = members.itertuples()  # columns known at run time only
    return [
        {
            "symbol": row.symbol,
            "gecko_id": row.gecko_id,
            "weight": round(float(row.weight), 6),
            "revenue_yield": round(float(row.revenue_yield), 6),
            "holders_revenue_annual": round(float(row.holders_revenue_annual), 2),
            "market_cap": float(row.market_cap),
            "tradable_on": row.tradable_on,
        }
        for row in rows
    ]


def code_conflicts(outcome: ScreenOutcome) -> list[dict[str, Any]]:
    """Tokens whose figures pass but whose exchange code names another token too (or is
    assigned to another in `symbols`): left out of the basket, with the reason."""
    table = outcome.table
    out = table[(table["code_conflict"] != "") & (table["reasons"] == table["code_conflict"])]
    return [
        {"symbol": symbol, "gecko_id": gecko_id, "reason": reason}
        for symbol, gecko_id, reason in zip(
            out["symbol"], out["gecko_id"], out["code_conflict"], strict=True
        )
    ]


@rule(KIND, params=ScreenParams, inputs=(DATASET,))
def revenue_screen(p: ScreenParams, ctx: RuleContext) -> RuleResult:
    """Basket of tradable tokens paying holders real revenue (yield, trend, emissions filters)."""
    if DATASET not in ctx.snapshot.datasets:
        return _replayed(p, ctx)
    # The basket comes from the run's gathered data alone, whatever the day (the days
    # `min_days` looks back on included): it is screened once.
    return ctx.once(lambda: _screened(p, ctx))


def _screened(p: ScreenParams, ctx: RuleContext) -> RuleResult:
    """The basket screened from the gathered dataset and the snapshot's markets."""
    # pandas is imported here, not at module level: loading a rule set must stay light.
    from rotator.core.screen.basket import to_basket
    from rotator.core.screen.screening import ScreenData, markets_frame, screen

    snapshot = ctx.snapshot
    data = ctx.dataset(DATASET, ScreenData)
    # Without accounts (`rotator signals`) no market is known: the basket is what passes on
    # the screen's data alone, and the reason says tradability was not checked.
    unchecked = not snapshot.accounts and p.require_tradable
    params = p.model_copy(update={"require_tradable": False}) if unchecked else p
    outcome = screen(data, params, markets_frame(snapshot.markets), snapshot.as_of)
    errors = [pr for pr in outcome.problems if pr.severity is Severity.ERROR]
    if errors:
        return RuleResult.unknown("revenue screen inputs: " + "; ".join(map(str, errors)))
    table = outcome.table
    basket = to_basket(table) if table["in_basket"].any() else {}
    left_out = code_conflicts(outcome)
    inputs: dict[str, Any] = {
        "candidates": len(table),
        "passed": int(table["passed"].sum()),
        "basket": basket_members(outcome),
    }
    if left_out:
        inputs["left_out"] = left_out
    if unchecked:
        inputs["tradability"] = "not checked"
    if basket:
        shares = ", ".join(f"{code} {weight:.1%}" for code, weight in basket.items())
        reason = f"{inputs['passed']} of {len(table)} tokens pass the revenue screen; "
        reason += f"basket {shares}"
    else:
        reason = f"none of {len(table)} tokens passes the revenue screen"
    if left_out:
        # Each conflict once, however many tokens it leaves out (VELO names two).
        reason += "; left out: " + "; ".join(dict.fromkeys(m["reason"] for m in left_out))
    if unchecked:
        reason += f" ({UNCHECKED})"
    return RuleResult.with_basket(basket, reason, inputs, snapshot.as_of)


def _replayed(p: ScreenParams, ctx: RuleContext) -> RuleResult:
    """The basket known on the day from stored screens, else the declared fallback, else unknown."""
    from rotator.core.screen.history import DATASET as HISTORY
    from rotator.core.screen.history import ScreenHistory, fallback

    history = ctx.snapshot.datasets.get(HISTORY)
    stored = None
    older = None
    if isinstance(history, ScreenHistory):
        stored = history.known_on(ctx.rule, ctx.as_of, p.history_max_age_days)
        older = history.latest_before(ctx.rule, ctx.as_of)
    if stored is not None:
        inputs = {"screened_on": stored.day, "basket": [dict(m) for m in stored.members]}
        if not stored.basket:
            reason = f"stored screen of {stored.day}: no token passed"
            return RuleResult.with_basket({}, reason, inputs, stored.day)
        shares = ", ".join(f"{code} {weight:.1%}" for code, weight in stored.basket.items())
        reason = f"basket known on {ctx.as_of} (stored screen of {stored.day}): {shares}"
        return RuleResult.with_basket(stored.basket, reason, inputs, stored.day)
    why = (
        f"the latest stored screen ({older.day}) is older than {p.history_max_age_days} days"
        if older is not None
        else f"no screen stored on or before {ctx.as_of}"
    )
    if p.fallback_basket:
        basket = fallback(p.fallback_basket)
        shares = ", ".join(f"{code} {weight:.1%}" for code, weight in basket.items())
        reason = f"fallback basket declared in the rule set ({why}): {shares}"
        return RuleResult.with_basket(basket, reason, {"fallback": True}, ctx.as_of)
    return RuleResult.unknown(
        f"revenue screen data not gathered and {why} (run `rotator screen` to store one, or "
        "declare a fallback_basket)"
    )
