"""Bundled DefiLlama and CoinGecko responses for the revenue screen's demo (`--demo`).

The responses (this folder, provenance in SOURCES.md) are composed in the documented layouts
and served by the demo's ReplayServer on 127.0.0.1, so `rotator screen --demo` and
`rotator plan --demo` run the real source adapters and the real screen. Times are stamped when
a request arrives (market data "last updated" now, daily charts ending yesterday) so the demo
data is fresh like a live run's; the figures themselves are fixed.
"""

from __future__ import annotations

import json
from datetime import UTC
from importlib import resources
from pathlib import Path
from typing import Any

from rotator.demo.replay import Body, RecordedRequest, ReplayServer

DATA = Path(str(resources.files("rotator.demo") / "screen"))
DAY = 86_400


def _json(data: Any) -> bytes:
    return json.dumps(data).encode()


def _file(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def _day_start(request: RecordedRequest) -> int:
    """Midnight UTC of the day the request arrived (the server's clock), epoch seconds."""
    now = int(request.received.timestamp())
    return now - now % DAY


def _markets() -> Body:
    markets = _file("coingecko/coins_markets.json")

    def body(request: RecordedRequest) -> bytes:
        stamp = request.received.astimezone(UTC).isoformat().replace("+00:00", "Z")
        wanted = set(request.query.get("ids", [""])[0].split(",")) - {""}
        rows = [{**m, "last_updated": stamp} for m in markets if not wanted or m["id"] in wanted]
        return _json(rows)

    return body


def _summaries() -> Body:
    """Daily holders revenue per protocol, spread from the overview's 30-day totals.

    The last 30 days carry `total30d` evenly, the 30 before `total60dto30d`, and the 60 before
    those the same again, ending yesterday: composed data consistent with the overview.
    """
    entries = {p["slug"]: p for p in _file("overview_fees_dailyHoldersRevenue.json")["protocols"]}

    def body(request: RecordedRequest) -> bytes:
        slug = request.path.rsplit("/", 1)[-1]
        entry = entries.get(slug)
        if entry is None or entry["total30d"] is None:
            return _json({"message": f"no holders revenue for {slug}"})
        last, prev = entry["total30d"] / 30, (entry["total60dto30d"] or 0) / 30
        daily = [prev] * 90 + [last] * 30
        end = _day_start(request) - DAY
        chart = [[end - (len(daily) - 1 - i) * DAY, v] for i, v in enumerate(daily)]
        return _json({**entry, "totalDataChart": chart, "totalDataChartBreakdown": []})

    return body


def _supply_chart() -> Body:
    """Market caps and prices whose ratio (circulating supply) grows at the listed yearly rate."""
    supply = _file("coingecko/supply.json")

    def body(request: RecordedRequest) -> bytes:
        gecko_id = request.path.split("/")[-2]
        spec = supply.get(gecko_id)
        if spec is None:
            return _json({"error": "coin not found"})
        days = int(request.query.get("days", ["90"])[0])
        end = _day_start(request)
        prices, caps = [], []
        for i in range(days + 1):
            ts = (end - (days - i) * DAY) * 1000
            amount = spec["supply"] * (1 + spec["growth"]) ** (i / 365)
            prices.append([ts, spec["price"]])
            caps.append([ts, spec["price"] * amount])
        return _json({"prices": prices, "market_caps": caps, "total_volumes": []})

    return body


def screen_routes() -> dict[str, Body]:
    """Routes under a mount point: /llama (api.llama.fi), /yields, /coingecko (api/v3)."""
    routes: dict[str, Body] = {
        "GET /llama/protocols": (DATA / "protocols.json").read_bytes(),
        "GET /llama/v2/chains": (DATA / "v2_chains.json").read_bytes(),
        "GET /llama/lite/protocols2": (DATA / "lite_protocols2.json").read_bytes(),
        "GET /yields/pools": (DATA / "pools.json").read_bytes(),
        "GET /coingecko/coins/markets": _markets(),
    }
    holders = (DATA / "overview_fees_dailyHoldersRevenue.json").read_bytes()
    revenue = (DATA / "overview_fees_dailyRevenue.json").read_bytes()

    def overview(request: RecordedRequest) -> bytes:
        kind = request.query.get("dataType", ["dailyFees"])[0]
        return holders if kind == "dailyHoldersRevenue" else revenue

    routes["GET /llama/overview/fees"] = overview
    summaries = _summaries()
    for slug in json.loads(holders)["protocols"]:
        routes[f"GET /llama/summary/fees/{slug['slug']}"] = summaries
    chart = _supply_chart()
    for gecko_id in _file("coingecko/supply.json"):
        routes[f"GET /coingecko/coins/{gecko_id}/market_chart"] = chart
    return routes


def binance_ticker_route() -> Body:
    """The demo's Binance 24 h tickers plus the BTC markets of the demo basket's tokens.

    The demo exchange data (rotator/demo/data) prices only the portfolio's own markets; the
    basket's TRX, KNC and LRC trade against BTC there, so their tickers (binance_tickers.json,
    composed from the same USD price table) are added for the planner to size their buys.
    """
    from rotator.demo import DATA as EXCHANGE_DATA
    from rotator.demo import binance_tickers

    recorded = json.loads((EXCHANGE_DATA / "binance" / "api_v3_ticker_24hr.json").read_text())
    return binance_tickers(recorded + _file("binance_tickers.json"))


def mount_screen(server: ReplayServer, prefix: str = "/screen") -> dict[str, str]:
    """Serve the screen's demo data on `server`; return the environment that points at it."""
    server.mount(prefix, screen_routes())
    server.add_route("GET /binance/api/v3/ticker/24hr", binance_ticker_route())
    base = f"{server.url}{prefix}"
    return {
        "ROTATOR_DEFILLAMA_API_URL": f"{base}/llama",
        "ROTATOR_DEFILLAMA_YIELDS_URL": f"{base}/yields",
        "ROTATOR_COINGECKO_URL": f"{base}/coingecko",
        "ROTATOR_SCREEN_NO_CACHE": "1",
        "ROTATOR_COINGECKO_CALLS_PER_MINUTE": "0",
    }
