"""One day's decision: evaluate the rules, choose the regime, apply `min_days` hysteresis.

`decide` is what `rotator plan`, `rotator signals` (through rotator.pipeline.rules.run_rules)
and `rotator backtest` call, so they take the same decision on the same day. It is pure: the
history is given (it may extend past `as_of`; rules only see data up to `as_of`'s close).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from rotator.core.rules.engine import LazyResults, RuleSet, evaluate
from rotator.core.rules.regimes import (
    Held,
    RegimeChoice,
    choose_regime,
    held_choice,
    hold_lookback,
    hold_regimes,
)
from rotator.core.rules.registry import RuleResult

if TYPE_CHECKING:
    import pandas as pd

    from rotator.core.models import Snapshot


@dataclass(frozen=True, slots=True)
class Decision:
    """Every rule's result on the day and the regime in force (after hysteresis)."""

    as_of: date
    results: Mapping[str, RuleResult]
    choice: RegimeChoice
    state: Held | None = None


def condition_choice(
    ruleset: RuleSet,
    results: Mapping[str, RuleResult],
    cash_assets: frozenset[str] = frozenset(),
    force: str | None = None,
) -> RegimeChoice:
    """The regime the conditions alone choose from these results (no hysteresis)."""
    depends = {spec.name: spec.references for spec in ruleset.rules}
    return choose_regime(ruleset.regimes, results, cash_assets, force, depends)


def decide(
    ruleset: RuleSet,
    history: Mapping[str, pd.Series],
    as_of: date,
    *,
    snapshot: Snapshot | None = None,
    cash_assets: frozenset[str] = frozenset(),
    force: str | None = None,
    memo: MutableMapping[date, str] | None = None,
) -> Decision:
    """Evaluate the rules as of `as_of`'s close and choose the regime in force.

    With `min_days` on a regime, the condition-only choices of the `hold_lookback` days before
    `as_of` are computed too (`memo` caches them by day across calls, e.g. in a backtest) and
    `hold_regimes` decides whether the previous regime is still held.
    """
    # The look-back days below see the run's snapshot: what a rule computes from it alone is
    # computed once (RuleContext.once). Without one, each day has a snapshot of its own.
    shared: dict[str, object] | None = {} if snapshot is not None else None
    results = evaluate(ruleset, history, as_of, snapshot, shared)
    choice = condition_choice(ruleset, results, cash_assets, force)
    lookback = hold_lookback(ruleset.regimes)
    if force is not None or lookback == 0:
        return Decision(as_of, results, choice)
    memo = {} if memo is None else memo
    memo[as_of] = choice.regime
    chosen = []
    for back in range(lookback, 0, -1):
        day = as_of - timedelta(days=back)
        if day not in memo:
            # Only the rules the choice reads are evaluated (a basket behind a regime whose
            # condition is false is not: a screen per day is most of a day's cost).
            past = LazyResults(ruleset, history, day, snapshot, shared)
            memo[day] = condition_choice(ruleset, past, cash_assets).regime
        chosen.append((day, memo[day]))
    chosen.append((as_of, choice.regime))
    state = hold_regimes(ruleset.regimes, chosen)[-1]
    return Decision(
        as_of, results, held_choice(ruleset.regimes, results, state, choice, cash_assets), state
    )
