"""Gather the revenue screen's inputs once, up front, into a `ScreenData` for the snapshot.

Called by the pipeline (when the rule set has a `revenue_screen` rule) and by `rotator screen`.
Sources: DefiLlama fees overview (holders revenue and revenue), `/protocols` and parent
protocols, yield pools, per-protocol summaries (daily holders revenue for the 90-day trend, for
the protocols with the most holders revenue), CoinGecko markets for every mapped token, and
CoinGecko supply charts for chain tokens (whose "holders revenue" is burned fees and must be
set against issuance). Each source is cached in the database with its fetch time
(`SourceCache`); a source that cannot be read becomes a Problem, never an exception, so the
screen can state why its tokens fail.

Base URLs and call spacing come in `ScreenSources` (built by rotator.pipeline.screen from the
ROTATOR_DEFILLAMA_API_URL, ROTATOR_DEFILLAMA_YIELDS_URL and ROTATOR_COINGECKO_URL settings:
tests and the demo point them at 127.0.0.1). All calls go through the
shared `JsonClient` (bounded retries on network errors, 429 and 5xx). CoinGecko's key is read from
COINGECKO_API_KEY (demo plan) or COINGECKO_PRO_API_KEY (pro plan) and sent only as a header;
calls are spaced for the plan's limit (10 a minute without a key, 30 with one;
`coingecko_per_minute` overrides, 0 for no spacing).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import pandas as pd

from rotator.adapters.sources.coingecko import FREE_URL, KEY_HEADERS, PRO_URL
from rotator.adapters.sources.coingecko_markets import CoinGeckoMarkets
from rotator.adapters.sources.defillama import API_URL, YIELDS_URL, DefiLlama, defillama_clients
from rotator.adapters.sources.http import JsonClient, SourceError
from rotator.adapters.storage.source_cache import SourceCache
from rotator.core.clock import Clock
from rotator.core.screen.screening import (
    FEES_COLUMNS,
    HISTORY_COLUMNS,
    MARKETS_COLUMNS,
    PARENTS_COLUMNS,
    POOLS_COLUMNS,
    PROTOCOLS_COLUMNS,
    ScreenData,
    resolve_tokens,
)
from rotator.errors import Problem, Severity

EMPTY = {
    "fees": FEES_COLUMNS,
    "protocols": PROTOCOLS_COLUMNS,
    "chains": PROTOCOLS_COLUMNS,
    "parents": PARENTS_COLUMNS,
    "pools": POOLS_COLUMNS,
    "markets": MARKETS_COLUMNS,
    "history": HISTORY_COLUMNS,
}


@dataclass(frozen=True, slots=True)
class ScreenSources:
    """Where and how often to fetch the screen's inputs.

    Attributes:
        coingecko_api: None for CoinGecko's default URL of the plan (free/demo or pro).
        coingecko_key_env: NAME of the environment variable holding the CoinGecko key.
        ttl: cached data younger than this is reused instead of fetched again.
        history_limit: how many protocols (most holders revenue first) get a daily summary.
        supply_for: "chains" measures supply growth for chain tokens only (their burn must beat
            issuance), "all" for every token with holders revenue (up to `supply_limit`).
        coingecko_per_minute: call spacing for CoinGecko; None for the plan's default.
        retries: further attempts after the first on network errors, 429 and 5xx.
    """

    defillama_api: str = API_URL
    defillama_yields: str = YIELDS_URL
    coingecko_api: str | None = None
    coingecko_key_env: str = "COINGECKO_API_KEY"
    coingecko_plan: str = "demo"
    coingecko_per_minute: float | None = None
    ttl: timedelta = timedelta(hours=6)
    history_limit: int = 30
    supply_for: str = "chains"
    supply_limit: int = 20
    supply_days: int = 90
    timeout: float = 30.0
    retries: int = 2
    backoff: float = 2.0

    def coingecko_url(self) -> str:
        return self.coingecko_api or (PRO_URL if self.coingecko_plan == "pro" else FREE_URL)


def _empty(name: str) -> pd.DataFrame:
    return pd.DataFrame(columns=list(EMPTY[name]))


class _Fetcher:
    """Cache-or-fetch of one keyed frame, collecting problems instead of raising."""

    def __init__(
        self, cache: SourceCache | None, now: datetime, ttl: timedelta, refresh: bool, origin: str
    ) -> None:
        self.cache, self.now, self.ttl, self.refresh = cache, now, ttl, refresh
        self.origin = origin
        self.problems: list[Problem] = []

    def get(
        self, key: str, subject: str, fetch: Callable[[], pd.DataFrame], severity: Severity
    ) -> tuple[pd.DataFrame | None, datetime | None]:
        key = f"{self.origin}:{key}"
        if self.cache is not None and not self.refresh:
            hit = self.cache.load(key, self.now - self.ttl)
            if hit is not None:
                return hit
        try:
            frame = fetch()
        except SourceError as exc:
            self.problems.append(Problem(severity, subject, f"could not be read: {exc}"))
            return None, None
        if self.cache is not None:
            self.cache.save(key, frame, self.now)
        return frame, self.now


def gather_screen_data(
    sources: ScreenSources,
    *,
    clock: Clock,
    environ: Mapping[str, str] | None = None,
    cache: SourceCache | None = None,
    extra_ids: Iterable[str] = (),
    refresh: bool = False,
    supply_min_yield: float = 0.0,
) -> ScreenData:
    """Fetch (or reuse from cache) every input of the revenue screen.

    Args:
        sources: base URLs, CoinGecko plan, TTL, limits and retries.
        clock: the run's clock: its time becomes the as-of of everything fetched now; the
            clients' spacing, back-off and Retry-After waits go through it.
        environ: where the CoinGecko key is read (by `sources.coingecko_key_env`).
        cache: the database cache; None fetches everything.
        extra_ids: gecko_ids to fetch market data for besides the mapped ones (include lists).
        refresh: ignore the cache and fetch everything again.
        supply_min_yield: measure supply growth only for tokens whose holders revenue yield
            reaches this (a chain failing the yield minimum anyway needs no chart call).
    """
    now = clock.now()
    common = {"timeout": sources.timeout, "retries": sources.retries, "backoff": sources.backoff}
    api, yields = defillama_clients(
        sources.defillama_api, sources.defillama_yields, calls_per_minute=0, clock=clock, **common
    )
    # Same header and spacing rules as rotator.adapters.sources.coingecko.coingecko_client,
    # plus an explicit spacing override (the demo and tests serve CoinGecko locally).
    key = (environ or {}).get(sources.coingecko_key_env)
    headers = {KEY_HEADERS[sources.coingecko_plan]: key} if key else {}
    per_minute = sources.coingecko_per_minute
    if per_minute is None:
        per_minute = 10.0 if sources.coingecko_plan == "demo" and not key else 30.0
    gecko = JsonClient(
        "CoinGecko", sources.coingecko_url(), headers=headers, calls_per_minute=per_minute,
        timeout=sources.timeout, retries=sources.retries, backoff=sources.backoff, clock=clock,
    )  # fmt: skip
    with api, yields, gecko:
        return _gather(
            sources, now, cache, DefiLlama(api, yields), CoinGeckoMarkets(gecko),
            tuple(extra_ids), refresh, supply_min_yield,
        )  # fmt: skip


def _gather(
    sources: ScreenSources,
    now: datetime,
    cache: SourceCache | None,
    llama: DefiLlama,
    gecko: CoinGeckoMarkets,
    extra_ids: tuple[str, ...],
    refresh: bool,
    supply_min_yield: float,
) -> ScreenData:
    # Cache keys carry the base URLs: data from a test or demo server never poses as real data.
    origin = _digest([sources.defillama_api, sources.defillama_yields, sources.coingecko_url()])
    f = _Fetcher(cache, now, sources.ttl, refresh, origin)
    as_of: dict[str, datetime] = {}
    frames: dict[str, pd.DataFrame] = {}
    for name, fetch, severity in (
        ("fees", llama.fees, Severity.ERROR),
        ("protocols", llama.protocols, Severity.ERROR),
        # Chains only map chain fee entries: without them the protocols still screen.
        ("chains", llama.chains, Severity.WARNING),
        ("parents", llama.parents, Severity.WARNING),
        ("pools", llama.pools, Severity.ERROR),
    ):
        frame, fetched = f.get(f"defillama:{name}", f"screen {name}", fetch, severity)
        frames[name] = frame if frame is not None else _empty(name)
        if fetched is not None:
            as_of[name] = fetched
    chains = frames.pop("chains")
    if not chains.empty:
        chains = chains[~chains["slug"].isin(frames["protocols"]["slug"])]
        frames["protocols"] = pd.concat([frames["protocols"], chains], ignore_index=True)
    draft = ScreenData(
        frames["fees"], frames["protocols"], frames["parents"], frames["pools"], _empty("markets")
    )
    rows = (
        resolve_tokens(draft) if not frames["fees"].empty else _empty("fees").assign(gecko_id=None)
    )
    mapped = rows[rows["gecko_id"].notna()]
    ids = sorted({*mapped["gecko_id"], *extra_ids})
    markets, fetched = f.get(
        "coingecko:markets:" + _digest(ids), "screen markets", lambda: gecko.markets(ids),
        Severity.ERROR,
    )  # fmt: skip
    if markets is not None:
        as_of["markets"] = fetched  # type: ignore[assignment]
        markets = _with_supply(f, gecko, markets, mapped, sources, supply_min_yield)
    history = _history(f, llama, mapped, sources.history_limit)
    return ScreenData(
        fees=frames["fees"],
        protocols=frames["protocols"],
        parents=frames["parents"],
        pools=frames["pools"],
        markets=markets if markets is not None else _empty("markets"),
        history=history,
        as_of=as_of,
        problems=tuple(f.problems),
    )


def _digest(ids: list[str]) -> str:

    return hashlib.sha1(",".join(ids).encode()).hexdigest()[:16]


def _history(f: _Fetcher, llama: DefiLlama, mapped: pd.DataFrame, limit: int) -> pd.DataFrame:
    """Daily holders revenue of the `limit` mapped protocols with the most of it."""
    paying = mapped[mapped["has_holders"].astype(bool) & (mapped["holders_30d"] > 0)]
    slugs = paying.sort_values("holders_30d", ascending=False)["slug"].head(limit)
    parts = []
    for slug in slugs:
        frame, _ = f.get(
            f"defillama:summary:{slug}", f"screen summary {slug}",
            partial(llama.holders_history, slug), Severity.WARNING,
        )  # fmt: skip
        if frame is not None and not frame.empty:
            parts.append(frame)
    return pd.concat(parts, ignore_index=True) if parts else _empty("history")


def _with_supply(
    f: _Fetcher,
    gecko: CoinGeckoMarkets,
    markets: pd.DataFrame,
    mapped: pd.DataFrame,
    sources: ScreenSources,
    min_yield: float,
) -> pd.DataFrame:
    """Markets with `supply_growth` measured for chain tokens (or all, per `supply_for`)."""
    paying = mapped[mapped["has_holders"].astype(bool) & (mapped["holders_30d"] > 0)]
    if sources.supply_for == "chains":
        paying = paying[paying["protocol_type"] == "chain"]
    annual = paying.groupby("gecko_id")["holders_30d"].sum() * 365 / 30
    caps = markets.drop_duplicates("gecko_id").set_index("gecko_id")["market_cap"]
    yields = (annual / caps.reindex(annual.index).where(lambda c: c > 0)).sort_values(
        ascending=False
    )
    ids = list(yields[yields >= min_yield].index)
    growth: dict[str, float] = {}
    for gecko_id in ids[: sources.supply_limit]:

        def fetch(g: str = gecko_id) -> pd.DataFrame:
            value = gecko.supply_growth(g, sources.supply_days)
            return pd.DataFrame({"supply_growth": [value]})

        frame, _ = f.get(
            f"coingecko:supply:{gecko_id}", f"screen supply {gecko_id}", fetch, Severity.WARNING
        )
        if frame is not None and not frame.empty and pd.notna(frame["supply_growth"].iloc[0]):
            growth[gecko_id] = float(frame["supply_growth"].iloc[0])
    out = markets.copy()
    out["supply_growth"] = out["gecko_id"].map(growth).astype(float)
    return out
