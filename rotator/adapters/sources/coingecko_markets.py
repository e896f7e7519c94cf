"""CoinGecko market data for the revenue screen: market cap, FDV, volume, supply growth.

Endpoints (docs.coingecko.com; base URL is a constructor argument):
- ``/api/v3/coins/markets?vs_currency=usd&ids=a,b&per_page=250`` -> list of coins: ``id`` (the
  gecko_id DefiLlama's ``gecko_id`` refers to), ``symbol`` (lower case, not unique), ``name``,
  ``market_cap`` (price x circulating supply), ``fully_diluted_valuation`` (price x total or max
  supply; null when unknown), ``total_volume`` (24 h, USD), ``circulating_supply``,
  ``last_updated`` (ISO time).
- ``/api/v3/coins/{id}/market_chart?vs_currency=usd&days=N&interval=daily`` -> ``prices`` and
  ``market_caps`` as ``[[unix_ms, value], ...]``; market cap / price is the circulating supply,
  so its growth over the window measures issuance (used to tell a chain's burn from inflation).

Calls go through the shared `JsonClient` made by `rotator.adapters.sources.coingecko.
coingecko_client` (free tier: about 10 calls a minute, spaced accordingly; bounded retries on
429/5xx; an API key only in the header CoinGecko documents, registered for redaction).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from rotator.adapters.sources.http import JsonClient, SourceError
from rotator.core.screen.screening import MARKETS_COLUMNS

PAGE = 250


def parse_markets(payload: Any) -> pd.DataFrame:
    """`/coins/markets` payload -> MARKETS_COLUMNS (supply_growth NaN; see `supply_growth`)."""
    if not isinstance(payload, list):
        raise SourceError("CoinGecko /coins/markets: expected a list of coins")
    if not all(isinstance(c, dict) and isinstance(c.get("id"), str) for c in payload):
        raise SourceError("CoinGecko /coins/markets: expected coin objects with an id")
    raw = pd.DataFrame(payload)
    if raw.empty:
        return pd.DataFrame(columns=list(MARKETS_COLUMNS))

    def num(column: str) -> pd.Series:
        if column not in raw:
            return pd.Series(np.nan, index=raw.index)
        return pd.to_numeric(raw[column], errors="coerce").astype(float)

    return pd.DataFrame(
        {
            "gecko_id": raw["id"],
            "symbol": (raw["symbol"] if "symbol" in raw else raw["id"]).astype(str).str.upper(),
            "name": raw.get("name", raw["id"]),
            "market_cap": num("market_cap"),
            "fdv": num("fully_diluted_valuation"),
            "volume_24h": num("total_volume"),
            "last_updated": pd.to_datetime(raw["last_updated"], utc=True, errors="coerce")
            if "last_updated" in raw
            else pd.NaT,
            "supply_growth": np.nan,
        }
    ).drop_duplicates("gecko_id")


def _pairs(rows: Any) -> list[tuple[float, float]]:
    """[[ms, value], ...] as documented; SourceError for any other shape."""
    if rows is None:
        return []
    number = (int, float)
    ok = isinstance(rows, list) and all(
        isinstance(r, list)
        and len(r) == 2
        and all(isinstance(v, number) and not isinstance(v, bool) for v in r)
        and all(math.isfinite(v) and abs(v) < 1e300 for v in r)
        for r in rows
    )
    if not ok:
        raise SourceError("CoinGecko /market_chart: expected [time, value] pairs")
    return [(float(t), float(v)) for t, v in rows]


def supply_growth(payload: Any, days: int) -> float | None:
    """Annualised growth of circulating supply (market cap / price) over the chart's window."""
    if not isinstance(payload, dict):
        return None
    caps = pd.DataFrame(_pairs(payload.get("market_caps")), columns=["ts", "cap"])
    prices = pd.DataFrame(_pairs(payload.get("prices")), columns=["ts", "price"])
    joined = caps.merge(prices, on="ts").dropna()
    joined = joined[(joined["cap"] > 0) & (joined["price"] > 0)].sort_values("ts")
    if len(joined) < 2:
        return None
    supply = joined["cap"] / joined["price"]
    span_days = (joined["ts"].iloc[-1] - joined["ts"].iloc[0]) / 86_400_000
    if span_days < min(days, 30) * 0.8:
        return None
    ratio = float(supply.iloc[-1] / supply.iloc[0])
    return ratio ** (365.0 / span_days) - 1.0


class CoinGeckoMarkets:
    """Read-only CoinGecko reader for markets and supply charts over a shared JSON client."""

    def __init__(self, client: JsonClient) -> None:
        self.client = client

    def markets(self, gecko_ids: Iterable[str]) -> pd.DataFrame:
        """Market data for `gecko_ids` (pages of 250 ids); unknown ids are simply absent."""
        ids = sorted(set(gecko_ids))
        frames = []
        for start in range(0, len(ids), PAGE):
            params = {
                "vs_currency": "usd",
                "ids": ",".join(ids[start : start + PAGE]),
                "per_page": PAGE,
                "page": 1,
            }
            frames.append(parse_markets(self.client.get("coins/markets", params)))
        if not frames:
            return pd.DataFrame(columns=list(MARKETS_COLUMNS))
        return pd.concat(frames, ignore_index=True).drop_duplicates("gecko_id")

    def supply_growth(self, gecko_id: str, days: int = 90) -> float | None:
        """Annualised circulating-supply growth of one coin over the last `days` days."""
        params = {"vs_currency": "usd", "days": days, "interval": "daily"}
        return supply_growth(self.client.get(f"coins/{gecko_id}/market_chart", params), days)
