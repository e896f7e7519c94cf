"""Rule-set files: shipped sets validate; broken ones fail with file, line, path and exit 2."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from click.testing import CliRunner

from rotator.cli.app import cli
from rotator.config.portfolio import load_portfolio
from rotator.config.ruleset import (
    load_portfolio_ruleset,
    load_ruleset,
    resolve_ruleset_path,
    shipped_ruleset,
)
from rotator.core.rules.registry import default_registry
from rotator.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "rules").glob("*.yaml"))

GOOD = """\
rules:
  up: {kind: prior_high_break, asset: BTC, level: 100}
  down: {kind: dominance, test: fallen_from_peak, window: 90, fallen_pp: 3}
  both: {kind: all, of: [up, down]}
regimes:
  - name: rotate
    when: both
    targets: {BTC: 0.5, ETH: 0.3, CASH: 0.2}
  - name: hold
    targets: {BTC: 1}
"""


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_rule_sets_validate(path: Path):
    ruleset = load_ruleset(path)
    assert ruleset.regimes[-1].when is None


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_rule_sets_are_the_rules_folder(path: Path, tmp_path: Path):
    # Installed (editable, as the tests run) rotator finds its shipped rule sets through
    # importlib.resources, and they are the files of rules/ themselves: there is one copy.
    assert shipped_ruleset(path.name).resolve() == path.resolve()
    # A portfolio.yaml naming rules/<set> with no such file next to it gets the shipped one.
    assert resolve_ruleset_path(f"rules/{path.name}", tmp_path).resolve() == path.resolve()
    assert not (ROOT / "rotator" / "rulesets").exists()


def test_repo_portfolio_uses_cycle_yaml():
    portfolio = load_portfolio(ROOT / "portfolio.yaml")
    ruleset = load_portfolio_ruleset(portfolio)
    assert ruleset is not None and ruleset.name.endswith("cycle.yaml")


BROKEN = [
    (
        GOOD.replace("kind: dominance", "kind: dominanse"),
        "rules.yaml:3: rules.down.kind: unknown rule kind 'dominanse'; known kinds:",
    ),
    (
        GOOD.replace("level: 100", "level: -5"),
        "rules.yaml:2: rules.up.level: Input should be greater than 0, got -5",
    ),
    (
        GOOD.replace("window: 90,", "window: 90, windw: 3,"),
        "rules.yaml:3: rules.down.windw: unknown parameter for this rule kind",
    ),
    (
        GOOD.replace("of: [up, down]", "of: [up, loop]").replace(
            "regimes:", "  loop: {kind: not, of: both}\nregimes:"
        ),
        "rules.yaml:4: rules.both: reference cycle: both -> loop -> both",
    ),
    (
        GOOD.replace("when: both", "when: {all: [both, nope]}"),
        "rules.yaml:7: regimes[0].when.all[1]: refers to 'nope', which is not a rule in this file",
    ),
    (
        GOOD.replace("ETH: 0.3", "ETH: 0.4"),
        "rules.yaml:8: regimes[0].targets: weights must sum to 1, got 1.1",
    ),
    (
        GOOD.replace("CASH: 0.2", "CASH: 20").replace("ETH: 0.3", "ETH: 0"),
        "regimes[0].targets.CASH: must be a fraction between 0 and 1, got 20 (did you mean 0.2?)",
    ),
    (
        GOOD.replace("    when: both\n", "    when: both\n    min_days: -3\n"),
        "regimes[0].min_days: expected whole days between 0 and 365, got -3",
    ),
    (
        GOOD.replace("    when: both\n", "    when: both\n    lock_days: 400\n"),
        "regimes[0].lock_days: expected whole days between 0 and 365, got 400",
    ),
    (
        GOOD.replace(
            "regimes:", "  basket: {kind: revenue_screen, fallback_basket: {ETH: 0}}\nregimes:"
        ),
        "rules.yaml:5: rules.basket.fallback_basket: weights must be positive numbers",
    ),
    (
        GOOD.replace("level: 100", "find: pullback, pullback_pct: 2"),
        "rules.up.pullback_pct: Input should be greater than or equal to 5, got 2",
    ),
    (
        GOOD + "    when: up\n",
        "rules.yaml:11: regimes[1].when: the last regime is the default and must have no `when`",
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), BROKEN, ids=lambda v: v[-30:] if isinstance(v, str) else v
)
def test_broken_rule_file_exit_2(tmp_path: Path, text: str, expected: str):
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    result = CliRunner().invoke(cli, ["signals", "--rules", str(path), "--db", _db(tmp_path)])
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "Traceback" not in result.output


def test_overrides_from_portfolio(tmp_path: Path):
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "mine.yaml").write_text(GOOD)
    (tmp_path / "portfolio.yaml").write_text(
        "rules:\n  file: rules/mine.yaml\n  overrides: {up: {level: 250, confirm_closes: 5}}\n"
    )
    ruleset = load_portfolio_ruleset(load_portfolio(tmp_path / "portfolio.yaml"))
    assert ruleset is not None
    params = next(r.params for r in ruleset.rules if r.name == "up")
    assert (params.level, params.confirm_closes) == (250, 5)  # type: ignore[attr-defined]


def test_bad_override_names_portfolio(tmp_path: Path):
    (tmp_path / "rules.yaml").write_text(GOOD)
    (tmp_path / "portfolio.yaml").write_text(
        "rules: {file: rules.yaml, overrides: {up: {level: 0}, ghost: {x: 1}}}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_portfolio_ruleset(load_portfolio(tmp_path / "portfolio.yaml"))
    message = str(info.value)
    assert "portfolio.yaml: rules.overrides.ghost: no rule named 'ghost'" in message
    assert "rules.up.level: Input should be greater than 0, got 0" in message
    assert "(value set in portfolio.yaml: rules.overrides.up.level)" in message


def _db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.sqlite3'}"


def test_console_entry_point_exits_2(tmp_path: Path):
    """The real `python -m rotator` process (not CliRunner) exits 2 on a broken rule file."""
    import subprocess
    import sys

    path = tmp_path / "rules.yaml"
    path.write_text(GOOD.replace("level: 100", "level: -5"))
    proc = subprocess.run(
        [sys.executable, "-m", "rotator", "signals", "--rules", str(path), "--db", _db(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert "rules.up.level: Input should be greater than 0, got -5" in proc.stderr


def defined_test_functions(folder: Path) -> set[str]:
    """Names of the test functions defined at module level in the test modules under `folder`."""
    names: set[str] = set()
    for path in folder.rglob("test_*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names.add(node.name)
    return names


def test_every_rule_kind_has_a_test():
    """Each registered kind has a test function named `test_<kind>` (datasette's
    `test_plugin_hooks_have_tests`): a mention in a string or a YAML snippet is not enough."""
    defined = defined_test_functions(ROOT / "tests")
    untested = [k for k in default_registry().kinds() if f"test_{k}" not in defined]
    assert untested == []


def test_kind_test_finder_needs_the_exact_function_name(tmp_path: Path):
    (tmp_path / "test_x.py").write_text(
        'KIND = "dominance"\n'
        "def test_dominance_falls():\n    pass\n"
        "class TestKinds:\n    def test_any(self):\n        pass\n"
        "def test_all():\n    assert True\n"
    )
    (tmp_path / "helpers.py").write_text("def test_not():\n    pass\n")
    assert defined_test_functions(tmp_path) == {"test_dominance_falls", "test_all"}


def test_check_validates_the_rule_set(tmp_path: Path):
    (tmp_path / "rules.yaml").write_text(GOOD.replace("kind: all", "kind: every"))
    (tmp_path / "portfolio.yaml").write_text("rules: rules.yaml\n")
    result = CliRunner().invoke(cli, ["check", "--config", str(tmp_path / "portfolio.yaml")])
    assert result.exit_code == 2
    assert "rules.yaml:4: rules.both.kind: unknown rule kind 'every'" in result.output
    (tmp_path / "rules.yaml").write_text(GOOD)
    ok = CliRunner().invoke(cli, ["check", "--config", str(tmp_path / "portfolio.yaml")])
    assert ok.exit_code == 0 and "3 rules; regimes rotate, hold" in ok.output
