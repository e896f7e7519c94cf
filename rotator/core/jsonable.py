"""Records as plain JSON data: one conversion for the run store and the history commands."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields, is_dataclass
from datetime import date, datetime
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
        return str(value)
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if isinstance(value, datetime | date):
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
