"""Commands that only read a database create nothing and write nothing, through the real CLI:
`plan --no-save` and `signals --no-save` with no database yet read an empty store, the `history`
commands and `rotator check` leave no migration lock behind, and a SQLite file that --db or
ROTATOR_DB_URL names goes only into an existing folder (a mistyped folder is exit 2).

Each test lists the files of the folders involved before and after the command.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from rotator.adapters.storage.db import MIGRATIONS, open_engine
from rotator.cli.app import cli

PORTFOLIO = """\
base_currency: USD
accounts: []
wallets:
  - name: cold
    holdings: {BTC: 1, USDT: 100}
targets: {BTC: 0.6, USDT: 0.4}
rules: set.yaml
oracles: {enabled: false}
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

NOW = "2026-12-10T12:00:00Z"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A portfolio with a rule set and a manual wallet: no exchange, no network."""
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "set.yaml").write_text(RULES)
    path = folder / "portfolio.yaml"
    path.write_text(PORTFOLIO)
    return path


def files(folder: Path) -> dict[str, str]:
    """Every file under `folder` (relative path -> sha256 of its bytes); folders end in /."""
    if not folder.exists():
        return {}
    out = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_dir():
            out[f"{name}/"] = ""
        else:
            out[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def test_plan_no_save_without_a_database_reads_an_empty_store_and_creates_none(
    tmp_path: Path, config: Path
) -> None:
    data = tmp_path / "data"
    assert files(data) == {}

    result = invoke("plan", "--config", str(config), "--no-save", "--now", NOW, "--format", "json")

    assert result.exit_code in (0, 3), result.output
    assert files(data) == {}  # no rotator.sqlite3, no lock file, not even the folder
    plan = json.loads(result.stdout)
    assert plan["regime"] == "wait"  # the rule is unknown: no history, as from an empty store
    assert plan["details"]["history_note"].startswith(
        "1 rule unknown for lack of history (up; close:BTC missing)"
    )


def test_no_save_leaves_an_existing_database_byte_for_byte_as_it_was(
    tmp_path: Path, config: Path
) -> None:
    data = tmp_path / "data"
    saved = invoke("plan", "--config", str(config), "--now", NOW, "--format", "json")
    assert saved.exit_code in (0, 3) and "saved as run #1" in saved.output, saved.output
    # The saving run made the migration lock; --no-save must not make it again.
    (data / "rotator.sqlite3.migrate.lock").unlink()
    before = files(data)
    assert "rotator.sqlite3" in before

    plan = invoke("plan", "--config", str(config), "--no-save", "--now", NOW, "--format", "json")
    signals = invoke("signals", "--config", str(config), "--no-save", "--format", "json")

    assert plan.exit_code in (0, 3), plan.output
    assert signals.exit_code == 0, signals.output
    assert files(data) == before
    runs = invoke("history", "list", "--format", "json")
    assert [r["id"] for r in json.loads(runs.stdout)] == [1]


@pytest.mark.parametrize("named", [False, True], ids=["default", "ROTATOR_DB_URL"])
def test_signals_no_save_without_a_database_creates_none(
    tmp_path: Path, config: Path, monkeypatch: pytest.MonkeyPatch, named: bool
) -> None:
    # A file ROTATOR_DB_URL (or --db) names in an existing folder, not created yet, reads as
    # an empty store too: the quick start sets it before the first `history fetch`.
    folder = tmp_path / "dbs"
    folder.mkdir()
    if named:
        monkeypatch.setenv("ROTATOR_DB_URL", f"sqlite:///{folder / 'new.sqlite3'}")
    result = invoke("signals", "--config", str(config), "--no-save", "--format", "json")
    assert result.exit_code == 0, result.output
    said = json.loads(result.stdout)
    assert said["regime"] == "wait" and "close:BTC missing" in said["history_note"]
    assert files(folder) == {}
    assert files(tmp_path / "data") == {}


def test_the_demo_with_no_save_leaves_the_database_db_names_alone(tmp_path: Path) -> None:
    """The demo loads its bundled history into its database: with --no-save, a scratch one."""
    folder = tmp_path / "dbs"
    folder.mkdir()
    db = f"sqlite:///{folder / 'mine.sqlite3'}"
    args = ("signals", "--demo", "--no-save", "--db", db, "--as-of", "2021-02-10")
    result = invoke(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rules_as_of"] == "2021-02-10"
    assert files(folder) == {}
    assert files(tmp_path / "data") == {}


@pytest.mark.parametrize(
    "command", ["signals", "signals --no-save", "plan", "plan --no-save", "check"]
)
@pytest.mark.parametrize("origin", ["--db", "ROTATOR_DB_URL"])
def test_a_database_in_a_mistyped_folder_is_refused_and_nothing_is_created(
    tmp_path: Path, config: Path, monkeypatch: pytest.MonkeyPatch, command: str, origin: str
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    args = [*command.split(), "--config", str(config)]
    if origin == "--db":
        args += ["--db", "sqlite:///typo/runs.db"]
    else:
        monkeypatch.setenv("ROTATOR_DB_URL", "sqlite:///typo/runs.db")

    result = invoke(*args)

    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    said = result.output.strip()
    assert said.startswith(f"error: {origin}: no folder typo for the database file runs.db")
    assert "nothing was created" in said
    assert files(work) == {}
    assert files(tmp_path / "data") == {}


def test_check_refuses_a_database_url_that_is_a_plain_path(tmp_path: Path, config: Path) -> None:
    result = invoke("check", "--config", str(config), "--db", str(tmp_path / "runs.sqlite3"))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "unexpected error" not in result.output
    assert result.output.startswith("error: --db: the value is not a database URL")
    assert files(tmp_path / "data") == {} and not (tmp_path / "runs.sqlite3").exists()


def test_a_saving_command_creates_the_database_in_an_existing_folder(
    tmp_path: Path, config: Path
) -> None:
    folder = tmp_path / "runs"
    folder.mkdir()
    result = invoke("signals", "--config", str(config), "--db", f"sqlite:///{folder / 'new.db'}")
    assert result.exit_code == 0, result.output
    assert "new.db" in files(folder)


def test_history_list_on_an_empty_file_writes_nothing_and_leaves_no_lock(tmp_path: Path) -> None:
    folder = tmp_path / "dbs"
    folder.mkdir()
    empty = folder / "empty.sqlite3"
    empty.touch()
    before = files(folder)

    result = invoke("history", "list", "--db", f"sqlite:///{empty}")

    assert result.exit_code == 0, result.output
    assert "no runs stored yet" in result.output
    assert files(folder) == before  # still 0 bytes, no empty.sqlite3.migrate.lock


def test_reading_commands_leave_no_lock_beside_a_current_database(
    tmp_path: Path, config: Path
) -> None:
    folder = tmp_path / "dbs"
    folder.mkdir()
    path = folder / "runs.sqlite3"
    open_engine(f"sqlite:///{path}").dispose()
    Path(f"{path}.migrate.lock").unlink()
    before = files(folder)
    url = f"sqlite:///{path}"

    for args in (
        ["history", "list", "--db", url],
        ["history", "show", "1", "--db", url],
        ["check", "--config", str(config), "--db", url],
        ["plan", "--config", str(config), "--no-save", "--now", NOW, "--db", url],
        ["signals", "--config", str(config), "--no-save", "--db", url],
    ):
        result = invoke(*args)
        assert result.exit_code in (0, 2, 3), (args, result.output)
        assert "Traceback" not in result.output
        assert files(folder) == before, args


def test_a_reading_command_migrates_an_older_schema_to_read_it(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    path = tmp_path / "old.sqlite3"
    engine = open_engine(f"sqlite:///{path}")
    alembic = Config()
    alembic.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        alembic.attributes["connection"] = connection
        command.downgrade(alembic, "0004")
    engine.dispose()

    result = invoke("history", "list", "--db", f"sqlite:///{path}")

    assert result.exit_code == 0, result.output
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("0005",)]


def test_signals_no_save_caches_no_source_data_in_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rotator.demo import demo_server
    from rotator.demo.screen import mount_screen

    config = tmp_path / "portfolio.yaml"
    config.write_text(f"accounts: []\nrules: {REPO / 'rules' / 'cycle_revenue.yaml'}\n")
    folder = tmp_path / "dbs"
    folder.mkdir()
    path = folder / "runs.sqlite3"
    open_engine(f"sqlite:///{path}").dispose()
    before = files(folder)

    with demo_server() as server:
        for name, value in mount_screen(server).items():
            if name != "ROTATOR_SCREEN_NO_CACHE":  # the cache is used, as for a user
                monkeypatch.setenv(name, value)
        result = invoke(
            "signals", "--config", str(config), "--no-save", "--db", f"sqlite:///{path}"
        )

    assert result.exit_code == 0, result.output
    assert "revenue_basket" in result.output
    assert files(folder) == before
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM source_cache").fetchone() == (0,)
