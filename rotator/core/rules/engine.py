"""A configured rule set and its evaluation: rules in dependency order, then the regime.

`RuleSet` is what rotator.config.ruleset builds from a rule-set file; `evaluate` runs every rule
on one day's history and returns results by rule name. It is pure: the caller loads the history
(`RuleSet.inputs()` names it) and stores the results.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING

from rotator.core.models import Snapshot
from rotator.core.records import BasketMember, BasketReport, RuleReport, RulesReport
from rotator.core.rules.registry import (
    DATASET_PREFIX,
    MissingInput,
    Params,
    Registry,
    RuleContext,
    RuleResult,
)

if TYPE_CHECKING:
    import pandas as pd

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
        """Every input the rules declare (series and datasets), each once, in first-use order."""
        names: dict[str, None] = {}
        for spec in self.rules:
            kind = self.registry.get(spec.kind)
            if kind is not None:
                names.update(dict.fromkeys(kind.inputs_for(spec.params)))
        return tuple(names)

    def series_inputs(self) -> tuple[str, ...]:
        """The daily series the rules read (served by the market-history store)."""
        return tuple(n for n in self.inputs() if not n.startswith(DATASET_PREFIX))

    def dataset_inputs(self) -> tuple[str, ...]:
        """The datasets the rules read ("dataset:<name>", each served by its own loader)."""
        return tuple(n for n in self.inputs() if n.startswith(DATASET_PREFIX))

    def lookbacks(self) -> dict[str, int]:
        """Series name -> the most days of history any rule reading it declares it needs."""
        needed: dict[str, int] = {}
        for spec in self.rules:
            kind = self.registry.get(spec.kind)
            if kind is None:
                continue
            for name, days in kind.lookback_days(spec.params).items():
                if not name.startswith(DATASET_PREFIX):
                    needed[name] = max(needed.get(name, 0), days)
        return needed

    def max_ages(self) -> dict[str, int]:
        """Series name -> the largest `max_age` (days) of the rules reading it (3 when none)."""
        ages: dict[str, int] = {}
        for spec in self.rules:
            kind = self.registry.get(spec.kind)
            age = getattr(spec.params, "max_age", None)
            if kind is None:
                continue
            for name in kind.inputs_for(spec.params):
                if not name.startswith(DATASET_PREFIX):
                    value = age if isinstance(age, int) else 3
                    ages[name] = max(ages.get(name, 0), value)
        return ages

    def declaring(self, name: str) -> tuple[RuleSpec, ...]:
        """The rules that declare input `name` (a loader reads their parameters)."""
        out = []
        for spec in self.rules:
            kind = self.registry.get(spec.kind)
            if kind is not None and name in kind.inputs_for(spec.params):
                out.append(spec)
        return tuple(out)

    def kind_of(self, rule: str) -> str:
        return next((s.kind for s in self.rules if s.name == rule), "?")


def history_only(
    as_of: date,
    history: Mapping[str, pd.Series],
    datasets: Mapping[str, object] | None = None,
) -> Snapshot:
    """A snapshot with history and no accounts (replays, `rotator signals`).

    Args:
        datasets: stored datasets a replay may read (the screen history); none by default.
    """
    moment = datetime.combine(as_of, time(), tzinfo=UTC)
    return Snapshot(
        as_of=moment, base_currency="", accounts=(), history=history, datasets=datasets or {}
    )


def evaluate(
    ruleset: RuleSet,
    history: Mapping[str, pd.Series],
    as_of: date,
    snapshot: Snapshot | None = None,
    shared: MutableMapping[str, object] | None = None,
) -> dict[str, RuleResult]:
    """Evaluate every rule of `ruleset` on `history` as it stood at `as_of`'s close.

    Args:
        snapshot: the run's snapshot (accounts, datasets); without one (replays) the rules see
            `history_only(as_of, history)`, so a rule's context always has a snapshot.
        shared: `RuleContext.shared` for every rule: pass one mapping to the evaluations of
            several days on the same snapshot and rule set (see RuleContext.once).

    Returns:
        rule name -> result, in the rule set's evaluation order. A rule whose inputs are missing
        or stale is unknown with the reason; it never raises for missing data.
    """
    seen = snapshot if snapshot is not None else history_only(as_of, history)
    shared = {} if shared is None else shared
    results: dict[str, RuleResult] = {}
    for spec in ruleset.rules:
        results[spec.name] = _evaluate_one(ruleset, spec, as_of, history, seen, results, shared)
    return results


def _evaluate_one(
    ruleset: RuleSet,
    spec: RuleSpec,
    as_of: date,
    history: Mapping[str, pd.Series],
    seen: Snapshot,
    results: Mapping[str, RuleResult],
    shared: MutableMapping[str, object],
) -> RuleResult:
    """One rule's result; `results` holds (or, lazily, gives) the results it references."""
    kind = ruleset.registry.get(spec.kind)
    if kind is None:  # the loader rejects unknown kinds; guard for hand-built rule sets
        return RuleResult.unknown(f"unknown rule kind {spec.kind!r}")
    ctx = RuleContext(as_of, history, seen, results, rule=spec.name, shared=shared)
    try:
        return kind.func(spec.params, ctx)
    except MissingInput as exc:
        return RuleResult.unknown(str(exc))


class LazyResults(Mapping[str, RuleResult]):
    """`evaluate`'s results, each rule evaluated when it is first read (then kept).

    For readers that need a few rules of a day, such as the condition-only regime choices of
    the days `min_days` looks back on: a rule that no condition or chosen regime reads (a
    screened basket behind a regime whose condition is false, say) is never computed. Rules are
    pure, so every result read is the one `evaluate` gives.
    """

    def __init__(
        self,
        ruleset: RuleSet,
        history: Mapping[str, pd.Series],
        as_of: date,
        snapshot: Snapshot | None = None,
        shared: MutableMapping[str, object] | None = None,
    ) -> None:
        self._ruleset = ruleset
        self._history = history
        self._as_of = as_of
        self._seen = snapshot if snapshot is not None else history_only(as_of, history)
        self._specs = {spec.name: spec for spec in ruleset.rules}
        self._done: dict[str, RuleResult] = {}
        self._shared = {} if shared is None else shared

    def __getitem__(self, name: str) -> RuleResult:
        if name not in self._done:
            spec = self._specs[name]  # KeyError for names that are no rule, as a dict
            self._done[name] = _evaluate_one(
                self._ruleset, spec, self._as_of, self._history, self._seen, self, self._shared
            )
        return self._done[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)


def report(ruleset: RuleSet, as_of: date, results: Mapping[str, RuleResult]) -> RulesReport:
    """The results as typed reports (what the plan carries and the run store saves)."""
    return RulesReport(
        ruleset=ruleset.name,
        as_of=as_of,
        rules=tuple(
            RuleReport(
                name=name,
                kind=ruleset.kind_of(name),
                state=result.state,
                reason=result.reason,
                inputs=dict(result.inputs),
                data_as_of=result.as_of,
                basket=None if result.basket is None else dict(result.basket),
            )
            for name, result in results.items()
        ),
    )


def basket_reports(
    ruleset: RuleSet, results: Mapping[str, RuleResult], regime_name: str | None
) -> tuple[BasketReport, ...]:
    """The baskets the chosen regime spreads weight over, with each member's weights.

    Per basket rule the regime names: its weight, and per member the share of the basket, the
    portfolio weight and the figures that put it there (the rule's `inputs["basket"]` entries,
    matched by symbol); or no members and the reason the basket was unavailable (its weight then
    stays in cash).
    """
    regime = next((r for r in ruleset.regimes if r.name == regime_name), None)
    if regime is None or not regime.baskets:
        return ()
    out = []
    for rule_name, weight in regime.baskets.items():
        result = results.get(rule_name)
        basket = dict(result.basket or {}) if result is not None else {}
        total = sum(basket.values(), Decimal(0))
        listed = result.inputs.get("basket", []) if result is not None else []
        figures = {m["symbol"]: m for m in listed}
        members = tuple(
            BasketMember(
                symbol=code,
                basket_weight=share / total,
                portfolio_weight=weight * share / total,
                figures={k: v for k, v in figures.get(code, {}).items() if k != "symbol"},
            )
            for code, share in basket.items()
        ) if total > 0 else ()  # fmt: skip
        out.append(
            BasketReport(
                rule=rule_name,
                regime_weight=weight,
                members=members,
                reason=result.reason if result is not None else "not evaluated",
            )
        )
    return tuple(out)


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
