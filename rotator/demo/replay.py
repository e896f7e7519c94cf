"""An in-process HTTP server on 127.0.0.1 that replays recorded exchange responses.

Used by `rotator plan --demo` and by the tests: real ccxt talks to it through the account's
`ccxt: {urls: ...}` override, so ccxt's own request building, parsing, precision handling and
error mapping run exactly as against the real exchange. Every request is recorded (method,
path, query, headers, body) so tests can check what was asked; faults (latency, HTTP errors,
malformed JSON, hangs) can be injected per route or per path prefix.

Routes are "METHOD /path" -> body. A body is bytes, or a callable that receives the
`RecordedRequest` and returns bytes (to stamp the time of the request, or echo it back).
The query string is ignored for routing and kept in the record.

The server's clock is injected (`ReplayServer(clock=...)`, default the real UTC time): each
request records `received`, the clock's time on arrival, and bodies that stamp times use it,
so a test running the CLI on a simulated day gets tickers of that day.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def utc_now() -> datetime:
    """The real time, aware UTC: the clock of a server given none."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    raw_query: str
    headers: Mapping[str, str]
    body: bytes
    at: float  # time.monotonic() on arrival
    received: datetime = field(default_factory=utc_now)  # the server's clock on arrival

    @property
    def route(self) -> str:
        return f"{self.method} {self.path}"


Body = bytes | Callable[[RecordedRequest], bytes]
Clock = Callable[[], datetime]


@dataclass(slots=True)
class Fault:
    """What to do instead of (or before) answering a route normally.

    Attributes:
        latency: seconds to wait before answering.
        status: HTTP status to answer with instead of 200.
        body: body to answer with (bytes or callable); defaults to the route's normal body.
        headers: extra response headers, e.g. {"Retry-After": "1"}.
        malformed: answer 200 with a truncated, unparseable JSON body.
        hang: seconds to stall without answering (longer than the client timeout).
        times: apply only to the next N matching requests, then answer normally; None = always.
    """

    latency: float = 0.0
    status: int | None = None
    body: Body | None = None
    headers: dict[str, str] = field(default_factory=dict)
    malformed: bool = False
    hang: float | None = None
    times: int | None = None


def json_body(data: object) -> bytes:
    """Encode `data` as a JSON response body."""
    return json.dumps(data).encode()


class ReplayServer:
    """A threaded HTTP server on 127.0.0.1 (free port) serving canned routes with faults.

    Use as a context manager, or call `start()` / `stop()`. `clock` gives the time requests are
    received at (`RecordedRequest.received`), which time-stamping bodies answer with.
    """

    def __init__(
        self,
        routes: Mapping[str, Body] | None = None,
        host: str = "127.0.0.1",
        clock: Clock = utc_now,
    ) -> None:
        self.clock = clock
        self._routes: dict[str, Body] = dict(routes or {})
        self._faults: list[tuple[str, Fault]] = []
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._host = host
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- configuration -------------------------------------------------------------------
    def add_route(self, route: str, body: Body) -> None:
        """Serve `body` for `route` ("GET /api/v3/account")."""
        method, path = route.split(" ", 1)
        with self._lock:
            self._routes[f"{method.upper()} {path}"] = body

    def mount(self, prefix: str, routes: Mapping[str, Body]) -> None:
        """Serve `routes` under a path prefix: mount("/binance", {"GET /api/v3/time": b"{}"})."""
        for route, body in routes.items():
            method, path = route.split(" ", 1)
            self.add_route(f"{method} {prefix.rstrip('/')}{path}", body)

    def fault(self, match: str, **kwargs: object) -> Fault:
        """Inject a fault on an exact route ("GET /x") or on every path under a prefix ("/acct3/").

        Keyword arguments are the fields of `Fault`. Later faults take precedence.
        """
        fault = Fault(**kwargs)  # type: ignore[arg-type]
        with self._lock:
            self._faults.insert(0, (match, fault))
        return fault

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        with self._lock:
            self._faults.clear()

    # -- inspection ----------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:54321 (no trailing slash)."""
        if self._server is None:
            raise RuntimeError("ReplayServer is not running")
        host, port = self._server.server_address[:2]
        if isinstance(host, bytes):  # typeshed allows bytes (AF_UNIX); ours is an IPv4 host
            host = host.decode()
        return f"http://{host}:{port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of every request received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, match: str) -> list[RecordedRequest]:
        """Requests to an exact route ("GET /x") or under a path prefix ("/binance/")."""
        return [r for r in self.requests if _matches(match, r)]

    def reset_requests(self) -> None:
        """Forget the requests recorded so far."""
        with self._lock:
            self._requests.clear()

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> ReplayServer:
        """Bind 127.0.0.1 on a free port and serve from a daemon thread."""
        handler = _make_handler(self)
        self._server = _Server((self._host, 0), handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False  # a hanging handler must not block shutdown
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; hanging or delayed handlers are woken and do not block this."""
        self._stopping.set()  # wakes handlers that are hanging or sleeping
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request handling (called from handler threads) -----------------------------------
    def _respond(self, request: RecordedRequest) -> tuple[int, dict[str, str], bytes | None]:
        with self._lock:
            self._requests.append(request)
            fault = next((f for m, f in self._faults if _matches(m, request)), None)
            times = fault.times if fault is not None else None
            if fault is not None and times is not None:
                if times <= 0:
                    fault = None
                else:
                    fault.times = times - 1
            body = self._routes.get(request.route)
        if fault is not None:
            if fault.latency:
                self._stopping.wait(fault.latency)
            if fault.hang is not None:
                self._stopping.wait(fault.hang)
                return 0, {}, None  # close without answering
            if fault.status is not None or fault.body is not None:
                chosen = fault.body if fault.body is not None else body
                payload = _render(chosen, request) if chosen is not None else b"{}"
                return fault.status or 200, dict(fault.headers), payload
            if fault.malformed:
                good = _render(body, request) if body is not None else b'{"a": 1}'
                return 200, dict(fault.headers), good[: max(1, len(good) // 2)] + b"\x00{"
        if body is None:
            message = {"error": f"no replay route for {request.route}"}
            return 404, {}, json_body(message)
        return 200, {}, _render(body, request)


class _Server(ThreadingHTTPServer):
    # The default listen backlog (5) drops connections when several accounts read their
    # wallets at once; a dropped SYN costs a one-second retransmission.
    request_queue_size = 128

    def handle_error(self, request: object, client_address: object) -> None:
        """No traceback when a client closes its connection mid-request (a client that gives up
        on one failed read cancels its other requests; that is not a server error)."""
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


def _render(body: Body, request: RecordedRequest) -> bytes:
    return body(request) if callable(body) else body


def _matches(match: str, request: RecordedRequest) -> bool:
    if " " in match:
        method, path = match.split(" ", 1)
        return request.method == method.upper() and request.path == path
    return request.path.startswith(match)


def _make_handler(server: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out as two writes: with Nagle's algorithm the body would wait
        # for the client's delayed ACK of the headers (about 40 ms on Linux) on every answer.
        disable_nagle_algorithm = True

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = RecordedRequest(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                raw_query=parts.query,
                headers={k: v for k, v in self.headers.items()},
                body=body,
                at=time.monotonic(),
                received=server.clock(),
            )
            status, headers, payload = server._respond(request)
            if payload is None:
                self.close_connection = True
                return
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = do_PUT = _handle

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test and demo output clean

    return Handler


@contextmanager
def serving(
    routes: Mapping[str, Body] | None = None, clock: Clock = utc_now
) -> Iterator[ReplayServer]:
    """Run a ReplayServer for the duration of a with-block."""
    with ReplayServer(routes, clock=clock) as server:
        yield server


def api_urls_for(exchange_id: str, base_url: str) -> dict[str, object]:
    """A ccxt `urls` override sending every REST API of `exchange_id` to `base_url`.

    Each entry of ccxt's `urls['api']` keeps its path and gets `base_url` as scheme and host:
    binance's "https://api.binance.com/sapi/v1" becomes "{base_url}/sapi/v1". Use
    "http://127.0.0.1:PORT/binance" as `base_url` to serve several exchanges from one server.
    """
    import re

    import ccxt  # the sync class only describes itself here; nothing is requested

    described = getattr(ccxt, exchange_id)().urls.get("api")

    def rewrite(value: object) -> object:
        if isinstance(value, str):
            return re.sub(r"^[a-z]+://[^/]+", base_url.rstrip("/"), value)
        if isinstance(value, dict):
            return {key: rewrite(item) for key, item in value.items()}
        return value

    return {"api": rewrite(described)}
