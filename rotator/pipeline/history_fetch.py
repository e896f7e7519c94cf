"""`rotator history fetch`, the keyless history sources: dominance, MOVE, FRED, price fallback.

Each function fetches one source into the market store and returns its failures as lines (never
raises a source error), so one failing source never stops the others. How far back each reaches
is the rules' declared lookback (`RuleSet.lookbacks`); later runs start at the newest stored day
(incremental). `echo` gets lines for the user and `track` shows progress; nothing here prints.

- BTC dominance: LiveCoinWatch ``/overview/history`` when its (free) key is set, else CoinGecko's
  paid ``/global/market_cap_chart`` with a pro key, else the top-N market-cap proxy rebuilt from
  CoinGecko's per-coin history (365 days on the free plan), stored and shown as
  ``proxy:coingecko-topN``; CoinGecko ``/global`` (today only) on request.
- MOVE (``index:MOVE``): Yahoo Finance's chart API (``^MOVE``), no key.
- FRED: the API with a key, else ``fredgraph.csv`` without one.
- Prices the exchanges cannot serve far enough back: CoinGecko daily prices (``SYMBOL/USD``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from rotator.adapters.sources.coingecko import coingecko_client
from rotator.adapters.sources.coingecko_history import (
    FREE_DAYS,
    GLOBAL_SOURCE,
    fetch_dominance_proxy,
    fetch_global_dominance,
    fetch_market_chart,
    price_bars,
    top_coins,
)
from rotator.adapters.sources.fred import (
    fetch_fredgraph,
    fetch_series,
    fred_client,
    fredgraph_client,
)
from rotator.adapters.sources.http import JsonClient, SourceError
from rotator.adapters.sources.livecoinwatch import fetch_dominance_history, livecoinwatch_client
from rotator.adapters.sources.yahoo import fetch_index, yahoo_client
from rotator.adapters.storage.coverage import last_dominance_day, stored_extents
from rotator.adapters.storage.market import last_macro_day, save_bars, save_dominance, save_macro
from rotator.core.clock import Clock
from rotator.core.history import macro_key

Echo = Callable[[str], None]
# A progress display: (label, total steps) -> advance(by steps).
Track = Callable[[str, int], Callable[[int], None]]
YAHOO_SYMBOLS = {"index:MOVE": "^MOVE"}


@dataclass(frozen=True, slots=True)
class SourceSettings:
    """Where each source is and which variables hold its (optional) keys.

    Attributes:
        clock: the run's clock: the clients' spacing, back-off and Retry-After waits, and the
            time every saved row is recorded at.
        retries: further attempts per call on network errors, 429 and 5xx (0 in tests).
        timeout: seconds per HTTP call.
        proxy_coins: N of the top-N dominance proxy.
        coingecko_per_minute: CoinGecko call spacing override (None: the plan's default).
    """

    clock: Clock
    coingecko_url: str | None = None
    coingecko_key_env: str = "COINGECKO_API_KEY"
    coingecko_plan: str = "demo"
    coingecko_per_minute: float | None = None
    livecoinwatch_url: str | None = None
    livecoinwatch_key_env: str = "LIVECOINWATCH_API_KEY"
    yahoo_url: str | None = None
    fred_url: str | None = None
    fredgraph_url: str | None = None
    fred_key_env: str = "FRED_API_KEY"
    proxy_coins: int = 10
    retries: int = 3
    timeout: float = 20.0

    def client_args(self) -> dict[str, Any]:
        return {"retries": self.retries, "timeout": self.timeout, "clock": self.clock}

    def recorded_at(self) -> datetime:
        """The time a row saved now is recorded at."""
        return self.clock.now()

    def coingecko(self, environ: Mapping[str, str]) -> JsonClient:
        extra: dict[str, Any] = self.client_args()
        if self.coingecko_per_minute is not None:
            extra["calls_per_minute"] = self.coingecko_per_minute
        return coingecko_client(
            environ,
            base_url=self.coingecko_url,
            key_env=self.coingecko_key_env,
            plan=self.coingecko_plan,
            **extra,
        )


def _begin(stored: date | None, today: date, days: int) -> date:
    """Where a fetch starts: the newest stored day (re-read: it may have been partial), else
    `days` back from today."""
    return stored if stored is not None else today - timedelta(days=days)


def fetch_dominance(
    engine: Engine,
    echo: Echo,
    track: Track,
    environ: Mapping[str, str],
    sources: SourceSettings,
    needed_days: int,
    today: date,
) -> list[str]:
    """BTC dominance history: LiveCoinWatch with its key, else CoinGecko's market-cap chart with
    a pro key, else the CoinGecko top-N proxy."""
    if environ.get(sources.livecoinwatch_key_env):
        begin = _begin(last_dominance_day(engine, proxy=False), today, needed_days)
        advance = track("btc_dominance (LiveCoinWatch)", max((today - begin).days, 1))
        try:
            with livecoinwatch_client(
                environ,
                base_url=sources.livecoinwatch_url,
                key_env=sources.livecoinwatch_key_env,
                **sources.client_args(),
            ) as client:
                observations = fetch_dominance_history(client, begin, today, progress=advance)
        except SourceError as exc:
            return [f"btc_dominance: {exc}"]
        save_dominance(engine, observations, sources.recorded_at())
        echo(f"livecoinwatch: {len(observations)} days of BTC dominance saved{_span(observations)}")
        return []
    keyed = sources.coingecko_plan == "pro" and environ.get(sources.coingecko_key_env)
    if keyed:
        return _global_dominance(engine, echo, track, environ, sources, needed_days, today)
    stored = last_dominance_day(engine, proxy=True)
    limit = needed_days if keyed else FREE_DAYS
    days = min(needed_days, limit) if stored is None else max((today - stored).days, 1)
    advance = track(f"btc_dominance (proxy: top {sources.proxy_coins})", sources.proxy_coins)
    try:
        with sources.coingecko(environ) as client:
            observations = fetch_dominance_proxy(
                client, sources.proxy_coins, days, today, progress=advance
            )
    except SourceError as exc:
        return [f"btc_dominance (proxy): {exc}"]
    save_dominance(engine, observations, sources.recorded_at())
    source = observations[0].source if observations else "proxy"
    echo(
        f"{source}: {len(observations)} days of a BTC dominance PROXY saved{_span(observations)} "
        f"(BTC's share of the top {sources.proxy_coins} market caps; set "
        f"{sources.livecoinwatch_key_env} for real dominance)"
    )
    if stored is None and needed_days > limit:
        echo(
            f"note: the rules need {needed_days} days of dominance; CoinGecko's free plan "
            f"serves {limit} (import older history with `rotator history import`)"
        )
    return []


def _global_dominance(
    engine: Engine,
    echo: Echo,
    track: Track,
    environ: Mapping[str, str],
    sources: SourceSettings,
    needed_days: int,
    today: date,
) -> list[str]:
    """Real dominance history from CoinGecko's paid /global/market_cap_chart."""
    stored = last_dominance_day(engine, proxy=False)
    days = needed_days if stored is None else max((today - stored).days, 1)
    advance = track("btc_dominance (CoinGecko market_cap_chart)", 2)
    try:
        with sources.coingecko(environ) as client:
            observations = fetch_global_dominance(client, days, today, progress=advance)
    except SourceError as exc:
        return [f"btc_dominance: {exc}"]
    save_dominance(engine, observations, sources.recorded_at())
    echo(f"{GLOBAL_SOURCE}: {len(observations)} days of BTC dominance saved{_span(observations)}")
    return []


def _span(rows: Sequence[Any]) -> str:
    """ " (first day to last day)" of dated records, or nothing."""
    return f" ({rows[0].day} to {rows[-1].day})" if rows else ""


def fetch_yahoo_indexes(
    engine: Engine,
    echo: Echo,
    track: Track,
    sources: SourceSettings,
    series: list[str],
    needed: Mapping[str, int],
    today: date,
) -> list[str]:
    """Indexes Yahoo serves (the MOVE index) from the newest stored day, or the lookback."""
    failures = []
    with yahoo_client(base_url=sources.yahoo_url, **sources.client_args()) as client:
        for name in series:
            symbol = YAHOO_SYMBOLS.get(name)
            if symbol is None:
                failures.append(
                    f"{name}: no free source; import a CSV with `rotator history import`"
                )
                continue
            begin = _begin(last_macro_day(engine, macro_key(name)), today, needed.get(name, 365))
            advance = track(f"{name} (Yahoo {symbol})", 1)
            try:
                observations = fetch_index(client, symbol, macro_key(name), begin, today)
            except SourceError as exc:
                failures.append(f"{name}: {exc}")
                continue
            advance(1)
            save_macro(engine, observations, sources.recorded_at())
            echo(f"Yahoo {symbol}: {len(observations)} closes of {name} saved{_span(observations)}")
    return failures


def fetch_fred_series(
    engine: Engine,
    echo: Echo,
    track: Track,
    environ: Mapping[str, str],
    sources: SourceSettings,
    series: list[str],
    needed: Mapping[str, int],
    start: date | None,
    today: date,
) -> list[str]:
    """FRED series: through the API when its key is set, else fredgraph.csv (no key)."""
    key = environ.get(sources.fred_key_env)
    failures = []
    if key:
        client = fred_client(environ, base_url=sources.fred_url, **sources.client_args())
    else:
        client = fredgraph_client(base_url=sources.fredgraph_url, **sources.client_args())
    with client:
        for name in series:
            days = needed.get(f"fred:{name}", 800)
            begin = start or _begin(last_macro_day(engine, name), today, days)
            advance = track(f"fred:{name}", 1)
            try:
                if key:
                    observations = fetch_series(client, name, key, begin)
                else:
                    observations = fetch_fredgraph(client, name, begin)
            except SourceError as exc:
                failures.append(f"fred:{name}: {exc}")
                continue
            advance(1)
            save_macro(engine, observations, sources.recorded_at())
            how = "API" if key else "fredgraph.csv, no key"
            echo(
                f"FRED {name} ({how}): {len(observations)} observations saved{_span(observations)}"
            )
    return failures


def short_price_series(
    engine: Engine, needed: Mapping[str, int], today: date, margin_days: int = 7
) -> dict[str, int]:
    """`close:ASSET` series whose stored history starts later than the rules need (or that are
    missing), with the days needed: what the price fallback fetches."""
    names = [n for n in needed if n.startswith("close:") and "/" not in n]
    extents = stored_extents(engine, names)
    out = {}
    for name in names:
        extent = extents.get(name)
        start = today - timedelta(days=max(needed[name] - margin_days, 1))
        if extent is None or extent.first is None or extent.first > start:
            out[name] = needed[name]
    return out


def fetch_coingecko_prices(
    engine: Engine,
    echo: Echo,
    track: Track,
    environ: Mapping[str, str],
    sources: SourceSettings,
    short: Mapping[str, int],
    today: date,
) -> list[str]:
    """Daily USD prices from CoinGecko for the `close:ASSET` series the exchanges left short."""
    if not short:
        return []
    keyed = sources.coingecko_plan == "pro" and environ.get(sources.coingecko_key_env)
    failures = []
    try:
        with sources.coingecko(environ) as client:
            ids = {symbol: coin for coin, symbol in reversed(top_coins(client, 250))}
            for name, days in short.items():
                asset = name.split(":", 1)[1].upper()
                coin = ids.get(asset)
                if coin is None:
                    failures.append(f"{name}: {asset} is not among CoinGecko's top 250 coins")
                    continue
                want = days if keyed else min(days, FREE_DAYS)
                advance = track(f"{name} (CoinGecko {coin})", 1)
                try:
                    prices, caps = fetch_market_chart(client, coin, want, today)
                except SourceError as exc:
                    failures.append(f"{name}: {exc}")
                    continue
                advance(1)
                bars = price_bars(coin, asset, prices, caps)
                save_bars(engine, bars, sources.recorded_at())
                echo(f"coingecko {asset}/USD: {len(bars)} daily closes saved{_span(bars)}")
                if want < days:
                    echo(f"note: {name} needs {days} days; CoinGecko's free plan serves {want}")
    except SourceError as exc:
        failures.append(f"prices (CoinGecko): {exc}")
    return failures
