"""LiveCoinWatch: BTC dominance history (``/overview/history``), free with an API key.

Documented at livecoinwatch.com/tools/api: every call is a POST with a JSON body and the key in
the ``x-api-key`` header; the free key has a daily credit limit (10,000 calls a day).

``POST /overview/history`` with ``{"currency": "USD", "start": <unix ms>, "end": <unix ms>}``
-> a list of ``{"date": <unix ms>, "cap": <total market cap>, "volume", "liquidity",
"btcDominance": <fraction, 0.41 = 41 %>}``. Long ranges come back thinned, so rotator asks
for `WINDOW_DAYS` at a time and keeps the last point of each UTC day before today.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from rotator.adapters.sources.http import JsonClient, SourceError
from rotator.core.history import DominanceObservation

LIVECOINWATCH_URL = "https://api.livecoinwatch.com"
SOURCE = "livecoinwatch"
WINDOW_DAYS = 90


def livecoinwatch_client(
    environ: Mapping[str, str], *, base_url: str | None = None, key_env: str, **kwargs: Any
) -> JsonClient:
    """A client sending the key of `key_env` in ``x-api-key`` (registered for redaction)."""
    key = environ.get(key_env)
    if not key:
        raise SourceError(f"LiveCoinWatch: set {key_env} to a (free) LiveCoinWatch API key")
    headers = {"x-api-key": key, "content-type": "application/json"}
    return JsonClient(
        "LiveCoinWatch",
        base_url or LIVECOINWATCH_URL,
        headers=headers,
        calls_per_minute=60,
        **kwargs,
    )


def _ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def parse_history(payload: Any, until: date) -> list[DominanceObservation]:
    """An /overview/history payload -> one observation per closed UTC day (its last point)."""
    if not isinstance(payload, list):
        raise SourceError("LiveCoinWatch /overview/history: expected a list of points")
    days: dict[date, DominanceObservation] = {}
    for point in sorted(
        (p for p in payload if isinstance(p, dict) and isinstance(p.get("date"), int | float)),
        key=lambda p: p["date"],
    ):
        share = point.get("btcDominance")
        if not isinstance(share, int | float) or share != share:
            continue
        pct = float(share) * 100 if share <= 1 else float(share)  # documented as a fraction
        if not 0 < pct < 100:
            raise SourceError(f"LiveCoinWatch /overview/history: btcDominance {share} is absurd")
        if not 0 < point["date"] < 32_503_680_000_000:
            continue
        day = datetime.fromtimestamp(point["date"] / 1000, UTC).date()
        if day >= until:
            continue
        cap = point.get("cap")
        total = float(cap) if isinstance(cap, int | float) and cap > 0 else None
        btc = None if total is None else total * pct / 100
        days[day] = DominanceObservation(SOURCE, day, pct, btc, total)
    return [days[d] for d in sorted(days)]


def fetch_dominance_history(
    client: JsonClient,
    start: date,
    until: date,
    progress: Callable[[int], None] | None = None,
) -> list[DominanceObservation]:
    """Daily BTC dominance from `start` up to (not including) `until`, WINDOW_DAYS per call."""
    out: dict[date, DominanceObservation] = {}
    cursor = start
    while cursor < until:
        end = min(cursor + timedelta(days=WINDOW_DAYS), until)
        payload = client.post(
            "overview/history", {"currency": "USD", "start": _ms(cursor), "end": _ms(end)}
        )
        for observation in parse_history(payload, until):
            if observation.day >= start:
                out[observation.day] = observation
        if progress is not None:
            progress((end - cursor).days)
        cursor = end
    return [out[d] for d in sorted(out)]
