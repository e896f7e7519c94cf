"""`rotator history list | show RUN | diff A B`: past runs from the run history store."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING

import click

from rotator.reports.runs import console, diff_rows, print_diff, print_run, print_runs, value_change

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from rotator.adapters.storage.run_queries import StoredRun

db_option = click.option(
    "--db", "db_url", default=None, help="SQLAlchemy URL (default: $ROTATOR_DB_URL)."
)
demo_option = click.option("--demo", is_flag=True, help="Use the demo database (report --demo).")
format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)


def _engine(db_url: str | None, demo: bool) -> Engine:
    from rotator.adapters.storage.db import default_db_url, open_engine
    from rotator.config.paths import data_dir

    if db_url is None and demo:
        from rotator.cli.report import DEMO_DB

        db_url = f"sqlite:///{data_dir() / DEMO_DB}"
    return open_engine(db_url or default_db_url())


def _load(engine: Engine, run_id: int) -> StoredRun:
    from rotator.adapters.storage.run_queries import load_run

    stored = load_run(engine, run_id)
    if stored is None:
        raise click.BadParameter(f"no stored run with id {run_id} (see `rotator history list`)")
    return stored


@click.command("list")
@click.option("--limit", type=click.IntRange(min=1), default=30, show_default=True)
@db_option
@demo_option
@format_option
def list_runs(limit: int, db_url: str | None, demo: bool, output_format: str) -> None:
    """List stored runs, newest first: date, value, regime, number of orders."""
    from rotator.adapters.storage import run_queries, runs

    engine = _engine(db_url, demo)
    found = run_queries.list_runs(engine, limit=limit)
    if output_format == "json":
        click.echo(json.dumps(runs.to_jsonable(found), indent=2))
        return
    if not found:
        click.echo("no runs stored yet: `rotator plan` and `rotator report` store every run")
        return
    print_runs(found, console())


@click.command("show")
@click.argument("run_id", type=int)
@db_option
@demo_option
@format_option
def show_run(run_id: int, db_url: str | None, demo: bool, output_format: str) -> None:
    """Show one stored run: holdings per account, allocation, orders and problems."""
    from rotator.adapters.storage.runs import to_jsonable
    from rotator.reports.plan import holding_row

    stored = _load(_engine(db_url, demo), run_id)
    plan = stored.plan
    if output_format == "json":
        data = {
            "run": to_jsonable(stored.summary),
            "holdings": [
                {**to_jsonable(h.holding), "price": to_jsonable(h.price), "value": _dec(h.value)}
                for h in stored.holdings
            ],
            "plan": {**to_jsonable(plan), "holdings": [holding_row(h) for h in plan.holdings]},
        }
        click.echo(json.dumps(data, indent=2))
        return
    print_run(stored, console())


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


@click.command("diff")
@click.argument("run_a", type=int)
@click.argument("run_b", type=int)
@db_option
@demo_option
@format_option
def diff_runs(run_a: int, run_b: int, db_url: str | None, demo: bool, output_format: str) -> None:
    """Compare two stored runs: holdings (amounts) and weights per asset, value and regime."""
    from rotator.adapters.storage.runs import to_jsonable

    engine = _engine(db_url, demo)
    a, b = _load(engine, run_a), _load(engine, run_b)
    rows = diff_rows(a, b)
    change = value_change(a, b)
    if output_format == "json":
        data = {
            "a": to_jsonable(a.summary),
            "b": to_jsonable(b.summary),
            "value_change": _dec(change),
            "assets": to_jsonable(rows),
        }
        click.echo(json.dumps(data, indent=2))
        return
    print_diff(a, b, rows, console())
