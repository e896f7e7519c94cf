"""What the commands print, through the real CLI: the result alone on stdout, every note and
confirmation on stderr (docs/output-formats.md); a rule set named by its label, never a long
absolute path; rule inputs and missing dates written for people, never as Python's repr."""

from __future__ import annotations

from click.testing import CliRunner, Result

from rotator.cli.app import cli


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def test_demo_help_says_only_db_moves_the_demo_database() -> None:
    shown = run("plan", "--help")
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.stdout.split())  # as wrapped for the terminal
    demo = text[text.index("--demo") : text.index("--format")]
    assert "unless --db names one; $ROTATOR_DB_URL is ignored" in demo, demo
    assert "--db or $ROTATOR_DB_URL" not in demo
