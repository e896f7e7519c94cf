"""The plan's typed records (rotator.core.records) as stored JSON, and back: one shape, once.

A run row's `details` column holds::

    {"ruleset": "rules/cycle.yaml", "rules_as_of": "2021-05-20",
     "rules": [{"name", "kind", "value": "true"|"false"|"unknown", "reason", "inputs",
                "data_as_of": "2021-05-19"|null, "basket": {asset: "0.5"}|null}, ...],
     "baskets": [{"rule", "regime_weight": "0.25", "reason",
                  "members": [{"symbol", "basket_weight", "portfolio_weight", ...figures}]}]}

(an empty object for a run on static targets). Rule evaluations go to `rule_evaluations` in
one shape too (`evaluation_rows`), whether saved with a run or by `rotator signals`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from rotator.core.records import BasketMember, BasketReport, RuleReport, RulesReport

MEMBER_KEYS = ("symbol", "basket_weight", "portfolio_weight")


def rule_to_json(rule: RuleReport) -> dict[str, Any]:
    return {
        "name": rule.name,
        "kind": rule.kind,
        "value": rule.state,
        "reason": rule.reason,
        "inputs": dict(rule.inputs),
        "data_as_of": None if rule.data_as_of is None else rule.data_as_of.isoformat(),
        "basket": None if rule.basket is None else {a: str(w) for a, w in rule.basket.items()},
    }


def basket_to_json(basket: BasketReport) -> dict[str, Any]:
    return {
        "rule": basket.rule,
        "regime_weight": str(basket.regime_weight),
        "reason": basket.reason,
        "members": [
            {
                **member.figures,
                "symbol": member.symbol,
                "basket_weight": str(member.basket_weight),
                "portfolio_weight": str(member.portfolio_weight),
            }
            for member in basket.members
        ],
    }


def records_to_json(rules: RulesReport | None, baskets: tuple[BasketReport, ...]) -> dict[str, Any]:
    """The `details` column of a run."""
    out: dict[str, Any] = {}
    if rules is not None:
        out["ruleset"] = rules.ruleset
        out["rules_as_of"] = rules.as_of.isoformat()
        out["rules"] = [rule_to_json(r) for r in rules.rules]
        if rules.history_note:
            out["history_note"] = rules.history_note
    if baskets:
        out["baskets"] = [basket_to_json(b) for b in baskets]
    return out


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def rule_from_json(item: Mapping[str, Any]) -> RuleReport:
    basket = item["basket"]
    return RuleReport(
        name=item["name"],
        kind=item["kind"],
        state=item["value"],
        reason=item["reason"],
        inputs=dict(item["inputs"]),
        data_as_of=_day(item["data_as_of"]),
        basket=None if basket is None else {a: Decimal(w) for a, w in basket.items()},
    )


def basket_from_json(item: Mapping[str, Any]) -> BasketReport:
    return BasketReport(
        rule=item["rule"],
        regime_weight=Decimal(item["regime_weight"]),
        reason=item["reason"],
        members=tuple(
            BasketMember(
                symbol=m["symbol"],
                basket_weight=Decimal(m["basket_weight"]),
                portfolio_weight=Decimal(m["portfolio_weight"]),
                figures={k: v for k, v in m.items() if k not in MEMBER_KEYS},
            )
            for m in item["members"]
        ),
    )


def records_from_json(
    data: Mapping[str, Any],
) -> tuple[RulesReport | None, tuple[BasketReport, ...]]:
    """The rule reports and baskets of a stored run's `details` column."""
    rules = None
    if "rules" in data:
        rules = RulesReport(
            ruleset=data["ruleset"],
            as_of=date.fromisoformat(data["rules_as_of"]),
            rules=tuple(rule_from_json(r) for r in data["rules"]),
            history_note=data.get("history_note"),  # absent in runs stored before it existed
        )
    baskets = tuple(basket_from_json(b) for b in data.get("baskets", ()))
    return rules, baskets


def evaluation_rows(rules: RulesReport) -> list[dict[str, Any]]:
    """Rows of `rule_evaluations`: rule, kind, value, reason, inputs (with the data date and
    basket, when there are ones)."""
    rows = []
    for rule in rules.rules:
        inputs = dict(rule.inputs)
        if rule.basket is not None:
            inputs["basket"] = {a: str(w) for a, w in rule.basket.items()}
        if rule.data_as_of is not None:
            inputs["data_as_of"] = rule.data_as_of.isoformat()
        rows.append(
            {
                "rule": rule.name,
                "kind": rule.kind,
                "value": rule.state,
                "reason": rule.reason,
                "inputs": inputs,
            }
        )
    return rows
