"""Rules without a plan: `rotator signals` and the replay bench evaluate a rule set on stored
history alone (no accounts; datasets when asked), choose the regime, optionally save the
evaluations.

They run stages 3 and 4 of rotator.pipeline.run (`evaluate_rules`, `choose_targets`) on a
history-only snapshot, so `signals` takes the decision `plan` and `backtest` take on the same
day (one rule engine: the core's `decide`, with `min_days` hysteresis).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from rotator.adapters.storage.market import load_history, save_evaluations
from rotator.adapters.storage.plan_records import evaluation_rows
from rotator.adapters.storage.screen_history import load_screen_history
from rotator.core.history import History
from rotator.core.models import RebalancePolicy
from rotator.core.records import RulesReport
from rotator.core.rules.engine import RuleSet, history_only
from rotator.core.rules.regimes import RegimeChoice
from rotator.core.rules.registry import RuleResult
from rotator.core.rules.revenue_screen import DATASET as SCREEN_DATASET
from rotator.core.screen.history import DATASET as HISTORY
from rotator.core.screen.history import ScreenHistory
from rotator.pipeline.gather import load_inputs
from rotator.pipeline.loading import LoadContext
from rotator.pipeline.run import RunConfig, check_regime, evaluate_rules

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LoadContext", "RulesOutcome", "check_regime", "run_rules"]


@dataclass(frozen=True, slots=True)
class RulesOutcome:
    """One evaluation of a rule set: every rule's result, their report and the regime chosen."""

    ruleset: RuleSet
    as_of: date
    results: Mapping[str, RuleResult]
    choice: RegimeChoice
    report: RulesReport
    history: Mapping[str, pd.Series] = field(default_factory=dict)


def run_rules(
    ruleset: RuleSet,
    engine: Engine | None,
    as_of: date,
    *,
    save_at: datetime | None = None,
    context: LoadContext | None = None,
) -> RulesOutcome:
    """Load the rule set's series as of `as_of`'s close, evaluate, choose a regime.

    Without a `context`, datasets (the revenue screen) are not gathered: a basket rule reads the
    basket `rotator screen` stored on or before `as_of` (or its declared fallback; else unknown).

    Args:
        engine: the store the series (and stored screens) are read from; None: no store yet
            (read as an empty one; nothing can be saved).
        save_at: store the evaluations as standalone ones (no run), evaluated at this time
            (the run's clock), replacing earlier ones for the same day; the only write, after
            everything was evaluated. None: nothing is written.
        context: where dataset loaders (the revenue screen) read from, as stage 2 of a plan
            does; None: the stored screens stand in for them.
    """
    history: Mapping[str, pd.Series]
    if context is None:
        screens = [spec.name for spec in ruleset.declaring(SCREEN_DATASET)]
        stored: dict[str, object] = {}
        if engine is None:  # no store yet: read as an empty one
            history = History({})
            if screens:
                stored[HISTORY] = ScreenHistory()
        else:
            history = load_history(engine, ruleset.series_inputs(), as_of)
            if screens:
                stored[HISTORY] = load_screen_history(engine, screens, as_of)
        snapshot = history_only(as_of, history, stored)
    else:
        inputs = load_inputs(ruleset, day=as_of, engine=engine, context=context)
        history = inputs.history
        datasets = {name: d.value for name, d in inputs.datasets.items()}
        # Stamped with the clock reading, as a plan's snapshot is: the datasets' freshness is
        # judged against the time they were read, the series against `as_of`.
        snapshot = replace(history_only(as_of, history), as_of=context.now, datasets=datasets)
    config = RunConfig(None, ruleset, RebalancePolicy(cash_assets=frozenset()), as_of)
    evaluation = evaluate_rules(config, snapshot)
    assert evaluation.decision is not None and evaluation.report is not None
    rules = evaluation.report
    if save_at is not None:
        if engine is None:
            raise ValueError("run_rules: save_at needs a database to save to (engine)")
        save_evaluations(
            engine, rules.ruleset, rules.as_of, evaluation_rows(rules), evaluated_at=save_at
        )
    return RulesOutcome(
        ruleset, as_of, evaluation.results, evaluation.decision.choice, rules, history
    )
