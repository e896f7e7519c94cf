"""An async HTTP client for chain endpoints: REST JSON (Esplora) and JSON-RPC 2.0 (EVM, Solana).

One `Endpoint` per configured wallet endpoint. Every request goes through one place that
applies the endpoint's rate limit (requests are spaced 1/requests_per_second apart, counted
across concurrent tasks), a timeout, and bounded retries on network errors, timeouts, HTTP 429
and 5xx, honouring `Retry-After` (capped). JSON-RPC error objects and malformed JSON are not
retried: they raise `ChainReadError` at once. Messages name the endpoint by its label, which
is "$VAR" for a URL given by environment variable, so a key inside the URL never shows.

Every answer is untrusted input: each attempt has a total deadline of `timeout` seconds (a
server dripping one byte at a time cannot outlast it), the body is read in chunks and dropped
past `max_bytes`, a redirect is never followed (it fails the read: a keyed URL must not be
sent elsewhere), JSON nested too deeply or holding NaN/Infinity is refused, and a JSON-RPC
batch must answer every request id exactly once.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Sequence
from typing import Any

import httpx

from rotator.adapters.retry_after import retry_after_seconds
from rotator.adapters.tls import client_context
from rotator.core.clock import Clock

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 30.0
# The largest answer rotator asks a chain for is a token-account list: a few MB at most.
MAX_RESPONSE_BYTES = 16 * 2**20


class ChainReadError(Exception):
    """A chain endpoint could not be read; the message is safe to show (no URL secrets)."""


class Endpoint:
    """Rate-limited, retrying JSON client of one chain endpoint.

    Args:
        base_url: Esplora base ("https://blockstream.info/api") or the JSON-RPC URL.
        label: how messages name the endpoint (URL, or "$VAR" for a secret URL).
        requests_per_second: the endpoint's rate limit.
        retries: further attempts after the first on network errors, 429 and 5xx.
        backoff: seconds before the first retry (doubled each time) when no Retry-After.
        clock: the run's clock: rate-limit spacing, back-off and Retry-After waits (tests
            pass one that records the waits instead of sleeping).
    """

    def __init__(
        self,
        base_url: str,
        *,
        label: str,
        timeout: float = 15.0,
        requests_per_second: float = 5.0,
        retries: int = 2,
        backoff: float = 0.5,
        max_bytes: int = MAX_RESPONSE_BYTES,
        clock: Clock,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.label = label
        self.retries = retries
        self.backoff = backoff
        self.interval = 1.0 / requests_per_second
        self.clock = clock
        self.requests = 0  # HTTP requests sent (for tests and benches)
        # (start, end) monotonic times of every HTTP request, for benches and diagnostics
        self.timings: list[tuple[float, float]] = []
        self._next_slot = 0.0
        self._lock = asyncio.Lock()
        self._ids = itertools.count(1)
        # Keep a batch's connections open for the next batch (gap-limit scans go in batches).
        self._client = httpx.AsyncClient(
            timeout=timeout,
            verify=client_context(),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
            headers={"Accept": "application/json", "User-Agent": "rotator"},
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> Endpoint:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _turn(self) -> None:
        """Wait for this request's slot under the rate limit."""
        async with self._lock:
            now = self.clock.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self.interval
        if slot > now:
            await self.clock.asleep(slot - now)

    async def _send(self, what: str, method: str, path: str, body: Any = None) -> bytes:
        """The body of a successful answer, within the deadline and the byte limit."""
        url = f"{self.base_url}/{path.lstrip('/')}" if path else self.base_url
        delay = self.backoff
        problem = ""
        for attempt in range(self.retries + 1):
            await self._turn()
            self.requests += 1
            wait = delay
            started = self.clock.monotonic()
            try:
                async with asyncio.timeout(self.timeout):
                    status, headers, payload = await self._exchange(what, method, url, body)
                self.timings.append((started, self.clock.monotonic()))
            except (TimeoutError, httpx.TimeoutException):
                problem = f"timed out after {self.timeout:g} s"
            except httpx.HTTPError as exc:
                problem = f"network error ({type(exc).__name__})"
            else:
                if 200 <= status < 300:
                    return payload
                if 300 <= status < 400:
                    raise ChainReadError(
                        f"{what}: HTTP {status} redirect not followed (check the endpoint URL)"
                    )
                if status not in RETRY_STATUSES:
                    raise ChainReadError(f"{what}: HTTP {status}")
                problem = f"HTTP {status}"
                wait = max(delay, _retry_after(headers, self.clock.now().timestamp()))
            if attempt < self.retries:
                await self.clock.asleep(wait)
                delay *= 2
        raise ChainReadError(f"{what}: {problem} ({self.retries + 1} attempts)")

    async def _exchange(
        self, what: str, method: str, url: str, body: Any
    ) -> tuple[int, httpx.Headers, bytes]:
        """One request: status, headers and the body read in chunks up to max_bytes."""
        kwargs: dict[str, Any] = {"json": body} if method == "POST" else {}
        async with self._client.stream(method, url, **kwargs) as response:
            if not 200 <= response.status_code < 300:
                return response.status_code, response.headers, b""
            too_large = ChainReadError(
                f"{what}: answer larger than {self.max_bytes // 2**20} MiB; reading stopped"
            )
            try:
                declared = int(response.headers.get("content-length") or 0)
            except ValueError:
                declared = 0
            if declared > self.max_bytes:
                raise too_large
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    raise too_large
                chunks.append(chunk)
            return response.status_code, response.headers, b"".join(chunks)

    async def get_json(self, path: str) -> Any:
        """GET base_url/path as JSON."""
        what = f"{self.label} GET /{path.lstrip('/')}"
        return decode_json(what, await self._send(what, "GET", path))

    async def get_text(self, path: str) -> str:
        what = f"{self.label} GET /{path.lstrip('/')}"
        return (await self._send(what, "GET", path)).decode("utf-8", "replace")

    async def call(self, method: str, params: Sequence[Any]) -> Any:
        """One JSON-RPC call; its `result`."""
        return (await self.batch([(method, params)]))[0]

    async def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """JSON-RPC calls in one HTTP request (a JSON array batch); results in call order.

        A single call is sent as a plain object. Raises ChainReadError on any error object.
        """
        if not calls:
            return []
        requests = [
            {"jsonrpc": "2.0", "id": next(self._ids), "method": m, "params": list(p)}
            for m, p in calls
        ]
        names = ", ".join(sorted({m for m, _ in calls}))
        what = f"{self.label} {names}"
        body: Any = requests[0] if len(requests) == 1 else requests
        data = decode_json(what, await self._send(what, "POST", "", body))
        return _match_replies(what, requests, data)


def _match_replies(what: str, requests: list[dict[str, Any]], data: Any) -> list[Any]:
    """Each request's result, matched by id: every id answered exactly once, nothing else.

    A lone object answering a batch is refused (copying it to every call would count one
    balance many times); a lone error object fails the read with its message.
    """
    if isinstance(data, dict) and data.get("error") is not None:  # fails the read either way
        method = requests[0]["method"] if len(requests) == 1 else "batch"
        raise ChainReadError(f"{what}: {method}: {_rpc_error(data['error'])}")
    if len(requests) > 1 and not isinstance(data, list):
        raise ChainReadError(
            f"{what}: one answer to a batch of {len(requests)} calls (expected a list)"
        )
    replies = data if isinstance(data, list) else [data]
    by_id: dict[Any, dict[str, Any]] = {}
    for reply in replies:
        if not isinstance(reply, dict) or isinstance(reply.get("id"), bool | float | dict | list):
            raise ChainReadError(f"{what}: an answer in the batch is not a JSON-RPC response")
        if reply.get("id") in by_id:
            raise ChainReadError(f"{what}: id {str(reply.get('id'))[:20]} answered twice")
        by_id[reply.get("id")] = reply
    asked = {r["id"] for r in requests}
    if set(by_id) - asked:
        raise ChainReadError(f"{what}: the answer holds ids that were not asked")
    results = []
    for request in requests:
        reply = by_id.get(request["id"])
        if reply is None:
            raise ChainReadError(f"{what}: no answer to {request['method']} in the response")
        if reply.get("error") is not None:
            raise ChainReadError(f"{what}: {request['method']}: {_rpc_error(reply['error'])}")
        if "result" not in reply:
            raise ChainReadError(f"{what}: {request['method']}: answer has no result")
        results.append(reply["result"])
    return results


def decode_json(what: str, payload: bytes) -> Any:
    """JSON of an answer; ChainReadError on bad JSON, NaN/Infinity or too deep nesting."""
    try:
        return json.loads(payload, parse_constant=_no_constant)
    except RecursionError:
        raise ChainReadError(f"{what}: response is nested too deeply") from None
    except ValueError:
        raise ChainReadError(f"{what}: response is not JSON") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _rpc_error(error: Any) -> str:
    """A JSON-RPC error object (or a non-standard plain string) as text."""
    if isinstance(error, dict):
        code = error.get("code")
        message = str(error.get("message", "error"))[:200]
        return f"error {code}: {message}" if code is not None else message
    return str(error)[:200]


def _retry_after(headers: httpx.Headers, now: float) -> float:
    """The server's `Retry-After` (seconds or an HTTP date against `now`, a Unix timestamp),
    capped; 0 when absent or unreadable."""
    wait = retry_after_seconds(headers, now)
    return 0.0 if wait is None else min(wait, MAX_RETRY_AFTER)
