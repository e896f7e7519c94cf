"""Typed records a run carries on its plan: what the rules said, the baskets, the prices used.

They replace an untyped `details` mapping: each stage adds its typed part to the plan, the run
store serialises them once (rotator.adapters.storage.plan_records) and renderers read the fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class RuleReport:
    """One rule's answer as the run reports and stores it.

    Attributes:
        name: the rule's name in the rule set.
        kind: its registered kind (e.g. "prior_high_break").
        state: "true", "false" or "unknown".
        reason: one readable line saying why.
        inputs: the key figures the answer rests on (JSON-friendly values, for display).
        data_as_of: date of the newest observation the answer rests on (None when unknown).
        basket: asset -> weight, for kinds that select assets.
    """

    name: str
    kind: str
    state: str
    reason: str
    inputs: Mapping[str, Any] = field(default_factory=dict)
    data_as_of: date | None = None
    basket: Mapping[str, Decimal] | None = None

    def age_days(self, day: date) -> int | None:
        """Days between the data date and `day` (the evaluation day), None when unknown.

        Data dated after the evaluation day was read at run time (a dataset such as the
        revenue screen, on a run whose rules are evaluated `--as-of` an earlier day, as in the
        demo): it is as fresh as can be, 0 days old, never a negative age.
        """
        if self.data_as_of is None:
            return None
        return max(0, (day - self.data_as_of).days)


@dataclass(frozen=True, slots=True)
class RulesReport:
    """Every rule's answer of one evaluation.

    Attributes:
        ruleset: the rule set's name (its file).
        as_of: the evaluation day (rules read history up to its close).
        rules: one report per rule, in evaluation order.
        history_note: one line when rules are unknown for lack of history (which rules, which
            series, the command that fills them); None when history is not what is missing.
    """

    ruleset: str
    as_of: date
    rules: tuple[RuleReport, ...] = ()
    history_note: str | None = None


@dataclass(frozen=True, slots=True)
class BasketMember:
    """One asset of a basket the chosen regime spreads weight over.

    Attributes:
        symbol: exchange currency code.
        basket_weight: its share of the basket (the basket's shares sum to 1).
        portfolio_weight: its target weight in the portfolio (regime weight x basket share).
        figures: what put it there (e.g. gecko_id, revenue_yield, market_cap), for display.
    """

    symbol: str
    basket_weight: Decimal
    portfolio_weight: Decimal
    figures: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BasketReport:
    """A basket rule the chosen regime names in its targets, and what it resolved to.

    Attributes:
        rule: the basket rule's name.
        regime_weight: the regime's target weight for the basket as a whole.
        members: the basket's assets (empty when the basket was unknown or empty).
        reason: the rule's reason (why these members, or why none).
    """

    rule: str
    regime_weight: Decimal
    members: tuple[BasketMember, ...] = ()
    reason: str = ""


def basket_weights(baskets: tuple[BasketReport, ...]) -> dict[str, Decimal]:
    """Asset -> target portfolio weight summed over every basket (what `--explain` shows)."""
    weights: dict[str, Decimal] = {}
    for basket in baskets:
        for member in basket.members:
            weights[member.symbol] = (
                weights.get(member.symbol, Decimal(0)) + member.portfolio_weight
            )
    return weights
