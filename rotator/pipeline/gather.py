"""Stage 2 of a run: gather every declared input, up front, into one Snapshot.

Rules declare what they read (rotator.core.rules.registry): daily series by name ("close:BTC",
"btc_dominance", "fred:WALCL") and datasets ("dataset:revenue_screen"). Here each declared input
has its loader, found by `get_loader(name)` (as zipline's pipeline engine asks
`get_loader(term)`): series come from the market-history store, each dataset from the loader
registered for it in `DATASET_LOADERS`. The exchange accounts are read next, asked about every
asset the run may need: the static targets, every regime's targets and the candidates the dataset
loaders name (e.g. tokens passing the revenue screen on its data alone), so whatever the rules
then choose has a market price; the chain wallets are read concurrently with them (one event
loop, rotator.pipeline.chains). Last, held assets that no exchange market prices get oracle
quotes (`Snapshot.oracle`: they value holdings, never price an order). Nothing here evaluates a
rule or writes to a database (a dataset loader may fill its source cache).

A new data-backed rule kind is one core module (the rule, declaring `dataset:<name>`) plus one
loader registered here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from rotator.adapters.storage.market import load_history
from rotator.config.env import Settings
from rotator.config.portfolio import Portfolio
from rotator.core.clock import Clock
from rotator.core.models import Snapshot
from rotator.core.rules.engine import RuleSet
from rotator.errors import ConfigError
from rotator.pipeline.accounts import read_accounts
from rotator.pipeline.chains import oracle_quotes
from rotator.pipeline.loading import DatasetLoader, LoadContext, LoadedDataset
from rotator.pipeline.screen import DATASET, load_revenue_screen

if TYPE_CHECKING:
    import pandas as pd


DATASET_LOADERS: Mapping[str, DatasetLoader] = {
    DATASET: load_revenue_screen,
}


def get_loader(name: str, loaders: Mapping[str, DatasetLoader] = DATASET_LOADERS) -> DatasetLoader:
    """The loader serving dataset input `name` (a ConfigError names a kind without one)."""
    loader = loaders.get(name)
    if loader is None:
        known = ", ".join(sorted(loaders))
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
    ruleset: RuleSet | None,
    *,
    day: date,
    engine: Engine | None,
    context: LoadContext,
    loaders: Mapping[str, DatasetLoader] = DATASET_LOADERS,
) -> Inputs:
    """Every series and dataset the rule set declares, as of `day`'s close."""
    if ruleset is None:
        return Inputs()
    series = ruleset.series_inputs()
    history = load_history(engine, series, day) if series and engine is not None else {}
    datasets = {
        name: get_loader(name, loaders)(ruleset.declaring(name), context)
        for name in ruleset.dataset_inputs()
    }
    return Inputs(history=history, datasets=datasets)


def gather(
    portfolio: Portfolio,
    ruleset: RuleSet | None,
    *,
    day: date,
    engine: Engine | None,
    environ: Mapping[str, str],
    settings: Settings,
    clock: Clock,
    market_cache: Path | None,
) -> Snapshot:
    """Stage 2: series and datasets the rules declare, then the exchange accounts and chain
    wallets (concurrently), then oracle quotes for what no exchange prices; one Snapshot."""
    context = LoadContext(environ=environ, settings=settings, clock=clock)
    inputs = load_inputs(ruleset, day=day, engine=engine, context=context)
    snapshot = read_accounts(
        portfolio,
        environ=environ,
        clock=clock,
        extra_assets=inputs.assets,
        ruleset=ruleset,
        market_cache=market_cache,
    )
    oracle, problems = oracle_quotes(
        portfolio, snapshot.accounts, as_of=snapshot.as_of, environ=environ, clock=clock
    )
    return replace(
        snapshot,
        problems=snapshot.problems + problems,
        oracle=oracle,
        history=inputs.history,
        datasets={name: d.value for name, d in inputs.datasets.items()},
    )
