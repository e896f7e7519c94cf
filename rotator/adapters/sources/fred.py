"""FRED (St. Louis Fed): macro series for the net-liquidity rule.

``GET {base}/series/observations?series_id=WALCL&api_key=KEY&file_type=json&observation_start=D``
-> ``{"observations": [{"date": "2024-01-03", "value": "7713506.0", ...}]}``; a value of "."
means no observation. Series used by `net_liquidity`: WALCL (Fed total assets, millions USD,
weekly), WTREGEN (Treasury General Account, millions USD, weekly), RRPONTSYD (overnight reverse
repos, billions USD, daily). FRED needs a free API key, read from the environment variable named
by `key_env` (default FRED_API_KEY). Without a key the same series come from FRED's CSV
download, ``GET https://fred.stlouisfed.org/graph/fredgraph.csv?id=WALCL&cosd=2024-01-01`` ->
``observation_date,WALCL`` rows (``fetch_fredgraph``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import date
from typing import Any

from rotator.adapters.sources.http import JsonClient, SourceError
from rotator.core.history import MacroObservation
from rotator.redaction import register_secret

FRED_URL = "https://api.stlouisfed.org/fred"
LIQUIDITY_SERIES = ("WALCL", "WTREGEN", "RRPONTSYD")


def fred_client(
    environ: Mapping[str, str], *, base_url: str | None = None, **kwargs: Any
) -> JsonClient:
    """A client for the FRED API (120 calls a minute allowed; we stay well below)."""
    url = base_url or FRED_URL
    return JsonClient("FRED", url, calls_per_minute=60, **kwargs)


def parse_observations(series: str, payload: Any) -> list[MacroObservation]:
    """FRED observations payload -> records; "." (no value) rows are skipped."""
    try:
        rows = payload["observations"]
    except (KeyError, TypeError):
        raise SourceError(f"FRED {series}: no `observations` in the response") from None
    out = []
    for row in rows:
        try:
            value = float(row["value"])
        except (KeyError, TypeError, ValueError):
            continue  # "." marks a missing observation
        out.append(MacroObservation("fred", series, date.fromisoformat(row["date"]), value))
    return out


def fetch_series(
    client: JsonClient, series: str, api_key: str, start: date
) -> list[MacroObservation]:
    """Observations of one FRED series from `start` on (the key is registered for redaction)."""
    register_secret(api_key)
    payload = client.get(
        "series/observations",
        {
            "series_id": series,
            "api_key": api_key,
            "file_type": "json",
            "observation_start": start.isoformat(),
        },
    )
    return parse_observations(series, payload)


FREDGRAPH_URL = "https://fred.stlouisfed.org"
FREDGRAPH_SOURCE = "fred"  # the same numbers as the API's: rows of both replace each other


def fredgraph_client(*, base_url: str | None = None, **kwargs: Any) -> JsonClient:
    """A client for FRED's keyless CSV download (``/graph/fredgraph.csv``)."""
    return JsonClient("FRED graph", base_url or FREDGRAPH_URL, calls_per_minute=30, **kwargs)


def parse_fredgraph_csv(series: str, text: str) -> list[MacroObservation]:
    """``observation_date,<ID>`` (or the older ``DATE,<ID>``) CSV -> records; "." and blank
    values are missing days, not zeros.

    Raises:
        SourceError: the header is not FRED's (an HTML error page, another series).
    """
    rows = list(csv.reader(io.StringIO(text)))
    header = [c.strip().lstrip("\ufeff") for c in rows[0]] if rows else []
    if len(header) != 2 or header[0].lower() not in ("observation_date", "date"):
        raise SourceError(f"FRED graph {series}: not a FRED CSV (header {header[:3]})")
    if header[1].upper() != series.upper():
        raise SourceError(f"FRED graph {series}: the file holds {header[1]}, not {series}")
    out = []
    for row in rows[1:]:
        if len(row) != 2:
            continue
        try:
            day = date.fromisoformat(row[0].strip())
            value = float(row[1])
        except ValueError:
            continue  # "." or blank: no observation that day
        if value != value or value in (float("inf"), float("-inf")):
            continue
        out.append(MacroObservation(FREDGRAPH_SOURCE, series.upper(), day, value))
    return out


def fetch_fredgraph(client: JsonClient, series: str, start: date) -> list[MacroObservation]:
    """Observations of one FRED series from `start` on, without a key (fredgraph.csv)."""
    text = client.get_text("graph/fredgraph.csv", {"id": series, "cosd": start.isoformat()})
    return [o for o in parse_fredgraph_csv(series, text) if o.day >= start]
