"""Wires the adapters to the core, one direction: fetch -> snapshot -> targets -> plan.

This is the only module that imports both adapters and core. Each stage returns a new value
for the next; nothing calls back upward.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from rotator.config import Portfolio
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
from rotator.errors import ConfigError
from rotator.paths import cache_dir

if TYPE_CHECKING:
    from sqlalchemy import Engine


@dataclass(frozen=True, slots=True)
class TargetChoice:
    """The target weights a run aims at, and why."""

    targets: TargetWeights
    regime: str | None = None
    explanation: tuple[str, ...] = ()


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
        for wallet in portfolio.wallets
    )


def wanted_assets(portfolio: Portfolio, targets: TargetWeights | None) -> frozenset[str]:
    """Assets the run must be able to price and trade, besides whatever is held."""
    policy = portfolio.policy()
    assets = {portfolio.base_currency, *policy.quote_preference, *policy.bridge_assets}
    assets |= set(policy.cash_assets)
    if targets is not None:
        assets |= {a for a in targets.weights if a != CASH_BUCKET}
    for wallet in portfolio.wallets:
        assets |= set(wallet.holdings)
    return frozenset(assets - set(policy.ignore_assets))


def gather_snapshot(
    portfolio: Portfolio,
    *,
    environ: Mapping[str, str],
    now: Callable[[], datetime],
    extra_assets: frozenset[str] = frozenset(),
) -> Snapshot:
    """Fetch every exchange account concurrently and add the declared wallets."""
    from rotator.adapters.exchanges import fetch_accounts

    as_of = now()
    targets = portfolio.static_targets()
    exchange_accounts = fetch_accounts(
        portfolio.accounts,
        wanted_assets(portfolio, targets) | extra_assets,
        environ=environ,
        now=now,
        cache_dir=cache_dir() / "markets",
    )
    return Snapshot(
        as_of=as_of,
        base_currency=portfolio.base_currency,
        accounts=exchange_accounts + manual_wallets(portfolio, as_of),
    )


def select_targets(portfolio: Portfolio, snapshot: Snapshot) -> TargetChoice:
    """The target weights for this run: the portfolio's static `targets:`."""
    targets = portfolio.static_targets()
    if targets is None:
        raise ConfigError("portfolio.yaml: targets: required field is missing (or name `rules:`)")
    return TargetChoice(targets=targets, explanation=("static targets from portfolio.yaml",))


def run_plan(
    portfolio: Portfolio,
    *,
    environ: Mapping[str, str],
    now: Callable[[], datetime],
) -> RunResult:
    """One pass: snapshot, targets, plan. Nothing here places an order."""
    from dataclasses import replace

    from rotator.core.planner import plan_orders

    snapshot = gather_snapshot(portfolio, environ=environ, now=now)
    choice = select_targets(portfolio, snapshot)
    plan = plan_orders(snapshot, choice.targets, portfolio.policy())
    plan = replace(plan, regime=choice.regime, explanation=choice.explanation)
    return RunResult(snapshot=snapshot, plan=plan)


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
    )
    return tuple(prices.values())


def store_run(engine: Engine, portfolio: Portfolio, result: RunResult, kind: str = "plan") -> int:
    """Save a run (snapshot, prices, rule evaluations, plan, orders) in one transaction."""
    from rotator.adapters.storage.runs import save_run

    prices = used_prices(portfolio, result.snapshot)
    return save_run(engine, result.snapshot, result.plan, prices=prices, kind=kind)
