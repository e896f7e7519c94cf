"""BTC dominance proxy: BTC's share of the summed market caps of the top-N coins, day by day.

Real dominance divides BTC's market cap by the whole market's; free APIs serve that total only
for today. Per-coin market-cap history is free (CoinGecko's ``/coins/{id}/market_chart``, 365
days on the free plan), so the proxy rebuilds the ratio over N coins instead:

    proxy(d) = cap_BTC(d) / sum over the N coins of cap_c(d)

It reads higher than real dominance (the coins outside the top N are left out of the total) and
moves with it; `bench/dominance_proxy.py` measures the gap on 2018-2021 and docs/data-sources.md
states it. Everything that stores or shows the proxy names it as one (`PROXY_SOURCE_PREFIX`).

A coin without a value on a day counts with its latest value of the last `MAX_GAP_DAYS` days;
before its first value it counts as 0 (not yet listed); a longer gap inside its history leaves
the day out rather than inflating BTC's share.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

PROXY_SOURCE_PREFIX = "proxy:"
MAX_GAP_DAYS = 3


@dataclass(frozen=True, slots=True)
class ProxyDay:
    """One day of the proxy: BTC's share in percent, BTC's cap and the N coins' summed cap."""

    day: date
    dominance_pct: float
    btc_market_cap: float
    total_market_cap: float


def proxy_source(coins: int, provider: str = "coingecko") -> str:
    """The stored source label, e.g. "proxy:coingecko-top10" (always says it is a proxy)."""
    return f"{PROXY_SOURCE_PREFIX}{provider}-top{coins}"


def is_proxy(source: str) -> bool:
    return source.startswith(PROXY_SOURCE_PREFIX)


def _value_on(caps: Mapping[date, float], day: date, first: date) -> float | None:
    """The coin's cap on `day`: that day's, the latest of the last MAX_GAP_DAYS, 0 before it
    was listed; None for a longer gap inside its history."""
    if day < first:
        return 0.0
    for back in range(MAX_GAP_DAYS + 1):
        value = caps.get(day - timedelta(days=back))
        if value is not None:
            return value
    return None


def dominance_proxy(
    caps: Mapping[str, Mapping[date, float]], btc: str = "bitcoin"
) -> list[ProxyDay]:
    """BTC's share of the coins' summed market caps, for every day BTC has a cap.

    Args:
        caps: coin id -> day -> market cap (USD); must include `btc`. Non-positive caps are
            treated as absent.

    Returns:
        one ProxyDay per computable day, oldest first.
    """
    clean = {
        coin: {d: float(v) for d, v in series.items() if v is not None and float(v) > 0}
        for coin, series in caps.items()
    }
    btc_caps = clean.get(btc) or {}
    firsts = {coin: min(series) for coin, series in clean.items() if series}
    out = []
    for day in sorted(btc_caps):
        total = 0.0
        complete = True
        for coin, series in clean.items():
            if coin not in firsts:
                continue
            value = _value_on(series, day, firsts[coin])
            if value is None:
                complete = False
                break
            total += value
        if not complete or total <= 0:
            continue
        btc_cap = btc_caps[day]
        out.append(ProxyDay(day, btc_cap / total * 100, btc_cap, total))
    return out
