"""`rotator history list | show RUN | diff A B`: past runs from the run history store."""

from __future__ import annotations

import click

from rotator.cli.options import db_option, demo_option, format_option
from rotator.cli.session import open_session
from rotator.pipeline import store
from rotator.pipeline.coverage import stored_series
from rotator.pipeline.store import Engine, StoredRun, load_run
from rotator.reports.json_document import render_document
from rotator.reports.runs import (
    console,
    diff_json,
    diff_rows,
    print_diff,
    print_market_history,
    print_run,
    print_runs,
    run_json,
    runs_json,
    value_change,
)


def _engine(db_url: str | None, demo: bool) -> Engine | None:
    """The session's database, open until the command ends; never created here (None: the
    default database does not exist yet; a mistyped --db / ROTATOR_DB_URL path: exit 2)."""
    session = click.get_current_context().with_resource(open_session(demo=demo, db_url=db_url))
    return session.existing_engine()


def _existing(db_url: str | None, demo: bool) -> Engine:
    engine = _engine(db_url, demo)
    if engine is None:
        raise click.BadParameter(
            "no runs stored yet (no database): `rotator plan` and `rotator report` store every run"
        )
    return engine


def _load(engine: Engine, run_id: int) -> StoredRun:
    stored = load_run(engine, run_id)
    if stored is None:
        raise click.BadParameter(f"no stored run with id {run_id} (see `rotator history list`)")
    return stored


@click.command("list")
@click.option("--limit", type=click.IntRange(min=1), default=30, show_default=True)
@db_option
@demo_option
@format_option("table", "json")
def list_runs(limit: int, db_url: str | None, demo: bool, output_format: str) -> None:
    """List stored runs, newest first: date, value, regime, number of orders."""
    engine = _engine(db_url, demo)
    found = [] if engine is None else store.list_runs(engine, limit=limit)
    if output_format == "json":
        click.echo(render_document(runs_json(found)))
        return
    if not found:
        # A note, not a result: nothing on stdout when there is no run to list.
        click.echo(
            "no runs stored yet: `rotator plan` and `rotator report` store every run", err=True
        )
    else:
        print_runs(found, console())
    market = [] if engine is None else stored_series(engine)
    if market:
        print_market_history(market, console())


@click.command("show")
@click.argument("run_id", type=int)
@db_option
@demo_option
@format_option("table", "json")
def show_run(run_id: int, db_url: str | None, demo: bool, output_format: str) -> None:
    """Show one stored run: holdings per account, allocation, orders and problems."""
    stored = _load(_existing(db_url, demo), run_id)
    if output_format == "json":
        click.echo(render_document(run_json(stored)))
        return
    print_run(stored, console())


@click.command("diff")
@click.argument("run_a", type=int)
@click.argument("run_b", type=int)
@db_option
@demo_option
@format_option("table", "json")
def diff_runs(run_a: int, run_b: int, db_url: str | None, demo: bool, output_format: str) -> None:
    """Compare two stored runs: holdings (amounts) and weights per asset, value and regime."""
    engine = _existing(db_url, demo)
    a, b = _load(engine, run_a), _load(engine, run_b)
    rows = diff_rows(a, b)
    change = value_change(a, b)
    if output_format == "json":
        click.echo(render_document(diff_json(a, b, rows, change)))
        return
    print_diff(a, b, rows, console())
