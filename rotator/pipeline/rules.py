"""Rules without a plan: `rotator signals` and the replay bench evaluate a rule set on stored
history alone (no accounts, no datasets), choose the regime and optionally save the evaluations.

A plan run goes through rotator.pipeline.run instead (stages 1-6); both use the core's
`evaluate` / `choose_regime`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from rotator.adapters.storage.market import load_history, save_evaluations
from rotator.adapters.storage.plan_records import evaluation_rows
from rotator.core.records import RulesReport
from rotator.core.rules.engine import RuleSet, evaluate, history_only, report
from rotator.core.rules.regimes import RegimeChoice, choose_regime
from rotator.core.rules.registry import RuleResult
from rotator.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, slots=True)
class RulesOutcome:
    """One evaluation of a rule set: every rule's result, their report and the regime chosen."""

    ruleset: RuleSet
    as_of: date
    results: Mapping[str, RuleResult]
    choice: RegimeChoice
    report: RulesReport
    history: Mapping[str, pd.Series] = field(default_factory=dict)


def check_regime(ruleset: RuleSet, name: str | None) -> None:
    """Raise ConfigError when `--regime NAME` names no regime of the rule set."""
    names = [r.name for r in ruleset.regimes]
    if name is not None and name not in names:
        raise ConfigError(
            f"--regime {name}: no such regime in {ruleset.name}; choose one of {', '.join(names)}"
        )


def run_rules(ruleset: RuleSet, engine: Engine, as_of: date, *, save: bool = False) -> RulesOutcome:
    """Load the rule set's series as of `as_of`'s close, evaluate, choose a regime.

    Datasets (the revenue screen) are not gathered here: rules reading them answer unknown.

    Args:
        save: store the evaluations as standalone ones (no run), replacing earlier ones for the
            same day; the only write, after everything was evaluated.
    """
    history = load_history(engine, ruleset.series_inputs(), as_of)
    results = evaluate(ruleset, history, as_of, history_only(as_of, history))
    depends = {spec.name: spec.references for spec in ruleset.rules}
    choice = choose_regime(ruleset.regimes, results, frozenset(), None, depends)
    rules = report(ruleset, as_of, results)
    if save:
        save_evaluations(engine, rules.ruleset, rules.as_of, evaluation_rows(rules))
    return RulesOutcome(ruleset, as_of, results, choice, rules, history)
