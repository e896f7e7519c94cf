"""Daily candles through the real ccxt (binance) and the read-only adapter, paginated."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from rotator.adapters.exchanges import AccountSettings, open_readonly_exchange
from rotator.adapters.sources.ohlcv import fetch_daily_bars
from rotator.demo.replay import ReplayServer, api_urls_for

EXCHANGE_INFO = Path(__file__).resolve().parents[1] / "fixtures" / "exchanges" / "binance"


def klines(closes: dict[date, float]):
    """GET /api/v3/klines in Binance's documented layout, honouring startTime and limit."""

    def body(request) -> bytes:
        start = int(request.query["startTime"][0])
        limit = int(request.query["limit"][0])
        rows = []
        for day in sorted(closes):
            ms = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)
            if ms >= start:
                c = str(closes[day])
                rows.append([ms, c, c, c, c, "1.5", ms + 86_399_999, "0", 3, "0", "0", "0"])
        return json.dumps(rows[:limit]).encode()

    return body


def test_backfill_pages_until_the_last_closed_day():
    first = date(2021, 1, 1)
    closes = {first + timedelta(days=k): 30_000.0 + k for k in range(25)}
    routes = {
        "GET /api/v3/exchangeInfo": (EXCHANGE_INFO / "api_v3_exchangeInfo.json").read_bytes(),
        "GET /api/v3/klines": klines(closes),
    }
    with ReplayServer(routes) as server:
        account = AccountSettings(
            name="pub",
            exchange="binance",
            ccxt={"rateLimit": 1, "timeout": 2000, "urls": api_urls_for("binance", server.url)},
        )

        async def run():
            exchange = await open_readonly_exchange(account, {})
            try:
                await exchange.load_markets()
                return await fetch_daily_bars(
                    exchange, "BTC/USDT", first, date(2021, 1, 20), page_limit=7
                )
            finally:
                await exchange.close()

        bars = asyncio.run(run())
        pages = server.requests_to("GET /api/v3/klines")
    assert [b.day for b in bars] == [first + timedelta(days=k) for k in range(19)]
    assert bars[0].close == 30_000.0 and bars[0].volume == 1.5
    assert {b.source for b in bars} == {"binance"} and {b.market for b in bars} == {"BTC/USDT"}
    assert len(pages) == 3  # 7 + 7 + 5 closed days before 2021-01-20
    assert all(p.query["interval"] == ["1d"] and p.query["limit"] == ["7"] for p in pages)
