"""Wires the revenue screen into a run: fetch its inputs once, up front, and report its basket.

Like rotator.pipeline.rules this joins adapters (DefiLlama/CoinGecko sources, the source cache) and
the pure core (the screen). The pipeline calls `prepare_screen` before it reads the exchange
accounts: the screen's inputs go into `Snapshot.screen`, and the symbols of every token that
passes the screen on its data alone (tradability aside) are fetched with the accounts, so a
basket member has a market price when the planner sizes its buy. `basket_details` turns the
chosen regime's basket into `Plan.details["basket"]` for the renderers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rotator.core.models import CASH_BUCKET

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from rotator.core.rules.engine import RuleSet
    from rotator.core.screen.params import ScreenParams
    from rotator.core.screen.screening import ScreenData
    from rotator.pipeline.rules import RulesOutcome

SCREEN_KIND = "revenue_screen"


@dataclass(frozen=True, slots=True, eq=False)
class PreparedScreen:
    """The screen's inputs and the assets the run must fetch for it.

    Attributes:
        data: everything the screen reads, for `Snapshot.screen`.
        assets: exchange codes of tokens passing the screen before tradability, the screen's
            quote currencies, and every asset a regime names (targets are chosen only after the
            accounts are read, and an account reports only markets between assets asked for).
        candidates: exchange codes of every screened token (for `rotator screen`, which shows
            where each one trades).
    """

    data: ScreenData
    assets: frozenset[str]
    candidates: frozenset[str]


def screen_params(ruleset: RuleSet | None) -> dict[str, ScreenParams]:
    """Rule name -> parameters of every `revenue_screen` rule in the rule set."""
    if ruleset is None:
        return {}
    return {spec.name: spec.params for spec in ruleset.rules if spec.kind == SCREEN_KIND}  # type: ignore[misc]


def prepare_screen(
    ruleset: RuleSet | None,
    *,
    environ: Mapping[str, str],
    now: Callable[[], datetime],
    engine: Engine | None = None,
    refresh: bool = False,
) -> PreparedScreen | None:
    """Fetch the screen's inputs when the rule set has a `revenue_screen` rule, else None.

    Args:
        engine: database whose source cache is used; None fetches without caching.
        refresh: ignore cached source data.
    """
    params = screen_params(ruleset)
    if not params:
        return None
    from rotator.adapters.sources.screen_inputs import ScreenSources, gather_screen_data
    from rotator.adapters.storage.source_cache import SourceCache
    from rotator.core.screen.screening import screen

    as_of = now()
    include = {gecko for p in params.values() for gecko in p.include}
    # The demo serves its own data: ROTATOR_SCREEN_NO_CACHE keeps it out of the cache.
    use_cache = engine is not None and not environ.get("ROTATOR_SCREEN_NO_CACHE")
    data = gather_screen_data(
        ScreenSources.from_environ(environ),
        now=as_of,
        environ=environ,
        cache=SourceCache(engine) if use_cache else None,
        extra_ids=include,
        refresh=refresh,
        supply_min_yield=min(p.min_revenue_yield for p in params.values()),
    )
    import pandas as pd

    no_markets = pd.DataFrame(columns=["account", "base", "quote", "active"])
    assets: set[str] = set()
    candidates: set[str] = set()
    for p in params.values():
        loose = p.model_copy(update={"require_tradable": False})
        table = screen(data, loose, no_markets, as_of).table
        assets |= {s for s in table.loc[table["passed"], "symbol"] if s} | set(p.quotes)
        candidates |= {s for s in table["symbol"] if s} | set(p.quotes)
    assert ruleset is not None
    for regime in ruleset.regimes:
        assets |= {a for a in regime.targets if a != CASH_BUCKET}
    return PreparedScreen(data=data, assets=frozenset(assets), candidates=frozenset(candidates))


def basket_details(outcome: RulesOutcome) -> dict[str, Any]:
    """Plan.details entries when the chosen regime spreads weight over a screened basket.

    - ``basket``: asset -> target portfolio weight (decimal string) of every basket member (and
      CASH for a share the per-token cap left unassigned), what `plan --explain` tabulates;
    - ``baskets``: per basket rule, the regime's weight for it and per member the exchange code,
      gecko_id, share of the basket, portfolio weight and the figures that put it there; or the
      reason the basket was unavailable (its weight then stays in cash).
    """
    regime = next((r for r in outcome.ruleset.regimes if r.name == outcome.choice.regime), None)
    if regime is None or not regime.baskets:
        return {}
    entries = []
    for rule_name, weight in regime.baskets.items():
        result = outcome.results.get(rule_name)
        basket = dict(result.basket or {}) if result is not None else {}
        total = sum(basket.values(), Decimal(0))
        figures = {m["symbol"]: m for m in (result.inputs.get("basket", []) if result else [])}
        members = [
            {
                **figures.get(code, {"symbol": code}),
                "basket_weight": str(share / total),
                "portfolio_weight": str(weight * share / total),
            }
            for code, share in basket.items()
        ] if total > 0 else []  # fmt: skip
        entries.append(
            {
                "rule": rule_name,
                "regime_weight": str(weight),
                "members": members,
                "reason": result.reason if result is not None else "not evaluated",
            }
        )
    weights: dict[str, Decimal] = {}
    for entry in entries:
        for member in entry["members"]:
            code = member["symbol"]
            weights[code] = weights.get(code, Decimal(0)) + Decimal(member["portfolio_weight"])
    return {"basket": {code: str(w) for code, w in weights.items()}, "baskets": entries}
