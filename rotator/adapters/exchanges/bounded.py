"""ccxt's aiohttp session, with redirects decided by rotator and bodies read bounded.

`GuardedSession` wraps the session of one ccxt instance (transport.install puts it there):
every request goes out with `allow_redirects=False`; a redirect answer is handed to the
`redirect_target` callback, which names where it may go or raises `RedirectRefused`; at most
MAX_REDIRECTS are followed. Each body is read in chunks and dropped past MAX_RESPONSE_BYTES
(`ResponseTooLarge`), then handed to ccxt as the small response object it reads.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import ccxt.async_support as ccxt_async
from yarl import URL

MAX_REDIRECTS = 3
# Binance's exchangeInfo, the largest answer of a read call, is about 20 MB.
MAX_RESPONSE_BYTES = 64 * 2**20
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class RedirectRefused(ccxt_async.ExchangeError):
    """The exchange answered with a redirect rotator does not follow (the call failed)."""


class ResponseTooLarge(ccxt_async.ExchangeError):
    """The answer grew past MAX_RESPONSE_BYTES; reading it was stopped."""


class LimitedResponse:
    """What ccxt reads of a response (status, reason, headers, text), the body read bounded."""

    def __init__(self, raw: aiohttp.ClientResponse, body: bytes) -> None:
        self.status = raw.status
        self.reason = raw.reason
        self.headers = raw.headers
        self.content = body
        self._charset = raw.charset or "utf-8"

    async def text(self, encoding: str | None = None, errors: str = "strict") -> str:
        try:
            return self.content.decode(encoding or self._charset, errors)
        except LookupError:  # a charset Python does not know
            return self.content.decode("utf-8", errors)


class GuardedSession:
    """ccxt's aiohttp session with redirects checked by rotator and bodies read bounded."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        exchange_id: str,
        redirect_target: Callable[[str, URL, int, str], URL],
    ) -> None:
        self._session = session
        self._exchange_id = exchange_id
        self._redirect_target = redirect_target

    def __getattr__(self, name: str) -> Any:
        if name in {"get", "post", "put", "delete", "patch", "head", "options"}:
            return lambda url, **kwargs: self._request(name.upper(), url, **kwargs)
        return getattr(self._session, name)

    @contextlib.asynccontextmanager
    async def _request(self, method: str, url: Any, **kwargs: Any) -> AsyncIterator[Any]:
        target = URL(url)
        for _ in range(MAX_REDIRECTS + 1):
            async with self._session.request(
                method, target, allow_redirects=False, **kwargs
            ) as raw:
                if raw.status in _REDIRECTS:
                    location = raw.headers.get("Location", "")
                    target = self._redirect_target(method, target, raw.status, location)
                    if raw.status == 303:
                        method, kwargs["data"] = "GET", None
                    continue
                body = await _read_bounded(raw, self._exchange_id, method, target)
                yield LimitedResponse(raw, body)
                return
        raise RedirectRefused(
            f"{self._exchange_id} {method} {target.path}: more than {MAX_REDIRECTS} redirects"
        )


async def _read_bounded(
    raw: aiohttp.ClientResponse, exchange_id: str, method: str, url: URL
) -> bytes:
    """The body, read in chunks; ResponseTooLarge past MAX_RESPONSE_BYTES."""
    limit = MAX_RESPONSE_BYTES
    too_large = ResponseTooLarge(
        f"{exchange_id} {method} {url.path}: the answer is larger than {limit // 2**20} MiB; "
        "reading it was stopped"
    )
    if (raw.content_length or 0) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in raw.content.iter_chunked(2**16):
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)
