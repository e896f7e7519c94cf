"""Records as plain JSON data: one conversion for the run store and the history commands.

One form everywhere (docs/output-formats.md): a Decimal is a string in plain notation without
trailing zeros ("158324.13", "0.00000001"), as `plan --format json` writes it; a time is ISO
8601 in UTC ("2025-11-24T07:00:00+00:00"); a day is "2025-11-24".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields, is_dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any


def to_jsonable(value: Any) -> Any:
    """Plain JSON data from records: Decimal -> str, datetime -> ISO, dataclass -> dict.

    For the run store's JSON columns and the history commands' `--format json`.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in fields(value)}
    if hasattr(value, "model_dump"):  # pydantic models at a boundary
        return to_jsonable(value.model_dump())
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if hasattr(value, "to_dict") and hasattr(value, "index"):  # pandas objects
        return {str(k): to_jsonable(v) for k, v in value.to_dict().items()}
    if isinstance(value, Iterable):
        return [to_jsonable(v) for v in value]
    return str(value)


def plain_decimal(value: Decimal) -> str:
    """A Decimal as a plain string without exponent or trailing zeros ('1E-8' -> '0.00000001',
    '2.50' -> '2.5'); non-finite values as str() gives them."""
    if not value.is_finite():
        return str(value)
    if value.is_zero():  # "-0.00" -> "0": a zero has no sign in an output
        return "0"
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def iso_utc(moment: datetime) -> str:
    """An aware time as ISO 8601 in UTC; a naive one is taken as UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC).isoformat()
    return moment.astimezone(UTC).isoformat()
