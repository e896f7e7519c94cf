"""Rule sets (YAML files such as rules/cycle.yaml): parse and validate into a core `RuleSet`.

Reading YAML goes through rotator.config.yamlfile (`read_yaml`, `location`), so every error
names the file, the line and the field path, e.g.::

    rules/cycle.yaml:7: rules.btc_above_prior_high.confirm_closes: Input should be greater
    than or equal to 1, got 0

Format::

    description: free text
    rules:                        # name -> {kind: <registered kind>, <params of that kind>}
      btc_above_prior_high: {kind: prior_high_break, asset: BTC, confirm_closes: 3}
      dominance_rolling_over: {kind: dominance, test: fallen_from_peak, window: 90, fallen_pp: 3}
    regimes:                      # tried in order; the last has no `when` (the default)
      - name: rotate
        when: {all: [btc_above_prior_high, dominance_rolling_over]}   # or a rule name,
        targets: {BTC: 0.55, ETH: 0.25, CASH: 0.20}                   # {any: [...]}, {not: x}
      - name: accumulate
        targets: {BTC: 0.85, CASH: 0.15}

A target key that is a rule name refers to that rule's basket (see rotator.core.rules.regimes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rotator.config.paths import resolve_ruleset_path
from rotator.config.paths import shipped_ruleset as shipped_ruleset  # re-exported
from rotator.config.portfolio import WEIGHT_TOLERANCE, Portfolio
from rotator.config.yamlfile import duplicate_keys, location, read_yaml
from rotator.core.rules.engine import RuleSet, RuleSpec, dependency_order
from rotator.core.rules.regimes import All, AnyOf, Condition, Not, Ref, Regime
from rotator.core.rules.registry import Registry, default_registry
from rotator.errors import ConfigError

TOP_LEVEL = {"description", "rules", "regimes"}
REGIME_KEYS = {"name", "when", "targets", "description", "min_days", "lock_days"}


def load_ruleset(
    path: Path,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    registry: Registry | None = None,
    overrides_origin: str = "portfolio.yaml: rules.overrides",
) -> RuleSet:
    """Read, validate and order a rule set (a YAML file).

    Args:
        overrides: rule name -> parameters replacing the file's values (from portfolio.yaml).
        registry: rule kinds to accept; default: every built-in kind.
        overrides_origin: where the overrides came from, for error messages.

    Raises:
        ConfigError: unknown kind, bad parameter, unknown reference or reference cycle, bad
            regime; one line per problem, each naming file, line and field path.
    """
    registry = registry or default_registry()
    raw, root = read_yaml(path)
    errors: list[str] = []

    def err(loc: tuple[Any, ...], message: str) -> None:
        errors.append(f"{location(path, root, loc)}: {message}")

    for loc, first, first_line, _line in duplicate_keys(root, _is_targets, str.upper):
        err(
            loc,
            f"the asset {first!r} of line {first_line} again (asset codes are compared "
            "in capitals); each asset once",
        )

    for key in raw:
        if key not in TOP_LEVEL:
            err((key,), f"unknown field; a rule set has {', '.join(sorted(TOP_LEVEL))}")
    raw_rules = raw.get("rules") or {}
    if not isinstance(raw_rules, dict):
        raise ConfigError(f"{location(path, root, ('rules',))}: expected a mapping name -> rule")
    overrides = dict(overrides or {})
    for name in overrides:
        if name not in raw_rules:
            errors.append(f"{overrides_origin}.{name}: no rule named {name!r} in {path}")

    specs: dict[str, RuleSpec] = {}
    for name, body in raw_rules.items():
        spec = _rule_spec(str(name), body, overrides.get(name), registry, err, overrides_origin)
        if spec is not None:
            specs[spec.name] = spec
    for name, spec in specs.items():
        for ref in spec.references:
            if ref not in raw_rules:
                err(("rules", name, "of"), f"refers to {ref!r}, which is not a rule in this file")
    order, cycle = dependency_order(specs)
    if cycle:
        err(("rules", cycle[0]), f"reference cycle: {' -> '.join(cycle)}")

    regimes = _regimes(raw.get("regimes"), set(raw_rules), err)
    if errors:
        raise ConfigError("\n".join(errors))
    return RuleSet(
        name=str(path),
        rules=tuple(specs[n] for n in order),
        regimes=regimes,
        registry=registry,
    )


def _is_targets(loc: tuple[Any, ...]) -> bool:
    """regimes[i].targets: the mappings whose keys are asset codes."""
    return len(loc) == 3 and loc[0] == "regimes" and loc[2] == "targets"


def _rule_spec(
    name: str,
    body: Any,
    override: Mapping[str, Any] | None,
    registry: Registry,
    err: Any,
    overrides_origin: str,
) -> RuleSpec | None:
    if not isinstance(body, dict):
        err(("rules", name), "expected a mapping with `kind:` and the rule's parameters")
        return None
    kind_name = body.get("kind")
    kind = registry.get(kind_name) if isinstance(kind_name, str) else None
    if kind is None:
        what = "is missing" if kind_name is None else f"unknown rule kind {kind_name!r}"
        err(("rules", name, "kind"), f"{what}; known kinds: {', '.join(registry.kinds())}")
        return None
    params = {k: v for k, v in body.items() if k != "kind"}
    if override:
        params |= dict(override)
    try:
        model = kind.params.model_validate(params)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            err(("rules", name, *loc), _message(error, name, loc, override, overrides_origin))
        return None
    return RuleSpec(name=name, kind=kind.name, params=model)


def _message(
    error: Mapping[str, Any],
    name: str,
    loc: tuple[Any, ...],
    override: Mapping[str, Any] | None,
    overrides_origin: str,
) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown parameter for this rule kind (see docs/reference/rules.md)"
    elif error["type"] == "missing":
        message = "required parameter is missing"
    elif "input" in error and error["type"] not in ("value_error", "assertion_error"):
        message = f"{message}, got {error['input']!r}"
    if override and loc and loc[0] in override:
        message += f" (value set in {overrides_origin}.{name}.{loc[0]})"
    return message


def _regimes(raw: Any, rule_names: set[str], err: Any) -> tuple[Regime, ...]:
    if not isinstance(raw, list) or not raw:
        err(("regimes",), "expected a list of regimes; the last one without `when` is the default")
        return ()
    regimes: list[Regime] = []
    seen: set[str] = set()
    for i, body in enumerate(raw):
        loc = ("regimes", i)
        if not isinstance(body, dict):
            err(loc, "expected a mapping with name, targets and (except the last) when")
            continue
        for key in body:
            if key not in REGIME_KEYS:
                err((*loc, key), f"unknown field; a regime has {', '.join(sorted(REGIME_KEYS))}")
        name = body.get("name")
        if not isinstance(name, str) or not name:
            err((*loc, "name"), "required: the regime's name")
            name = f"#{i}"
        elif name in seen:
            err((*loc, "name"), f"regime name {name!r} is used twice")
        seen.add(name)
        when = None
        if "when" in body:
            when = _condition(body["when"], rule_names, (*loc, "when"), err)
        is_last = i == len(raw) - 1
        if is_last and "when" in body:
            err((*loc, "when"), "the last regime is the default and must have no `when`")
        if not is_last and "when" not in body:
            err(loc, "only the last regime may omit `when` (it is the default)")
        targets, baskets = _targets(body.get("targets"), rule_names, (*loc, "targets"), err)
        description = str(body.get("description") or "")
        min_days = body.get("min_days", 0)
        if isinstance(min_days, bool) or not isinstance(min_days, int) or not 0 <= min_days <= 365:
            err((*loc, "min_days"), f"expected whole days between 0 and 365, got {min_days!r}")
            min_days = 0
        lock_days = body.get("lock_days", 0)
        if (
            isinstance(lock_days, bool)
            or not isinstance(lock_days, int)
            or not 0 <= lock_days <= 365
        ):
            err((*loc, "lock_days"), f"expected whole days between 0 and 365, got {lock_days!r}")
            lock_days = 0
        regimes.append(Regime(name, when, targets, baskets, description, min_days, lock_days))
    return tuple(regimes)


def _condition(raw: Any, rule_names: set[str], loc: tuple[Any, ...], err: Any) -> Condition:
    if isinstance(raw, str):
        if raw not in rule_names:
            err(loc, f"refers to {raw!r}, which is not a rule in this file")
        return Ref(raw)
    if isinstance(raw, dict) and len(raw) == 1:
        ((word, value),) = raw.items()
        if word in ("all", "any"):
            if not isinstance(value, list) or not value:
                err((*loc, word), "expected a non-empty list of conditions")
                return Ref("")
            items = tuple(
                _condition(v, rule_names, (*loc, word, j), err) for j, v in enumerate(value)
            )
            return All(items) if word == "all" else AnyOf(items)
        if word == "not":
            if isinstance(value, list) and len(value) == 1:
                value = value[0]
            return Not(_condition(value, rule_names, (*loc, word), err))
    err(loc, "expected a rule name, or one of {all: [...]}, {any: [...]}, {not: ...}")
    return Ref("")


def _targets(
    raw: Any, rule_names: set[str], loc: tuple[Any, ...], err: Any
) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    targets: dict[str, Decimal] = {}
    baskets: dict[str, Decimal] = {}
    if not isinstance(raw, dict) or not raw:
        err(loc, "expected a mapping asset -> weight, e.g. {BTC: 0.8, CASH: 0.2}")
        return targets, baskets
    for key, value in raw.items():
        try:
            weight = Decimal(str(value))
        except InvalidOperation:
            err((*loc, key), f"expected a number between 0 and 1, got {value!r}")
            continue
        if not weight.is_finite():
            err((*loc, key), f"expected a number between 0 and 1, got {value!r}")
            continue
        if isinstance(value, bool) or not 0 <= weight <= 1:
            hint = f" (did you mean {weight / 100}?)" if 1 < weight <= 100 else ""
            err((*loc, key), f"must be a fraction between 0 and 1, got {value}{hint}")
            continue
        if key in rule_names:
            baskets[str(key)] = weight
        else:
            targets[str(key).upper()] = weight
    total = sum([*targets.values(), *baskets.values()], Decimal(0))
    if (targets or baskets) and abs(total - 1) > WEIGHT_TOLERANCE:
        err(loc, f"weights must sum to 1, got {total.normalize()}; give the remainder to CASH")
    return targets, baskets


def load_portfolio_ruleset(portfolio: Portfolio) -> RuleSet | None:
    """The rule set portfolio.yaml names under `rules:` (with its overrides), or None.

    When portfolio.yaml also has `targets:`, they are the targets of the rule set's default
    regime (the last one, without `when`): used whenever no other regime's condition holds.
    """
    if portfolio.rules is None:
        return None
    path = resolve_ruleset_path(portfolio.rules.file, portfolio.rules.base_dir)
    ruleset = load_ruleset(path, overrides=portfolio.rules.overrides)
    if portfolio.targets is None:
        return ruleset
    return with_default_targets(ruleset, portfolio.targets)


def with_default_targets(ruleset: RuleSet, targets: Mapping[str, Decimal]) -> RuleSet:
    """`ruleset` with its default regime's targets replaced by `targets` (portfolio.yaml's)."""
    *conditional, default = ruleset.regimes
    note = "targets from portfolio.yaml `targets:`"
    described = f"{default.description}; {note}" if default.description else note
    replaced = replace(default, targets=dict(targets), baskets={}, description=described)
    return replace(ruleset, regimes=(*conditional, replaced))


def default_regime_name(ruleset: RuleSet) -> str:
    """The name of the default regime (the last one, without `when`)."""
    return ruleset.regimes[-1].name
