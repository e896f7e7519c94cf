"""The revenue screen's outcome -> table (rich), JSON and CSV. Pure formatting.

JSON rows and CSV carry the same columns (FIELDS); JSON adds the basket, the fee entries with
no token and the problems around them. The table shows the figures a person decides on, the
basket and, for every token that fails, why.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from rotator.core.jsonable import iso_utc
from rotator.core.screen.basket import to_basket
from rotator.errors import Problem
from rotator.reports.escape import SafeConsole, csv_row
from rotator.reports.json_document import render_document

if TYPE_CHECKING:
    from rotator.core.screen.screening import ScreenOutcome

# Columns of JSON rows and CSV, in order: identity, figures, verdict.
FIELDS = (
    "rank", "gecko_id", "symbol", "name", "protocols", "holders_revenue_30d",
    "holders_revenue_annual", "revenue_30d", "market_cap", "fdv", "volume_24h", "revenue_yield",
    "trend_30d", "trend_90d", "staking_apy", "emission_share", "fdv_ratio", "supply_growth",
    "net_yield", "chain", "tradable_on", "passed", "in_basket", "weight", "reasons",
)  # fmt: skip


def _value(value: Any) -> Any:
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return round(value, 6)
    if hasattr(value, "item"):  # numpy scalars
        return _value(value.item())
    return value


def rows(outcome: ScreenOutcome) -> list[dict[str, Any]]:
    """The screen's table as JSON-friendly rows with FIELDS (NaN as null)."""
    table = outcome.table.rename(columns={"holders_30d": "holders_revenue_30d"})
    out = []
    for record in table.to_dict(orient="records"):
        row = {f: _value(record.get(f)) for f in FIELDS}
        row["rank"] = None if row["rank"] is None else int(row["rank"])
        out.append(row)
    return out


def render_screen(
    outcome: ScreenOutcome,
    fmt: str,
    rule: str,
    now: datetime,
    account_problems: Sequence[Problem],
) -> str:
    """The screen as text in `fmt` ("csv", "json" or "table", the table without colours)."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(csv_row(row) for row in rows(outcome))
        return buffer.getvalue()
    table = outcome.table
    basket = to_basket(table) if table["in_basket"].any() else {}
    document = {
        "rule": rule,
        "as_of": iso_utc(now),
        "basket": dict(basket.items()),
        "candidates": rows(outcome),
        "unmapped": list(outcome.unmapped),
        "problems": [
            {"severity": p.severity.value, "subject": p.subject, "message": p.message}
            for p in (*outcome.problems, *account_problems)
        ],
    }
    text = render_document(document) + "\n"
    if fmt == "json":
        return text
    console = SafeConsole(file=io.StringIO(), width=200, record=True)
    print_screen(outcome, rule, now, account_problems, console)
    return console.export_text()


def _pct(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float) and math.isinf(value):
        return "new"
    return f"{value:.0%}" if abs(value) >= 0.1 else f"{value:.1%}"


def _usd(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            scaled = value / size
            return f"{scaled:,.0f}{unit}" if abs(scaled) >= 100 else f"{scaled:.1f}{unit}"
    return f"{value:,.0f}"


def print_screen(
    outcome: ScreenOutcome,
    rule: str,
    now: datetime,
    account_problems: Sequence[Problem],
    console: Console | None = None,
) -> None:
    """Print the screen for a person: figures per token, the basket, and why tokens fail."""
    console = console or SafeConsole()
    table = Table(title=f"Revenue screen ({rule}) as of {now:%Y-%m-%d %H:%M} UTC", box=None)
    for header in ("#", "token", "rev/yr", "mcap", "yield", "30d", "90d", "emis.", "FDV",
                   "supply", "accts", "basket"):  # fmt: skip
        left = header in ("token", "basket")
        table.add_column(
            header, overflow="fold", justify="left" if left else "right", no_wrap=not left
        )
    row: Any  # a row of the screen table: its columns are known at run time only
    for row in outcome.table.itertuples():
        verdict = (
            Text(f"{row.weight:.0%}", style="green") if row.in_basket
            else Text("pass", style="green") if row.passed
            else Text("fail", style="red")
        )  # fmt: skip
        table.add_row(
            "" if math.isnan(row.rank) else str(int(row.rank)),
            row.symbol,
            _usd(row.holders_revenue_annual),
            _usd(row.market_cap),
            _pct(row.revenue_yield),
            _pct(row.trend_30d),
            _pct(row.trend_90d),
            _pct(row.emission_share),
            "-" if math.isnan(row.fdv_ratio) else f"{row.fdv_ratio:.1f}x",
            _pct(row.supply_growth),
            str(len(row.tradable_on.split(", "))) if row.tradable_on else "-",
            verdict,
        )
    console.print(table)
    members = outcome.table[outcome.table["in_basket"]]
    if len(members):
        shares = ", ".join(
            f"{r.symbol} ({r.gecko_id}) {r.weight:.1%}" for r in members.itertuples()
        )
        console.print(Text.assemble(("Basket", "bold"), f": {shares}"), highlight=False)
        for r in members.itertuples():
            console.print(f"  {r.symbol} trades on {r.tradable_on}", highlight=False)
    passed_out = outcome.table[outcome.table["passed"] & ~outcome.table["in_basket"]]
    if len(passed_out):
        names = ", ".join(passed_out["symbol"])
        console.print(f"Passed but beyond max_count: {names}", highlight=False)
    failed = outcome.table[~outcome.table["passed"]]
    if len(failed):
        console.print(Text("Why tokens fail", style="bold"))
        for row in failed.itertuples():
            console.print(f"  {row.symbol} ({row.gecko_id}): {row.reasons}", highlight=False)
    if outcome.unmapped:
        console.print(
            f"{len(outcome.unmapped)} fee entries have no token (no gecko_id on the protocol or "
            f"its parent): {', '.join(outcome.unmapped)}"
        )
    for problem in (*outcome.problems, *account_problems):
        console.print(f"[{problem.severity.value}] {problem}")
