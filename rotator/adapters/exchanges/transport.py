"""Read-only where the request leaves: every HTTP request of a ccxt instance is checked.

All of ccxt's REST requests end in the instance's async `fetch(url, method, headers, body)`.
`install(exchange)` replaces that method on the instance with one that lets a request out
only when its (HTTP method, URL path) is one that rotator's allowed read calls use on that
exchange:

- GET endpoints that ccxt's own code for the allowed read calls (load_markets, fetch_balance,
  fetch_ticker(s), fetch_ohlcv, ...) and rotator's implicit read calls (Binance simple-earn)
  can reach, found by following the exchange class's methods to the implicit endpoints of
  its `api` definition;
- the documented read-only POST endpoints in READ_ONLY_POSTS (Binance's funding-asset,
  Kraken's private Balance/BalanceEx); ccxt declares them POST, so they are named here.

The URL path must end with the full path the exchange's own `sign()` gives that endpoint with
its default URLs, so a `urls` override can move scheme, host, port and a path prefix but not
the endpoint; a URL with a fragment, a method-override header or any other method is refused
with `ReadOnlyViolation` before anything is sent.

Redirects are never followed blindly (aiohttp follows them by default, headers and body
included): the instance's aiohttp session is wrapped so that every request goes out with
`allow_redirects=False`. A redirect answered to a signed request fails that call (the API key
and signature would go wherever the server says); a redirect of a public request is followed
only to the same scheme, host and port and only to a path that is itself an allowed read
request, at most MAX_REDIRECTS times. The same wrapper reads each body in chunks and aborts
past MAX_RESPONSE_BYTES, and an answer of `{}`, `null` or nothing (or `[]` to a balance
request whose documented answer is never an empty list) fails the call as `EmptyAnswer`
instead of passing for an empty account.

The same wrapper attaches the HTTP status and response headers to any exception ccxt raises
(`http_status_of`, `http_headers_of`), so errors are classified by status rather than by the
exception class each exchange maps a status to, and answers a response that is not JSON with
`NotJson` on every exchange.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from typing import Any

import ccxt
import ccxt.async_support as ccxt_async
from ccxt.base.types import Entry
from yarl import URL

from rotator.adapters.exchanges.bounded import (
    MAX_REDIRECTS,
    MAX_RESPONSE_BYTES,
    GuardedSession,
    RedirectRefused,
    ResponseTooLarge,
)
from rotator.errors import ReadOnlyViolation

__all__ = [
    "MAX_REDIRECTS",
    "MAX_RESPONSE_BYTES",
    "EmptyAnswer",
    "NotJson",
    "RedirectRefused",
    "ResponseTooLarge",
    "check_request",
    "install",
]

# Unified calls whose requests are allowed (rotator's read calls; see guard.ALLOWED_CALLS).
READ_ROOTS = (
    "load_markets",
    "fetch_markets",
    "fetch_currencies",
    "fetch_balance",
    "fetch_ticker",
    "fetch_tickers",
    "fetch_ohlcv",
    "fetch_time",
    "fetch_status",
)
# Implicit GET endpoints rotator calls itself (wallets.binance_earn).
IMPLICIT_READS = (
    "sapi_get_simple_earn_flexible_position",
    "sapi_get_simple_earn_locked_position",
)
# Read-only endpoints that exchanges define as POST (implicit method names in ccxt).
READ_ONLY_POSTS: dict[str, tuple[str, ...]] = {
    # POST /sapi/v1/asset/get-funding-asset: "Funding Wallet (USER_DATA)", a balance query.
    "binance": ("sapi_post_asset_get_funding_asset",),
    # POST /0/private/Balance and /0/private/BalanceEx: "Get Account Balance" / "Extended".
    "kraken": ("private_post_balance", "private_post_balanceex"),
}
# Balance endpoints whose documented answer is a bare list that is empty for an empty wallet
# (Binance "Funding Wallet (USER_DATA)": `[]` when the funding wallet holds nothing).
EMPTY_LIST_ANSWERS = frozenset({"sapi_post_asset_get_funding_asset"})
METHOD_OVERRIDE_HEADERS = frozenset(
    {"x-http-method-override", "x-http-method", "x-method-override"}
)
# Dummy credentials for describing endpoint URLs with the exchange's own sign() (never sent).
_DESCRIBE_CREDENTIALS = {
    "apiKey": "describe",
    "secret": "ZGVzY3JpYmU=",
    "password": "describe",
    "uid": "describe",
}


class NotJson(ccxt_async.BadResponse):
    """The exchange answered with a body that is not JSON (an HTML error page, say)."""


class EmptyAnswer(ccxt_async.BadResponse):
    """The answer was `{}`, `null`, nothing, or `[]` where data is always answered."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One allowed request: HTTP method, the regex its URL path must end with, whether the
    exchange signs it (carries credentials), and whether its answer may be an empty list."""

    name: str
    method: str
    path_tail: re.Pattern[str]
    signed: bool = True
    empty_list_ok: bool = True


_current_endpoint: ContextVar[Endpoint | None] = ContextVar(
    "rotator_current_endpoint", default=None
)
_last_http: ContextVar[tuple[int | None, Mapping[str, str]] | None] = ContextVar(
    "rotator_last_http", default=None
)


def _entries(cls: type) -> dict[str, Entry[Any]]:
    found: dict[str, Entry[Any]] = {}
    for klass in reversed(cls.__mro__):
        found.update({n: v for n, v in vars(klass).items() if isinstance(v, Entry)})
    return found


_IDENT = re.compile(r"[A-Za-z_]\w*")


def _names_used(source: str) -> set[str]:
    """Attribute names and identifier-like string constants in code (docstrings skipped)."""
    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError:  # a method whose lines cannot be dedented: every identifier
        return set(_IDENT.findall(source))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.Name):
            names.add(node.id)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and _IDENT.fullmatch(node.value)
        ):
            names.add(node.value)
    return names


def reachable_endpoints(exchange_id: str, roots: tuple[str, ...]) -> frozenset[str]:
    """Implicit endpoint names the exchange class's code can reach from `roots`.

    Follows the names used in the code of the exchange's own methods (not ccxt's generic
    base class; docstrings skipped), so dispatch through a method name held in a string is
    followed too.
    """
    cls = getattr(ccxt_async, exchange_id)
    entries = _entries(cls)
    seen: set[str] = set()
    stack = list(roots)
    found: set[str] = set()
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in entries:
            found.add(name)
            continue
        owner = next((k for k in cls.__mro__ if name in vars(k)), None)
        if owner is None or owner.__module__.startswith(("ccxt.base", "ccxt.async_support.base")):
            continue
        try:
            source = inspect.getsource(getattr(cls, name))
        except (TypeError, OSError):
            continue
        for token in _names_used(source):
            if token in entries or (token not in seen and callable(getattr(cls, token, None))):
                stack.append(token)
    return frozenset(found)


@cache
def allowed_endpoints(exchange_id: str) -> tuple[Endpoint, ...]:
    """The requests rotator's read calls may send on `exchange_id`."""
    entries = _entries(getattr(ccxt_async, exchange_id))
    names = {
        n
        for n in reachable_endpoints(exchange_id, READ_ROOTS + IMPLICIT_READS)
        if entries[n].method == "GET"
    }
    names |= {n for n in READ_ONLY_POSTS.get(exchange_id, ()) if n in entries}
    describer = getattr(ccxt, exchange_id)(dict(_DESCRIBE_CREDENTIALS))
    public = getattr(ccxt, exchange_id)()
    balance = reachable_endpoints(exchange_id, ("fetch_balance",)) | set(
        READ_ONLY_POSTS.get(exchange_id, ())
    )
    empty_lists = {_plain(n) for n in EMPTY_LIST_ANSWERS}
    endpoints = []
    for name in sorted(names):
        entry = entries[name]
        endpoints.append(
            Endpoint(
                name,
                entry.method,
                _path_tail(describer, entry),
                signed=_is_signed(describer, public, entry),
                empty_list_ok=name not in balance or _plain(name) in empty_lists,
            )
        )
    return tuple(endpoints)


def _plain(name: str) -> str:
    """An implicit endpoint name in one spelling (ccxt has snake_case and camelCase twins)."""
    return name.replace("_", "").lower()


def _is_signed(describer: Any, public: Any, entry: Entry[Any]) -> bool:
    """Whether the exchange's sign() puts credentials into this endpoint's requests.

    A public request is built the same with and without credentials; a signed one differs
    (or cannot be built without them). When unsure, signed: redirects are then refused.
    """
    try:
        without = public.sign(entry.path, entry.api, entry.method, {})
        with_keys = describer.sign(entry.path, entry.api, entry.method, {})
    except Exception:
        return True
    keys = ("url", "method", "body", "headers")
    return any(without.get(k) != with_keys.get(k) for k in keys)


def _path_tail(describer: Any, entry: Entry[Any]) -> re.Pattern[str]:
    """Regex for the end of the URL path of `entry` as the exchange's sign() builds it."""
    try:
        signed = describer.sign(entry.path, entry.api, entry.method, {})
        path = URL(signed["url"]).path
    except Exception:  # an exchange whose sign() needs more context: the endpoint path alone
        path = "/" + entry.path
    parts = re.split(r"\{[^}]+\}", path)
    return re.compile("[^/?#]+".join(re.escape(p) for p in parts) + r"\Z")


def check_request(exchange_id: str, url: str, method: str, headers: Mapping[str, Any]) -> Endpoint:
    """The allowed read request (method, url) is; ReadOnlyViolation when it is none."""
    overrides = [k for k in headers if str(k).lower() in METHOD_OVERRIDE_HEADERS]
    if overrides:
        raise ReadOnlyViolation(
            f"{exchange_id}: request refused: it carries a method-override header "
            f"({', '.join(overrides)}); rotator only reads"
        )
    parsed = URL(url)  # as aiohttp will send it: dot segments resolved; percent-decoded path
    path = parsed.path
    method = method.upper()
    if "#" not in url and not parsed.fragment:
        for endpoint in allowed_endpoints(exchange_id):
            if endpoint.method == method and endpoint.path_tail.search(path):
                return endpoint
    raise ReadOnlyViolation(
        f"{exchange_id}: request refused: {method} {path} is not one of the read requests "
        f"rotator makes (markets, balances, tickers, candles); check `ccxt: urls` in "
        f"portfolio.yaml"
    )


def install(exchange: Any) -> None:
    """Route every request of `exchange` through the read-only check and status capture."""
    original_fetch = exchange.fetch
    original_handle_errors = exchange.handle_errors
    exchange_id = exchange.id

    def handle_errors(code: Any, reason: Any, url: Any, method: Any, headers: Any, *rest: Any):
        _last_http.set((code if isinstance(code, int) else None, dict(headers or {})))
        return original_handle_errors(code, reason, url, method, headers, *rest)

    async def fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        endpoint = check_request(
            exchange_id, url, method, {**(exchange.headers or {}), **(headers or {})}
        )
        exchange.open()  # ccxt's own session (TLS settings, connector), wrapped once
        if exchange.session is not None and not isinstance(exchange.session, GuardedSession):
            exchange.session = GuardedSession(
                exchange.session, exchange_id, lambda *args: _redirect_target(exchange_id, *args)
            )
        _current_endpoint.set(endpoint)
        _last_http.set(None)
        try:
            try:
                result = await original_fetch(url, method, headers, body)
            except RecursionError:
                raise NotJson(
                    f"{exchange_id} {method} {URL(url).path}: response is nested too deeply"
                ) from None
        except Exception as exc:
            status, response_headers = _last_http.get() or (None, {})
            exc.rotator_http_status = status  # type: ignore[attr-defined]
            exc.rotator_http_headers = response_headers  # type: ignore[attr-defined]
            raise
        where = f"{exchange_id} {method} {URL(url).path}"
        if result is None or result == "" or result == {} or result == "null":
            raise EmptyAnswer(f"{where}: the exchange answered an empty response")
        if result == [] and not endpoint.empty_list_ok:
            raise EmptyAnswer(f"{where}: the exchange answered an empty list")
        if not isinstance(result, dict | list):
            raise NotJson(f"{where}: response is not JSON")
        return result

    exchange.handle_errors = handle_errors
    exchange.fetch = fetch


def http_status_of(exc: BaseException) -> int | None:
    """HTTP status of the response that raised `exc`, when there was one."""
    return getattr(exc, "rotator_http_status", None)


def http_headers_of(exc: BaseException) -> Mapping[str, str]:
    """Response headers of the response that raised `exc` ({} when none)."""
    return getattr(exc, "rotator_http_headers", None) or {}


def _redirect_target(exchange_id: str, method: str, url: URL, status: int, location: str) -> URL:
    """Where a redirect of the current request may go; RedirectRefused when nowhere.

    A signed request is never sent on; a public one only to the same scheme, host and port
    and to a path that is itself an allowed read request.
    """
    endpoint = _current_endpoint.get()
    what = f"{exchange_id} {method} {url.path}: HTTP {status} redirect"
    if endpoint is None or endpoint.signed:
        raise RedirectRefused(
            f"{what} refused: a signed request is never sent on to another URL (its API "
            "key and signature would go with it); check the exchange's `urls` in "
            "portfolio.yaml"
        )
    try:
        target = url.join(URL(location))
    except ValueError:
        raise RedirectRefused(f"{what} to an unreadable location refused") from None
    if (target.scheme, target.host, target.port) != (url.scheme, url.host, url.port):
        raise RedirectRefused(f"{what} to another host refused")
    try:
        check_request(exchange_id, str(target), method, {})
    except ReadOnlyViolation:
        raise RedirectRefused(f"{what} to a path rotator does not read refused") from None
    return target
