"""The loader of `dataset:revenue_screen`: the revenue screen's inputs, fetched once, up front.

Joins adapters (DefiLlama/CoinGecko sources, the source cache) and the pure core (the screen).
Stage 2 of a run (rotator.pipeline.gather) calls `load_revenue_screen` with the parameters of
every rule declaring the dataset, before it reads the exchange accounts: the screen's inputs go
into `Snapshot.datasets`, and the symbols of every token that passes the screen on its data alone
(tradability aside) are fetched with the accounts, so a basket member has a market price when the
planner sizes its buy.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pandas as pd

from rotator.adapters.sources.screen_inputs import ScreenSources, gather_screen_data
from rotator.adapters.storage.source_cache import SourceCache
from rotator.core.rules.revenue_screen import DATASET
from rotator.core.screen.params import ScreenParams
from rotator.core.screen.screening import screen
from rotator.pipeline.loading import LoadContext, LoadedDataset

if TYPE_CHECKING:
    from rotator.core.rules.engine import RuleSpec

__all__ = ["DATASET", "load_revenue_screen", "screen_rules"]


def screen_rules(specs: Iterable[RuleSpec]) -> dict[str, ScreenParams]:
    """Rule name -> screen parameters of the rules declaring the dataset."""
    return {s.name: s.params for s in specs if isinstance(s.params, ScreenParams)}


def load_revenue_screen(specs: tuple[RuleSpec, ...], context: LoadContext) -> LoadedDataset:
    """Fetch the screen's inputs for the rules `specs` (their parameters widen the fetch).

    The source cache of `context.engine` is used unless the environment sets
    ROTATOR_SCREEN_NO_CACHE (the demo serves its own data) or `context.refresh` is set.
    """
    params = screen_rules(specs)
    environ = context.environ
    as_of = context.now
    include = {gecko for p in params.values() for gecko in p.include}
    use_cache = context.engine is not None and not environ.get("ROTATOR_SCREEN_NO_CACHE")
    data = gather_screen_data(
        ScreenSources.from_environ(environ),
        now=as_of,
        environ=environ,
        cache=SourceCache(context.engine) if use_cache and context.engine else None,
        extra_ids=include,
        refresh=context.refresh,
        supply_min_yield=min(p.min_revenue_yield for p in params.values()),
    )
    no_markets = pd.DataFrame(columns=["account", "base", "quote", "active"])
    assets: set[str] = set()
    candidates: set[str] = set()
    for p in params.values():
        loose = p.model_copy(update={"require_tradable": False})
        table = screen(data, loose, no_markets, as_of).table
        assets |= {s for s in table.loc[table["passed"], "symbol"] if s} | set(p.quotes)
        candidates |= {s for s in table["symbol"] if s} | set(p.quotes)
    return LoadedDataset(value=data, assets=frozenset(assets), candidates=frozenset(candidates))
