"""Treasury Fiscal Data: buyback operations (no key needed).

``GET {base}/v1/accounting/od/buybacks_operations?filter=operation_date:gte:D
&sort=-operation_date&page[number]=N&page[size]=S`` answers
``{"data": [...], "meta": {"count", "total-count", "total-pages", "labels", ...},
"links": {"self", "first", "prev", "next", "last"}}``; every value in `data` is a string and a
missing one is the string ``"null"`` (an announced operation has no results yet). The client
walks the pages until ``meta["total-pages"]``. Fields used: ``operation_date``,
``total_par_amt_accepted`` (USD par), plus ``operation_type``, ``security_type``,
``maturity_bucket``, ``total_par_amt_offered``, ``max_par_amt_redeemed`` and
``settlement_date`` for display. See https://fiscaldata.treasury.gov/datasets/buybacks/ .

The rules read the daily series ``treasury:buybacks``: par accepted per operation day, 0 on the
days without one, filled from the start of the fetch through the day before it (today counts
only when an operation with results is already published), so "no buyback" is a known 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from rotator.adapters.sources.http import JsonClient, SourceError
from rotator.core.clock import Clock
from rotator.core.history import MacroObservation, macro_key

FISCALDATA_URL = "https://api.fiscaldata.treasury.gov/services/api/fiscal_service"
BUYBACKS_PATH = "v1/accounting/od/buybacks_operations"
BUYBACKS_SERIES = "treasury:buybacks"
SOURCE = "fiscaldata"


@dataclass(frozen=True, slots=True)
class FiscalDataSettings:
    """Where and how to read Fiscal Data."""

    base_url: str = FISCALDATA_URL
    page_size: int = 100
    max_pages: int = 200
    calls_per_minute: float = 30.0
    retries: int = 3
    timeout: float = 30.0


@dataclass(frozen=True, slots=True)
class BuybackOperation:
    """One buyback operation; amounts are USD par, None before results are published."""

    operation_date: date
    operation_type: str
    security_type: str
    maturity_bucket: str
    total_par_amt_offered: Decimal | None
    total_par_amt_accepted: Decimal | None
    max_par_amt_redeemed: Decimal | None
    settlement_date: date | None


def _none(value: Any) -> Any:
    return None if value in (None, "", "null") else value


class _Row(BaseModel):
    """A `data` row as Fiscal Data sends it (strings; "null" for missing)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    operation_date: date
    operation_type: str = ""
    security_type: str = ""
    maturity_bucket: str = ""
    total_par_amt_offered: Decimal | None = None
    total_par_amt_accepted: Decimal | None = None
    max_par_amt_redeemed: Decimal | None = None
    settlement_date: date | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _null(cls, value: Any) -> Any:
        return _none(value)


def fiscaldata_client(settings: FiscalDataSettings, clock: Clock) -> JsonClient:
    """A client for Fiscal Data (public, no key)."""
    return JsonClient(
        "Fiscal Data",
        settings.base_url,
        calls_per_minute=settings.calls_per_minute,
        retries=settings.retries,
        timeout=settings.timeout,
        clock=clock,
    )


def parse_page(payload: Any) -> tuple[list[BuybackOperation], int]:
    """One page -> (operations, total pages). Raises SourceError on a malformed page."""
    if not isinstance(payload, Mapping) or not isinstance(payload.get("data"), list):
        raise SourceError("Fiscal Data buybacks: no `data` list in the response")
    meta = payload.get("meta") or {}
    try:
        pages = int(meta.get("total-pages", 1))
    except (TypeError, ValueError, AttributeError):
        raise SourceError("Fiscal Data buybacks: meta.total-pages is not a number") from None
    try:
        rows = [_Row.model_validate(row) for row in payload["data"]]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise SourceError(f"Fiscal Data buybacks: bad row ({where}: {first['msg']})") from None
    ops = [
        BuybackOperation(
            r.operation_date,
            r.operation_type,
            r.security_type,
            r.maturity_bucket,
            r.total_par_amt_offered,
            r.total_par_amt_accepted,
            r.max_par_amt_redeemed,
            r.settlement_date,
        )
        for r in rows
    ]
    return ops, pages


def fetch_buyback_operations(
    client: JsonClient, start: date, settings: FiscalDataSettings
) -> list[BuybackOperation]:
    """Every operation on or after `start`, newest first, walking all pages."""
    out: list[BuybackOperation] = []
    page, pages = 1, 1
    while page <= pages:
        if page > settings.max_pages:
            raise SourceError(
                f"Fiscal Data buybacks: more than {settings.max_pages} pages; narrow --since"
            )
        payload = client.get(
            BUYBACKS_PATH,
            {
                "filter": f"operation_date:gte:{start.isoformat()}",
                "sort": "-operation_date",
                "page[number]": page,
                "page[size]": settings.page_size,
            },
        )
        ops, pages = parse_page(payload)
        out.extend(ops)
        page += 1
    return out


def daily_accepted(
    operations: list[BuybackOperation], start: date, today: date
) -> list[MacroObservation]:
    """Par accepted per day from `start`: 0 on days without an operation (see module doc)."""
    totals: dict[date, Decimal] = {}
    for op in operations:
        if op.total_par_amt_accepted is None or op.operation_date < start:
            continue  # announced, no results yet
        totals[op.operation_date] = totals.get(op.operation_date, Decimal(0)) + (
            op.total_par_amt_accepted
        )
    key = macro_key(BUYBACKS_SERIES)
    out = []
    day = start
    while day < today or (day == today and day in totals):
        out.append(MacroObservation(SOURCE, key, day, float(totals.get(day, Decimal(0)))))
        day += timedelta(days=1)
    return out
