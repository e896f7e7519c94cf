"""What the commands print, through the real CLI: the result alone on stdout, every note and
confirmation on stderr (docs/output-formats.md); a rule set named by its label, never a long
absolute path; rule inputs and missing dates written for people, never as Python's repr."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner, Result

from rotator.cli.app import cli


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def test_signals_table_writes_the_basket_for_people() -> None:
    result = run("signals", "--demo", "--no-save")
    assert result.exit_code == 0, result.output
    # The basket input: each member and its weight, not a list of Python dicts.
    cells = " ".join(
        line.split("│")[3].strip() for line in result.stdout.splitlines() if line.count("│") > 4
    )
    # (which members depends on the bundled screen data, not on this rendering)
    assert re.search(r"basket (?:[A-Z0-9]+ \d+\.\d%, )+[A-Z0-9]+ \d+\.\d%", cells), cells
    for raw in ("{", "'symbol'", "None", "Decimal("):
        assert raw not in result.stdout, raw


def test_plan_explain_without_history_shows_no_none(tmp_path: Path) -> None:
    # A manual wallet only, the shipped rule set, an empty database: no rule has a data date.
    config = tmp_path / "portfolio.yaml"
    config.write_text(
        "base_currency: USD\naccounts: []\n"
        "wallets:\n  - name: cold\n    holdings: {BTC: 1}\n"
        "rules: cycle.yaml\n"
    )
    db = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    result = run("plan", "--config", str(config), "--db", db, "--no-save", "--explain")
    assert result.exit_code in (0, 3), result.output
    # The Rules table (inside the "Why these targets" panel): rule, value, reason, as of.
    row = next(line for line in result.stdout.splitlines() if "│ btc_above_prior_high " in line)
    assert row.rstrip(" │").endswith("│ -"), row
    assert "None" not in result.stdout


def test_demo_help_says_only_db_moves_the_demo_database() -> None:
    shown = run("plan", "--help")
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.stdout.split())  # as wrapped for the terminal
    demo = text[text.index("--demo") : text.index("--format")]
    assert "unless --db names one; $ROTATOR_DB_URL is ignored" in demo, demo
    assert "--db or $ROTATOR_DB_URL" not in demo
