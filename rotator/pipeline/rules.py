"""Wires the rule set to the market store: load history, evaluate, choose the regime, save.

Like rotator.pipeline.run this module joins adapters (the store) and the pure core (rules,
regimes); `rotator plan`, `rotator signals` and the replay bench all go through `run_rules`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from rotator.core.rules.decision import decide
from rotator.core.rules.engine import RuleSet
from rotator.core.rules.regimes import RegimeChoice
from rotator.core.rules.registry import RuleResult
from rotator.errors import ConfigError, Problem, Severity

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import Engine

    from rotator.config.portfolio import Portfolio
    from rotator.core.models import Snapshot


@dataclass(frozen=True, slots=True)
class RulesOutcome:
    """One evaluation of a rule set: every rule's result and the regime chosen."""

    ruleset: RuleSet
    as_of: date
    results: Mapping[str, RuleResult]
    choice: RegimeChoice
    problems: tuple[Problem, ...] = ()
    history: Mapping[str, pd.Series] = field(default_factory=dict)


def load_portfolio_ruleset(portfolio: Portfolio) -> RuleSet | None:
    """The rule set portfolio.yaml names under `rules:` (with its overrides), or None."""
    from rotator.config.ruleset import load_ruleset, resolve_ruleset_path

    if portfolio.rules is None:
        return None
    path = resolve_ruleset_path(portfolio.rules.file, portfolio.rules.base_dir)
    return load_ruleset(path, overrides=portfolio.rules.overrides)


def check_regime(ruleset: RuleSet, name: str | None) -> None:
    """Raise ConfigError when `--regime NAME` names no regime of the rule set."""
    names = [r.name for r in ruleset.regimes]
    if name is not None and name not in names:
        raise ConfigError(
            f"--regime {name}: no such regime in {ruleset.name}; choose one of {', '.join(names)}"
        )


def run_rules(
    ruleset: RuleSet,
    engine: Engine,
    as_of: date,
    *,
    snapshot: Snapshot | None = None,
    cash_assets: frozenset[str] = frozenset(),
    force_regime: str | None = None,
    save: bool = True,
    run_id: str | None = None,
) -> RulesOutcome:
    """Load the rule set's inputs as of `as_of`'s close, evaluate, choose a regime, save results.

    Args:
        force_regime: use this regime regardless of conditions (validated against the set).
        save: store the evaluations (replacing earlier ones for the same day and run).
        run_id: the run they belong to (issue 5's runs), None for standalone evaluations.
    """
    from rotator.adapters.storage.market import load_history, save_evaluations

    check_regime(ruleset, force_regime)
    history = load_history(engine, ruleset.inputs(), as_of)
    decision = decide(
        ruleset,
        history,
        as_of,
        snapshot=snapshot,
        cash_assets=cash_assets,
        force=force_regime,
    )
    results, choice = decision.results, decision.choice
    used = {n for r in ruleset.regimes if r.when is not None for n in _names(r.when)}
    problems = tuple(
        Problem(Severity.WARNING, f"rule {name}", f"unknown: {result.reason}")
        for name, result in results.items()
        if result.value is None and name in used
    )
    if save:
        save_evaluations(engine, ruleset.name, as_of, evaluation_rows(ruleset, results), run_id)
    return RulesOutcome(ruleset, as_of, results, choice, problems + choice.problems, history)


def _names(cond: Any) -> tuple[str, ...]:
    from rotator.core.rules.regimes import condition_rules

    return condition_rules(cond)


def evaluation_rows(ruleset: RuleSet, results: Mapping[str, RuleResult]) -> list[dict[str, Any]]:
    """Results as storable rows: rule, kind, value ("true"/"false"/"unknown"), reason, inputs."""
    kinds = {spec.name: spec.kind for spec in ruleset.rules}
    rows = []
    for name, result in results.items():
        inputs = dict(result.inputs)
        if result.basket is not None:
            inputs["basket"] = {a: str(w) for a, w in result.basket.items()}
        if result.as_of is not None:
            inputs["data_as_of"] = result.as_of.isoformat()
        rows.append(
            {
                "rule": name,
                "kind": kinds.get(name, "?"),
                "value": result.state,
                "reason": result.reason,
                "inputs": inputs,
            }
        )
    return rows


def rule_details(outcome: RulesOutcome) -> list[dict[str, Any]]:
    """Per rule, what `signals` and `plan --explain/--format json` show (JSON-friendly)."""
    kinds = {spec.name: spec.kind for spec in outcome.ruleset.rules}
    out = []
    for name, result in outcome.results.items():
        age = None if result.as_of is None else (outcome.as_of - result.as_of).days
        out.append(
            {
                "rule": name,
                "name": name,  # the key renderers and the run store read
                "kind": kinds.get(name, "?"),
                "value": result.state,
                "reason": result.reason,
                "inputs": dict(result.inputs),
                "basket": None
                if result.basket is None
                else {a: str(w) for a, w in result.basket.items()},
                "data_as_of": None if result.as_of is None else result.as_of.isoformat(),
                "as_of": None if result.as_of is None else result.as_of.isoformat(),
                "age_days": age,
            }
        )
    return out


def plan_details(outcome: RulesOutcome) -> dict[str, Any]:
    """What goes into Plan.details: the rule set, evaluation day and every rule's result."""
    return {
        "ruleset": outcome.ruleset.name,
        "rules_as_of": outcome.as_of.isoformat(),
        "rules": rule_details(outcome),
    }
