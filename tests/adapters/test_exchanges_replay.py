"""The replay server itself, and the pure normalisation of ccxt values."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from ccxt.base.decimal_to_precision import DECIMAL_PLACES, SIGNIFICANT_DIGITS, TICK_SIZE

from rotator.adapters.exchanges.normalize import balance_holdings, precision_step, to_decimal
from rotator.core.models import WalletKind
from rotator.demo.replay import ReplayServer, api_urls_for


def _get(url, data=None, timeout=5):
    request = urllib.request.Request(url, data=data, headers={"X-Test": "1"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_routes_recording_and_404():
    with ReplayServer({"GET /a": b'{"ok": 1}'}) as server:
        server.add_route("POST /b", lambda r: json.dumps({"echo": r.body.decode()}).encode())
        assert _get(server.url + "/a?x=1&y=2")[2] == b'{"ok": 1}'
        assert json.loads(_get(server.url + "/b", data=b"nonce=5")[2]) == {"echo": "nonce=5"}
        status, _, body = _get(server.url + "/missing")
        assert status == 404 and json.loads(body) == {"error": "no replay route for GET /missing"}
        first = server.requests[0]
        assert (first.method, first.path, first.query) == ("GET", "/a", {"x": ["1"], "y": ["2"]})
        assert first.headers["X-Test"] == "1"
        assert [r.route for r in server.requests_to("/")] == ["GET /a", "POST /b", "GET /missing"]


def test_injected_clock_stamps_requests_and_demo_tickers():
    from rotator.demo import binance_tickers

    day = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    clock = [day]
    tickers = binance_tickers([{"symbol": "BTCUSDT", "lastPrice": "96000.0"}])
    with ReplayServer({"GET /t": tickers}, clock=lambda: clock[0]) as server:
        (first,) = json.loads(_get(server.url + "/t")[2])
        clock[0] = day + timedelta(days=1)
        (second,) = json.loads(_get(server.url + "/t")[2])
        assert first["closeTime"] == int(day.timestamp() * 1000)
        assert first["openTime"] == first["closeTime"] - 86_400_000
        assert second["closeTime"] - first["closeTime"] == 86_400_000
        assert [r.received for r in server.requests] == [day, day + timedelta(days=1)]
    with ReplayServer({"GET /t": tickers}) as real:  # default: the real time
        before = datetime.now(UTC)
        (row,) = json.loads(_get(real.url + "/t")[2])
        assert row["closeTime"] >= int(before.timestamp() * 1000) - 1
        assert real.requests[0].received.tzinfo is not None


def test_faults_status_headers_times_latency_and_malformed():
    with ReplayServer({"GET /a": b'{"ok": 1}'}) as server:
        server.fault("GET /a", status=429, headers={"Retry-After": "3"}, body=b"{}", times=1)
        status, headers, _ = _get(server.url + "/a")
        assert status == 429 and headers["Retry-After"] == "3"
        assert _get(server.url + "/a")[0] == 200  # `times` used up
        server.fault("/a", malformed=True)
        with pytest.raises(json.JSONDecodeError):
            json.loads(_get(server.url + "/a")[2])
        server.clear_faults()
        server.fault("GET /a", latency=0.2)
        start = time.monotonic()
        assert _get(server.url + "/a")[0] == 200
        assert time.monotonic() - start >= 0.2


def test_hang_is_a_timeout_and_stop_does_not_wait_for_it():
    server = ReplayServer({"GET /a": b"{}"}).start()
    server.fault("GET /a", hang=30)
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        _get(server.url + "/a", timeout=0.2)
    stopped = threading.Event()
    threading.Thread(target=lambda: (server.stop(), stopped.set())).start()
    assert stopped.wait(3)


def test_api_urls_keep_paths_and_replace_host():
    urls = api_urls_for("binance", "http://127.0.0.1:9/binance")
    assert urls["api"]["public"] == "http://127.0.0.1:9/binance/api/v3"
    assert urls["api"]["sapi"] == "http://127.0.0.1:9/binance/sapi/v1"
    assert api_urls_for("kraken", "http://h:1/k")["api"]["private"] == "http://h:1/k"


@pytest.mark.parametrize(
    ("value", "mode", "step"),
    [
        (0.001, TICK_SIZE, Decimal("0.001")),
        ("1e-08", TICK_SIZE, Decimal("0.00000001")),
        (8, DECIMAL_PLACES, Decimal("0.00000001")),
        (2, DECIMAL_PLACES, Decimal("0.01")),
        (0, DECIMAL_PLACES, Decimal("1")),
        (5, SIGNIFICANT_DIGITS, None),
        (None, TICK_SIZE, None),
    ],
)
def test_precision_step_for_every_precision_mode(value, mode, step):
    assert precision_step(value, mode) == step


def test_decimals_come_from_strings_not_float_arithmetic():
    assert to_decimal(0.1) == Decimal("0.1")
    assert to_decimal(float("nan")) is None
    assert to_decimal(None) is None


def test_balance_holdings_free_and_missing_totals():
    balance = {
        "total": {"BTC": 1.5, "ETH": None, "DUST": 0.0},
        "free": {"BTC": 1.0, "ETH": 2.0},
        "used": {"BTC": 0.5, "ETH": 0.25},
    }
    spot = {h.asset: (h.total, h.free) for h in balance_holdings("a", balance, WalletKind.SPOT)}
    assert spot == {
        "BTC": (Decimal("1.5"), Decimal("1.0")),
        "ETH": (Decimal("2.25"), Decimal("2.0")),
    }
    funding = balance_holdings("a", balance, WalletKind.FUNDING)
    assert all(h.free == h.total and not h.sellable for h in funding)
