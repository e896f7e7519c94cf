"""Commands that only read a database create nothing and write nothing, through the real CLI:
the `history` commands and `rotator check` leave no migration lock behind and write nothing to
an empty database file.

Each test lists the files of the folders involved before and after the command.
"""

from __future__ import annotations

import hashlib
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
