"""An async HTTP client for chain endpoints: REST JSON (Esplora) and JSON-RPC 2.0 (EVM, Solana).

One `Endpoint` per configured wallet endpoint. Every request goes through one place that
applies the endpoint's rate limit (requests are spaced 1/requests_per_second apart, counted
across concurrent tasks), a timeout, and bounded retries on network errors, timeouts, HTTP 429
and 5xx, honouring `Retry-After` (capped). JSON-RPC error objects and malformed JSON are not
retried: they raise `ChainReadError` at once. Messages name the endpoint by its label, which
is "$VAR" for a URL given by environment variable, so a key inside the URL never shows.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Sequence
from typing import Any

import httpx

from rotator.adapters.retry_after import retry_after_seconds

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 30.0


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
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.label = label
        self.retries = retries
        self.backoff = backoff
        self.interval = 1.0 / requests_per_second
        self.requests = 0  # HTTP requests sent (for tests and benches)
        # (start, end) monotonic times of every HTTP request, for benches and diagnostics
        self.timings: list[tuple[float, float]] = []
        self._next_slot = 0.0
        self._lock = asyncio.Lock()
        self._ids = itertools.count(1)
        # Keep a batch's connections open for the next batch (gap-limit scans go in batches).
        self._client = httpx.AsyncClient(
            timeout=timeout,
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
            now = time.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)

    async def _send(self, what: str, method: str, path: str, body: Any = None) -> httpx.Response:
        url = f"{self.base_url}/{path.lstrip('/')}" if path else self.base_url
        delay = self.backoff
        problem = ""
        for attempt in range(self.retries + 1):
            await self._turn()
            self.requests += 1
            wait = delay
            started = time.monotonic()
            try:
                if method == "GET":
                    response = await self._client.get(url)
                else:
                    response = await self._client.post(url, json=body)
                self.timings.append((started, time.monotonic()))
            except httpx.TimeoutException:
                problem = "timed out"
            except httpx.HTTPError as exc:
                problem = f"network error ({type(exc).__name__})"
            else:
                if response.status_code < 400:
                    return response
                if response.status_code not in RETRY_STATUSES:
                    raise ChainReadError(f"{what}: HTTP {response.status_code}")
                problem = f"HTTP {response.status_code}"
                wait = max(delay, _retry_after(response))
            if attempt < self.retries:
                await asyncio.sleep(wait)
                delay *= 2
        raise ChainReadError(f"{what}: {problem} ({self.retries + 1} attempts)")

    async def get_json(self, path: str) -> Any:
        """GET base_url/path as JSON."""
        what = f"{self.label} GET /{path.lstrip('/')}"
        response = await self._send(what, "GET", path)
        try:
            return response.json()
        except ValueError:
            raise ChainReadError(f"{what}: response is not JSON") from None

    async def get_text(self, path: str) -> str:
        what = f"{self.label} GET /{path.lstrip('/')}"
        return (await self._send(what, "GET", path)).text

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
        response = await self._send(what, "POST", "", body)
        try:
            data = response.json()
        except ValueError:
            raise ChainReadError(f"{what}: response is not JSON") from None
        replies = data if isinstance(data, list) else [data]
        by_id = {r.get("id"): r for r in replies if isinstance(r, dict)}
        results = []
        for request in requests:
            reply = by_id.get(request["id"])
            if reply is None and len(replies) == 1 and isinstance(replies[0], dict):
                reply = replies[0]  # an error answer to the whole request may carry id null
            if reply is None:
                raise ChainReadError(f"{what}: no answer to {request['method']} in the response")
            if reply.get("error") is not None:
                raise ChainReadError(f"{what}: {request['method']}: {_rpc_error(reply['error'])}")
            if "result" not in reply:
                raise ChainReadError(f"{what}: {request['method']}: answer has no result")
            results.append(reply["result"])
        return results


def _rpc_error(error: Any) -> str:
    """A JSON-RPC error object (or a non-standard plain string) as text."""
    if isinstance(error, dict):
        code = error.get("code")
        message = str(error.get("message", "error"))[:200]
        return f"error {code}: {message}" if code is not None else message
    return str(error)[:200]


def _retry_after(response: httpx.Response) -> float:
    """The server's `Retry-After` (seconds or an HTTP date), capped; 0 when absent or unreadable."""
    wait = retry_after_seconds(response.headers, time.time())
    return 0.0 if wait is None else min(wait, MAX_RETRY_AFTER)
