"""Output files never go through a symbolic link planted in the output folder, and a bad
output path is a clear error (exit 2), never a traceback.

Runs the real CLI on the bundled demo (offline) with a planted symlink per output file: the
report's HTML/Markdown, the run lock and its pid file, `--output` of `plan`, and the
backtest's page; the victim file outside the folder must keep its content. The SQLite file
holds xpubs and addresses: it is created 0600 in a folder created 0700.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from rotator.cli.app import cli
from rotator.reports.files import write_text_safely

NOW = "2026-06-01T12:00:00+00:00"


def run(*args: str, tmp_path: Path):
    env = {"ROTATOR_DATA_DIR": str(tmp_path / "data"), "ROTATOR_CACHE_DIR": str(tmp_path / "c")}
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    path = tmp_path / "elsewhere" / "victim.txt"
    path.parent.mkdir()
    path.write_text("precious")
    return path


def assert_clean_error(result, *phrases: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    for phrase in phrases:
        assert phrase in result.output, result.output


@pytest.mark.parametrize(
    "planted",
    ["report-2026-06-01.md", "report-2026-06-01.html", "rotator.lock", "rotator.lock.pid"],
)
def test_report_never_writes_through_a_planted_symlink(tmp_path, victim, planted):
    out = tmp_path / "reports"
    out.mkdir()
    (out / planted).symlink_to(victim)
    (tmp_path / "data").mkdir()  # a file --db names goes only into an existing folder
    db = f"sqlite:///{tmp_path / 'data' / 'demo.sqlite3'}"
    result = run("report", "--demo", "--db", db, "--out", str(out), "--now", NOW, tmp_path=tmp_path)
    assert_clean_error(result, str(out / planted), "symbolic link")
    assert victim.read_text() == "precious"


def test_plan_output_symlink_missing_folder_and_full_disk(tmp_path, victim):
    link = tmp_path / "plan.csv"
    link.symlink_to(victim)
    base = ("plan", "--demo", "--no-save", "--now", NOW, "--format", "csv", "--output")
    result = run(*base, str(link), tmp_path=tmp_path)
    assert_clean_error(result, "symbolic link")
    assert victim.read_text() == "precious"
    missing = tmp_path / "no" / "such" / "plan.csv"
    assert_clean_error(run(*base, str(missing), tmp_path=tmp_path), "does not exist")
    assert not missing.parent.exists()
    if Path("/dev/full").exists():
        assert_clean_error(run(*base, "/dev/full", tmp_path=tmp_path), "/dev/full", "No space")


def test_backtest_out_symlink_and_full_disk(tmp_path, victim):
    out = tmp_path / "bt"
    out.mkdir()
    (out / "backtest.html").symlink_to(victim)
    args = ("backtest", "--demo", "--from", "2021-01-01", "--to", "2021-03-01", "--out")
    assert_clean_error(run(*args, str(out), tmp_path=tmp_path), "symbolic link")
    assert victim.read_text() == "precious"
    if Path("/dev/full").exists():
        assert_clean_error(run(*args, "/dev/full", tmp_path=tmp_path), "/dev/full")


def test_sqlite_file_is_private(tmp_path):
    # The default database's folder, the data dir, is created when new (a file --db names
    # goes only into an existing folder: tests/test_cli_read_only.py).
    folder = tmp_path / "data"
    db = folder / "demo.sqlite3"
    assert not folder.exists()
    result = run("plan", "--demo", "--now", NOW, tmp_path=tmp_path)
    assert result.exit_code == 0, result.output
    assert db.exists()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 & ~_umask()


def test_write_text_safely_replaces_atomically_and_leaves_no_temp(tmp_path):
    target = tmp_path / "out.txt"
    write_text_safely(target, "one")
    write_text_safely(target, "two")
    assert target.read_text() == "two" and [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
