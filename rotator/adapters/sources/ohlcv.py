"""Daily candles through the read-only exchange adapter: paginated backfill, then incremental.

Only ccxt's unified `fetch_ohlcv(symbol, "1d", since, limit)` is used, through
`ReadOnlyExchange`, so no other exchange call is possible. Candles are
``[timestamp_ms, open, high, low, close, volume]`` (ccxt's documented layout); a day's candle is
kept only once the day is over (the current day's candle is still moving).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from rotator.core.history import DailyBar

DAY_MS = 86_400_000


def _ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def candles_to_bars(
    source: str, symbol: str, candles: list[list[Any]], until: date
) -> list[DailyBar]:
    """ccxt candles -> bars of closed days before `until` (UTC dates of the candle opens)."""
    bars = []
    for candle in candles:
        if len(candle) < 5 or candle[4] is None:
            continue
        day = datetime.fromtimestamp(candle[0] / 1000, UTC).date()
        if day >= until:
            continue
        volume = candle[5] if len(candle) > 5 else None
        bars.append(
            DailyBar(
                source,
                symbol,
                day,
                float(candle[4]),
                _f(candle[1]),
                _f(candle[2]),
                _f(candle[3]),
                _f(volume),
            )
        )
    return bars


def _f(value: Any) -> float | None:
    return None if value is None else float(value)


async def fetch_daily_bars(
    exchange: Any,
    symbol: str,
    since: date,
    until: date,
    *,
    page_limit: int = 500,
    progress: Callable[[int], None] | None = None,
) -> list[DailyBar]:
    """Daily bars of `symbol` for the closed days from `since` up to (not including) `until`.

    Pages forward from `since` with `limit=page_limit` until a page brings no new day or the
    range is covered. `progress` is called with the number of days added by each page.
    """
    bars: dict[date, DailyBar] = {}
    cursor = _ms(since)
    end = _ms(until)
    while cursor < end:
        candles = await exchange.fetch_ohlcv(symbol, "1d", cursor, page_limit)
        page = candles_to_bars(exchange.id, symbol, candles or [], until)
        new = [b for b in page if b.day not in bars and b.day >= since]
        for bar in new:
            bars[bar.day] = bar
        if progress is not None:
            progress(len(new))
        if not candles or not new:
            break
        cursor = max(int(c[0]) for c in candles) + DAY_MS
    return [bars[d] for d in sorted(bars)]


def pick_market(markets: dict[str, Any], asset: str, quotes: tuple[str, ...]) -> str | None:
    """The first spot market ASSET/QUOTE the exchange lists, in the order of `quotes`."""
    for quote in quotes:
        symbol = f"{asset}/{quote}"
        if symbol in markets and markets[symbol].get("spot", True):
            return symbol
    return None


def days_between(start: date, end: date) -> int:
    return max((end - start).days, 0)


def default_since(today: date, days: int = 1500) -> date:
    return today - timedelta(days=days)
