"""Regimes: an ordered list of target allocations, each behind a condition on rule results.

The first regime whose condition is true gives the target weights; the last regime has no
condition and is the default. A condition that is unknown (some input missing or stale) does not
fire: the regime is skipped and the explanation says which rule was unknown and why.

Targets may name a rule whose result carries a basket (see rotator.core.rules.registry,
"Baskets"): the regime's weight for it is spread over the basket's assets in proportion to their
basket weights. A conditional regime whose basket is unknown or empty does not fire; for the
default regime (and a regime forced with `--regime`) that weight stays in cash, with a warning.

Hysteresis: a regime's `min_days` holds it at least that many days once entered, unless a
regime listed above it fires (`hold_regimes`); its `lock_days` holds it that many days against
every other regime, those listed above included (so no regime lasts less than that). The
state is recomputed from the condition-only choices of the `hold_lookback` days before the
evaluation day, so it depends on the series alone (a single plan and a day-by-day backtest
agree); the explanation says "held by hysteresis".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from rotator.core.models import CASH_BUCKET, TargetWeights
from rotator.core.rules.combinators import all_values, any_values, not_value
from rotator.core.rules.registry import RuleResult
from rotator.errors import Problem, Severity


@dataclass(frozen=True, slots=True)
class Ref:
    """A condition that is one rule's value."""

    rule: str


@dataclass(frozen=True, slots=True)
class All:
    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Condition


Condition = Ref | All | AnyOf | Not


def condition_rules(cond: Condition) -> tuple[str, ...]:
    """Rule names a condition reads, in order of appearance."""
    if isinstance(cond, Ref):
        return (cond.rule,)
    if isinstance(cond, Not):
        return condition_rules(cond.item)
    return tuple(dict.fromkeys(n for item in cond.items for n in condition_rules(item)))


def describe(cond: Condition) -> str:
    """Condition as text: `all(a, not(b))`."""
    if isinstance(cond, Ref):
        return cond.rule
    if isinstance(cond, Not):
        return f"not({describe(cond.item)})"
    word = "all" if isinstance(cond, All) else "any"
    return f"{word}({', '.join(describe(i) for i in cond.items)})"


def truth(cond: Condition, results: Mapping[str, RuleResult]) -> bool | None:
    """Three-valued value of a condition; a rule without a result counts as unknown."""
    if isinstance(cond, Ref):
        result = results.get(cond.rule)
        return None if result is None else result.value
    if isinstance(cond, Not):
        return not_value(truth(cond.item, results))
    values = [truth(i, results) for i in cond.items]
    return all_values(values) if isinstance(cond, All) else any_values(values)


@dataclass(frozen=True, slots=True)
class Regime:
    """One regime of a rule set.

    Attributes:
        when: the condition; None for the default regime.
        targets: asset (or CASH) -> weight.
        baskets: rule name -> weight spread over that rule's basket.
    """

    name: str
    when: Condition | None
    targets: Mapping[str, Decimal]
    baskets: Mapping[str, Decimal] = field(default_factory=dict)
    description: str = ""
    min_days: int = 0
    lock_days: int = 0


@dataclass(frozen=True, slots=True)
class RegimeChoice:
    """The regime chosen, its target weights and the lines explaining the choice.

    Attributes:
        held: True when the regime is held by `min_days` hysteresis, not by its condition.
    """

    regime: str
    targets: TargetWeights
    explanation: tuple[str, ...]
    problems: tuple[Problem, ...] = ()
    held: bool = False


@dataclass(frozen=True, slots=True)
class Held:
    """The regime in force on `day` after `min_days` hysteresis.

    Attributes:
        regime: the regime in force.
        since: the day it was entered.
        chosen: what the conditions alone choose that day.
    """

    day: date
    regime: str
    since: date
    chosen: str

    @property
    def held(self) -> bool:
        return self.regime != self.chosen


def hold_lookback(regimes: tuple[Regime, ...]) -> int:
    """Days of condition-only choices `hold_regimes` reads to decide today (0: no min_days).

    The state is recomputed from the choices of this many days before the evaluation day, so a
    single `rotator plan` and a day-by-day backtest compute the same regime from the series.
    """
    longest = max((max(r.min_days, r.lock_days) for r in regimes), default=0)
    return 3 * longest if longest else 0


def hold_regimes(
    regimes: tuple[Regime, ...], chosen: Sequence[tuple[date, str]]
) -> tuple[Held, ...]:
    """Apply `min_days`: once entered, a regime is held at least that many days, unless a
    regime listed above it is chosen by its conditions; and `lock_days`: for that many days
    not even a regime listed above replaces it.

    Args:
        chosen: (day, regime chosen by the conditions alone), ascending days (gaps allowed;
            days are counted by the calendar). The first regime counts as entered long ago.

    Returns:
        The regime in force on each of those days.
    """
    rank = {r.name: i for i, r in enumerate(regimes)}
    minimum = {r.name: r.min_days for r in regimes}
    lock = {r.name: r.lock_days for r in regimes}
    out: list[Held] = []
    current: str | None = None
    since = date.min
    for day, raw in chosen:
        if current is None:
            current, since = raw, day - timedelta(days=max(minimum[raw], lock[raw]))
        elif (
            raw != current
            and (day - since).days >= lock[current]
            and (rank[raw] < rank[current] or (day - since).days >= minimum[current])
        ):
            current, since = raw, day
        out.append(Held(day, current, since, raw))
    return tuple(out)


def held_choice(
    regimes: tuple[Regime, ...],
    results: Mapping[str, RuleResult],
    state: Held,
    chosen: RegimeChoice,
    cash_assets: frozenset[str] = frozenset(),
) -> RegimeChoice:
    """The choice for a regime held by `min_days` (its targets; the conditions' view kept)."""
    if not state.held:
        return chosen
    regime = next(r for r in regimes if r.name == state.regime)
    weights, notes = _weights(regime, results, cash_assets, lenient=True)
    assert weights is not None
    days = (state.day - state.since).days
    lock = f", lock_days {regime.lock_days}" if regime.lock_days else ""
    span = max(regime.min_days, regime.lock_days)
    lines = [
        f"regime {regime.name}: held by hysteresis (min_days {regime.min_days}{lock}: entered "
        f"{state.since}, {days} of {span} days); its conditions now choose "
        f"{state.chosen}",
        *(f"    {n}" for n in notes),
        *(f"  (conditions) {line}" for line in chosen.explanation),
    ]
    out = _choice(regime, weights, lines)
    return RegimeChoice(out.regime, out.targets, out.explanation, out.problems, held=True)


def _rule_lines(
    names: tuple[str, ...],
    results: Mapping[str, RuleResult],
    depends: Mapping[str, tuple[str, ...]],
    depth: int = 1,
) -> list[str]:
    """'rule = state: reason' for each rule, followed by the rules it combines (indented)."""
    lines = []
    for name in names:
        result = results.get(name)
        pad = "    " * depth
        if result is None:
            lines.append(f"{pad}{name} = unknown: not evaluated")
            continue
        lines.append(f"{pad}{name} = {result.state}: {result.reason}")
        if depth < 4:
            lines.extend(_rule_lines(depends.get(name, ()), results, depends, depth + 1))
    return lines


def _weights(
    regime: Regime,
    results: Mapping[str, RuleResult],
    cash_assets: frozenset[str],
    lenient: bool,
) -> tuple[dict[str, Decimal] | None, list[str]]:
    """Target weights of a regime with baskets spread; None when a basket blocks it."""
    weights: dict[str, Decimal] = {}
    notes: list[str] = []

    def add(asset: str, weight: Decimal) -> None:
        key = CASH_BUCKET if asset in cash_assets or asset == CASH_BUCKET else asset
        weights[key] = weights.get(key, Decimal(0)) + weight

    for asset, weight in regime.targets.items():
        add(asset, weight)
    for rule_name, weight in regime.baskets.items():
        result = results.get(rule_name)
        basket = result.basket if result is not None else None
        total = sum(basket.values(), Decimal(0)) if basket else Decimal(0)
        if not basket or total <= 0:
            why = result.reason if result is not None else "not evaluated"
            if not lenient:
                return None, [f"basket {rule_name} unavailable ({why})"]
            notes.append(f"basket {rule_name} unavailable ({why}); its {weight} stays in cash")
            add(CASH_BUCKET, weight)
            continue
        spread = ", ".join(f"{a} {w / total:.0%}" for a, w in basket.items())
        notes.append(f"basket {rule_name} ({weight}): {spread}")
        for asset, part in basket.items():
            add(asset, weight * part / total)
    return weights, notes


def choose_regime(
    regimes: tuple[Regime, ...],
    results: Mapping[str, RuleResult],
    cash_assets: frozenset[str] = frozenset(),
    force: str | None = None,
    depends: Mapping[str, tuple[str, ...]] | None = None,
) -> RegimeChoice:
    """Pick the first regime whose condition holds (or the forced one) and its target weights.

    Args:
        force: a regime name to use regardless of conditions (`--regime NAME`).
        depends: rule name -> rules it combines, to explain combinators down to their parts.

    Raises:
        KeyError: `force` names no regime (callers validate it first).
    """
    lines: list[str] = []
    if force is not None:
        regime = next(r for r in regimes if r.name == force)
        weights, notes = _weights(regime, results, cash_assets, lenient=True)
        assert weights is not None
        lines.append(f"regime {regime.name}: forced with --regime (conditions not consulted)")
        return _choice(regime, weights, [*lines, *(f"    {n}" for n in notes)])
    for regime in regimes:
        if regime.when is None:
            weights, notes = _weights(regime, results, cash_assets, lenient=True)
            assert weights is not None
            lines.append(f"regime {regime.name}: chosen (default: no condition)")
            return _choice(regime, weights, [*lines, *(f"    {n}" for n in notes)])
        value = truth(regime.when, results)
        cond = describe(regime.when)
        rule_lines = _rule_lines(condition_rules(regime.when), results, depends or {})
        if value is not True:
            state = "unknown (does not fire on missing or stale data)" if value is None else "false"
            lines.append(f"regime {regime.name}: skipped: {cond} is {state}")
            lines.extend(rule_lines)
            continue
        weights, notes = _weights(regime, results, cash_assets, lenient=False)
        if weights is None:
            lines.append(f"regime {regime.name}: skipped: {cond} is true but {notes[0]}")
            lines.extend(rule_lines)
            continue
        lines.append(f"regime {regime.name}: chosen: {cond} is true")
        lines.extend(rule_lines)
        return _choice(regime, weights, [*lines, *(f"    {n}" for n in notes)])
    raise ValueError("rule set has no default regime")  # the loader guarantees one


def _choice(regime: Regime, weights: dict[str, Decimal], lines: list[str]) -> RegimeChoice:
    problems = tuple(
        Problem(Severity.WARNING, f"regime {regime.name}", line.strip())
        for line in lines
        if "stays in cash" in line
    )
    return RegimeChoice(
        regime=regime.name,
        targets=TargetWeights(weights=weights, source=f"regime {regime.name}"),
        explanation=tuple(lines),
        problems=problems,
    )
