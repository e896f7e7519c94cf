"""`rotator signals`: every rule's value, key inputs, data date and freshness, and the regime."""

from __future__ import annotations

from datetime import UTC
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
)
from rotator.cli.output import echo
from rotator.cli.session import open_session
from rotator.pipeline.rules import LoadContext, run_rules
from rotator.reports.json_document import render_document
from rotator.reports.plan import rules_to_dict
from rotator.reports.signals import render_signals


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
    with open_session(demo=demo, config_path=config_path, db_url=db_url, no_save=no_save) as s:
        ruleset, note = s.plan_ruleset(rules_path)
        day = parse_as_of(as_of) or s.rules_as_of or s.now().astimezone(UTC).date()
        # The evaluations are stored, unless --no-save: the database is then only read, never
        # created (none yet reads as an empty store).
        engine = s.existing_engine(missing_file_ok=True) if no_save else s.engine()
        # Today's signals read datasets (the revenue screen) as `plan` reads them, so a regime
        # that depends on a basket is chosen here as it is there; a past day (--as-of) reads
        # the screen stored on or before it, never today's answer. The sources' cache is in
        # the database: not with --no-save (as `plan`, which caches nothing).
        context = None
        if ruleset.dataset_inputs() and as_of is None:
            context = LoadContext(
                environ=s.environ,
                settings=s.settings,
                clock=s.clock,
                engine=None if no_save else engine,
            )
        save_at = None if no_save else s.now()
        outcome = run_rules(ruleset, engine, day, save_at=save_at, context=context)
    report: dict[str, Any] = {
        **rules_to_dict(outcome.report),
        "regime": outcome.choice.regime,
        "regime_held_by_hysteresis": outcome.choice.held,
        "targets": {a: str(w) for a, w in outcome.choice.targets.weights.items()},
        "explanation": list(outcome.choice.explanation),
        "note": note,
    }
    if output_format == "json":
        click.echo(render_document(report))  # the note is in the document
        return
    # The note is a message: stderr, so stdout is the table alone.
    echo(note, err=True)
    render_signals(report)
