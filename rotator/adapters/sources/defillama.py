"""DefiLlama: fees/revenue per protocol, protocol -> token identity, yield pools.

Endpoints (base URLs are constructor arguments; DefiLlama's OpenAPI document
`defillama-openapi-free.json` in DefiLlama/api-docs, and DefiLlama's docs):

- ``{api}/overview/fees?dataType=dailyHoldersRevenue|dailyRevenue`` -> ``{"protocols": [...]}``,
  one entry per fee adapter (child protocol level). Fields read: ``slug``, ``name``,
  ``parentProtocol`` ("parent#aave"), ``protocolType`` ("protocol" or "chain"), ``disabled``,
  ``total30d`` (sum of the last 30 days of the data type, USD) and ``total60dto30d`` (the 30 days
  before those). defillama-server's summary handler sets the totals to null when the adapter is
  disabled or its newest data is more than 5 days old, so a null total means missing/stale.
  Meanings from DefiLlama's docs / dimension-adapters: Revenue = Fees - SupplySideRevenue =
  HoldersRevenue + ProtocolRevenue; ``dailyHoldersRevenue`` is what flows to governance-token
  holders (buybacks, burns, distributions); for chains it is the burned fees.
- ``{api}/protocols`` -> list of protocols: ``slug``, ``gecko_id`` (CoinGecko id or null),
  ``symbol`` ("-" when none), ``parentProtocol``.
- ``{api}/v2/chains`` -> list of chains: ``name``, ``gecko_id`` (of the native token),
  ``tokenSymbol``. Chain entries of the fees overview (``protocolType: "chain"``) are not in
  ``/protocols``; their token comes from here, matched by the chain's slug (lower-case name).
- ``{api}/lite/protocols2`` -> ``{"parentProtocols": [{"id": "parent#aave", "name",
  "gecko_id"}...]}``: parents carry the token of children that have none (the layout
  DefiLlama/defillama-app reads in src/containers/CompareTokens/api.types.ts).
- ``{api}/summary/fees/{slug}?dataType=dailyHoldersRevenue`` -> ``totalDataChart``:
  ``[[unix_seconds, usd], ...]`` one point per day (for the 90-day trend).
- ``{yields}/pools`` -> ``{"status": "success", "data": [...]}``: ``project`` (protocol slug),
  ``symbol``, ``tvlUsd``, ``apy`` = ``apyBase`` (paid from fees/revenue) + ``apyReward`` (paid in
  emissions), all in percent.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rotator.adapters.sources.http import JsonClient, SourceError
from rotator.core.screen.screening import (
    FEES_COLUMNS,
    HISTORY_COLUMNS,
    PARENTS_COLUMNS,
    POOLS_COLUMNS,
)

API_URL = "https://api.llama.fi"
YIELDS_URL = "https://yields.llama.fi"


def _objects(rows: list[Any], what: str) -> pd.DataFrame:
    """A documented list of objects as a frame; SourceError when a row is not an object."""
    if not all(isinstance(row, dict) for row in rows):
        raise SourceError(f"DefiLlama {what}: expected a list of objects")
    return pd.DataFrame(rows)


def _num(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return pd.to_numeric(frame[column], errors="coerce").astype(float)


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(None, index=frame.index, dtype=object)
    return frame[column].where(frame[column].notna() & (frame[column] != ""), None)


def _slugs(frame: pd.DataFrame) -> pd.Series:
    """`slug`, or DefiLlama's sluggified name (lower case, spaces to dashes) when absent."""
    if "name" not in frame:
        return _text(frame, "slug")
    derived = frame["name"].astype(str).str.lower().str.replace(" ", "-", regex=False)
    return _text(frame, "slug").fillna(derived)


def parse_fees_overview(payload: Any) -> pd.DataFrame:
    """`/overview/fees` payload -> slug, name, parent, protocol_type, disabled, total30d, prev."""
    if not isinstance(payload, dict) or not isinstance(payload.get("protocols"), list):
        raise SourceError("DefiLlama /overview/fees: expected an object with a 'protocols' list")
    raw = _objects(payload["protocols"], "/overview/fees")
    if raw.empty:
        return pd.DataFrame(columns=["slug", "name", "parent", "protocol_type", "disabled",
                                     "total30d", "total60dto30d"])  # fmt: skip
    disabled = raw["disabled"] if "disabled" in raw else pd.Series(False, index=raw.index)
    return pd.DataFrame(
        {
            "slug": _slugs(raw),
            "name": _text(raw, "displayName").fillna(_text(raw, "name")),
            "parent": _text(raw, "parentProtocol"),
            "protocol_type": _text(raw, "protocolType").fillna("protocol"),
            "disabled": disabled.fillna(False).astype(bool),
            "total30d": _num(raw, "total30d"),
            "total60dto30d": _num(raw, "total60dto30d"),
        }
    ).drop_duplicates("slug")


def combine_fees(holders: pd.DataFrame, revenue: pd.DataFrame) -> pd.DataFrame:
    """Holders-revenue and revenue overviews -> one row per protocol (FEES_COLUMNS).

    A protocol DefiLlama lists for revenue but not for holders revenue gets has_holders False:
    it reports no holders revenue at all, which the screen states as a reason.
    """
    h = holders.rename(columns={"total30d": "holders_30d", "total60dto30d": "holders_prev_30d"})
    r = revenue.rename(columns={"total30d": "revenue_30d"}).drop(columns=["total60dto30d"])
    merged = h.merge(r, on="slug", how="outer", suffixes=("", "_r"), indicator=True)
    for column in ("name", "parent", "protocol_type", "disabled"):
        merged[column] = merged[column].where(merged[column].notna(), merged[f"{column}_r"])
    merged["has_holders"] = merged["_merge"] != "right_only"
    merged["disabled"] = merged["disabled"].fillna(False).astype(bool)
    return merged[list(FEES_COLUMNS)].reset_index(drop=True)


def parse_protocols(payload: Any) -> pd.DataFrame:
    """`/protocols` payload -> slug, gecko_id, symbol, parent ("-" symbols become None)."""
    if not isinstance(payload, list):
        raise SourceError("DefiLlama /protocols: expected a list")
    raw = _objects(payload, "/protocols")
    if raw.empty:
        return pd.DataFrame(columns=["slug", "gecko_id", "symbol", "parent"])
    symbol = _text(raw, "symbol")
    return pd.DataFrame(
        {
            "slug": _slugs(raw),
            "gecko_id": _text(raw, "gecko_id"),
            "symbol": symbol.where(symbol != "-", None),
            "parent": _text(raw, "parentProtocol"),
        }
    )


def parse_chains(payload: Any) -> pd.DataFrame:
    """`/v2/chains` payload -> rows shaped like `parse_protocols` (slug from the chain name)."""
    if not isinstance(payload, list):
        raise SourceError("DefiLlama /v2/chains: expected a list")
    raw = _objects(payload, "/v2/chains")
    if raw.empty or "name" not in raw:
        return pd.DataFrame(columns=["slug", "gecko_id", "symbol", "parent"])
    return pd.DataFrame(
        {
            "slug": raw["name"].astype(str).str.lower().str.replace(" ", "-", regex=False),
            "gecko_id": _text(raw, "gecko_id"),
            "symbol": _text(raw, "tokenSymbol"),
            "parent": None,
        }
    )


def parse_parents(payload: Any) -> pd.DataFrame:
    """`/lite/protocols2` payload -> id ("parent#aave"), gecko_id, name of parent protocols."""
    parents = payload.get("parentProtocols") if isinstance(payload, dict) else None
    if not isinstance(parents, list):
        raise SourceError("DefiLlama /lite/protocols2: expected an object with 'parentProtocols'")
    raw = _objects(parents, "/lite/protocols2")
    if raw.empty:
        return pd.DataFrame(columns=list(PARENTS_COLUMNS))
    return pd.DataFrame(
        {"id": _text(raw, "id"), "gecko_id": _text(raw, "gecko_id"), "name": _text(raw, "name")}
    )


def parse_pools(payload: Any) -> pd.DataFrame:
    """Yields `/pools` payload -> project, symbol, tvl_usd, apy, apy_base, apy_reward, chain."""
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list):
        raise SourceError("DefiLlama yields /pools: expected an object with a 'data' list")
    raw = _objects(data, "yields /pools")
    if raw.empty:
        return pd.DataFrame(columns=[*POOLS_COLUMNS, "chain"])
    return pd.DataFrame(
        {
            "project": _text(raw, "project"),
            "symbol": _text(raw, "symbol").fillna(""),
            "tvl_usd": _num(raw, "tvlUsd"),
            "apy": _num(raw, "apy"),
            "apy_base": _num(raw, "apyBase"),
            "apy_reward": _num(raw, "apyReward"),
            "chain": _text(raw, "chain"),
        }
    )


def parse_summary(slug: str, payload: Any) -> pd.DataFrame:
    """`/summary/fees/{slug}` payload -> daily rows (slug, day, holders) from totalDataChart."""
    chart = payload.get("totalDataChart") if isinstance(payload, dict) else None
    if not isinstance(chart, list):
        raise SourceError(f"DefiLlama /summary/fees/{slug}: expected 'totalDataChart'")
    pairs = [
        row
        for row in chart
        if isinstance(row, list)
        and len(row) == 2
        and isinstance(row[0], int | float)
        and not isinstance(row[0], bool)
        and 0 <= row[0] < 10**10  # seconds: 1970 to 2286
    ]
    if len(pairs) != len(chart):
        raise SourceError(f"DefiLlama /summary/fees/{slug}: expected [seconds, value] pairs")
    points = pd.DataFrame(pairs, columns=["ts", "holders"]) if pairs else None
    if points is None:
        return pd.DataFrame(columns=list(HISTORY_COLUMNS))
    day = pd.to_datetime(pd.to_numeric(points["ts"]), unit="s").dt.normalize()
    return pd.DataFrame(
        {"slug": slug, "day": day, "holders": pd.to_numeric(points["holders"], errors="coerce")}
    )


def defillama_clients(
    api_url: str = API_URL, yields_url: str = YIELDS_URL, **kwargs: Any
) -> tuple[JsonClient, JsonClient]:
    """JSON clients (retries, rate limit) for DefiLlama's API and yields hosts."""
    return JsonClient("DefiLlama", api_url, **kwargs), JsonClient(
        "DefiLlama yields", yields_url, **kwargs
    )


class DefiLlama:
    """Read-only DefiLlama reader over two JSON clients (API host, yields host)."""

    def __init__(self, api: JsonClient, yields: JsonClient) -> None:
        self.api = api
        self.yields = yields

    def fees_overview(self, data_type: str) -> pd.DataFrame:
        """Per-protocol 30-day totals of `data_type` (dailyHoldersRevenue, dailyRevenue)."""
        params = {
            "excludeTotalDataChart": "true",
            "excludeTotalDataChartBreakdown": "true",
            "dataType": data_type,
        }
        return parse_fees_overview(self.api.get("overview/fees", params))

    def fees(self) -> pd.DataFrame:
        """Holders revenue and revenue per protocol, combined (FEES_COLUMNS)."""
        return combine_fees(
            self.fees_overview("dailyHoldersRevenue"), self.fees_overview("dailyRevenue")
        )

    def protocols(self) -> pd.DataFrame:
        """`/protocols`: the token (gecko_id) and parent of every protocol."""
        return parse_protocols(self.api.get("protocols"))

    def chains(self) -> pd.DataFrame:
        """`/v2/chains`, shaped like `protocols` (the tokens of chain fee entries). Fetched on
        its own so that its failure never throws away the `/protocols` mapping."""
        return parse_chains(self.api.get("v2/chains"))

    def parents(self) -> pd.DataFrame:
        return parse_parents(self.api.get("lite/protocols2"))

    def pools(self) -> pd.DataFrame:
        return parse_pools(self.yields.get("pools"))

    def holders_history(self, slug: str) -> pd.DataFrame:
        """Daily holders revenue of one protocol (for the 90-day trend)."""
        payload = self.api.get(f"summary/fees/{slug}", {"dataType": "dailyHoldersRevenue"})
        return parse_summary(slug, payload)
