"""`rotator signals` output: every rule's value, key inputs, data date and freshness, the regime.

Formats the signals report (the rules' evaluations, the chosen regime, its targets and the
explanation) as a rich table; the JSON form is the same mapping dumped as it is. The command
prints its note (which rule set, evaluated on what) on stderr, apart from the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from rotator.core.jsonable import plain_decimal
from rotator.reports.escape import SafeConsole


def _freshness(row: Mapping[str, Any]) -> str:
    age = row["age_days"]
    if age is None:
        return "-"
    return "today" if age == 0 else f"{age} d old"


def _key_inputs(inputs: Mapping[str, Any]) -> str:
    hidden = ("level_source", "data", "source")
    shown = [f"{k} {for_people(v)}" for k, v in inputs.items() if k not in hidden][:4]
    return "\n".join(shown)


def _is_member(value: Any) -> bool:
    return isinstance(value, Mapping) and "symbol" in value and "weight" in value


def _is_token(value: Any) -> bool:
    return isinstance(value, Mapping) and "symbol" in value and "gecko_id" in value


def for_people(value: Any) -> str:
    """A rule's input as a person reads it, never Python's repr: a basket as its members and
    weights (`VELO 35.0%, GMX 17.2%`), tokens left out as `VELO (velo)` (the reason is the
    rule's), other mappings as `key value` pairs, lists joined by commas, numbers in plain
    notation, true/false, and "-" for a missing value."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return "-"
        return plain_decimal(number) if number.is_finite() else "-"
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {for_people(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        if value and all(_is_member(v) for v in value):
            return ", ".join(f"{v['symbol']} {_share(v['weight'])}" for v in value)
        if value and all(_is_token(v) for v in value):
            return ", ".join(f"{v['symbol']} ({v['gecko_id']})" for v in value)
        sep = "; " if any(isinstance(v, Mapping) for v in value) else ", "
        return sep.join(for_people(v) for v in value) or "-"
    return str(value)


def _share(weight: Any) -> str:
    try:
        return f"{Decimal(str(weight)):.1%}"
    except (InvalidOperation, ValueError):
        return for_people(weight)


def _data_dates(row: Mapping[str, Any]) -> str:
    """The data date; for macro rules each series' reference date, publication day and lag."""
    notes = row["inputs"].get("data")
    if not notes:
        return row["data_as_of"] or "-"
    return "\n".join([notes] if isinstance(notes, str) else notes)


def render_signals(report: Mapping[str, Any], console: Console | None = None) -> None:
    """Print the signals table, the regime and the explanation (rich): the result alone."""
    console = console or SafeConsole()
    if report.get("history_note"):
        console.print(Text(report["history_note"], style="bold yellow"), soft_wrap=True)
    table = Table(title=f"Signals as of {report['rules_as_of']}", show_lines=False)
    for column in ("rule", "value", "key inputs", "data as of (publication lag)", "freshness"):
        table.add_column(column, overflow="fold")
    colours = {"true": "green", "false": "red", "unknown": "yellow"}
    for row in report["rules"]:
        value = Text(row["value"], style=colours.get(row["value"], ""))
        table.add_row(
            Text.assemble(row["rule"], "\n", (row["kind"], "dim")),
            value,
            _key_inputs(row["inputs"]),
            _data_dates(row),
            _freshness(row),
        )
    console.print(table)
    for row in report["rules"]:
        console.print(
            Text.assemble("  ", (row["rule"], "bold"), f" ({row['value']}): {row['reason']}"),
            highlight=False,
        )
    targets = ", ".join(f"{a} {float(w):.0%}" for a, w in report["targets"].items())
    held = " (held by hysteresis)" if report.get("regime_held_by_hysteresis") else ""
    console.print(
        Text.assemble("\n", (f"regime: {report['regime']}{held}", "bold"), f"  targets: {targets}")
    )
    for line in report["explanation"]:
        console.print(f"  {line}", highlight=False, markup=False)
