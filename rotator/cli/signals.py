"""`rotator signals`: every rule's value, key inputs, data date and freshness, and the regime."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from rotator.cli.options import (
    choose_ruleset,
    config_option,
    db_option,
    parse_as_of,
    rules_option,
    today_utc,
)
from rotator.reports.signals import render_signals


@click.command()
@config_option("portfolio.yaml whose `rules:` to evaluate (default: ./portfolio.yaml).")
@rules_option("Evaluate this rule-set file instead of the portfolio's.")
@click.option("--as-of", "as_of", metavar="DATE", help="Evaluate on history as of DATE's close.")
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table")
@click.option("--demo", is_flag=True, help="Use the bundled 2013-2021 history (offline).")
@click.option("--no-save", is_flag=True, help="Do not store the evaluations.")
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
    from rotator.adapters.storage.db import open_engine
    from rotator.pipeline.rules import plan_details, run_rules

    day = parse_as_of(as_of)
    if demo:
        from rotator.config.ruleset import load_ruleset, shipped_ruleset
        from rotator.demo.history import DEMO_AS_OF, demo_engine

        engine = demo_engine()
        ruleset = load_ruleset(rules_path or shipped_ruleset("cycle.yaml"))
        note = f"demo: bundled 2013-2021 history, rule set {ruleset.name}"
        day = day or DEMO_AS_OF
    else:
        ruleset, note = choose_ruleset(rules_path, config_path)
        engine = open_engine(db_url)
        day = day or today_utc()
    outcome = run_rules(ruleset, engine, day, save=not no_save)
    report: dict[str, Any] = {
        **plan_details(outcome),
        "regime": outcome.choice.regime,
        "regime_held_by_hysteresis": outcome.choice.held,
        "targets": {a: str(w) for a, w in outcome.choice.targets.weights.items()},
        "explanation": list(outcome.choice.explanation),
        "note": note,
    }
    if output_format == "json":
        click.echo(json.dumps(report, indent=2))
        return
    render_signals(report)
