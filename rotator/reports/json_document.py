"""One form for every `--format json` document (docs/json-output.md).

Quantities (money, amounts, prices, weights, ratios, metrics) are decimal strings in plain
notation, without exponent or trailing zeros ("158324.13", "0.00000157", "-0.14719"); counts
are JSON integers; an unknown value is null; a moment is ISO 8601 in UTC, a day ISO 8601.
Renderers build their document from records (Decimal) or from computed figures (float); this
module writes both in that one form, so a float never reaches a document as a JSON number.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import is_dataclass
from decimal import Decimal
from typing import Any

from rotator.core.jsonable import plain_decimal, to_jsonable


def float_text(value: float) -> str | None:
    """A float as the shortest plain decimal string that reads back as it (1.4366e-05 ->
    '0.000014366'); NaN and infinities, which are not quantities, as None."""
    if not math.isfinite(value):
        return None
    return plain_decimal(Decimal(repr(float(value))))


def typed(value: Any) -> Any:
    """`value` as plain JSON data in the one form: floats and Decimals as decimal strings,
    times as ISO 8601 UTC, records as objects; ints, booleans, strings and None as they are."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return float_text(value)
    if isinstance(value, Decimal):
        return plain_decimal(value) if value.is_finite() else None
    if isinstance(value, Mapping):
        return {str(k): typed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [typed(v) for v in value]
    if hasattr(value, "item") and not is_dataclass(value):  # numpy scalars
        return typed(value.item())
    return typed(to_jsonable(value))


def render_document(document: Any) -> str:
    """The JSON text of one output document (indented, without a trailing newline)."""
    return json.dumps(typed(document), indent=2)
