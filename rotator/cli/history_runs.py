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


def _engine(db_url: str | None, demo: bool) -> Engine:
    """The session's database, open until the command ends."""
    session = click.get_current_context().with_resource(open_session(demo=demo, db_url=db_url))
    return session.engine()


def _load(engine: Engine, run_id: int) -> StoredRun:
    stored = load_run(engine, run_id)
    if stored is None:
        raise click.BadParameter(f"no stored run with id {run_id} (see `rotator history list`)")
    return stored


def _money(value: Decimal | None) -> str:
    return "unknown" if value is None else f"{value:,.2f}"


def _console() -> Any:
    from rich.console import Console

    return Console(width=140)


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
    from rich.table import Table

    table = Table(title=f"Runs (newest {len(found)})")
    for column, justify in (
        ("run", "right"),
        ("as of (UTC)", "left"),
        ("kind", "left"),
        ("value", "right"),
        ("regime", "left"),
        ("orders", "right"),
        ("complete", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for run in found:
        table.add_row(
            str(run.id),
            f"{run.as_of:%Y-%m-%d %H:%M}",
            run.kind,
            f"{_money(run.total_value)} {run.base_currency}",
            run.regime or "-",
            str(run.order_count),
            "yes" if run.complete else "NO",
        )
    _console().print(table)


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
    from rich.table import Table

    from rotator.reports.plan import render_table

    console = _console()
    s = stored.summary
    console.print(
        f"[bold]Run #{s.id}[/bold] {s.kind} as of {s.as_of:%Y-%m-%d %H:%M} UTC, "
        f"{'complete' if s.complete else '[red]INCOMPLETE[/red]'}"
    )
    table = Table(title=f"Holdings ({plan.base_currency})")
    for column, justify in (
        ("account", "left"),
        ("wallet", "left"),
        ("asset", "left"),
        ("amount", "right"),
        ("price", "right"),
        ("value", "right"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for h in stored.holdings:
        table.add_row(
            h.holding.account,
            h.holding.wallet.value,
            h.holding.asset,
            f"{h.holding.total.normalize():f}",
            "unpriced" if h.price is None else f"{h.price.in_base:,.6g}",
            _money(h.value),
        )
    console.print(table)
    render_table(plan, console, explain=True)


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def diff_rows(a: StoredRun, b: StoredRun) -> list[dict[str, Any]]:
    """Per asset: amount and weight in run A and run B, and the change."""

    def amounts(run: StoredRun) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for h in run.holdings:
            out[h.holding.asset] = out.get(h.holding.asset, Decimal(0)) + h.holding.total
        return out

    def weights(run: StoredRun) -> dict[str, Decimal]:
        return {row.asset: row.weight for row in run.plan.before}

    amount_a, amount_b = amounts(a), amounts(b)
    weight_a, weight_b = weights(a), weights(b)
    rows = []
    for asset in sorted(set(amount_a) | set(amount_b) | set(weight_a) | set(weight_b)):
        am_a, am_b = amount_a.get(asset), amount_b.get(asset)
        w_a, w_b = weight_a.get(asset), weight_b.get(asset)
        rows.append(
            {
                "asset": asset,
                "amount_a": am_a,
                "amount_b": am_b,
                "amount_change": (am_b or Decimal(0)) - (am_a or Decimal(0)),
                "weight_a": w_a,
                "weight_b": w_b,
                "weight_change_pp": ((w_b or Decimal(0)) - (w_a or Decimal(0))) * 100,
            }
        )
    return rows


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
    va, vb = a.summary.total_value, b.summary.total_value
    change = None if va is None or vb is None else vb - va
    if output_format == "json":
        data = {
            "a": to_jsonable(a.summary),
            "b": to_jsonable(b.summary),
            "value_change": _dec(change),
            "assets": to_jsonable(rows),
        }
        click.echo(json.dumps(data, indent=2))
        return
    from rich.table import Table

    console = _console()
    base = b.summary.base_currency
    console.print(
        f"Run #{a.id} ({a.summary.as_of:%Y-%m-%d %H:%M}) -> #{b.id} "
        f"({b.summary.as_of:%Y-%m-%d %H:%M})\n"
        f"value {_money(va)} -> {_money(vb)} {base}"
        + ("" if change is None else f" ({change:+,.2f})")
        + f"\nregime {a.summary.regime or '-'} -> {b.summary.regime or '-'}"
        + f"\norders {a.summary.order_count} -> {b.summary.order_count}"
    )
    table = Table(title="Holdings and weights")
    for column in ("asset", f"amount #{a.id}", f"amount #{b.id}", "change", "weight", "weight"):
        table.add_column(column, justify="left" if column == "asset" else "right")
    table.columns[4].header = f"weight #{a.id}"
    table.columns[5].header = f"weight #{b.id}"
    table.add_column("change", justify="right")

    def amount(value: Decimal | None) -> str:
        return "-" if value is None else f"{value.normalize():f}"

    def weight(value: Decimal | None) -> str:
        return "-" if value is None else f"{value:.1%}"

    for row in rows:
        table.add_row(
            row["asset"],
            amount(row["amount_a"]),
            amount(row["amount_b"]),
            f"{row['amount_change'].normalize():+f}",
            weight(row["weight_a"]),
            weight(row["weight_b"]),
            f"{row['weight_change_pp']:+.1f} pp",
        )
    console.print(table)
