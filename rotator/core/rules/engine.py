"""A configured rule set and its evaluation: rules in dependency order, then the regime.

`RuleSet` is what rotator.config.ruleset builds from a rule-set file; `evaluate` runs every rule
on one day's history and returns results by rule name. It is pure: the caller loads the history
(`RuleSet.inputs()` names it) and stores the results.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from rotator.core.rules.registry import MissingInput, Params, Registry, RuleContext, RuleResult

if TYPE_CHECKING:
    import pandas as pd

    from rotator.core.models import Snapshot
    from rotator.core.rules.regimes import Regime


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One named rule of a rule set: its kind and validated parameters."""

    name: str
    kind: str
    params: Params

    @property
    def references(self) -> tuple[str, ...]:
        return self.params.references()


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Rules in evaluation order (references first) and the ordered regimes.

    Attributes:
        name: where it came from (file path), shown in output and stored with evaluations.
        rules: rules in an order where every referenced rule comes before its user.
        regimes: tried in order; the first whose condition holds gives the targets.
    """

    name: str
    rules: tuple[RuleSpec, ...]
    regimes: tuple[Regime, ...]
    registry: Registry

    def inputs(self) -> tuple[str, ...]:
        """Every series name the rules read, each once, in first-use order."""
        names: dict[str, None] = {}
        for spec in self.rules:
            kind = self.registry.get(spec.kind)
            if kind is not None:
                names.update(dict.fromkeys(kind.inputs_for(spec.params)))
        return tuple(names)


def evaluate(
    ruleset: RuleSet,
    history: Mapping[str, pd.Series],
    as_of: date,
    snapshot: Snapshot | None = None,
) -> dict[str, RuleResult]:
    """Evaluate every rule of `ruleset` on `history` as it stood at `as_of`'s close.

    Returns:
        rule name -> result, in the rule set's evaluation order. A rule whose inputs are missing
        or stale is unknown with the reason; it never raises for missing data.
    """
    results: dict[str, RuleResult] = {}
    for spec in ruleset.rules:
        kind = ruleset.registry.get(spec.kind)
        if kind is None:  # the loader rejects unknown kinds; guard for hand-built rule sets
            results[spec.name] = RuleResult.unknown(f"unknown rule kind {spec.kind!r}")
            continue
        ctx = RuleContext(as_of, history, results, snapshot)
        try:
            results[spec.name] = kind.func(spec.params, ctx)
        except MissingInput as exc:
            results[spec.name] = RuleResult.unknown(str(exc))
    return results


def dependency_order(specs: Mapping[str, RuleSpec]) -> tuple[list[str], list[str] | None]:
    """Topological order of rule names (references first), and a cycle when there is one.

    Returns:
        (order, cycle): `cycle` is the list of names forming a reference loop (first name
        repeated at the end), or None. References to unknown names are ignored here.
    """
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        if state.get(name) == 2:
            return None
        if state.get(name) == 1:
            return [*path[path.index(name) :], name]
        state[name] = 1
        path.append(name)
        for ref in specs[name].references:
            if ref in specs and (cycle := visit(ref)):
                return cycle
        path.pop()
        state[name] = 2
        order.append(name)
        return None

    for name in specs:
        if cycle := visit(name):
            return order, cycle
    return order, None
