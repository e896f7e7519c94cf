"""What the commands print, through the real CLI: the result alone on stdout, every note and
confirmation on stderr (docs/output-formats.md); a rule set named by its label, never a long
absolute path; rule inputs and missing dates written for people, never as Python's repr."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner, Result

from rotator.cli.app import cli

REPO = Path(__file__).resolve().parents[1]
RULES_DIR = str(REPO / "rules")
# One month, few resamples: the replay and its bootstrap stay cheap.
BACKTEST = ("backtest", "--demo", "--from", "2021-04-01", "--to", "2021-05-01",
            "--bootstrap-samples", "100")  # fmt: skip
DEMO_NOTE = "demo: bundled 2013-2021 history, rule set cycle.yaml (shipped), demo rebalance policy"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def test_backtest_table_leaves_its_note_and_confirmation_to_stderr(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run(*BACKTEST, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout.lstrip().startswith("Backtest 2021-04-01 .. 2021-05-01"), result.stdout
    assert "demo:" not in result.stdout and "report written" not in result.stdout
    assert DEMO_NOTE in result.stderr
    assert f"report written to {out / 'backtest.html'}" in result.stderr
    assert RULES_DIR not in result.output
    # The page names the rule set as the daily report does.
    assert "<h1>Backtest: cycle.yaml (shipped)</h1>" in (out / "backtest.html").read_text()

    bare = run(*BACKTEST)
    assert bare.exit_code == 0, bare.output
    assert bare.stdout.lstrip().startswith("Backtest 2021-04-01"), bare.stdout
    assert DEMO_NOTE in bare.stderr and "demo:" not in bare.stdout


def test_backtest_json_is_the_document_alone(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run(*BACKTEST, "--format", "json", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["from"] == "2021-04-01"
    assert DEMO_NOTE in result.stderr
    assert f"report written to {out / 'backtest.html'}" in result.stderr


def test_sweep_leaves_its_note_and_warning_to_stderr(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("grid:\n  btc_above_prior_high.confirm_closes: [1, 5]\n")
    args = (*BACKTEST, "--sweep", str(sweep), "--workers", "1")
    table = run(*args)
    assert table.exit_code == 0, table.output
    assert table.stdout.lstrip().startswith("Sweep: 2 points"), table.stdout
    assert "demo:" not in table.stdout and "warning:" not in table.stdout
    assert DEMO_NOTE in table.stderr
    assert "warning: ranked on the whole period" in table.stderr
    as_json = run(*args, "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    assert len(json.loads(as_json.stdout)["points"]) == 2
    assert DEMO_NOTE in as_json.stderr and "warning: ranked" in as_json.stderr


def test_signals_table_names_the_rule_set_and_writes_the_basket_for_people() -> None:
    result = run("signals", "--demo", "--no-save")
    assert result.exit_code == 0, result.output
    assert "demo: rule set cycle_revenue.yaml (shipped)" in result.stderr
    assert "demo:" not in result.stdout
    assert RULES_DIR not in result.output
    assert result.stdout.lstrip().startswith("Signals as of 2021-05-20"), result.stdout
    # The basket input: each member and its weight, not a list of Python dicts.
    cells = " ".join(
        line.split("│")[3].strip() for line in result.stdout.splitlines() if line.count("│") > 4
    )
    # (which members depends on the bundled screen data, not on this rendering)
    assert re.search(r"basket (?:[A-Z0-9]+ \d+\.\d%, )+[A-Z0-9]+ \d+\.\d%", cells), cells
    # Tokens the screen left out by name (the reason is the rule's, below the table).
    if "left_out" in cells:
        assert "left_out VELO (" in cells, cells  # (a narrow table wraps the names)
        assert "gecko_id" not in cells
    # (a reason may quote YAML, `symbols: {gecko_id: CODE}`; a Python repr quotes its keys)
    for raw in ("{'", "[{", "'symbol'", "None", "Decimal("):
        assert raw not in result.stdout, raw


def test_history_import_and_list_confirm_on_stderr(tmp_path: Path) -> None:
    csv = tmp_path / "dominance.csv"
    csv.write_text("Date,value\n2021-01-01,70.1\n2021-01-02,70.3\n")
    db = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    empty = run("history", "list")  # no database yet
    assert empty.exit_code == 0, empty.output
    assert empty.stdout == "" and "no runs stored yet" in empty.stderr
    imported = run("history", "import", str(csv), "--kind", "dominance", "--db", db)
    assert imported.exit_code == 0, imported.output
    assert imported.stdout == ""
    assert "imported 2 days of BTC dominance" in imported.stderr


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
