"""A small JSON-over-HTTP client shared by the sources: base URL, timeout, retries, rate limit.

Base URLs are constructor arguments (tests point them at a local server). Retries are bounded
and happen only on network errors, HTTP 429 and 5xx (honouring a short Retry-After); the client
waits between calls so a free tier's limit (CoinGecko: about 10 calls a minute) is respected.
API keys are sent in a header named by the source and registered for redaction, so they never
appear in messages.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from rotator.adapters.retry_after import retry_after_seconds
from rotator.errors import ExitCode, RotatorError
from rotator.redaction import redact, register_secret

# Waits a person should hear about (shown above the progress display; rotator.cli.progress).
WAIT_LOG = logging.getLogger("rotator.wait")
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 60.0
MAX_TEXT_BYTES = 20_000_000  # a CSV download (FRED's longest daily series is about 0.5 MB)


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
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.backoff = backoff
        self.min_interval = 60.0 / calls_per_minute if calls_per_minute > 0 else 0.0
        self._sleep = sleep
        self._clock = clock
        self._last_call: float | None = None
        for value in (headers or {}).values():
            register_secret(value)
        self._client = httpx.Client(
            timeout=timeout,
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
            wait = self._last_call + self.min_interval - self._clock()
            if wait > 0:
                self._sleep(wait)
        self._last_call = self._clock()

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
        """GET `path` and return the body as text (CSV downloads), at most MAX_TEXT_BYTES."""
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
            self._wait_turn()
            try:
                response = self._client.request(
                    method,
                    url,
                    params=dict(params or {}),
                    json=None if body is None else dict(body),
                )
            except httpx.TimeoutException:
                problem = "timed out"
            except httpx.HTTPError as exc:
                problem = f"network error ({type(exc).__name__})"
            else:
                if response.status_code in RETRY_STATUSES:
                    problem = f"HTTP {response.status_code}"
                    delay = max(delay, _retry_after(response))
                elif response.status_code >= 400:
                    hint = " (check the API key)" if response.status_code in (401, 403) else ""
                    raise SourceError(redact(f"{what}: HTTP {response.status_code}{hint}"))
                elif text:
                    if len(response.content) > MAX_TEXT_BYTES:
                        raise SourceError(f"{what}: response larger than {MAX_TEXT_BYTES} bytes")
                    return response.text
                else:
                    try:
                        return response.json()
                    except ValueError:
                        raise SourceError(f"{what}: response is not JSON") from None
            if attempt < self.retries:
                WAIT_LOG.info(
                    "%s: %s; retrying in %.0f s (attempt %d of %d)",
                    what,
                    problem,
                    delay,
                    attempt + 2,
                    self.retries + 1,
                )
                self._sleep(delay)
                delay *= 2
        attempts = self.retries + 1
        raise SourceError(redact(f"{what}: {problem} ({attempts} attempts); try again later"))


def _retry_after(response: httpx.Response) -> float:
    """The server's `Retry-After` (seconds or an HTTP date), capped; 0 when absent or unreadable."""
    wait = retry_after_seconds(response.headers, time.time())
    return 0.0 if wait is None else min(wait, MAX_RETRY_AFTER)
