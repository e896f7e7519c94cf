"""Wires the adapters to the core, one direction: fetch -> snapshot -> targets -> plan.

This is the only module that imports both adapters and core. Each stage returns a new value
for the next; nothing calls back upward.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rotator.config.paths import cache_dir
from rotator.config.portfolio import Portfolio
from rotator.core.models import (
    CASH_BUCKET,
    AccountSnapshot,
    Holding,
    Plan,
    Price,
    Snapshot,
    TargetWeights,
    WalletKind,
)
from rotator.errors import ConfigError, Problem

if TYPE_CHECKING:
    from sqlalchemy import Engine


@dataclass(frozen=True, slots=True)
class TargetChoice:
    """The target weights a run aims at, and why.

    Attributes:
        details: structured output for Plan.details (rule set, rule results) when rules ran.
        problems: warnings about the choice (unknown rules, unavailable baskets).
        history: the daily series the rules read, for Snapshot.history (charts, reports).
    """

    targets: TargetWeights
    regime: str | None = None
    explanation: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()
    history: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RunResult:
    """What one run produced: the snapshot it saw and the plan it suggests."""

    snapshot: Snapshot
    plan: Plan


def manual_wallets(portfolio: Portfolio, now: datetime) -> tuple[AccountSnapshot, ...]:
    """Declared wallets as account snapshots; their holdings are never sellable."""
    return tuple(
        AccountSnapshot(
            name=wallet.name,
            exchange="manual",
            holdings=tuple(
                Holding(
                    account=wallet.name,
                    asset=asset,
                    total=Decimal(amount),
                    free=Decimal(0),
                    wallet=WalletKind.MANUAL,
                )
                for asset, amount in wallet.holdings.items()
            ),
            fetched_at=now,
        )
        for wallet in portfolio.manual_wallets
    )


def wanted_assets(portfolio: Portfolio, targets: TargetWeights | None) -> frozenset[str]:
    """Assets the run must be able to price and trade, besides whatever is held."""
    policy = portfolio.policy()
    assets = {portfolio.base_currency, *policy.quote_preference, *policy.bridge_assets}
    assets |= set(policy.cash_assets)
    if targets is not None:
        assets |= {a for a in targets.weights if a != CASH_BUCKET}
    for wallet in portfolio.manual_wallets:
        assets |= set(wallet.holdings)
    return frozenset(assets - set(policy.ignore_assets))


def gather_snapshot(
    portfolio: Portfolio,
    *,
    environ: Mapping[str, str],
    now: Callable[[], datetime],
    extra_assets: frozenset[str] = frozenset(),
    cache_markets: bool = True,
) -> Snapshot:
    """Fetch every exchange account and chain wallet concurrently; add the declared wallets.

    Held assets that no exchange prices get oracle quotes (valuation only), see
    rotator.pipeline.chains.

    Args:
        cache_markets: keep market definitions in the user cache dir (off for the demo, whose
            local server moves to a new port every run).
    """
    from rotator.pipeline.chains import gather_accounts, oracle_quotes

    as_of = now()
    targets = portfolio.static_targets()
    read_accounts = gather_accounts(
        portfolio,
        wanted_assets(portfolio, targets) | extra_assets,
        environ=environ,
        now=now,
        cache_dir=cache_dir() / "markets" if cache_markets else None,
    )
    accounts = read_accounts + manual_wallets(portfolio, as_of)
    oracle, oracle_problems = oracle_quotes(portfolio, accounts, as_of=as_of, environ=environ)
    return Snapshot(
        as_of=as_of,
        base_currency=portfolio.base_currency,
        accounts=accounts,
        problems=oracle_problems,
        oracle=oracle,
    )


def select_targets(
    portfolio: Portfolio,
    *,
    as_of: date,
    engine: Engine | None = None,
    force_regime: str | None = None,
    snapshot: Snapshot | None = None,
) -> TargetChoice:
    """The target weights for this run: the regime the rule set chooses, else static `targets:`.

    With `rules:` in portfolio.yaml the rule set is evaluated on the market-history store as of
    `as_of`'s close (evaluations are saved), and the first regime whose condition holds (or
    `force_regime`) gives the targets. Without it, the static `targets:` are used.
    """
    if portfolio.rules is None:
        if force_regime is not None:
            raise ConfigError(
                f"--regime {force_regime}: portfolio.yaml names no rule set (`rules:`)"
            )
        targets = portfolio.static_targets()
        if targets is None:
            raise ConfigError(
                "portfolio.yaml: targets: required field is missing (or name `rules:`)"
            )
        return TargetChoice(targets=targets, explanation=("static targets from portfolio.yaml",))
    from rotator.adapters.storage.db import open_engine
    from rotator.pipeline.rules import load_portfolio_ruleset, plan_details, run_rules

    ruleset = load_portfolio_ruleset(portfolio)
    assert ruleset is not None
    outcome = run_rules(
        ruleset,
        engine or open_engine(),
        as_of,
        cash_assets=portfolio.policy().cash_assets,
        force_regime=force_regime,
        snapshot=snapshot,  # rules that read the run's snapshot (the revenue screen)
    )
    from rotator.pipeline.screen import basket_details

    header = f"rule set {ruleset.name}, evaluated on market history as of {as_of}"
    return TargetChoice(
        targets=outcome.choice.targets,
        regime=outcome.choice.regime,
        explanation=(header, *outcome.choice.explanation),
        details={**plan_details(outcome), **basket_details(outcome)},
        problems=outcome.problems,
        history=outcome.history,
    )


def run_plan(
    portfolio: Portfolio,
    *,
    environ: Mapping[str, str],
    now: Callable[[], datetime],
    engine: Engine | None = None,
    rules_as_of: date | None = None,
    force_regime: str | None = None,
    cache_markets: bool = True,
) -> RunResult:
    """One pass: targets (rules on stored history), snapshot, plan. Nothing places an order.

    Args:
        engine: the store the rules read (default: `open_engine()`); unused without `rules:`.
        rules_as_of: evaluate the rules on history as of this day (default: today, UTC).
        force_regime: use this regime of the rule set regardless of its condition.
        cache_markets: see `gather_snapshot`.
    """
    from dataclasses import replace

    from rotator.core.planner import plan_orders

    day = rules_as_of or now().astimezone(UTC).date()
    prepared = _prepare_screen(portfolio, environ=environ, now=now, engine=engine)
    if prepared is not None:
        # The revenue screen needs the accounts' markets (tradability), so with a screen rule
        # the accounts are read first, asking for every asset a regime or the basket may need.
        snapshot = gather_snapshot(
            portfolio,
            environ=environ,
            now=now,
            extra_assets=prepared.assets,
            cache_markets=cache_markets,
        )
        snapshot = replace(snapshot, screen=prepared.data)
        choice = select_targets(
            portfolio, as_of=day, engine=engine, force_regime=force_regime, snapshot=snapshot
        )
    else:
        choice = select_targets(portfolio, as_of=day, engine=engine, force_regime=force_regime)
        wanted = frozenset(a for a in choice.targets.weights if a != CASH_BUCKET)
        snapshot = gather_snapshot(
            portfolio, environ=environ, now=now, extra_assets=wanted, cache_markets=cache_markets
        )
    snapshot = replace(snapshot, history=choice.history)
    plan = plan_orders(snapshot, choice.targets, portfolio.policy())
    plan = replace(
        plan,
        regime=choice.regime,
        explanation=choice.explanation,
        details={**plan.details, **choice.details},
        problems=plan.problems + choice.problems,
    )
    return RunResult(snapshot=snapshot, plan=plan)


def _prepare_screen(
    portfolio: Portfolio,
    *,
    environ: Mapping[str, str],
    now: Callable[[], datetime],
    engine: Engine | None,
) -> Any:
    """The revenue screen's inputs when the rule set has a `revenue_screen` rule, else None."""
    if portfolio.rules is None:
        return None
    from rotator.pipeline.rules import load_portfolio_ruleset
    from rotator.pipeline.screen import prepare_screen

    return prepare_screen(
        load_portfolio_ruleset(portfolio), environ=environ, now=now, engine=engine
    )


def used_prices(portfolio: Portfolio, snapshot: Snapshot) -> tuple[Price, ...]:
    """Base-currency prices of every held asset, valued as the planner values them."""
    from rotator.core.valuation import price_assets

    held = sorted({h.asset for h in snapshot.holdings})
    prices, _problems = price_assets(
        snapshot.quotes,
        held,
        snapshot.base_currency,
        now=snapshot.as_of,
        max_age_seconds=portfolio.policy().max_price_age_seconds,
        max_disagreement=portfolio.policy().max_price_disagreement,
        oracle=snapshot.oracle,
    )
    return tuple(prices.values())


def store_run(engine: Engine, portfolio: Portfolio, result: RunResult, kind: str = "plan") -> int:
    """Save a run (snapshot, prices, rule evaluations, plan, orders) in one transaction."""
    from rotator.adapters.storage.runs import save_run

    prices = used_prices(portfolio, result.snapshot)
    return save_run(engine, result.snapshot, result.plan, prices=prices, kind=kind)
