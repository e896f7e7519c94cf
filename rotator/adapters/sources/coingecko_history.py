"""CoinGecko daily history: per-coin market caps and prices, and the top-N dominance proxy.

Documented layouts read here (docs.coingecko.com, "Coin Historical Chart Data by ID" and
"Coins List with Market Data"):

- ``GET /coins/markets?vs_currency=usd&order=market_cap_desc&per_page=N&page=1`` -> a list of
  ``{"id", "symbol", "market_cap", ...}``: the top-N coins by market cap today;
- ``GET /coins/{id}/market_chart?vs_currency=usd&days=D&interval=daily`` -> ``{"prices",
  "market_caps", "total_volumes"}``, each ``[[unix_ms, value], ...]``. Above 90 days CoinGecko
  gives one point a day at 00:00 UTC plus a last point at the current time. The free and demo
  plans serve at most the last 365 days; paid plans go back to the coin's listing.
- ``GET /global/market_cap_chart?vs_currency=usd&days=D`` (paid plans only) ->
  ``{"market_cap_chart": {"market_cap": [[unix_ms, value], ...], "volume": [...]}}``: the total
  crypto market cap; BTC's cap over it is real BTC dominance.

A point at 00:00 UTC is dated the day it opens (CoinGecko's own CSV export does the same); the
current, unfinished day is dropped. Calls go through the shared `JsonClient` (spacing for the
free tier's ~10 calls a minute, bounded retries on 429/5xx).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from rotator.adapters.sources.http import JsonClient, SourceError
from rotator.core.dominance_proxy import dominance_proxy, proxy_source
from rotator.core.history import DailyBar, DominanceObservation

FREE_DAYS = 365
MAX_COINS = 50


def _points(payload: Any, key: str, what: str, until: date) -> dict[date, float]:
    """`[[ms, value], ...]` under `key` -> day -> value for the closed days before `until`."""
    rows = payload.get(key) if isinstance(payload, dict) else None
    if not isinstance(rows, list):
        raise SourceError(f"{what}: no `{key}` list in the response")
    out: dict[date, float] = {}
    for row in rows:
        if not (isinstance(row, list | tuple) and len(row) == 2):
            continue
        ms, value = row
        if not isinstance(ms, int | float) or not isinstance(value, int | float):
            continue  # null caps (not yet tracked) and malformed rows are absent days
        if not 0 < ms < 32_503_680_000_000 or value != value or value < 0:
            continue
        day = datetime.fromtimestamp(ms / 1000, UTC).date()
        if day < until:
            out.setdefault(day, float(value))  # the 00:00 point, not a later one of the day
    return out


def parse_market_chart(
    payload: Any, coin: str, until: date
) -> tuple[dict[date, float], dict[date, float]]:
    """A market_chart payload -> (day -> USD price, day -> USD market cap), closed days only."""
    what = f"CoinGecko /coins/{coin}/market_chart"
    return _points(payload, "prices", what, until), _points(payload, "market_caps", what, until)


def top_coins(client: JsonClient, count: int) -> list[tuple[str, str]]:
    """The top `count` coins by market cap today: (id, upper-case symbol), largest first."""
    payload = client.get(
        "coins/markets",
        {"vs_currency": "usd", "order": "market_cap_desc", "per_page": count, "page": 1},
    )
    if not isinstance(payload, list):
        raise SourceError("CoinGecko /coins/markets: expected a list of coins")
    coins = [
        (str(c["id"]), str(c.get("symbol") or "").upper())
        for c in payload
        if isinstance(c, dict) and isinstance(c.get("id"), str)
    ]
    if not any(coin == "bitcoin" for coin, _ in coins):
        raise SourceError("CoinGecko /coins/markets: bitcoin is not in the top coins")
    return coins[:count]


def fetch_market_chart(
    client: JsonClient, coin: str, days: int, until: date
) -> tuple[dict[date, float], dict[date, float]]:
    """Daily prices and market caps of `coin` for its last `days` days (closed days only)."""
    payload = client.get(
        f"coins/{coin}/market_chart",
        {"vs_currency": "usd", "days": max(days, 2), "interval": "daily"},
    )
    return parse_market_chart(payload, coin, until)


def fetch_dominance_proxy(
    client: JsonClient,
    coins: int,
    days: int,
    until: date,
    progress: Callable[[int], None] | None = None,
) -> list[DominanceObservation]:
    """BTC's share of the top-`coins` market caps for the last `days` closed days (a proxy).

    One /coins/markets call, then one market_chart call per coin. Any coin's failure fails the
    proxy (a total without one of the coins would read BTC's share too high).
    """
    ids = [coin for coin, _ in top_coins(client, min(coins, MAX_COINS))]
    caps = {}
    for coin in ids:
        caps[coin] = fetch_market_chart(client, coin, days, until)[1]
        if progress is not None:
            progress(1)
    source = proxy_source(len(ids))
    return [
        DominanceObservation(source, p.day, p.dominance_pct, p.btc_market_cap, p.total_market_cap)
        for p in dominance_proxy(caps)
    ]


GLOBAL_SOURCE = "coingecko/market_cap_chart"


def fetch_global_dominance(
    client: JsonClient, days: int, until: date, progress: Callable[[int], None] | None = None
) -> list[DominanceObservation]:
    """Real BTC dominance for the last `days` closed days (paid plans): bitcoin's market cap
    over the total from /global/market_cap_chart, on the days both have."""
    btc = fetch_market_chart(client, "bitcoin", days, until)[1]
    if progress is not None:
        progress(1)
    payload = client.get("global/market_cap_chart", {"vs_currency": "usd", "days": max(days, 2)})
    chart = payload.get("market_cap_chart") if isinstance(payload, dict) else None
    totals = _points(chart, "market_cap", "CoinGecko /global/market_cap_chart", until)
    if progress is not None:
        progress(1)
    out = []
    for day in sorted(set(btc) & set(totals)):
        total = totals[day]
        if total <= 0 or not 0 < btc[day] < total:
            continue  # a total below BTC's own cap is not a total
        out.append(
            DominanceObservation(GLOBAL_SOURCE, day, btc[day] / total * 100, btc[day], total)
        )
    return out


def price_bars(
    coin: str, symbol: str, prices: dict[date, float], caps: dict[date, float]
) -> list[DailyBar]:
    """CoinGecko daily prices as bars of market SYMBOL/USD (source "coingecko")."""
    return [
        DailyBar("coingecko", f"{symbol}/USD", day, price, market_cap=caps.get(day))
        for day, price in sorted(prices.items())
        if price > 0
    ]
