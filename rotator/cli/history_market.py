"""`rotator history fetch` and `rotator history import`: fill the market-history store."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from rotator.cli.options import (
    choose_ruleset,
    config_option,
    db_option,
    parse_as_of,
    rules_option,
    today_utc,
)
from rotator.errors import ExitCode

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from rotator.config.portfolio import ExchangeAccount


def _safe_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


@click.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--kind",
    type=click.Choice(["auto", "prices", "dominance", "macro"]),
    default="auto",
    show_default=True,
    help="What the file holds; needed only for ambiguous `date,value` files.",
)
@click.option(
    "--series",
    default=None,
    metavar="NAME",
    help="Macro series the file holds, e.g. fred:WALCL or index:MOVE (default: from the "
    "header or the file name).",
)
@click.option(
    "--asset", default=None, help="Asset of a price file (default: symbol column/file name)."
)
@click.option("--quote", default="USD", show_default=True, help="Quote currency of the prices.")
@click.option(
    "--source", default="import", show_default=True, help="Source label stored with rows."
)
@db_option
def import_file(
    file: Path,
    kind: str,
    series: str | None,
    asset: str | None,
    quote: str,
    source: str,
    db_url: str | None,
) -> None:
    """Import daily prices, BTC dominance or a macro series from a CSV FILE.

    Accepted: date + dominance; date + btc_market_cap + total_market_cap; date + close (optional
    open/high/low/volume/market_cap); CoinGecko's export snapped_at,price,market_cap,total_volume;
    FRED downloads (observation_date,ID or DATE,VALUE) as fred:ID; MOVE.csv (Yahoo's ^MOVE
    layout or Date,Value) as index:MOVE. Blank and "." values are missing, not zero.
    Re-importing replaces a day.
    """
    from rotator.adapters.sources.csv_import import import_csv
    from rotator.adapters.storage.db import open_engine
    from rotator.adapters.storage.market import save_bars, save_dominance, save_macro

    imported = import_csv(
        file,
        kind=kind,
        asset=asset.upper() if asset else None,
        quote=quote,
        source=source,
        series=series,
    )
    engine = open_engine(db_url)
    save_bars(engine, imported.bars)
    save_dominance(engine, imported.dominance)
    save_macro(engine, imported.macro)
    for warning in imported.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"imported {imported.description} from {file} into {_safe_url(engine)}")


@click.command()
@config_option("portfolio.yaml: its rule set says which series to fetch, its accounts where.")
@rules_option("Fetch the inputs of this rule-set file instead of the portfolio's.")
@click.option("--account", default=None, help="Exchange account for candles (default: the first).")
@click.option(
    "--market", "markets", multiple=True, help="Market to fetch, e.g. BTC/USDT (repeatable)."
)
@click.option(
    "--since", default=None, metavar="DATE", help="Backfill start when nothing is stored yet."
)
@click.option("--ohlcv/--no-ohlcv", default=True, help="Fetch daily candles from the exchange.")
@click.option("--dominance/--no-dominance", default=True, help="Record today's BTC dominance.")
@click.option(
    "--dominance-method",
    type=click.Choice(["global", "markets"]),
    default="global",
    show_default=True,
    help="CoinGecko /global, or computed from /coins/markets market caps.",
)
@click.option("--coingecko-url", default=None, help="CoinGecko API base URL (tests, proxies).")
@click.option(
    "--coingecko-key-env",
    default="COINGECKO_API_KEY",
    show_default=True,
    help="NAME of the env variable holding a CoinGecko key (optional).",
)
@click.option(
    "--coingecko-plan", type=click.Choice(["demo", "pro"]), default="demo", show_default=True
)
@click.option("--fred-url", default=None, help="FRED API base URL.")
@click.option(
    "--fred-key-env",
    default="FRED_API_KEY",
    show_default=True,
    help="NAME of the env variable with a FRED key.",
)
@click.option(
    "--fiscaldata-url",
    default=None,
    help="Treasury Fiscal Data API base URL (buyback operations; no key needed).",
)
@db_option
def fetch(
    config_path: Path | None,
    rules_path: Path | None,
    account: str | None,
    markets: tuple[str, ...],
    since: str | None,
    ohlcv: bool,
    dominance: bool,
    dominance_method: str,
    coingecko_url: str | None,
    coingecko_key_env: str,
    coingecko_plan: str,
    fred_url: str | None,
    fred_key_env: str,
    fiscaldata_url: str | None,
    db_url: str | None,
) -> None:
    """Backfill/update the series the rule set reads: candles, BTC dominance, FRED, buybacks.

    Candles come from an exchange account of portfolio.yaml through the read-only adapter
    (public endpoints, no keys needed), from --since (default: about 4 years back) the first
    time, then only the days since the newest stored one. Dominance is today's value from
    CoinGecko (its history endpoint is paid-only: your daily record is the history). FRED
    series (fred:ID) come from the FRED API with the key in the variable named by
    --fred-key-env; Treasury buyback operations (treasury:buybacks) from Fiscal Data. The MOVE
    index (index:MOVE) has no free API: import its CSV with `rotator history import`.
    Exit code 3 when a source failed (the others are still saved).
    """
    from rotator.adapters.storage.db import open_engine
    from rotator.core.history import parse_series_name

    ruleset, note = choose_ruleset(rules_path, config_path)
    click.echo(note)
    engine = open_engine(db_url)
    today = today_utc()
    start = parse_as_of(since)
    environ = dict(os.environ)
    failures: list[str] = []
    parsed = [p for p in (parse_series_name(n) for n in ruleset.inputs()) if p is not None]
    assets = list(dict.fromkeys(p.markets[0].split("/")[0] for p in parsed if p.markets))
    if ohlcv and (assets or markets):
        accounts = _exchange_accounts(config_path)
        failures += _fetch_candles(engine, accounts, account, assets, markets, start, today)
    if dominance and any(p.field == "dominance" for p in parsed):
        failures += _fetch_dominance(
            engine, environ, dominance_method, coingecko_url, coingecko_key_env, coingecko_plan
        )
    macro = [p.name for p in parsed if p.field == "macro"]
    fred_series = [n.split(":", 1)[1].upper() for n in macro if n.startswith("fred:")]
    if fred_series:
        failures += _fetch_fred(engine, environ, fred_series, fred_url, fred_key_env, start, today)
    if any(n.startswith("treasury:") for n in macro):
        failures += _fetch_buybacks(engine, fiscaldata_url, start, today)
    for name in (n for n in macro if n.startswith("index:")):
        click.echo(f"{name}: no free API; import a CSV with `rotator history import FILE.csv`")
    for failure in failures:
        click.echo(f"failed: {failure}", err=True)
    if failures:
        raise SystemExit(int(ExitCode.INCOMPLETE))


def _exchange_accounts(config_path: Path | None) -> tuple[ExchangeAccount, ...]:
    from rotator.config.portfolio import default_config_path, load_portfolio

    path = config_path or default_config_path()
    if not path.exists():
        return ()
    return load_portfolio(path).accounts


def _fetch_candles(
    engine: Engine,
    accounts: tuple[ExchangeAccount, ...],
    account_name: str | None,
    assets: list[str],
    markets: tuple[str, ...],
    start: date | None,
    today: date,
) -> list[str]:
    chosen = [a for a in accounts if account_name in (None, a.name)]
    if not chosen:
        where = f"no account named {account_name!r}" if account_name else "no exchange account"
        return [f"candles: {where} in portfolio.yaml to fetch them from"]
    public = chosen[0]
    return asyncio.run(_candles_async(engine, public, assets, markets, start, today))


async def _candles_async(
    engine: Engine,
    account: ExchangeAccount,
    assets: list[str],
    markets: tuple[str, ...],
    start: date | None,
    today: date,
) -> list[str]:
    from rich.progress import Progress

    from rotator.adapters.exchanges import open_readonly_exchange
    from rotator.adapters.sources.ohlcv import default_since, fetch_daily_bars, pick_market
    from rotator.adapters.storage.market import last_day, save_bars
    from rotator.core.history import USD_QUOTES

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
        with Progress(transient=True) as progress:
            for symbol in symbols:
                stored = last_day(engine, exchange.id, symbol)
                # Re-fetch the newest stored day: it may have been saved from a partial view.
                begin = stored or start or default_since(today)
                task = progress.add_task(
                    f"{exchange.id} {symbol}", total=max((today - begin).days, 1)
                )
                try:
                    bars = await fetch_daily_bars(
                        exchange,
                        symbol,
                        begin,
                        today,
                        progress=lambda n, t=task: progress.advance(t, n),
                    )
                except Exception as exc:
                    failures.append(f"{account.name} {symbol}: {type(exc).__name__}: {exc}")
                    continue
                save_bars(engine, bars)
                span = f" ({bars[0].day} to {bars[-1].day})" if bars else ""
                click.echo(f"{exchange.id} {symbol}: {len(bars)} daily closes saved{span}")
    finally:
        await exchange.close()
    return failures


def _fetch_dominance(
    engine: Engine,
    environ: dict[str, str],
    method: str,
    url: str | None,
    key_env: str,
    plan: str,
) -> list[str]:
    from rotator.adapters.sources.coingecko import coingecko_client, fetch_dominance
    from rotator.adapters.sources.http import SourceError
    from rotator.adapters.storage.market import save_dominance

    try:
        with coingecko_client(environ, base_url=url, key_env=key_env, plan=plan) as client:
            observation = fetch_dominance(client, datetime.now(UTC), method)
    except SourceError as exc:
        return [str(exc)]
    save_dominance(engine, [observation])
    click.echo(
        f"{observation.source}: BTC dominance {observation.dominance_pct:.2f}% on {observation.day}"
    )
    return []


def _fetch_fred(
    engine: Engine,
    environ: dict[str, str],
    series: list[str],
    url: str | None,
    key_env: str,
    start: date | None,
    today: date,
) -> list[str]:
    from rotator.adapters.sources.fred import fetch_series, fred_client
    from rotator.adapters.sources.http import SourceError
    from rotator.adapters.storage.market import save_macro

    key = environ.get(key_env)
    if not key:
        return [f"FRED: set {key_env} to a FRED API key to fetch {', '.join(series)}"]
    failures = []
    begin = start or today - timedelta(days=800)
    with fred_client(environ, base_url=url) as client:
        for name in series:
            try:
                observations = fetch_series(client, name, key, begin)
            except SourceError as exc:
                failures.append(str(exc))
                continue
            save_macro(engine, observations)
            click.echo(f"FRED {name}: {len(observations)} observations saved")
    return failures


def _fetch_buybacks(engine: Engine, url: str | None, start: date | None, today: date) -> list[str]:
    from rotator.adapters.sources.fiscaldata import (
        BUYBACKS_SERIES,
        FiscalDataSettings,
        daily_accepted,
        fetch_buyback_operations,
        fiscaldata_client,
    )
    from rotator.adapters.sources.http import SourceError
    from rotator.adapters.storage.market import last_macro_day, save_macro
    from rotator.core.history import macro_key

    settings = FiscalDataSettings(**({"base_url": url} if url else {}))
    stored = last_macro_day(engine, macro_key(BUYBACKS_SERIES))
    # Re-read a week before the newest stored day: results posted late replace their 0.
    begin = start or (stored - timedelta(days=7) if stored else today - timedelta(days=800))
    try:
        with fiscaldata_client(settings) as client:
            operations = fetch_buyback_operations(client, begin, settings)
    except SourceError as exc:
        return [str(exc)]
    observations = daily_accepted(operations, begin, today)
    save_macro(engine, observations)
    done = sum(1 for o in operations if o.total_par_amt_accepted is not None)
    click.echo(
        f"Fiscal Data buybacks: {done} operations with results, "
        f"{len(observations)} days of {BUYBACKS_SERIES} saved from {begin}"
    )
    return []
