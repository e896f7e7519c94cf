"""A run writes its database once, at the end, and only when saving (stage 6 of the run).

Counted in the real SQLite files the demo uses: `plan --demo --no-save` leaves every table as it
was (and creates no user database); a saved run stores each rule evaluation exactly once, linked
to the run, in the same shape as `rotator signals` stores one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine, func, inspect, select, text

from rotator.adapters.storage.market import load_evaluations
from rotator.cli.app import cli
from rotator.config.env import settings
from rotator.pipeline.store import demo_engine as open_demo

LOADED_AT = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)  # when the bundled history is stored


def demo_engine() -> Engine:
    return open_demo(settings().demo_db_url, LOADED_AT)


def table_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(text(name))).scalar_one()
            for name in inspect(engine).get_table_names()
        }


def test_demo_plan_without_saving_writes_nothing(isolated_dirs: Path) -> None:
    engine = demo_engine()  # the demo's bundled history, loaded once before the run
    before = table_counts(engine)
    assert before["rule_evaluations"] == 0 and before["runs"] == 0

    done = CliRunner().invoke(cli, ["plan", "--demo", "--no-save", "--format", "json"])

    assert done.exit_code == 0, done.output
    assert len(json.loads(done.stdout)["details"]["rules"]) == 5  # the rules did run
    assert table_counts(engine) == before
    assert not (isolated_dirs / "data" / "rotator.sqlite3").exists()


def test_saved_run_stores_each_rule_evaluation_once_in_one_shape(isolated_dirs: Path) -> None:
    done = CliRunner().invoke(cli, ["plan", "--demo", "--format", "json"])
    assert done.exit_code == 0, done.output
    rules = json.loads(done.stdout)["details"]["rules"]

    engine = demo_engine()
    stored = load_evaluations(engine)
    assert table_counts(engine)["runs"] == 1
    assert sorted(e.rule for e in stored) == sorted(r["name"] for r in rules)
    assert {e.run_id for e in stored} == {"1"}
    assert [(e.rule, e.kind, e.value, e.reason) for e in stored] == [
        (r["name"], r["kind"], r["value"], r["reason"]) for r in rules
    ]

    # `rotator signals` stores a standalone evaluation (no run) of the same rule set (the demo
    # plan's) in the same shape: the rule's inputs plus its data date.
    signals = CliRunner().invoke(cli, ["signals", "--demo", "--format", "json"])
    assert signals.exit_code == 0, signals.output
    alone = {e.rule: e for e in load_evaluations(engine) if e.run_id is None}
    common = [e for e in stored if e.rule in alone]
    assert len(common) == len(stored) == 5
    for with_run in common:
        standalone = alone[with_run.rule]
        assert with_run.kind == standalone.kind
        assert with_run.inputs["data_as_of"] == standalone.inputs["data_as_of"]
