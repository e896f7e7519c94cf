"""`rotator history fetch` and `rotator history import`: fill the market-history store."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC
from functools import partial
from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress

from rotator.cli.options import (
    config_option,
    db_option,
    fiscaldata_url_option,
    now_option,
    parse_as_of,
    rules_option,
)
from rotator.cli.output import echo
from rotator.cli.session import open_session
from rotator.core.history import DOMINANCE, parse_series_name
from rotator.errors import ExitCode
from rotator.pipeline.backfill import (
    fetch_buybacks,
    fetch_dominance_today,
    fetch_prices,
    import_csv_file,
)
from rotator.pipeline.coverage import history_coverage
from rotator.pipeline.history_fetch import (
    SourceSettings,
    fetch_dominance,
    fetch_fred_series,
    fetch_yahoo_indexes,
)
from rotator.pipeline.store import safe_url


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
    with open_session(db_url=db_url) as session:
        engine = session.engine()
        what, warnings = import_csv_file(
            engine,
            file,
            kind=kind,
            series=series,
            asset=asset,
            quote=quote,
            source=source,
            recorded_at=session.now(),
        )
        for warning in warnings:
            echo(f"warning: {warning}", err=True)
        echo(f"imported {what} from {file} into {safe_url(engine)}", err=True)


@click.command()
@config_option
@rules_option
@click.option("--account", default=None, help="Exchange account for candles (default: the first).")
@click.option(
    "--market", "markets", multiple=True, help="Market to fetch, e.g. BTC/USDT (repeatable)."
)
@click.option(
    "--since",
    default=None,
    metavar="DATE",
    help="Backfill start when nothing is stored yet (default: the rules' longest lookback).",
)
@click.option("--ohlcv/--no-ohlcv", default=True, help="Fetch daily candles from the exchanges.")
@click.option("--dominance/--no-dominance", default=True, help="Fetch BTC dominance history.")
@click.option(
    "--dominance-method",
    type=click.Choice(["auto", "proxy", "livecoinwatch", "global", "markets"]),
    default="auto",
    show_default=True,
    help="auto: LiveCoinWatch history when its key is set, else the top-N market-cap proxy "
    "from CoinGecko; global/markets: today's value only (CoinGecko /global or /coins/markets).",
)
@click.option(
    "--proxy-coins",
    type=click.IntRange(2, 50),
    default=10,
    show_default=True,
    help="N of the dominance proxy: BTC's share of the top-N market caps.",
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
@click.option(
    "--livecoinwatch-key-env",
    default="LIVECOINWATCH_API_KEY",
    show_default=True,
    help="NAME of the env variable holding a (free) LiveCoinWatch key: real dominance history.",
)
@click.option("--livecoinwatch-url", default=None, help="LiveCoinWatch API base URL.")
@click.option("--yahoo-url", default=None, help="Yahoo Finance chart API base URL (MOVE).")
@click.option("--fred-url", default=None, help="FRED API base URL.")
@click.option("--fredgraph-url", default=None, help="FRED CSV download base URL (no key).")
@click.option(
    "--fred-key-env",
    default="FRED_API_KEY",
    show_default=True,
    help="NAME of the env variable with a FRED key (optional: without one, fredgraph.csv).",
)
@click.option(
    "--retries",
    type=click.IntRange(0, 10),
    default=3,
    show_default=True,
    help="Further attempts per HTTP call on network errors, 429 and 5xx.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 300),
    default=20.0,
    show_default=True,
    help="Seconds per HTTP call.",
)
@fiscaldata_url_option
@db_option
@now_option
def fetch(
    config_path: Path | None,
    rules_path: Path | None,
    account: str | None,
    markets: tuple[str, ...],
    since: str | None,
    ohlcv: bool,
    dominance: bool,
    dominance_method: str,
    proxy_coins: int,
    coingecko_url: str | None,
    coingecko_key_env: str,
    coingecko_plan: str,
    livecoinwatch_key_env: str,
    livecoinwatch_url: str | None,
    yahoo_url: str | None,
    fred_url: str | None,
    fredgraph_url: str | None,
    fred_key_env: str,
    retries: int,
    timeout: float,
    fiscaldata_url: str | None,
    db_url: str | None,
    now_text: str | None,
) -> None:
    """Fill every series the rule set reads, with history, from free sources (keys optional).

    How far back: the longest lookback the rules declare (`rotator check` shows it), or
    --since; later runs fetch only the days since the newest stored one.

    \b
    - prices: daily candles of portfolio.yaml's exchange accounts (public endpoints, no keys),
      the next account's exchange when the first has too little history, then CoinGecko;
    - BTC dominance: LiveCoinWatch history with a free key (LIVECOINWATCH_API_KEY), or
      CoinGecko's paid market-cap chart (--coingecko-plan pro and a key), else a PROXY, BTC's
      share of the top-N market caps from CoinGecko (365 days, no key);
    - FRED series (fred:ID): the FRED API with FRED_API_KEY, else fredgraph.csv (no key);
    - the MOVE index (index:MOVE): Yahoo Finance's chart API (^MOVE), no key;
    - Treasury buybacks (treasury:buybacks): Fiscal Data, no key.

    A progress bar per series goes to stderr when it is a terminal. Exit code 3 when a source
    failed, naming what is missing (the other sources are still saved).
    """
    with open_session(config_path=config_path, db_url=db_url, now_text=now_text) as session:
        ruleset, note = session.ruleset(rules_path)
        # Every line this command prints is a message (what was saved, what is missing): stderr.
        say = partial(echo, err=True)
        say(note)
        engine = session.engine()
        now = session.now()
        today = now.astimezone(UTC).date()
        start = parse_as_of(since)
        environ = session.environ
        config = session.settings
        sources = SourceSettings(
            clock=session.clock,
            coingecko_url=coingecko_url or config.coingecko_url,
            coingecko_key_env=coingecko_key_env,
            coingecko_plan=coingecko_plan,
            coingecko_per_minute=config.coingecko_per_minute,
            livecoinwatch_url=livecoinwatch_url or config.livecoinwatch_url,
            livecoinwatch_key_env=livecoinwatch_key_env,
            yahoo_url=yahoo_url or config.yahoo_url,
            fred_url=fred_url or config.fred_url,
            fredgraph_url=fredgraph_url or config.fredgraph_url,
            fred_key_env=fred_key_env,
            proxy_coins=proxy_coins,
            retries=retries,
            timeout=timeout,
        )
        needed = ruleset.lookbacks()
        failures: list[str] = []
        parsed = [p for p in (parse_series_name(n) for n in needed) if p is not None]
        accounts = session.portfolio.accounts if session.has_portfolio else ()
        progress = Progress(
            console=Console(stderr=True), disable=not sys.stderr.isatty(), transient=False
        )
        with progress:

            def track(label: str, total: int) -> Callable[[int], None]:
                task = progress.add_task(label, total=total)
                return lambda n: progress.advance(task, n)

            if ohlcv:
                failures += fetch_prices(
                    engine, accounts, say, track, environ, sources,
                    account, markets, needed, start, today,
                )  # fmt: skip
            if dominance and any(p.field == "dominance" for p in parsed):
                days = max(v for k, v in needed.items() if k == DOMINANCE)
                if dominance_method in ("global", "markets"):
                    failures += fetch_dominance_today(
                        engine,
                        say,
                        environ,
                        dominance_method,
                        sources.coingecko_url,
                        coingecko_key_env,
                        coingecko_plan,
                        clock=session.clock.frozen_at(now),
                    )
                elif dominance_method == "livecoinwatch" and not environ.get(livecoinwatch_key_env):
                    failures.append(f"btc_dominance: set {livecoinwatch_key_env} (a free key)")
                else:
                    env = environ
                    if dominance_method == "proxy":
                        env = {k: v for k, v in environ.items() if k != livecoinwatch_key_env}
                    failures += fetch_dominance(engine, say, track, env, sources, days, today)
            macro = [p.name for p in parsed if p.field == "macro"]
            fred_series = [n.split(":", 1)[1].upper() for n in macro if n.startswith("fred:")]
            if fred_series:
                failures += fetch_fred_series(
                    engine, say, track, environ, sources, fred_series, needed, start, today
                )
            if any(n.startswith("treasury:") for n in macro):
                failures += fetch_buybacks(
                    engine, say, fiscaldata_url, start, today, session.clock, sources
                )
            indexes = [n for n in macro if n.startswith("index:")]
            if indexes:
                failures += fetch_yahoo_indexes(engine, say, track, sources, indexes, needed, today)
        coverage = history_coverage(engine, ruleset, today)
    for line in coverage:
        if not line.ok:
            echo(f"note: {line.describe()}", err=True)
    for failure in failures:
        echo(f"failed: {failure}", err=True)
    if failures:
        lacking = ", ".join(f"{c.series} ({c.status})" for c in coverage if not c.ok)
        echo(f"missing after this fetch: {lacking or 'nothing the rules need'}", err=True)
        raise SystemExit(int(ExitCode.INCOMPLETE))
