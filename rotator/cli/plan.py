"""`rotator plan`: holdings -> targets -> suggested dry-run orders (never executed)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import click

from rotator.cli.options import (
    as_of_option,
    config_option,
    db_option,
    demo_option,
    format_option,
    no_save_option,
    now_option,
    parse_as_of,
    quiet_option,
)
from rotator.cli.progress import show_progress
from rotator.cli.session import open_session
from rotator.errors import ExitCode
from rotator.redaction import install_logging
from rotator.reports.escape import SafeConsole
from rotator.reports.files import write_text_safely


@click.command()
@config_option
@demo_option
@format_option("table", "json", "csv")
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the plan to this file instead of the terminal.",
)
@click.option("--explain", is_flag=True, help="Show which targets were chosen and why.")
@as_of_option
@click.option("--regime", default=None, help="Use this regime of the rule set (skip conditions).")
@db_option
@no_save_option
@now_option
@quiet_option
def plan(
    config_path: Path | None,
    demo: bool,
    output_format: str,
    output: Path | None,
    explain: bool,
    as_of: str | None,
    regime: str | None,
    db_url: str | None,
    no_save: bool,
    now_text: str | None,
    quiet: bool,
) -> None:
    """Suggest rebalance orders. A dry-run list: rotator never places an order.

    Exit codes: 0 plan complete, 2 configuration error, 3 plan incomplete (an account or
    price could not be read; orders depending on it are withheld).
    """
    install_logging()
    rules_as_of = parse_as_of(as_of)
    with (
        open_session(
            demo=demo, config_path=config_path, db_url=db_url, now_text=now_text, no_save=no_save
        ) as s,
        # An exchange's retry waits are announced on a terminal (rotator.cli.progress).
        show_progress(quiet),
    ):
        portfolio = s.portfolio
        # The rules read their series from the session's database (the demo's: bundled history).
        # With --no-save it is only read: never created (none yet reads as an empty store).
        if no_save:
            engine = (
                s.existing_engine(missing_file_ok=True) if portfolio.rules is not None else None
            )
        else:
            engine = s.engine()
        # Imported once the configuration has loaded and the database has opened: a bad
        # configuration or a damaged database is reported without waiting for ccxt, pandas and
        # the solver to import (about a second and a half).
        from rotator.pipeline.run import run_plan
        from rotator.reports.plan import render_csv, render_json, render_table

        result = run_plan(
            portfolio,
            environ=s.environ,
            settings=s.settings,
            clock=s.clock,
            engine=engine,
            rules_as_of=rules_as_of or s.rules_as_of,
            force_regime=regime,
            market_cache=s.market_cache,
            # Every run is remembered unless told not to: in one transaction, at the end.
            save_to=None if no_save else engine,
        )
        hint = s.db_hint
        if s.dates_note:
            click.echo(s.dates_note, err=True)

    plan_ = result.plan
    if output_format == "json":
        text = render_json(plan_)
    elif output_format == "csv":
        text = render_csv(plan_)
    else:
        text = None
    if text is not None:
        if output:
            write_text_safely(output, text)
        else:
            click.echo(text, nl=False)
    elif output:
        buffer = io.StringIO()
        render_table(plan_, SafeConsole(file=buffer, width=160), explain=explain)
        write_text_safely(output, buffer.getvalue())
    else:
        render_table(plan_, SafeConsole(), explain=explain)
    if output:
        click.echo(f"plan ({output_format}) written to {output}", err=True)
    if result.run_id is not None:
        click.echo(
            f"saved as run #{result.run_id} (rotator history show {result.run_id}{hint})",
            err=True,
        )
    if not plan_.complete:
        click.echo(
            "plan incomplete: some accounts or prices could not be read; see above (exit 3)",
            err=True,
        )
        sys.exit(ExitCode.INCOMPLETE)
