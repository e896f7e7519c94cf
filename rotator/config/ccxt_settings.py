"""Validation of an account's `ccxt:` mapping: the keys rotator knows, checked at `check` time.

The mapping is passed to the ccxt constructor, so a bad value would otherwise surface only in
`plan`, as a ccxt internal error, or worse, change what is requested:

- `headers` is refused (it could carry a credential or override the request method);
- `enableRateLimit` cannot be turned off;
- `timeout` is a positive whole number of milliseconds, `rateLimit` a positive number;
- `options` is a mapping, `hostname` a bare host name;
- `urls` is a mapping of absolute http(s) URLs without query, fragment, user info or `..`
  segments; an entry of `urls.api` may change scheme, host, port and add a path prefix, but
  must keep the path ccxt gives that API, so requests keep their endpoint paths.

Other keys are passed to ccxt unchecked. Errors carry the field path below `ccxt` so the
message names the line of the offending key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

_HOST = re.compile(r"[A-Za-z0-9.\-{}]+(?::\d+)?")


def check_ccxt_settings(exchange_id: str | None, settings: Mapping[str, Any]) -> dict[str, Any]:
    """`settings` unchanged when valid.

    Raises:
        ValidationError: one error per bad key, located below `ccxt` (e.g. ccxt.urls.api.sapi).
    """
    errors: list[tuple[tuple[str | int, ...], str]] = []
    for key, value in settings.items():
        errors.extend(((key, *loc), message) for loc, message in _check(exchange_id, key, value))
    if errors:
        raise ValidationError.from_exception_data(
            "ccxt",
            [
                InitErrorDetails(
                    type=PydanticCustomError("value_error", message), loc=loc, input=None
                )
                for loc, message in errors
            ],
        )
    return dict(settings)


Found = list[tuple[tuple[str | int, ...], str]]


def _check(exchange_id: str | None, key: str, value: Any) -> Found:
    if key == "headers":
        return [
            (
                (),
                "headers cannot be set in ccxt: (they could carry a credential or change "
                "the request method); remove this key",
            )
        ]
    if key == "enableRateLimit" and value is not True:
        return [((), "rate limiting cannot be turned off; remove this key")]
    if key == "timeout" and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
        return [((), f"must be a positive whole number of milliseconds, got {_show(value)}")]
    if key == "rateLimit" and (
        isinstance(value, bool) or not isinstance(value, int | float) or value <= 0
    ):
        return [((), f"must be a positive number of milliseconds, got {_show(value)}")]
    if key == "options" and not isinstance(value, Mapping):
        return [((), f"must be a mapping of ccxt options, got {_show(value)}")]
    if key == "hostname" and not (isinstance(value, str) and _HOST.fullmatch(value)):
        return [((), "must be a host name (like api.example.com), without scheme or path")]
    if key == "urls":
        if not isinstance(value, Mapping):
            return [((), "must be a mapping of URLs (like api: {public: https://...})")]
        return _check_urls(exchange_id, value)
    return []


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_urls(exchange_id: str | None, urls: Mapping[str, Any]) -> Found:
    found: Found = []
    defaults = _default_urls(exchange_id) if exchange_id else None
    for loc, url in _leaves(urls, ()):
        problem = _url_problem(url)
        if problem:
            found.append((loc, problem))
            continue
        if defaults is None or not loc or loc[0] != "api":
            continue
        default = _at(defaults, loc)
        if default is _MISSING:
            known = ", ".join(sorted(_api_names(defaults.get("api"))))
            found.append((loc, f"is not an API of ccxt's {exchange_id} (it has: {known})"))
        elif isinstance(default, str):
            keep = urlsplit(default).path.rstrip("/")
            if not urlsplit(str(url)).path.rstrip("/").endswith(keep):
                found.append(
                    (
                        loc,
                        f"must keep ccxt's path {keep or '/'} at its end: an override may "
                        f"change scheme, host and port and add a path prefix, not the endpoint "
                        f"path",
                    )
                )
    return found


def _url_problem(url: Any) -> str | None:
    if not isinstance(url, str):
        return f"must be a URL, got {_show(url)}"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "must be a URL (like https://api.example.com/v1)"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an absolute http(s) URL (like https://api.example.com/v1)"
    if parts.query or "?" in url or parts.fragment or "#" in url:
        return "must not contain a query (?...) or fragment (#...): they would move the endpoint"
    if parts.username is not None or parts.password is not None:
        return "must not contain user:password@; credentials go in environment variables"
    if ".." in parts.path.split("/"):
        return "must not contain '..' path segments"
    return None


def _leaves(value: Any, loc: tuple[str | int, ...]) -> list[tuple[tuple[str | int, ...], Any]]:
    if isinstance(value, Mapping):
        return [leaf for k, v in value.items() for leaf in _leaves(v, (*loc, k))]
    if isinstance(value, list | tuple):
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, (*loc, i))]
    return [(loc, value)]


_MISSING = object()


def _at(data: Any, loc: tuple[str | int, ...]) -> Any:
    for part in loc:
        in_mapping = isinstance(data, Mapping) and part in data
        in_list = isinstance(data, list) and isinstance(part, int) and part < len(data)
        if not (in_mapping or in_list):
            return _MISSING
        data = data[part]
    return data


def _api_names(api: Any) -> list[str]:
    return [str(k) for k in api] if isinstance(api, Mapping) else []


def _default_urls(exchange_id: str) -> Mapping[str, Any] | None:
    try:
        import ccxt  # only when `urls` is overridden: importing ccxt takes a moment

        return dict(getattr(ccxt, exchange_id)().urls)
    except Exception:  # an unknown id is reported by the `exchange` field itself
        return None
