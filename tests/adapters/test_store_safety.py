"""The store under concurrency and damage, through real processes and real database files.

- Several processes opening one fresh database at once all succeed (migrations are locked
  across processes: SQLite file lock, PostgreSQL advisory lock).
- Two `report` runs on one database and one report folder, from different data dirs, take
  turns: one report, no crash.
- A damaged SQLite file (truncated, garbage header, garbage pages, a dropped table, an
  unknown schema revision) gives exit code 6 with a message naming the file and what to
  do, no traceback, and the file is left exactly as it was.
- `plan --demo` stores its run where --db says, else in the demo's own file: never in the
  user's ROTATOR_DB_URL database.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from entry_point import run_main
from sqlalchemy import create_engine, text

from rotator.adapters.storage.db import open_engine
from rotator.cli.clock import SYSTEM_CLOCK
from rotator.errors import ExitCode

PG_URL = os.environ.get("ROTATOR_TEST_PG_URL")
WAIT = 240  # a hang guard for the subprocesses, not a speed claim


def _env(tmp_path: Path, name: str = "data", **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROTATOR_")}
    return env | {
        "ROTATOR_DATA_DIR": str(tmp_path / name),
        "ROTATOR_CACHE_DIR": str(tmp_path / f"{name}-cache"),
        **extra,
    }


def _rotator(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "rotator", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _all(procs: list[subprocess.Popen[str]]) -> list[tuple[int, str]]:
    outputs = [p.communicate(timeout=WAIT) for p in procs]
    return [(p.returncode, out + err) for p, (out, err) in zip(procs, outputs, strict=True)]


def _concurrent_opens(url: str, tmp_path: Path) -> None:
    """Two imports migrate the fresh database at once while two `history list` read it (a
    reading command takes no migration lock: it sees no table, or the schema at head, or an
    unfinished migration, which it waits for under the lock)."""
    csv = tmp_path / "closes.csv"
    csv.write_text("date,close\n2021-01-01,29000\n2021-01-02,30000\n")
    importing = ["history", "import", str(csv), "--asset", "BTC", "--db", url]
    listing = ["history", "list", "--db", url]
    results = _all([_rotator(*args, env=_env(tmp_path)) for args in (importing, listing) * 2])
    for code, output in results:
        assert code == 0 and "Traceback" not in output, output
    assert sum("imported 2 daily closes of BTC/USD" in output for _, output in results) == 2
    assert sum("no runs stored yet" in output for _, output in results) == 2


@pytest.mark.slow  # started first (see conftest.py)
@pytest.mark.parametrize("round_", range(2))
def test_processes_migrating_one_fresh_sqlite_file_all_succeed(tmp_path: Path, round_: int) -> None:
    # An empty file (as `sqlite3 FILE` or `touch` leaves it): the importing commands migrate
    # it; `history list` reads it as an empty store and writes nothing.
    fresh = tmp_path / f"fresh{round_}.sqlite3"
    fresh.touch()
    _concurrent_opens(f"sqlite:///{fresh}", tmp_path)


@pytest.mark.slow  # started first (see conftest.py)
def test_processes_migrating_one_fresh_postgresql_schema_all_succeed(tmp_path: Path) -> None:
    if not PG_URL:
        pytest.skip("ROTATOR_TEST_PG_URL not set (CI sets it; see .ci/run)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        sep = "&" if "?" in PG_URL else "?"
        _concurrent_opens(f"{PG_URL}{sep}options=-csearch_path%3D{schema}", tmp_path)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.mark.slow  # started first (see conftest.py)
def test_two_reports_on_one_database_and_folder_from_two_data_dirs(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    out = tmp_path / "reports"
    procs = [
        _rotator("report", "--demo", "--db", db, "--out", str(out), env=_env(tmp_path, name))
        for name in ("data-a", "data-b")
    ]
    results = _all(procs)
    for code, output in results:
        assert code == 0 and "Traceback" not in output, output
    assert sum("already written" in output for _, output in results) == 1
    assert len(list(out.glob("report-*.html"))) == 1
    with sqlite3.connect(tmp_path / "shared.sqlite3") as conn:
        assert conn.execute("SELECT count(*) FROM reports").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM runs").fetchone() == (1,)


# -- damaged files ---------------------------------------------------------------------------


def _truncate(path: Path) -> None:
    with path.open("r+b") as f:
        f.truncate(path.stat().st_size // 3)


def _garbage_header(path: Path) -> None:
    with path.open("r+b") as f:
        f.write(b"this is not a database header!!!" * 2)


def _garbage_pages(path: Path) -> None:
    with path.open("r+b") as f:
        f.seek(4096 * 2)
        f.write(bytes(range(256)) * 16 * 3)


def _sql(statement: str) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        conn = sqlite3.connect(path)
        conn.execute(statement)
        conn.commit()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # into the file itself
        conn.close()

    return damage


DAMAGE: list[tuple[str, Callable[[Path], None], str]] = [
    ("truncated", _truncate, "the database file is damaged"),
    ("garbage-header", _garbage_header, "the database file is damaged (file is not a database)"),
    ("garbage-pages", _garbage_pages, "the database file is damaged"),
    ("dropped-table", _sql("DROP TABLE run_orders"), "lacks table(s) run_orders"),
    (
        "unknown-revision",
        _sql("UPDATE alembic_version SET version_num = 'ffff9999'"),
        "written by a newer rotator",
    ),
]


@pytest.fixture(scope="module")
def good_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store") / "good.sqlite3"
    open_engine(f"sqlite:///{path}").dispose()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.mark.parametrize(("name", "damage", "expect"), DAMAGE, ids=[d[0] for d in DAMAGE])
@pytest.mark.parametrize("command", ["history list", "plan --demo --no-save", "report --demo"])
def test_damaged_sqlite_file_gives_exit_6_and_is_left_alone(
    tmp_path: Path,
    good_db: Path,
    name: str,
    damage: Callable[[Path], None],
    expect: str,
    command: str,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / f"{name}.sqlite3"
    shutil.copy(good_db, path)
    damage(path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()

    args = [*command.split(), "--db", f"sqlite:///{path}"]
    if name == "garbage-header":  # one damage per command in a process of its own: its exit code
        [(code, output)] = _all([_rotator(*args, env=_env(tmp_path))])
    else:  # the others through the same entry point in this process (about 2 s of CPU less each)
        extra = {k: v for k, v in _env(tmp_path).items() if k.startswith("ROTATOR_")}
        code, output = run_main(args, env=extra, monkeypatch=monkeypatch, capfd=capfd)

    assert code == ExitCode.STORE_ERROR, output
    assert "Traceback" not in output
    assert f"error: {path}: " in output and expect in output, output
    assert "written nothing" in output
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert not list((tmp_path / "data").glob("**/report-*"))


@pytest.mark.slow  # started first (see conftest.py)
def test_plan_demo_stores_where_db_says_never_in_rotator_db_url(tmp_path: Path) -> None:
    by_flag = tmp_path / "flag.sqlite3"
    by_env = tmp_path / "env.sqlite3"
    runs = _all(
        [
            _rotator("plan", "--demo", "--db", f"sqlite:///{by_flag}", env=_env(tmp_path, "d1")),
            _rotator(
                "plan",
                "--demo",
                env=_env(tmp_path, "d2", ROTATOR_DB_URL=f"sqlite:///{by_env}"),
            ),
        ]
    )
    for code, output in runs:
        assert code in (0, 3) and "saved as run #1" in output, output
    assert f"--db sqlite:///{by_flag}" in runs[0][1]
    for path in (by_flag, tmp_path / "d2" / "demo.sqlite3"):
        with sqlite3.connect(path) as conn:
            assert conn.execute("SELECT kind FROM runs").fetchall() == [("plan",)]
    assert not by_env.exists()  # the user's database gets nothing of the demo
    assert not (tmp_path / "d1" / "demo.sqlite3").exists()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_database_run_lock_is_held_per_database(tmp_path: Path, backend: str) -> None:
    from rotator.adapters.storage.db import database_lock
    from rotator.errors import LockedError

    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'locked.sqlite3'}"
    elif PG_URL:
        url = PG_URL
    else:
        pytest.skip("ROTATOR_TEST_PG_URL not set (CI sets it; see .ci/run)")
    first, second = open_engine(url), open_engine(url)
    try:
        with (
            database_lock(first, 5, SYSTEM_CLOCK),
            pytest.raises(LockedError, match=r"did not finish within 0\.3 s"),
            database_lock(second, 0.3, SYSTEM_CLOCK),
        ):
            pass
        with database_lock(second, 0.3, SYSTEM_CLOCK):  # released: free again
            pass
    finally:
        first.dispose()
        second.dispose()
