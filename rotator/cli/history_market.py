"""`rotator history fetch` and `rotator history import`: fill the market-history store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from pathlib import Path

import click
from rich.progress import Progress

from rotator.cli.options import (
    config_option,
    db_option,
    fiscaldata_url_option,
    parse_as_of,
    rules_option,
)
from rotator.cli.session import open_session
from rotator.core.history import parse_series_name
from rotator.errors import ExitCode
from rotator.pipeline.backfill import (
    fetch_buybacks,
    fetch_candles,
    fetch_dominance_today,
    fetch_fred,
    import_csv_file,
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
            engine, file, kind=kind, series=series, asset=asset, quote=quote, source=source
        )
        for warning in warnings:
            click.echo(f"warning: {warning}", err=True)
        click.echo(f"imported {what} from {file} into {safe_url(engine)}")


@click.command()
@config_option
@rules_option
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
@fiscaldata_url_option
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
    with open_session(config_path=config_path, db_url=db_url) as session:
        ruleset, note = session.ruleset(rules_path)
        click.echo(note)
        engine = session.engine()
        now = session.now()
        today = now.astimezone(UTC).date()
        start = parse_as_of(since)
        environ = session.environ
        failures: list[str] = []
        series = ruleset.series_inputs()
        parsed = [p for p in (parse_series_name(n) for n in series) if p is not None]
        assets = list(dict.fromkeys(p.markets[0].split("/")[0] for p in parsed if p.markets))
        if ohlcv and (assets or markets):
            accounts = session.portfolio.accounts if session.has_portfolio else ()
            with Progress(transient=True) as progress:

                def track(label: str, total: int) -> Callable[[int], None]:
                    task = progress.add_task(label, total=total)
                    return lambda n: progress.advance(task, n)

                failures += fetch_candles(
                    engine, accounts, click.echo, track, account, assets, markets, start, today
                )
        if dominance and any(p.field == "dominance" for p in parsed):
            failures += fetch_dominance_today(
                engine,
                click.echo,
                environ,
                dominance_method,
                coingecko_url or session.settings.coingecko_url,
                coingecko_key_env,
                coingecko_plan,
                received=now,
            )
        macro = [p.name for p in parsed if p.field == "macro"]
        fred_series = [n.split(":", 1)[1].upper() for n in macro if n.startswith("fred:")]
        if fred_series:
            failures += fetch_fred(
                engine,
                click.echo,
                environ,
                fred_series,
                fred_url or session.settings.fred_url,
                fred_key_env,
                start,
                today,
            )
        if any(n.startswith("treasury:") for n in macro):
            failures += fetch_buybacks(engine, click.echo, fiscaldata_url, start, today)
        for name in (n for n in macro if n.startswith("index:")):
            click.echo(f"{name}: no free API; import a CSV with `rotator history import FILE.csv`")
    for failure in failures:
        click.echo(f"failed: {failure}", err=True)
    if failures:
        raise SystemExit(int(ExitCode.INCOMPLETE))
