"""`rotator history fetch` / `import`: fill the market-history store from its sources.

Candles come from the exchange accounts through the read-only adapter (public endpoints, no
keys are read), with CoinGecko filling what they lack; today's BTC dominance from CoinGecko
(`--dominance-method global|markets`), Treasury buybacks from Fiscal Data, files from CSV; the
other keyless history sources are in rotator.pipeline.history_fetch. Each source's
failure is returned as a line, never raised, so the others are still saved. `echo` receives
lines for the user and `track` shows progress (the command line gives both; nothing here
prints).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from rotator.adapters.exchanges import AccountSettings, open_readonly_exchange
from rotator.adapters.sources.coingecko import coingecko_client, fetch_dominance
from rotator.adapters.sources.csv_import import import_csv
from rotator.adapters.sources.fiscaldata import (
    BUYBACKS_SERIES,
    FiscalDataSettings,
    daily_accepted,
    fetch_buyback_operations,
    fiscaldata_client,
)
from rotator.adapters.sources.http import SourceError
from rotator.adapters.sources.ohlcv import default_since, fetch_daily_bars, pick_market
from rotator.adapters.storage.market import (
    last_day,
    last_macro_day,
    save_bars,
    save_dominance,
    save_macro,
)
from rotator.config.portfolio import ExchangeAccount
from rotator.core.clock import Clock
from rotator.core.history import USD_QUOTES, macro_key, parse_series_name
from rotator.pipeline.accounts import account_settings
from rotator.pipeline.history_fetch import (
    SourceSettings,
    fetch_coingecko_prices,
    short_price_series,
)

Echo = Callable[[str], None]
# A progress display: (label, total days) -> advance(by days).
Track = Callable[[str, int], Callable[[int], None]]
# Fetched beyond the declared lookback: weekends, holidays and a late first candle.
LOOKBACK_MARGIN_DAYS = 7


def import_csv_file(
    engine: Engine,
    file: Path,
    *,
    kind: str,
    series: str | None,
    asset: str | None,
    quote: str,
    source: str,
    recorded_at: datetime,
) -> tuple[str, tuple[str, ...]]:
    """Import daily prices, BTC dominance or a macro series from a CSV file, recorded at
    `recorded_at` (the run's time).

    Returns what was imported and the file's warnings (e.g. index outliers, kept)."""
    imported = import_csv(
        file,
        kind=kind,
        asset=asset.upper() if asset else None,
        quote=quote,
        source=source,
        series=series,
    )
    save_bars(engine, imported.bars, recorded_at)
    save_dominance(engine, imported.dominance, recorded_at)
    save_macro(engine, imported.macro, recorded_at)
    return imported.description, tuple(imported.warnings)


def fetch_prices(
    engine: Engine,
    accounts: tuple[ExchangeAccount, ...],
    echo: Echo,
    track: Track,
    environ: Mapping[str, str],
    sources: SourceSettings,
    account_name: str | None,
    markets: tuple[str, ...],
    needed: Mapping[str, int],
    start: date | None,
    today: date,
) -> list[str]:
    """Daily closes of every `close:ASSET` the rules read, as far back as they need.

    The first (or the named) exchange account first; series still short of the rules'
    lookback then come from the next accounts' exchanges, then from CoinGecko.
    """
    closes = {n: d for n, d in needed.items() if n.startswith("close:")}
    parsed = [p for p in (parse_series_name(n) for n in closes) if p is not None and p.markets]
    assets = list(dict.fromkeys(p.markets[0].split("/")[0] for p in parsed))
    if not assets and not markets:
        return []
    days = max(closes.values(), default=0) + LOOKBACK_MARGIN_DAYS
    begin = start or (today - timedelta(days=days) if closes else default_since(today))
    recorded_at = sources.recorded_at()
    failures = fetch_candles(
        engine, accounts, echo, track, account_name, assets, markets, begin, today, recorded_at
    )
    if start is not None:
        return failures  # an explicit start: the user chose the span
    tried = [a.exchange for a in accounts if account_name in (None, a.name)][:1]
    for other in accounts:
        short = short_price_series(engine, closes, today)
        if not short:
            break
        if other.exchange in tried:
            continue
        tried.append(other.exchange)
        wanted = [n.split(":", 1)[1].upper() for n in short]
        echo(f"{', '.join(short)}: too little history so far; trying {other.name}")
        # The second exchange is a fallback: its failures are notes, not failures.
        for problem in fetch_candles(
            engine, accounts, echo, track, other.name, wanted, (), begin, today, recorded_at
        ):
            echo(f"note: {problem}")
    short = short_price_series(engine, closes, today)
    return failures + fetch_coingecko_prices(engine, echo, track, environ, sources, short, today)


def fetch_candles(
    engine: Engine,
    accounts: tuple[ExchangeAccount, ...],
    echo: Echo,
    track: Track,
    account_name: str | None,
    assets: list[str],
    markets: tuple[str, ...],
    start: date | None,
    today: date,
    recorded_at: datetime,
) -> list[str]:
    """Daily candles of the named (else the first) account's exchange, saved as recorded at
    `recorded_at` (the run's time)."""
    chosen = [a for a in accounts if account_name in (None, a.name)]
    if not chosen:
        where = f"no account named {account_name!r}" if account_name else "no exchange account"
        return [f"candles: {where} in portfolio.yaml to fetch them from"]
    public = chosen[0]
    settings = account_settings(public)
    return asyncio.run(
        _candles_async(engine, settings, echo, track, assets, markets, start, today, recorded_at)
    )


async def _candles_async(
    engine: Engine,
    account: AccountSettings,
    echo: Echo,
    track: Track,
    assets: list[str],
    markets: tuple[str, ...],
    start: date | None,
    today: date,
    recorded_at: datetime,
) -> list[str]:
    failures: list[str] = []
    # Candles are public: no key is read or sent for them.
    exchange = await open_readonly_exchange(account, {}, with_credentials=False)
    try:
        try:
            listed = await exchange.load_markets()
        except Exception as exc:  # ccxt errors: report and go on with the other sources
            return [f"{account.name}: cannot load markets ({type(exc).__name__}: {exc})"]
        symbols = list(markets)
        for asset in assets:
            symbol = pick_market(listed, asset, ("USD", "USDT", "USDC"))
            if symbol is None:
                failures.append(f"{account.name}: no {asset} market against {'/'.join(USD_QUOTES)}")
            elif symbol not in symbols:
                symbols.append(symbol)
        for symbol in symbols:
            stored = last_day(engine, exchange.id, symbol)
            # Re-fetch the newest stored day: it may have been saved from a partial view.
            begin = stored or start or default_since(today)
            advance = track(f"{exchange.id} {symbol}", max((today - begin).days, 1))
            try:
                bars = await fetch_daily_bars(exchange, symbol, begin, today, progress=advance)
            except Exception as exc:
                failures.append(f"{account.name} {symbol}: {type(exc).__name__}: {exc}")
                continue
            save_bars(engine, bars, recorded_at)
            span = f" ({bars[0].day} to {bars[-1].day})" if bars else ""
            echo(f"{exchange.id} {symbol}: {len(bars)} daily closes saved{span}")
    finally:
        await exchange.close()
    return failures


def fetch_dominance_today(
    engine: Engine,
    echo: Echo,
    environ: Mapping[str, str],
    method: str,
    url: str | None,
    key_env: str,
    plan: str,
    clock: Clock,
) -> list[str]:
    """Today's BTC dominance from CoinGecko, dated and recorded by `clock`."""
    received = clock.now()
    try:
        with coingecko_client(
            environ, base_url=url, key_env=key_env, plan=plan, clock=clock
        ) as client:
            observation = fetch_dominance(client, received, method)
    except SourceError as exc:
        return [str(exc)]
    save_dominance(engine, [observation], received)
    echo(
        f"{observation.source}: BTC dominance {observation.dominance_pct:.2f}% on {observation.day}"
    )
    return []


def fetch_buybacks(
    engine: Engine,
    echo: Echo,
    url: str | None,
    start: date | None,
    today: date,
    clock: Clock,
    sources: SourceSettings,
) -> list[str]:
    """Treasury buyback operations from Fiscal Data, stored as daily accepted amounts (the
    client waits on `clock`, the rows are recorded at its time; retries and timeout as the
    other sources of the command)."""
    settings = FiscalDataSettings(retries=sources.retries, timeout=sources.timeout)
    if url:
        settings = replace(settings, base_url=url)
    stored = last_macro_day(engine, macro_key(BUYBACKS_SERIES))
    # Re-read a week before the newest stored day: results posted late replace their 0.
    begin = start or (stored - timedelta(days=7) if stored else today - timedelta(days=800))
    try:
        with fiscaldata_client(settings, clock) as client:
            operations = fetch_buyback_operations(client, begin, settings)
    except SourceError as exc:
        return [str(exc)]
    observations = daily_accepted(operations, begin, today)
    save_macro(engine, observations, clock.now())
    done = sum(1 for o in operations if o.total_par_amt_accepted is not None)
    echo(
        f"Fiscal Data buybacks: {done} operations with results, "
        f"{len(observations)} days of {BUYBACKS_SERIES} saved from {begin}"
    )
    return []
