"""One run of rotator, always in one order; each stage a function of the previous stage's value.

Modelled on beancount's `loader._load` (parse, book, plugins, validate) and the numbered
algorithm of zipline's `pipeline/engine.py`:

1. **load** `load(portfolio, ...) -> RunConfig`: the portfolio, its rule set (the YAML parsed
   once per run), the rebalance policy, the rules' evaluation day and a forced regime (checked
   against the rule set).
2. **gather** `rotator.pipeline.gather.gather(...) -> Snapshot`: every declared input, up front:
   the daily series the rules name (market-history store), the datasets they name
   (`dataset:revenue_screen`, each from its loader), then the exchange accounts, asked about the
   static targets, every regime's targets and the datasets' candidates; plus declared wallets.
3. **evaluate** `evaluate_rules(config, snapshot) -> Evaluation`: every rule on that snapshot
   (never on None), as results and as typed `RulesReport`, through the core's one decision
   `rotator.core.rules.decision.decide` (rules, regime conditions, `min_days` hysteresis).
4. **choose** `choose_targets(config, evaluation) -> TargetChoice`: the regime `decide` chose
   (the first whose condition holds, a regime held by hysteresis, or the forced one), its
   baskets resolved; static `targets:` without rules.
5. **plan** `make_plan(config, snapshot, choice) -> Plan`: the dry-run orders. The plan carries
   the rule reports, the baskets and the prices the planner valued the portfolio with.
6. **store** `store(engine, result, created_at, kind) -> run id`: only when saving, in one
   transaction (snapshot, prices, allocations, orders, each rule evaluation once).
7. **render**: in the command (rotator.cli.*) with rotator.reports.

`rotator signals` (rotator.pipeline.rules) runs stages 3-4 on stored history alone, and
`rotator backtest` (rotator.pipeline.backtest) runs stages 3-5 day by day on a simulated venue:
one rule engine, one decision and one planner path for all three.

Nothing here places an order, and nothing is written to a database before stage 6 (a dataset
loader may refresh its source cache outside the demo).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine

from rotator.adapters.storage.runs import save_run
from rotator.config.env import Settings
from rotator.config.paths import ruleset_label
from rotator.config.portfolio import Portfolio
from rotator.config.ruleset import load_portfolio_ruleset
from rotator.core.clock import Clock
from rotator.core.models import Plan, RebalancePolicy, Snapshot, TargetWeights
from rotator.core.planner import plan_orders
from rotator.core.records import BasketReport, RulesReport
from rotator.core.rules.decision import Decision, decide
from rotator.core.rules.engine import RuleSet, basket_reports, report
from rotator.core.rules.regimes import condition_rules
from rotator.core.rules.registry import RuleResult
from rotator.errors import ConfigError, Problem, Severity
from rotator.pipeline.coverage import lack_of_history
from rotator.pipeline.gather import gather


@dataclass(frozen=True, slots=True)
class RunConfig:
    """Stage 1: what the run is configured to do.

    Attributes:
        portfolio: portfolio.yaml (None for a backtest's replay, which has its rule set and
            policy only).
        ruleset: the portfolio's rule set (None: static `targets:`).
        day: the day whose close the rules evaluate history as of.
        force_regime: use this regime regardless of its condition.
    """

    portfolio: Portfolio | None
    ruleset: RuleSet | None
    policy: RebalancePolicy
    day: date
    force_regime: str | None = None


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Stage 3: every rule's result on the snapshot (empty without a rule set).

    Attributes:
        decision: what `decide` made of the results: the regime in force after hysteresis.
    """

    results: Mapping[str, RuleResult] = field(default_factory=dict)
    report: RulesReport | None = None
    decision: Decision | None = None


@dataclass(frozen=True, slots=True)
class TargetChoice:
    """Stage 4: the target weights the run aims at, and why.

    Attributes:
        problems: warnings about the choice (unknown rules, unavailable baskets).
        baskets: the basket rules the chosen regime names, resolved.
    """

    targets: TargetWeights
    regime: str | None = None
    explanation: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
    baskets: tuple[BasketReport, ...] = ()
    held: bool = False  # the regime is held by `min_days` hysteresis, not by its condition


@dataclass(frozen=True, slots=True)
class RunResult:
    """What one run produced: the snapshot it saw, the plan it suggests, its stored id."""

    snapshot: Snapshot
    plan: Plan
    run_id: int | None = None


def check_regime(ruleset: RuleSet, name: str | None) -> None:
    """Raise ConfigError when `--regime NAME` names no regime of the rule set."""
    names = [r.name for r in ruleset.regimes]
    if name is not None and name not in names:
        raise ConfigError(
            f"--regime {name}: no such regime in {ruleset.name}; choose one of {', '.join(names)}"
        )


def load(portfolio: Portfolio, *, day: date, force_regime: str | None = None) -> RunConfig:
    """Stage 1: the rule set (parsed once) and policy; a bad --regime is a ConfigError."""
    ruleset = load_portfolio_ruleset(portfolio)
    if ruleset is None:
        if force_regime is not None:
            raise ConfigError(
                f"--regime {force_regime}: portfolio.yaml names no rule set (`rules:`)"
            )
        if portfolio.static_targets() is None:
            raise ConfigError(
                "portfolio.yaml: targets: required field is missing (or name `rules:`)"
            )
    else:
        check_regime(ruleset, force_regime)
    return RunConfig(portfolio, ruleset, portfolio.policy(), day, force_regime)


def evaluate_rules(
    config: RunConfig, snapshot: Snapshot, *, memo: MutableMapping[date, str] | None = None
) -> Evaluation:
    """Stage 3: every rule on the snapshot as of the evaluation day's close, and the regime
    `decide` puts in force (conditions, then `min_days` hysteresis).

    Args:
        memo: the conditions' choices by day, kept across calls (a backtest evaluates day after
            day; see `decide`). A single day's evaluation (no memo) also notes rules unknown
            for lack of history (`RulesReport.history_note`); a replay does not.
    """
    if config.ruleset is None:
        return Evaluation()
    decision = decide(
        config.ruleset,
        snapshot.history,
        config.day,
        snapshot=snapshot,
        cash_assets=config.policy.cash_assets,
        force=config.force_regime,
        memo=memo,
    )
    results = decision.results
    rules = report(config.ruleset, config.day, results)
    if memo is None:
        note = lack_of_history(config.ruleset, snapshot.history, config.day, results)
        rules = replace(rules, history_note=note)
    return Evaluation(results, rules, decision)


def choose_targets(config: RunConfig, evaluation: Evaluation) -> TargetChoice:
    """Stage 4: the regime the rules choose (or the forced one), else the static targets."""
    ruleset = config.ruleset
    if ruleset is None:
        targets = None if config.portfolio is None else config.portfolio.static_targets()
        assert targets is not None  # checked in stage 1
        return TargetChoice(targets=targets, explanation=("static targets from portfolio.yaml",))
    if evaluation.decision is None:
        raise ValueError("choose_targets: the evaluation has no decision (run evaluate_rules)")
    results = evaluation.results
    choice = evaluation.decision.choice
    used = {n for r in ruleset.regimes if r.when is not None for n in condition_rules(r.when)}
    unknown = tuple(
        Problem(Severity.WARNING, f"rule {name}", f"unknown: {result.reason}")
        for name, result in results.items()
        if result.value is None and name in used
    )
    label = ruleset_label(ruleset.name)
    header = f"rule set {label}, evaluated on market history as of {config.day}"
    return TargetChoice(
        targets=choice.targets,
        regime=choice.regime,
        explanation=(header, *choice.explanation),
        problems=unknown + choice.problems,
        baskets=basket_reports(ruleset, results, choice.regime),
        held=choice.held,
    )


def make_plan(
    config: RunConfig, snapshot: Snapshot, evaluation: Evaluation, choice: TargetChoice
) -> Plan:
    """Stage 5: the dry-run plan, carrying the rule reports, baskets and prices it used."""
    plan = plan_orders(snapshot, choice.targets, config.policy)
    return replace(
        plan,
        regime=choice.regime,
        explanation=choice.explanation,
        problems=plan.problems + choice.problems,
        rules=evaluation.report,
        baskets=choice.baskets,
    )


def store(engine: Engine, result: RunResult, created_at: datetime, kind: str = "plan") -> int:
    """Stage 6: save the run (snapshot, prices, rule evaluations, plan, orders) at once,
    created at `created_at` (the run's clock)."""
    return save_run(engine, result.snapshot, result.plan, kind=kind, created_at=created_at)


def run_plan(
    portfolio: Portfolio,
    *,
    environ: Mapping[str, str],
    settings: Settings,
    clock: Clock,
    engine: Engine | None = None,
    rules_as_of: date | None = None,
    force_regime: str | None = None,
    market_cache: Path | None = None,
    save_to: Engine | None = None,
    kind: str = "plan",
) -> RunResult:
    """Stages 1-6 in order. Nothing places an order.

    Args:
        environ: where credentials are looked up, by the names portfolio.yaml gives.
        settings: the ROTATOR_* variables (source URLs, caching), read once by the caller.
        clock: the run's clock (rotator.core.clock): the snapshot's time, the default rules
            day, the stored run's time, and every wait of the adapters.
        engine: the store the rules' series come from; None: no store yet (the rules read
            no history, as from an empty store).
        rules_as_of: evaluate the rules on history as of this day (default: today, UTC).
        force_regime: use this regime of the rule set regardless of its condition.
        market_cache: folder for cached market definitions; None: no cache.
        save_to: store the run there (stage 6); None: nothing is written.
        kind: what the stored run is ("plan" or "report").
    """
    day = rules_as_of or clock.now().astimezone(UTC).date()
    config = load(portfolio, day=day, force_regime=force_regime)
    snapshot = gather(
        portfolio,
        config.ruleset,
        day=day,
        engine=engine,
        environ=environ,
        settings=settings,
        clock=clock,
        market_cache=market_cache,
    )
    evaluation = evaluate_rules(config, snapshot)
    choice = choose_targets(config, evaluation)
    result = RunResult(snapshot, make_plan(config, snapshot, evaluation, choice))
    if save_to is not None:
        result = replace(result, run_id=store(save_to, result, clock.now(), kind))
    return result
