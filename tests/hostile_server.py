"""A replay server that also misbehaves on purpose: redirect, drip, flood, nest and echo.

`HostileServer` is `rotator.demo.replay.ReplayServer` (routes, faults, recorded requests) plus
behaviours that need more than one canned body, each bound to an exact route ("POST /x") or a
path prefix ("/k/"), later ones first:

- `redirect(match, location, status=307)`: answer with a redirect to `location`;
- `drip(match, interval, size)`: send headers for `size` bytes, then one byte per `interval`
  seconds (a slow-loris answer that never trips a per-read timeout);
- `flood(match, size)`: a valid-looking JSON array of `size` bytes, streamed in chunks;
- `nest(match, depth)`: `[[[...]]]` nested `depth` deep (RecursionError bait);
- `echo(match)`: answer the request's own headers, query and body as JSON (a server that
  reflects what it was sent, to show whether a secret would travel back).

Everything binds to 127.0.0.1; a stopped server wakes dripping handlers at once.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from rotator.demo.replay import (
    RecordedRequest,
    ReplayServer,
    _make_handler,
    _matches,
    _Server,
)


@dataclass(frozen=True, slots=True)
class Behaviour:
    """One hostile answer: `kind` and its parameters."""

    kind: str
    location: str = ""
    status: int = 307
    interval: float = 0.1
    size: int = 0
    depth: int = 0


class HostileServer(ReplayServer):
    """ReplayServer with redirect / drip / flood / nest / echo behaviours on chosen routes."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._behaviours: list[tuple[str, Behaviour]] = []

    def _add(self, match: str, behaviour: Behaviour) -> None:
        with self._lock:
            self._behaviours.insert(0, (match, behaviour))

    def redirect(self, match: str, location: str, status: int = 307) -> None:
        self._add(match, Behaviour("redirect", location=location, status=status))

    def drip(self, match: str, interval: float = 0.1, size: int = 10_000) -> None:
        self._add(match, Behaviour("drip", interval=interval, size=size))

    def flood(self, match: str, size: int) -> None:
        self._add(match, Behaviour("flood", size=size))

    def nest(self, match: str, depth: int = 100_000) -> None:
        self._add(match, Behaviour("nest", depth=depth))

    def echo(self, match: str) -> None:
        self._add(match, Behaviour("echo"))

    def _behaviour(self, request: RecordedRequest) -> Behaviour | None:
        with self._lock:
            found = next((b for m, b in self._behaviours if _matches(m, request)), None)
            if found is not None:
                self._requests.append(request)
            return found

    def start(self) -> HostileServer:
        base = _make_handler(self)
        hostile = self

        class Handler(base):  # type: ignore[misc, valid-type]
            def _handle(self) -> None:
                parts = urlsplit(self.path)
                probe = RecordedRequest(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    raw_query=parts.query,
                    headers={k: v for k, v in self.headers.items()},
                    body=b"",
                    at=time.monotonic(),
                    received=hostile.clock(),
                )
                with hostile._lock:
                    bound = any(_matches(m, probe) for m, _ in hostile._behaviours)
                if not bound:
                    super()._handle()
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = dataclasses.replace(probe, body=body)
                behaviour = hostile._behaviour(request)
                if behaviour is not None:
                    _answer(self, behaviour, request, hostile._stopping.wait)

            do_GET = do_POST = do_DELETE = do_PUT = _handle

        self._server = _Server((self._host, 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __enter__(self) -> HostileServer:
        return self.start()


def _answer(
    handler: BaseHTTPRequestHandler,
    b: Behaviour,
    request: RecordedRequest,
    wait: Callable[[float], bool],
) -> None:
    try:
        if b.kind == "redirect":
            handler.send_response(b.status)
            handler.send_header("Location", b.location)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", "2")
            handler.end_headers()
            handler.wfile.write(b"{}")
        elif b.kind == "echo":
            payload = json.dumps(
                {
                    "headers": request.headers,
                    "query": request.raw_query,
                    "body": request.body.decode("utf-8", "replace"),
                }
            ).encode()
            _send(handler, payload)
        elif b.kind == "nest":
            _send(handler, b"[" * b.depth + b"]" * b.depth)
        elif b.kind == "flood":
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(b.size))
            handler.end_headers()
            chunk = b"0," * 2**15
            sent = 0
            handler.wfile.write(b"[")
            sent += 1
            while sent + len(chunk) < b.size:
                handler.wfile.write(chunk)
                sent += len(chunk)
            handler.wfile.write(b"0" * (b.size - sent - 1) + b"]")
        elif b.kind == "drip":
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(b.size))
            handler.end_headers()
            for _ in range(b.size):
                handler.wfile.write(b" ")
                handler.wfile.flush()
                if wait(b.interval):  # the server is stopping
                    break
        handler.close_connection = True
    except (ConnectionError, OSError):
        handler.close_connection = True  # the client gave up: that is what a bound does


def _send(handler: BaseHTTPRequestHandler, payload: bytes) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)
