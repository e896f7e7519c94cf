"""`rotator screen`: every candidate of the revenue screen with its figures, pass/fail and why.

Reads the `revenue_screen` rule of the portfolio's rule set (or the screen's defaults when the
rule set has none), fetches the screen's inputs (DefiLlama, CoinGecko; cached in the database)
and the accounts' markets (tradability), and prints the table, JSON or CSV. `--demo` runs
offline on bundled data and the demo accounts' markets.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from rotator.cli.options import (
    config_option,
    db_option,
    demo_option,
    format_option,
    no_save_option,
    now_option,
    quiet_option,
)
from rotator.cli.progress import show_progress
from rotator.cli.session import open_session
from rotator.errors import ExitCode, Severity
from rotator.pipeline.screen import run_screen, store_screen
from rotator.redaction import install_logging
from rotator.reports.files import write_text_safely
from rotator.reports.screen import print_screen, render_screen


@click.command()
@config_option
@demo_option
@format_option("table", "json", "csv")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None)
@click.option("--rule", "rule_name", default=None, help="Which revenue_screen rule to run.")
@click.option("--refresh", is_flag=True, help="Ignore cached DefiLlama/CoinGecko data.")
@no_save_option
@db_option
@now_option
@quiet_option
def screen(
    config_path: Path | None,
    demo: bool,
    output_format: str,
    output: Path | None,
    rule_name: str | None,
    refresh: bool,
    no_save: bool,
    db_url: str | None,
    now_text: str | None,
    quiet: bool,
) -> None:
    """Screen tokens for real, revenue-backed yield and show the basket it would build.

    Each complete result (basket, members, figures) is stored by day in the database, so
    `rotator signals --as-of` and `rotator backtest` use the basket known on a past day
    (`--no-save`: store nothing).

    Exit codes: 0 done, 2 configuration error, 3 a source could not be read or is stale (every
    token then fails, with the reason).
    """
    install_logging()
    with (
        open_session(demo=demo, config_path=config_path, db_url=db_url, now_text=now_text) as s,
        show_progress(quiet) as progress,
    ):
        clock = s.clock.frozen_at(s.now())  # one time for the whole screen
        now = clock.now()
        if s.dates_note:
            click.echo(s.dates_note, err=True)
        # Sources and accounts are read in one go: a pulsing bar, and each retry's wait.
        progress.step("screen: reading DefiLlama, CoinGecko and the accounts", None)
        done = run_screen(
            s.portfolio,
            rule_name=rule_name,
            environ=s.environ,
            settings=s.settings,
            clock=clock,
            # The source cache lives in the database, unless the settings keep it out (demo).
            engine=None if s.settings.screen_no_cache else s.engine(),
            refresh=refresh,
            market_cache=s.market_cache,
        )
        if not no_save:
            store_screen(s.engine(), done, now)
    outcome, name, account_problems = done.outcome, done.rule, list(done.account_problems)
    text = render_screen(outcome, output_format, name, now, account_problems)
    if output:
        write_text_safely(output, text)
        click.echo(f"screen ({output_format}) written to {output}", err=True)
    elif output_format == "table":
        print_screen(outcome, name, now, account_problems)
    else:
        click.echo(text, nl=False)
    if any(p.severity is Severity.ERROR for p in outcome.problems):
        click.echo("screen incomplete: a source could not be read or is stale (exit 3)", err=True)
        sys.exit(ExitCode.INCOMPLETE)
