"""The loader of `dataset:revenue_screen`: the revenue screen's inputs, fetched once, up front.

Joins adapters (DefiLlama/CoinGecko sources, the source cache) and the pure core (the screen).
Stage 2 of a run (rotator.pipeline.gather) calls `load_revenue_screen` with the parameters of
every rule declaring the dataset, before it reads the exchange accounts: the screen's inputs go
into `Snapshot.datasets`, and the symbols of every token that passes the screen on its data alone
(tradability aside) are fetched with the accounts, so a basket member has a market price when the
planner sizes its buy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from rotator.adapters.sources.screen_inputs import (
    API_URL,
    YIELDS_URL,
    ScreenSources,
    gather_screen_data,
)
from rotator.adapters.storage.source_cache import SourceCache
from rotator.config.env import Settings
from rotator.config.portfolio import Portfolio
from rotator.config.ruleset import load_portfolio_ruleset
from rotator.core.clock import Clock
from rotator.core.rules.engine import RuleSpec
from rotator.core.rules.revenue_screen import DATASET, KIND
from rotator.core.screen.params import ScreenParams
from rotator.core.screen.screening import ScreenData, ScreenOutcome, markets_frame, screen
from rotator.errors import ConfigError, Problem, Severity
from rotator.pipeline.accounts import read_accounts
from rotator.pipeline.loading import LoadContext, LoadedDataset

__all__ = ["DATASET", "load_revenue_screen", "screen_rules"]


def screen_rules(specs: Iterable[RuleSpec]) -> dict[str, ScreenParams]:
    """Rule name -> screen parameters of the rules declaring the dataset."""
    return {s.name: s.params for s in specs if isinstance(s.params, ScreenParams)}


def screen_sources(settings: Settings, environ: Mapping[str, str]) -> ScreenSources:
    """The sources' frozen settings: base URLs and call spacing from the ROTATOR_* settings;
    CoinGecko's plan from which key variable is set (the key itself is read by its name)."""
    pro = bool(environ.get("COINGECKO_PRO_API_KEY"))
    return ScreenSources(
        defillama_api=settings.defillama_api_url or API_URL,
        defillama_yields=settings.defillama_yields_url or YIELDS_URL,
        coingecko_api=settings.coingecko_url,
        coingecko_key_env="COINGECKO_PRO_API_KEY" if pro else "COINGECKO_API_KEY",
        coingecko_plan="pro" if pro else "demo",
        coingecko_per_minute=settings.coingecko_per_minute,
    )


def load_revenue_screen(specs: tuple[RuleSpec, ...], context: LoadContext) -> LoadedDataset:
    """Fetch the screen's inputs for the rules `specs` (their parameters widen the fetch).

    The source cache of `context.engine` is used unless the settings say not to
    (ROTATOR_SCREEN_NO_CACHE: the demo serves its own data); `context.refresh` ignores it.
    """
    params = screen_rules(specs)
    environ = context.environ
    as_of = context.now
    include = {gecko for p in params.values() for gecko in p.include}
    use_cache = context.engine is not None and not context.settings.screen_no_cache
    data = gather_screen_data(
        screen_sources(context.settings, environ),
        clock=context.clock.frozen_at(as_of),
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


@dataclass(frozen=True, slots=True, eq=False)
class ScreenRun:
    """`rotator screen`'s result: which rule, the screen's outcome, the accounts' errors."""

    rule: str
    params: ScreenParams
    outcome: ScreenOutcome
    account_problems: tuple[Problem, ...]


def pick_rule(
    params_by_rule: Mapping[str, ScreenParams], rule_name: str | None
) -> tuple[str, ScreenParams]:
    """The rule `--rule` names, else the rule set's first screen rule, else the defaults."""
    if rule_name is not None:
        if rule_name not in params_by_rule:
            known = ", ".join(params_by_rule) or "none"
            raise ConfigError(
                f"--rule {rule_name}: no revenue_screen rule of that name (rule set has: {known})"
            )
        return rule_name, params_by_rule[rule_name]
    if params_by_rule:
        return next(iter(params_by_rule.items()))
    return "revenue_screen (defaults)", ScreenParams()


def run_screen(
    portfolio: Portfolio,
    *,
    rule_name: str | None,
    environ: Mapping[str, str],
    settings: Settings,
    clock: Clock,
    engine: Engine | None,
    refresh: bool,
    market_cache: Path | None,
) -> ScreenRun:
    """Load one screen rule's dataset, read the accounts' markets for every candidate, screen.

    Args:
        clock: the run's clock, frozen at one time for the whole screen (sources, accounts
            and the screen's as-of alike).
        engine: the database whose source cache is used (None: fetch without caching).
    """
    clock = clock.frozen_at(clock.now())
    now = clock.now()
    ruleset = load_portfolio_ruleset(portfolio)
    params_by_rule = screen_rules(ruleset.declaring(DATASET)) if ruleset else {}
    name, params = pick_rule(params_by_rule, rule_name)
    loaded = load_revenue_screen(
        (RuleSpec(name=name, kind=KIND, params=params),),
        LoadContext(
            environ=environ, settings=settings, clock=clock, engine=engine, refresh=refresh
        ),
    )
    # Accounts report markets only between assets asked for: ask for every candidate.
    snapshot = read_accounts(
        portfolio,
        environ=environ,
        clock=clock,
        extra_assets=loaded.candidates,
        market_cache=market_cache,
    )
    assert isinstance(loaded.value, ScreenData)
    outcome = screen(loaded.value, params, markets_frame(snapshot.markets), now)
    errors = tuple(p for p in snapshot.all_problems if p.severity is Severity.ERROR)
    return ScreenRun(name, params, outcome, errors)


def store_screen(engine: Engine, done: ScreenRun, now: datetime) -> bool:
    """Store a complete screen result under `now`'s UTC day (replays read it back).

    A screen with an ERROR problem (a source unreadable or stale) is not stored: a replay must
    not take a basket that could not be established for the one that was known.

    Returns:
        Whether it was stored.
    """
    import json

    from rotator.adapters.storage.screen_history import save_screen
    from rotator.core.rules.revenue_screen import basket_members
    from rotator.core.screen.basket import to_basket

    outcome = done.outcome
    if any(p.severity is Severity.ERROR for p in outcome.problems):
        return False
    table = outcome.table
    basket = to_basket(table) if table["in_basket"].any() else {}
    figures = json.loads(table.to_json(orient="records", date_format="iso"))
    save_screen(
        engine,
        rule=done.rule,
        screened_at=now,
        basket=basket,
        members=basket_members(outcome),
        figures=figures,
    )
    return True
