"""`rotator history list | show RUN | diff A B`: past runs from the run history store."""

from __future__ import annotations

import json
from dataclasses import fields
from decimal import Decimal
from typing import Any

import click

from rotator.cli.options import db_option, demo_option, format_option
from rotator.cli.session import open_session
from rotator.core.models import Plan
from rotator.pipeline import store
from rotator.pipeline.store import Engine, StoredRun, load_run, to_jsonable
from rotator.reports.plan import details_to_dict
from rotator.reports.runs import console, diff_rows, print_diff, print_run, print_runs, value_change


def _engine(db_url: str | None, demo: bool) -> Engine:
    """The session's database, open until the command ends."""
    session = click.get_current_context().with_resource(open_session(demo=demo, db_url=db_url))
    return session.engine()


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
    found = store.list_runs(engine, limit=limit)
    if output_format == "json":
        click.echo(json.dumps(to_jsonable(found), indent=2))
        return
    if not found:
        click.echo("no runs stored yet: `rotator plan` and `rotator report` store every run")
        return
    print_runs(found, console())


def plan_json(plan: Plan) -> dict[str, Any]:
    """A stored plan as JSON: its fields, with the rule reports and baskets under `details`."""
    records = {"rules", "baskets", "prices"}
    data = {
        f.name: to_jsonable(getattr(plan, f.name)) for f in fields(plan) if f.name not in records
    }
    return {**data, "details": to_jsonable(details_to_dict(plan))}


@click.command("show")
@click.argument("run_id", type=int)
@db_option
@demo_option
@format_option("table", "json")
def show_run(run_id: int, db_url: str | None, demo: bool, output_format: str) -> None:
    """Show one stored run: holdings per account, allocation, orders and problems."""
    stored = _load(_engine(db_url, demo), run_id)
    plan = stored.plan
    if output_format == "json":
        data = {
            "run": to_jsonable(stored.summary),
            "holdings": [
                {**to_jsonable(h.holding), "price": to_jsonable(h.price), "value": _dec(h.value)}
                for h in stored.holdings
            ],
            "plan": plan_json(plan),
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
@format_option("table", "json")
def diff_runs(run_a: int, run_b: int, db_url: str | None, demo: bool, output_format: str) -> None:
    """Compare two stored runs: holdings (amounts) and weights per asset, value and regime."""
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
