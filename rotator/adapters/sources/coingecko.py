"""CoinGecko: today's BTC dominance from /global, or computed from /coins/markets market caps.

CoinGecko's dominance *history* endpoint is paid-only, so rotator records the current value
once a day (`rotator history fetch`) and that record is the history; older history comes from
`rotator history import`. Documented response shapes read here:

- ``GET /global`` -> ``{"data": {"market_cap_percentage": {"btc": 51.2, ...},
  "total_market_cap": {"usd": ...}, "updated_at": <unix seconds>}}``
- ``GET /coins/markets?vs_currency=usd&order=market_cap_desc&per_page=250&page=1`` -> a list of
  ``{"id", "symbol", "market_cap", "last_updated", ...}``; BTC's share of the listed coins' caps
  approximates dominance (it leaves out coins below the page, so it reads a little high).

Free tier: about 10 calls a minute, no key. Demo and pro keys go in the headers
``x-cg-demo-api-key`` / ``x-cg-pro-api-key`` (pro uses its own base URL).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from rotator.adapters.sources.http import JsonClient, SourceError
from rotator.core.history import DominanceObservation

FREE_URL = "https://api.coingecko.com/api/v3"
PRO_URL = "https://pro-api.coingecko.com/api/v3"
KEY_HEADERS = {"demo": "x-cg-demo-api-key", "pro": "x-cg-pro-api-key"}


def coingecko_client(
    environ: Mapping[str, str],
    *,
    base_url: str | None = None,
    key_env: str = "COINGECKO_API_KEY",
    plan: str = "demo",
    calls_per_minute: float | None = None,
    **kwargs: Any,
) -> JsonClient:
    """A client for CoinGecko; the API key (if `key_env` is set) goes in the plan's header.

    Args:
        base_url: override (tests, proxies); default the free/demo or pro API URL.
        key_env: NAME of the environment variable holding the key; unset means no key.
        plan: "demo" or "pro" (decides the header and the default URL).
    """
    headers = {}
    key = environ.get(key_env) if key_env else None
    if key:
        headers[KEY_HEADERS[plan]] = key
    url = base_url or (PRO_URL if plan == "pro" else FREE_URL)
    per_minute = 10.0 if plan == "demo" and not key else 30.0
    if calls_per_minute is not None:  # ROTATOR_COINGECKO_CALLS_PER_MINUTE; 0 for no spacing
        per_minute = calls_per_minute
    return JsonClient("CoinGecko", url, headers=headers, calls_per_minute=per_minute, **kwargs)


def _day_of(payload_time: Any, fallback: datetime) -> date:
    if isinstance(payload_time, int | float) and payload_time > 0:
        return datetime.fromtimestamp(payload_time, UTC).date()
    if isinstance(payload_time, str):
        try:
            return (
                datetime.fromisoformat(payload_time.replace("Z", "+00:00")).astimezone(UTC).date()
            )
        except ValueError:
            pass
    return fallback.astimezone(UTC).date()


def parse_global(payload: Any, received: datetime) -> DominanceObservation:
    """`/global` payload -> today's dominance observation (dated by `updated_at`).

    Raises:
        SourceError: the payload lacks data.market_cap_percentage.btc.
    """
    try:
        data = payload["data"]
        pct = float(data["market_cap_percentage"]["btc"])
    except (KeyError, TypeError, ValueError):
        raise SourceError(
            "CoinGecko /global: no data.market_cap_percentage.btc in the response"
        ) from None
    if not 0 < pct < 100:
        raise SourceError(f"CoinGecko /global: BTC dominance {pct} is not a percentage")
    total = (data.get("total_market_cap") or {}).get("usd")
    return DominanceObservation(
        source="coingecko/global",
        day=_day_of(data.get("updated_at"), received),
        dominance_pct=pct,
        btc_market_cap=pct / 100 * float(total) if total else None,
        total_market_cap=float(total) if total else None,
    )


def parse_markets_dominance(payload: Any, received: datetime) -> DominanceObservation:
    """`/coins/markets` payload -> BTC's share of the listed coins' market caps, in percent.

    Raises:
        SourceError: not a list, or bitcoin missing from it.
    """
    if not isinstance(payload, list):
        raise SourceError("CoinGecko /coins/markets: expected a list of coins")
    caps = {
        str(c.get("id")): float(c["market_cap"])
        for c in payload
        if isinstance(c, dict) and isinstance(c.get("market_cap"), int | float)
    }
    btc = caps.get("bitcoin")
    total = sum(caps.values())
    if not btc or total <= 0:
        raise SourceError("CoinGecko /coins/markets: bitcoin's market cap is not in the page")
    updated = next((c.get("last_updated") for c in payload if c.get("id") == "bitcoin"), None)
    return DominanceObservation(
        source="coingecko/markets",
        day=_day_of(updated, received),
        dominance_pct=btc / total * 100,
        btc_market_cap=btc,
        total_market_cap=total,
    )


def fetch_dominance(
    client: JsonClient, received: datetime, method: str = "global"
) -> DominanceObservation:
    """Today's BTC dominance: from /global (default) or from /coins/markets ("markets")."""
    if method == "markets":
        payload = client.get(
            "coins/markets",
            {"vs_currency": "usd", "order": "market_cap_desc", "per_page": 250, "page": 1},
        )
        return parse_markets_dominance(payload, received)
    return parse_global(client.get("global"), received)
