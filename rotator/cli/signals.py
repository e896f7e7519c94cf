"""`rotator signals`: every rule's value, key inputs, data date and freshness, and the regime."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from rotator.cli.options import (
    as_of_option,
    config_option,
    db_option,
    demo_option,
    format_option,
    no_save_option,
    parse_as_of,
    rules_option,
    today_utc,
)
from rotator.cli.session import open_session
from rotator.pipeline.rules import run_rules
from rotator.reports.plan import rules_to_dict


@click.command()
@config_option
@rules_option
@as_of_option
@format_option("table", "json")
@demo_option
@no_save_option
@db_option
def signals(
    config_path: Path | None,
    rules_path: Path | None,
    as_of: str | None,
    output_format: str,
    demo: bool,
    no_save: bool,
    db_url: str | None,
) -> None:
    """Evaluate the rule set: each rule's value (true/false/unknown), inputs and freshness.

    Rules read the market history store; fill it with `rotator history fetch` or
    `rotator history import`. A rule whose data is missing or stale is "unknown" and no regime
    fires on it.
    """
    with open_session(demo=demo, config_path=config_path, db_url=db_url) as s:
        ruleset, note = s.ruleset(rules_path)
        day = parse_as_of(as_of) or s.rules_as_of or today_utc()
        outcome = run_rules(ruleset, s.engine(), day, save=not no_save)
    report: dict[str, Any] = {
        **rules_to_dict(outcome.report),
        "regime": outcome.choice.regime,
        "targets": {a: str(w) for a, w in outcome.choice.targets.weights.items()},
        "explanation": list(outcome.choice.explanation),
        "note": note,
    }
    if output_format == "json":
        click.echo(json.dumps(report, indent=2))
        return
    render_signals(report)


def _freshness(row: dict[str, Any]) -> str:
    age = row["age_days"]
    if age is None:
        return "-"
    return "today" if age == 0 else f"{age} d old"


def _key_inputs(inputs: dict[str, Any]) -> str:
    shown = [f"{k} {v}" for k, v in inputs.items() if k != "level_source"][:4]
    return "\n".join(shown)


def render_signals(report: dict[str, Any]) -> None:
    """Print the signals table, the regime and the explanation (rich)."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[dim]{report['note']}[/dim]")
    table = Table(title=f"Signals as of {report['rules_as_of']}", show_lines=False)
    for column in ("rule", "value", "key inputs", "data as of", "freshness"):
        table.add_column(column, overflow="fold")
    colours = {"true": "green", "false": "red", "unknown": "yellow"}
    for row in report["rules"]:
        value = f"[{colours[row['value']]}]{row['value']}[/]"
        table.add_row(
            f"{row['rule']}\n[dim]{row['kind']}[/dim]",
            value,
            _key_inputs(row["inputs"]),
            row["data_as_of"] or "-",
            _freshness(row),
        )
    console.print(table)
    for row in report["rules"]:
        console.print(
            f"  [bold]{row['rule']}[/bold] ({row['value']}): {row['reason']}", highlight=False
        )
    targets = ", ".join(f"{a} {float(w):.0%}" for a, w in report["targets"].items())
    console.print(f"\n[bold]regime: {report['regime']}[/bold]  targets: {targets}")
    for line in report["explanation"]:
        console.print(f"  {line}", highlight=False, markup=False)
