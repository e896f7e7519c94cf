"""Stored runs for `rotator history list | show | diff`: rich tables and JSON. Pure formatting.

The renderers take the run store's records by shape (the protocols below), so this module
needs nothing from the store itself; the JSON forms are the records made plain by the same
conversion the store uses (rotator.core.jsonable), the plan's rule reports and baskets under
`details` as `plan --format json` shows them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rotator.core.dominance_proxy import is_proxy
from rotator.core.jsonable import plain_decimal, to_jsonable
from rotator.core.models import Plan, ValuedHolding
from rotator.reports.plan import details_to_dict, holding_row, render_table


class RunSummaryLike(Protocol):
    """One line of run history (the store's `RunSummary`)."""

    @property
    def id(self) -> int: ...
    @property
    def as_of(self) -> datetime: ...
    @property
    def kind(self) -> str: ...
    @property
    def base_currency(self) -> str: ...
    @property
    def total_value(self) -> Decimal | None: ...
    @property
    def complete(self) -> bool: ...
    @property
    def regime(self) -> str | None: ...
    @property
    def order_count(self) -> int: ...


class StoredRunLike(Protocol):
    """A run read back from the store (the store's `StoredRun`)."""

    @property
    def id(self) -> int: ...
    @property
    def summary(self) -> RunSummaryLike: ...
    @property
    def plan(self) -> Plan: ...
    @property
    def holdings(self) -> tuple[ValuedHolding, ...]: ...


def money(value: Decimal | None) -> str:
    """1234.5 -> '1,234.50'; None -> 'unknown'."""
    return "unknown" if value is None else f"{value:,.2f}"


def console() -> Console:
    """The console the history commands print to (wide enough for the holdings table)."""
    return Console(width=140)


def print_market_history(rows: Sequence[tuple[str, str, int, date, date]], out: Console) -> None:
    """The stored market history by series and source (a proxy source is named as one)."""
    table = Table(title="Market history (by source)")
    for column, justify in (
        ("series", "left"),
        ("source", "left"),
        ("days", "right"),
        ("first", "left"),
        ("last", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for series, source, days, first, last in rows:
        shown = f"{source} (PROXY)" if is_proxy(source) else source
        table.add_row(escape(series), escape(shown), str(days), str(first), str(last))
    out.print(table)


def print_runs(found: Sequence[RunSummaryLike], out: Console) -> None:
    """The run list, newest first: date, kind, value, regime, number of orders, completeness."""
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
            f"{money(run.total_value)} {run.base_currency}",
            run.regime or "-",
            str(run.order_count),
            "yes" if run.complete else "NO",
        )
    out.print(table)


def print_run(stored: StoredRunLike, out: Console) -> None:
    """One stored run: its headline, then the plan: holdings read, allocation, orders, reasons."""
    plan = stored.plan
    s = stored.summary
    out.print(
        f"[bold]Run #{s.id}[/bold] {s.kind} as of {s.as_of:%Y-%m-%d %H:%M} UTC, "
        f"{'complete' if s.complete else '[red]INCOMPLETE[/red]'}"
    )
    # The plan carries every holding read (with price and value): render_table lists them.
    render_table(plan, out, explain=True)


def diff_rows(a: StoredRunLike, b: StoredRunLike) -> list[dict[str, Any]]:
    """Per asset: amount and weight in run A and run B, and the change."""

    def amounts(run: StoredRunLike) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for h in run.holdings:
            out[h.holding.asset] = out.get(h.holding.asset, Decimal(0)) + h.holding.total
        return out

    def weights(run: StoredRunLike) -> dict[str, Decimal]:
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


def value_change(a: StoredRunLike, b: StoredRunLike) -> Decimal | None:
    """Run B's total value minus run A's; None when either is unknown."""
    va, vb = a.summary.total_value, b.summary.total_value
    return None if va is None or vb is None else vb - va


def print_diff(
    a: StoredRunLike, b: StoredRunLike, rows: Sequence[dict[str, Any]], out: Console
) -> None:
    """Two runs side by side: value, regime and order count, then amounts and weights per asset."""
    va, vb = a.summary.total_value, b.summary.total_value
    change = value_change(a, b)
    base = b.summary.base_currency
    out.print(
        f"Run #{a.id} ({a.summary.as_of:%Y-%m-%d %H:%M}) -> #{b.id} "
        f"({b.summary.as_of:%Y-%m-%d %H:%M})\n"
        f"value {money(va)} -> {money(vb)} {base}"
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
    out.print(table)


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else plain_decimal(value)


def runs_json(found: Sequence[RunSummaryLike]) -> Any:
    """`history list --format json`: the run summaries, newest first."""
    return to_jsonable(found)


def plan_json(plan: Plan) -> dict[str, Any]:
    """A stored plan as JSON: its fields, with the rule reports and baskets under `details`."""
    records = {"rules", "baskets", "prices"}
    data = {
        f.name: to_jsonable(getattr(plan, f.name)) for f in fields(plan) if f.name not in records
    }
    data["holdings"] = [holding_row(h) for h in plan.holdings]  # as `plan --format json`
    return {**data, "details": to_jsonable(details_to_dict(plan))}


def run_json(stored: StoredRunLike) -> dict[str, Any]:
    """`history show --format json`: the run, its valued holdings and its plan."""
    return {
        "run": to_jsonable(stored.summary),
        "holdings": [
            {**to_jsonable(h.holding), "price": to_jsonable(h.price), "value": _dec(h.value)}
            for h in stored.holdings
        ],
        "plan": plan_json(stored.plan),
    }


def diff_json(
    a: StoredRunLike, b: StoredRunLike, rows: Sequence[dict[str, Any]], change: Decimal | None
) -> dict[str, Any]:
    """`history diff --format json`: both runs, the value change and the per-asset rows."""
    return {
        "a": to_jsonable(a.summary),
        "b": to_jsonable(b.summary),
        "value_change": _dec(change),
        "assets": to_jsonable(rows),
    }
