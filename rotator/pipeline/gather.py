"""Stage 2 of a run: gather every declared input, up front, into one Snapshot.

Rules declare what they read (rotator.core.rules.registry): daily series by name ("close:BTC",
"btc_dominance", "fred:WALCL") and datasets ("dataset:revenue_screen"). Here each declared input
has its loader, found by `get_loader(name)` (as zipline's pipeline engine asks
`get_loader(term)`): series come from the market-history store, each dataset from the loader
registered for it in `DATASET_LOADERS`. The exchange accounts are read last, asked about every
asset the run may need: the static targets, every regime's targets and the candidates the dataset
loaders name (e.g. tokens passing the revenue screen on its data alone), so whatever the rules
then choose has a market price. Nothing here evaluates a rule or writes to a database (a dataset
loader may fill its source cache).

A new data-backed rule kind is one core module (the rule, declaring `dataset:<name>`) plus one
loader registered here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from rotator.adapters.exchanges import fetch_accounts
from rotator.adapters.storage.market import load_history
from rotator.config.portfolio import Portfolio
from rotator.core.models import CASH_BUCKET, AccountSnapshot, Holding, Snapshot, WalletKind
from rotator.core.rules.engine import RuleSet
from rotator.errors import ConfigError
from rotator.pipeline.loading import DatasetLoader, LoadContext, LoadedDataset
from rotator.pipeline.screen import DATASET, load_revenue_screen

if TYPE_CHECKING:
    import pandas as pd


DATASET_LOADERS: Mapping[str, DatasetLoader] = {
    DATASET: load_revenue_screen,
}


def get_loader(name: str) -> DatasetLoader:
    """The loader serving dataset input `name` (a ConfigError names a kind without one)."""
    loader = DATASET_LOADERS.get(name)
    if loader is None:
        known = ", ".join(sorted(DATASET_LOADERS))
        raise ConfigError(f"no loader for declared input {name!r} (loaders: {known})")
    return loader


@dataclass(frozen=True, slots=True)
class Inputs:
    """What stage 2 gathered before reading the accounts: series and datasets."""

    history: Mapping[str, pd.Series] = field(default_factory=dict)
    datasets: Mapping[str, LoadedDataset] = field(default_factory=dict)

    @property
    def assets(self) -> frozenset[str]:
        return frozenset(a for d in self.datasets.values() for a in d.assets)


def load_inputs(
    ruleset: RuleSet | None, *, day: date, engine: Engine | None, context: LoadContext
) -> Inputs:
    """Every series and dataset the rule set declares, as of `day`'s close."""
    if ruleset is None:
        return Inputs()
    series = ruleset.series_inputs()
    history = load_history(engine, series, day) if series and engine is not None else {}
    datasets = {
        name: get_loader(name)(ruleset.declaring(name), context)
        for name in ruleset.dataset_inputs()
    }
    return Inputs(history=history, datasets=datasets)


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


def wanted_assets(portfolio: Portfolio, ruleset: RuleSet | None) -> frozenset[str]:
    """Assets the run must be able to price and trade, besides whatever is held.

    The base currency, quote/bridge/cash assets, declared wallets' assets, the static targets
    and every regime's targets (the regime is chosen after the accounts are read).
    """
    policy = portfolio.policy()
    assets = {portfolio.base_currency, *policy.quote_preference, *policy.bridge_assets}
    assets |= set(policy.cash_assets)
    targets = portfolio.static_targets()
    if targets is not None:
        assets |= set(targets.weights)
    if ruleset is not None:
        for regime in ruleset.regimes:
            assets |= set(regime.targets)
    for wallet in portfolio.wallets:
        assets |= set(wallet.holdings)
    return frozenset(assets - set(policy.ignore_assets) - {CASH_BUCKET})


def read_accounts(
    portfolio: Portfolio,
    *,
    environ: Mapping[str, str],
    now: Callable[[], datetime],
    extra_assets: frozenset[str] = frozenset(),
    ruleset: RuleSet | None = None,
    market_cache: Path | None = None,
) -> Snapshot:
    """Fetch every exchange account concurrently and add the declared wallets.

    Args:
        market_cache: folder for cached market definitions (None: no cache; the demo's local
            server moves to a new port every run).
    """
    as_of = now()
    exchange_accounts = fetch_accounts(
        portfolio.accounts,
        wanted_assets(portfolio, ruleset) | extra_assets,
        environ=environ,
        now=now,
        cache_dir=market_cache,
    )
    return Snapshot(
        as_of=as_of,
        base_currency=portfolio.base_currency,
        accounts=exchange_accounts + manual_wallets(portfolio, as_of),
    )


def gather(
    portfolio: Portfolio,
    ruleset: RuleSet | None,
    *,
    day: date,
    engine: Engine | None,
    environ: Mapping[str, str],
    now: Callable[[], datetime],
    market_cache: Path | None,
) -> Snapshot:
    """Stage 2: series and datasets the rules declare, then the accounts; one Snapshot."""
    inputs = load_inputs(
        ruleset, day=day, engine=engine, context=LoadContext(environ=environ, now=now())
    )
    snapshot = read_accounts(
        portfolio,
        environ=environ,
        now=now,
        extra_assets=inputs.assets,
        ruleset=ruleset,
        market_cache=market_cache,
    )
    return replace(
        snapshot,
        history=inputs.history,
        datasets={name: d.value for name, d in inputs.datasets.items()},
    )
