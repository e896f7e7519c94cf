"""A new user's first hour through the real command line: one meaning for `targets:` beside
`rules:`, bad database URLs, read-only commands that create nothing, and the demo's own store."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from rotator.cli.app import cli
from rotator.config.portfolio import load_portfolio
from rotator.config.ruleset import load_portfolio_ruleset

REPO = Path(__file__).resolve().parents[1]

PORTFOLIO = """\
base_currency: USD
accounts: []
wallets:
  - name: cold
    holdings: {BTC: 1}
targets: {BTC: 0.6, ETH: 0.25, USDT: 0.15}
rules: RULES
"""

RULES = """\
rules:
  up: {kind: prior_high_break, asset: BTC, level: 50000, confirm_closes: 1, max_age: 2}
regimes:
  - name: ride
    when: up
    targets: {BTC: 0.9, CASH: 0.1}
  - name: wait
    targets: {BTC: 0.5, CASH: 0.5}
"""


def _files(tmp_path: Path, *, targets: bool = True) -> Path:
    (tmp_path / "set.yaml").write_text(RULES)
    text = PORTFOLIO.replace("RULES", "set.yaml")
    if not targets:
        text = text.replace("targets: {BTC: 0.6, ETH: 0.25, USDT: 0.15}\n", "")
    config = tmp_path / "portfolio.yaml"
    config.write_text(text)
    return config


def test_targets_beside_rules_are_the_default_regimes_targets(tmp_path: Path) -> None:
    ruleset = load_portfolio_ruleset(load_portfolio(_files(tmp_path)))
    assert ruleset is not None
    ride, wait = ruleset.regimes
    assert {a: float(w) for a, w in ride.targets.items()} == {"BTC": 0.9, "CASH": 0.1}
    assert {a: float(w) for a, w in wait.targets.items()} == {"BTC": 0.6, "ETH": 0.25, "USDT": 0.15}


def test_targets_without_beside_rules_leave_the_rule_sets_own(tmp_path: Path) -> None:
    ruleset = load_portfolio_ruleset(load_portfolio(_files(tmp_path, targets=False)))
    assert ruleset is not None
    assert {a: float(w) for a, w in ruleset.regimes[-1].targets.items()} == {
        "BTC": 0.5,
        "CASH": 0.5,
    }


def test_check_says_which_targets_apply(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["check", "--config", str(_files(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "regimes ride, wait" in result.output
    assert "targets: BTC 60.0%, ETH 25.0%, CASH 15.0%: the default regime wait's targets" in (
        result.output
    )
    static = tmp_path / "static.yaml"
    static.write_text("accounts: []\ntargets: {BTC: 1}\n")
    result = CliRunner().invoke(cli, ["check", "--config", str(static)])
    assert "targets: BTC 100.0% (static: no `rules:`, used on every run)" in result.output


def test_plan_falls_back_to_portfolio_targets_when_no_regime_fires(tmp_path: Path) -> None:
    # No market history: the rule is unknown, so the default regime (portfolio.yaml's targets).
    config = _files(tmp_path)
    result = CliRunner().invoke(
        cli, ["plan", "--config", str(config), "--no-save", "--format", "json", "--explain"]
    )
    assert result.exit_code in (0, 3), result.output
    assert '"regime": "wait"' in result.output
    assert '"asset": "ETH",' in result.output and '"target": "0.25"' in result.output


def test_check_never_says_valid_before_failing_on_a_bad_rule_set(tmp_path: Path) -> None:
    config = _files(tmp_path)
    (tmp_path / "set.yaml").write_text(RULES.replace("kind: prior_high_break", "kind: nope"))
    result = CliRunner().invoke(cli, ["check", "--config", str(config)])
    assert result.exit_code == 2
    assert ": valid (" not in result.output
    assert "set.yaml" in result.output and "nope" in result.output


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("/tmp/runs.sqlite3", "is not a database URL"),
        ("mysql://user@localhost/rotator", "needs the Python driver of 'mysql'"),
        ("foo://somewhere", "names an unknown database kind 'foo'"),
    ],
)
@pytest.mark.parametrize("how", ["--db", "ROTATOR_DB_URL"])
def test_a_bad_database_url_is_a_usage_error_naming_its_origin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, says: str, how: str
) -> None:
    args = ["history", "list"]
    if how == "--db":
        args += ["--db", value]
    else:
        monkeypatch.setenv("ROTATOR_DB_URL", value)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"error: {how}: the value {says}")
    assert "sqlite:///" in lines[0] and "postgresql+psycopg://" in lines[0]


def test_a_database_password_is_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROTATOR_DB_URL", "mysql://user:s3cr3t-pw@localhost/rotator")
    result = CliRunner().invoke(cli, ["plan", "--demo", "--no-save"])
    assert result.exit_code == 0 or "s3cr3t" not in result.output
    result = CliRunner().invoke(cli, ["history", "list", "--db", "foo://u:s3cr3t-pw@h/d"])
    assert result.exit_code == 2
    assert "s3cr3t" not in result.output


def test_history_list_on_a_mistyped_path_creates_nothing(tmp_path: Path) -> None:
    typo = tmp_path / "no-such-folder" / "runs.sqlite3"
    for command in (["list"], ["show", "1"], ["diff", "1", "2"]):
        result = CliRunner().invoke(cli, ["history", *command, "--db", f"sqlite:///{typo}"])
        assert result.exit_code == 2, result.output
        assert f"--db: no database file at {typo}" in result.output
    assert not (tmp_path / "no-such-folder").exists()


def test_history_list_before_any_run_creates_no_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["history", "list"])
    assert result.exit_code == 0, result.output
    assert "no runs stored yet" in result.output
    assert not (tmp_path / "data").exists()


def test_plan_demo_never_writes_to_the_users_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = tmp_path / "mine.sqlite3"
    monkeypatch.setenv("ROTATOR_DB_URL", f"sqlite:///{users}")
    result = CliRunner().invoke(cli, ["plan", "--demo", "--no-save", "--format", "json"])
    assert result.exit_code in (0, 3), result.output
    assert not users.exists()
    # --no-save writes nothing anywhere: no demo store left in the data dir either.
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").iterdir())

    # A saved demo run goes to the demo's own store, still not to ROTATOR_DB_URL.
    result = CliRunner().invoke(cli, ["plan", "--demo", "--format", "json"])
    assert result.exit_code in (0, 3), result.output
    assert not users.exists()
    with sqlite3.connect(tmp_path / "data" / "demo.sqlite3") as conn:
        assert conn.execute("SELECT count(*) FROM runs").fetchone() == (1,)


def test_signals_demo_and_plan_demo_use_one_rule_set_and_agree_on_the_regime() -> None:
    signals = CliRunner().invoke(cli, ["signals", "--demo", "--no-save", "--format", "json"])
    plan = CliRunner().invoke(cli, ["plan", "--demo", "--no-save", "--format", "json"])
    assert signals.exit_code == 0, signals.output
    assert plan.exit_code in (0, 3), plan.output
    said = json.loads(signals.stdout)
    planned = json.loads(plan.stdout)
    assert said["ruleset"].endswith("cycle_revenue.yaml")
    assert planned["details"]["ruleset"] == said["ruleset"]
    assert said["regime"] == planned["regime"] == "rotate"
    # One regime, two baskets behind it: `signals` reads no account, so it cannot know which
    # tokens your exchanges list; `plan` keeps only those, weighted anew. Signals says so.
    basket = next(r for r in said["rules"] if r["rule"] == "revenue_basket")
    assert basket["inputs"]["tradability"] == "not checked"
    assert (
        "(tradability not checked: no account read; `rotator plan` keeps only the tokens with a "
        "market on your accounts and weighs those anew, so its basket can differ or be empty)"
    ) in basket["reason"]
    signalled = {m["symbol"] for m in basket["inputs"]["basket"]}
    (planned_basket,) = planned["details"]["baskets"]
    tradable = {m["symbol"]: m["tradable_on"] for m in planned_basket["members"]}
    assert set(tradable) == {"KNC", "LRC", "TRX"} and all(tradable.values())
    assert set(tradable) < signalled  # GMX, MKR, AAVE pass but no demo account lists them
    assert sum(Decimal(m["basket_weight"]) for m in planned_basket["members"]) == 1


def test_schedule_refuses_cron_and_systemd_together(tmp_path: Path) -> None:
    config = tmp_path / "static.yaml"
    config.write_text("accounts: []\ntargets: {BTC: 1}\n")
    both = CliRunner().invoke(cli, ["schedule", "--cron", "--systemd", "--config", str(config)])
    assert both.exit_code == 2
    assert "choose one of --cron or --systemd, not both" in both.output
    assert "crontab" not in both.output and "[Timer]" not in both.output
    neither = CliRunner().invoke(cli, ["schedule", "--config", str(config)])
    assert neither.exit_code == 2 and "choose one of --cron or --systemd" in neither.output
    one = CliRunner().invoke(cli, ["schedule", "--systemd", "--config", str(config)])
    assert one.exit_code == 0 and "[Timer]" in one.output


def test_plan_output_file_is_confirmed_on_stderr(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    result = CliRunner().invoke(
        cli, ["plan", "--demo", "--no-save", "--format", "json", "--output", str(target)]
    )
    assert result.exit_code in (0, 3), result.output
    assert result.stdout == ""
    assert f"plan (json) written to {target}" in result.stderr
    assert json.loads(target.read_text())["dry_run"] is True


def test_backtest_notes_go_to_stderr(tmp_path: Path) -> None:
    # SOL has no close before 2020 in the bundled history: the replay notes it.
    rules = tmp_path / "sol.yaml"
    rules.write_text(RULES.replace("{BTC: 0.5, CASH: 0.5}", "{BTC: 0.5, SOL: 0.3, CASH: 0.2}"))
    args = ["backtest", "--demo", "--rules", str(rules), "--from", "2019-06-01"]
    result = CliRunner().invoke(cli, [*args, "--to", "2019-07-01"])
    assert result.exit_code == 0, result.output
    assert "note: SOL has no close" in result.stderr
    assert f"rule set {rules.name}" in result.stderr  # outside the working folder: its name
    assert "note:" not in result.stdout
    assert result.stdout.lstrip().startswith("Backtest 2019-06-01"), result.stdout


def test_json_numbers_and_times_take_one_form_in_plan_and_history() -> None:
    plan = CliRunner().invoke(cli, ["plan", "--demo", "--format", "json"])
    assert plan.exit_code in (0, 3), plan.output
    planned = json.loads(plan.stdout)
    listed = CliRunner().invoke(cli, ["history", "list", "--demo", "--format", "json"])
    shown = CliRunner().invoke(cli, ["history", "show", "1", "--demo", "--format", "json"])
    [run] = json.loads(listed.stdout)
    stored = json.loads(shown.stdout)
    # Money and amounts: decimal strings in plain notation, the same text everywhere.
    assert isinstance(planned["total_value"], str)
    assert run["total_value"] == planned["total_value"] == stored["run"]["total_value"]
    assert not planned["total_value"].endswith("0")
    # Times: ISO 8601 in UTC.
    for moment in (planned["as_of"], run["as_of"], *(r["read_at"] for r in planned["onchain"])):
        parsed = datetime.fromisoformat(moment)
        assert parsed.utcoffset() == timedelta(0), moment
    assert planned["onchain"]


def test_demo_report_ages_are_never_negative_and_the_demo_names_its_dates(
    tmp_path: Path,
) -> None:
    result = CliRunner().invoke(cli, ["report", "--demo", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "demo: holdings and prices as recorded for late November 2025" in result.stderr
    assert "history as of 2021-05-20" in result.stderr
    markdown = next((tmp_path / "out").glob("report-*.md")).read_text()
    basket = next(line for line in markdown.splitlines() if line.startswith("| revenue_basket"))
    assert basket.endswith("| 0 d old |"), basket
    ages = re.findall(r"\| (-?\d+) d old \|", markdown)
    assert ages and all(int(age) >= 0 for age in ages), ages
    assert "rule set rules/cycle_revenue.yaml" in markdown or "cycle_revenue.yaml (shipped)" in (
        markdown
    )
    assert "/cycle_revenue.yaml, evaluated" not in markdown.replace("rules/cycle_revenue", "")
