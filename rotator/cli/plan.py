"""`rotator plan`: holdings -> targets -> suggested dry-run orders (never executed)."""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import click

from rotator.cli.options import config_option
from rotator.config.portfolio import default_config_path, load_portfolio
from rotator.errors import ExitCode
from rotator.redaction import install_logging


@click.command()
@config_option("portfolio.yaml to read (default: ./portfolio.yaml or $ROTATOR_CONFIG).")
@click.option(
    "--demo", is_flag=True, help="Run on bundled recorded exchange data: no keys, no network."
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the plan to this file instead of the terminal.",
)
@click.option("--explain", is_flag=True, help="Show which targets were chosen and why.")
@click.option(
    "--as-of", "as_of", metavar="DATE", help="Evaluate the rules on history as of DATE's close."
)
@click.option("--regime", default=None, help="Use this regime of the rule set (skip conditions).")
@click.option("--db", "db_url", default=None, metavar="URL", help="Market-history database URL.")
@click.option("--no-save", is_flag=True, help="Do not record this run in the database.")
@click.option("--now", "now_text", default=None, hidden=True, help="Clock override (tests).")
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
) -> None:
    """Suggest rebalance orders. A dry-run list: rotator never places an order.

    Exit codes: 0 plan complete, 2 configuration error, 3 plan incomplete (an account or
    price could not be read; orders depending on it are withheld).
    """
    install_logging()
    from rotator.cli.options import fixed_clock, parse_as_of
    from rotator.pipeline.run import run_plan
    from rotator.reports.plan import render_csv, render_json, render_table

    rules_as_of = parse_as_of(as_of)
    clock = fixed_clock(now_text) if now_text else (lambda: datetime.now(UTC))
    with ExitStack() as stack:
        engine = None
        if demo:
            from rotator.demo import demo_session
            from rotator.demo.history import DEMO_AS_OF, demo_engine

            portfolio, environ = stack.enter_context(demo_session())
            # The demo's rules read the bundled 2013-2021 history from the demo's own database
            # (or the one given by --db / ROTATOR_DB_URL, the history loaded into it).
            engine = demo_engine(db_url or os.environ.get("ROTATOR_DB_URL") or None)
            rules_as_of = rules_as_of or DEMO_AS_OF
        else:
            portfolio = load_portfolio(config_path or default_config_path())
            environ = dict(os.environ)
            if portfolio.rules is not None:
                from rotator.adapters.storage.db import open_engine

                engine = open_engine(db_url)
        result = run_plan(
            portfolio,
            environ=environ,
            now=clock,
            engine=engine,
            rules_as_of=rules_as_of,
            force_regime=regime,
            cache_markets=not demo,
        )
    run_id = None
    if not no_save:
        # Every run is remembered (demo runs in the demo's own database): snapshot, prices,
        # rule evaluations, plan and orders, in one transaction.
        from rotator.adapters.storage.db import open_engine
        from rotator.pipeline.run import store_run

        run_id = store_run(engine or open_engine(db_url), portfolio, result)

    plan_ = result.plan
    if output_format == "json":
        text = render_json(plan_)
    elif output_format == "csv":
        text = render_csv(plan_)
    else:
        text = None
    if text is not None:
        if output:
            output.write_text(text, encoding="utf-8")
        else:
            click.echo(text, nl=False)
    else:
        from rich.console import Console

        if output:
            with output.open("w", encoding="utf-8") as handle:
                render_table(plan_, Console(file=handle, width=160), explain=explain)
        else:
            render_table(plan_, Console(), explain=explain)
    if run_id is not None:
        in_demo_db = demo and not os.environ.get("ROTATOR_DB_URL")
        where = f" --db {db_url}" if db_url else (" --demo" if in_demo_db else "")
        click.echo(f"saved as run #{run_id} (rotator history show {run_id}{where})", err=True)
    if not plan_.complete:
        click.echo(
            "plan incomplete: some accounts or prices could not be read; see above (exit 3)",
            err=True,
        )
        sys.exit(ExitCode.INCOMPLETE)
