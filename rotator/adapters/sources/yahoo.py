"""Yahoo Finance's chart API: daily closes of the ICE BofA MOVE index (``^MOVE``), no key.

``GET /v8/finance/chart/%5EMOVE?period1=<unix s>&period2=<unix s>&interval=1d`` ->
``{"chart": {"result": [{"meta": {...}, "timestamp": [<unix s>, ...], "indicators": {"quote":
[{"close": [...], "open": [...], ...}]}}], "error": null}}``; a failed request has ``result:
null`` and ``error: {"code", "description"}``. Closes may be null (a missing day). The API is
unofficial and unkeyed: Yahoo rate-limits by IP and may answer 429; the shared client retries
with backoff. Timestamps are the session's open (New York), so the UTC date is the trading day.
CSV import of MOVE stays available (`rotator history import MOVE.csv`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from rotator.adapters.sources.http import JsonClient, SourceError
from rotator.core.history import MacroObservation

YAHOO_URL = "https://query1.finance.yahoo.com"
SOURCE = "yahoo"
# A year of a bond-volatility index stays far below this; larger values are not MOVE closes.
MAX_INDEX_VALUE = 1000.0


def yahoo_client(*, base_url: str | None = None, **kwargs: Any) -> JsonClient:
    """A client for Yahoo's chart API (a call every 2 seconds at most)."""
    return JsonClient("Yahoo Finance", base_url or YAHOO_URL, calls_per_minute=30, **kwargs)


def _s(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def parse_chart(payload: Any, series: str, until: date) -> list[MacroObservation]:
    """A chart payload -> one observation per trading day before `until` (nulls skipped)."""
    what = "Yahoo Finance chart"
    chart = payload.get("chart") if isinstance(payload, dict) else None
    if not isinstance(chart, dict):
        raise SourceError(f"{what}: no `chart` in the response")
    error = chart.get("error")
    if error:
        detail = error.get("description") if isinstance(error, dict) else error
        raise SourceError(f"{what}: {str(detail)[:200]}")
    results = chart.get("result")
    if not isinstance(results, list) or not results or not isinstance(results[0], dict):
        raise SourceError(f"{what}: no `chart.result` in the response")
    result = results[0]
    stamps = result.get("timestamp") or []
    try:
        closes = result["indicators"]["quote"][0]["close"]
    except (KeyError, IndexError, TypeError):
        raise SourceError(f"{what}: no `indicators.quote[0].close` in the response") from None
    if not isinstance(stamps, list) or not isinstance(closes, list) or len(stamps) != len(closes):
        raise SourceError(f"{what}: timestamps and closes do not line up")
    out: dict[date, MacroObservation] = {}
    for stamp, close in zip(stamps, closes, strict=True):
        if not isinstance(stamp, int | float) or not isinstance(close, int | float):
            continue
        if not 0 < close < MAX_INDEX_VALUE or not 0 < stamp < 32_503_680_000:
            continue
        day = datetime.fromtimestamp(stamp, UTC).date()
        if day < until:
            out[day] = MacroObservation(SOURCE, series, day, float(close))
    return [out[d] for d in sorted(out)]


def fetch_index(
    client: JsonClient, symbol: str, series: str, start: date, until: date
) -> list[MacroObservation]:
    """Daily closes of Yahoo symbol `symbol` (e.g. "^MOVE") from `start` to before `until`."""
    payload = client.get(
        f"v8/finance/chart/{symbol}",
        {"period1": _s(start), "period2": _s(until), "interval": "1d"},
    )
    return [o for o in parse_chart(payload, series, until) if o.day >= start]
