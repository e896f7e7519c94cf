"""The wait an HTTP `Retry-After` header asks for, read one way by every adapter.

RFC 9110 §10.2.3 allows either a number of seconds or an HTTP date; exchanges, data sources
and chain endpoints send both.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parsedate_to_datetime


def retry_after_seconds(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds to wait per the `Retry-After` header (seconds or an HTTP date), or None.

    Args:
        headers: response headers (any key case).
        now: the current time as a Unix timestamp (for the HTTP-date form).
    """
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)
