"""A small JSON-over-HTTP client shared by the sources: base URL, timeout, retries, rate limit.

Base URLs are constructor arguments (tests point them at a local server). Retries are bounded
and happen only on network errors, HTTP 429 and 5xx (honouring a short Retry-After); the client
waits between calls so a free tier's limit (CoinGecko: about 10 calls a minute) is respected.
API keys are sent in a header named by the source and registered for redaction, so they never
appear in messages.

Answers are untrusted input: each attempt has a total deadline of `timeout` seconds (a server
dripping a byte at a time cannot hold a run), bodies are read in chunks and dropped past
MAX_RESPONSE_BYTES, redirects are not followed (they fail the call), and JSON nested too
deeply fails the call instead of raising RecursionError.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import httpx

from rotator.adapters.retry_after import retry_after_seconds
from rotator.adapters.tls import client_context
from rotator.core.clock import Clock
from rotator.errors import ExitCode, RotatorError
from rotator.redaction import redact, register_secret

# Waits a person should hear about (shown above the progress display; rotator.cli.progress).
WAIT_LOG = logging.getLogger("rotator.wait")
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 60.0
# DefiLlama's protocol list, the largest answer a source gives, is about 10 MB; a CSV download
# (FRED's longest daily series) about 0.5 MB.
MAX_RESPONSE_BYTES = 64 * 2**20


class SourceError(RotatorError):
    """A data source could not be read; the data it would have given is missing."""

    exit_code = ExitCode.INCOMPLETE


class JsonClient:
    """GET JSON from one API with bounded retries and a minimum interval between calls.

    Args:
        name: the source's name for messages ("CoinGecko").
        base_url: e.g. "https://api.coingecko.com/api/v3".
        calls_per_minute: rate limit; the client sleeps so calls are spaced 60/N seconds apart.
        retries: further attempts after the first on network errors, 429 and 5xx.
        backoff: seconds before the first retry, doubled each time.
        headers: extra headers (e.g. an API key header); values are registered for redaction.
        clock: the run's clock: call spacing, back-off and Retry-After waits, each call's
            deadline (tests pass one that records the waits instead of sleeping).
    """

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        timeout: float = 20.0,
        calls_per_minute: float = 10.0,
        retries: int = 3,
        backoff: float = 2.0,
        headers: Mapping[str, str] | None = None,
        clock: Clock,
    ) -> None:
        self.name = name
        self.timeout = timeout
        self.max_bytes = MAX_RESPONSE_BYTES
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.backoff = backoff
        self.min_interval = 60.0 / calls_per_minute if calls_per_minute > 0 else 0.0
        self.clock = clock
        self._last_call: float | None = None
        for value in (headers or {}).values():
            register_secret(value)
        self._client = httpx.Client(
            timeout=timeout,
            verify=client_context(),
            headers={"Accept": "application/json", "User-Agent": "rotator", **(headers or {})},
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> JsonClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _wait_turn(self) -> None:
        if self._last_call is not None and self.min_interval:
            wait = self._last_call + self.min_interval - self.clock.monotonic()
            if wait > 0:
                self.clock.sleep(wait)
        self._last_call = self.clock.monotonic()

    def _fetch(
        self,
        what: str,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        body: Mapping[str, Any] | None = None,
    ) -> tuple[int, httpx.Headers, bytes]:
        """One request: status, headers, and the body read within the deadline and byte limit.

        Raises:
            httpx.TimeoutException: past `timeout` seconds in all (a dripping answer).
            SourceError: the body grew past the byte limit.
        """
        deadline = self.clock.monotonic() + self.timeout
        with self._client.stream(
            method, url, params=dict(params or {}), json=None if body is None else dict(body)
        ) as response:
            if not 200 <= response.status_code < 300:
                return response.status_code, response.headers, b""
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    raise SourceError(
                        f"{what}: answer larger than {self.max_bytes // 2**20} MiB; reading stopped"
                    )
                if self.clock.monotonic() > deadline:
                    raise httpx.ReadTimeout(f"{what}: over {self.timeout:g} s")
                chunks.append(chunk)
            return response.status_code, response.headers, b"".join(chunks)

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET `path` (relative to the base URL) and return the decoded JSON.

        Raises:
            SourceError: after the retries, or at once on other HTTP errors and bad JSON;
                the message names the source, the path and what happened.
        """
        return self._request("GET", path, params, None, text=False)

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        """POST the JSON `body` to `path` and return the decoded JSON (retries as `get`)."""
        return self._request("POST", path, None, body, text=False)

    def get_text(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        """GET `path` and return the body as text (CSV downloads), at most MAX_RESPONSE_BYTES."""
        return str(self._request("GET", path, params, None, text=True))

    def _request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Mapping[str, Any] | None,
        *,
        text: bool,
    ) -> Any:
        url = f"{self.base_url}/{path.lstrip('/')}"
        what = f"{self.name} {method} /{path.lstrip('/')}"
        delay = self.backoff
        problem = ""
        for attempt in range(self.retries + 1):
            previous = self._last_call
            self._wait_turn()
            try:
                status, headers, answer = self._fetch(what, method, url, params, body)
            except httpx.TimeoutException:
                problem = "timed out"
            except httpx.ConnectError as exc:
                # Nothing reached the server (refused, unreachable, no such host): the call
                # takes no turn under its rate limit, so the next one does not wait for it.
                self._last_call = previous
                problem = f"network error ({type(exc).__name__})"
            except httpx.HTTPError as exc:
                problem = f"network error ({type(exc).__name__})"
            else:
                if status in RETRY_STATUSES:
                    problem = f"HTTP {status}"
                    delay = max(delay, _retry_after(headers, self.clock.now().timestamp()))
                elif 300 <= status < 400:
                    raise SourceError(f"{what}: HTTP {status} redirect not followed")
                elif status >= 400:
                    hint = " (check the API key)" if status in (401, 403) else ""
                    raise SourceError(redact(f"{what}: HTTP {status}{hint}"))
                elif text:
                    return answer.decode("utf-8", errors="replace")
                else:
                    return decode_json(what, answer)
            if attempt < self.retries:
                WAIT_LOG.info(
                    "%s: %s; retrying in %.0f s (attempt %d of %d)",
                    what,
                    problem,
                    delay,
                    attempt + 2,
                    self.retries + 1,
                )
                self.clock.sleep(delay)
                delay *= 2
        attempts = self.retries + 1
        raise SourceError(redact(f"{what}: {problem} ({attempts} attempts); try again later"))


def decode_json(what: str, body: bytes) -> Any:
    """JSON of an answer; SourceError when it is not JSON or is nested too deeply."""
    try:
        return json.loads(body)
    except RecursionError:
        raise SourceError(f"{what}: response is nested too deeply") from None
    except ValueError:
        raise SourceError(f"{what}: response is not JSON") from None


def _retry_after(headers: httpx.Headers, now: float) -> float:
    """The server's `Retry-After` (seconds or an HTTP date against `now`, a Unix timestamp),
    capped; 0 when absent or unreadable."""
    wait = retry_after_seconds(headers, now)
    return 0.0 if wait is None else min(wait, MAX_RETRY_AFTER)
