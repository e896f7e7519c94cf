"""Shared test setup: per-test user dirs, and what keeps parallel workers (pytest-xdist) apart.

Sockets are disabled except loopback (pytest-socket, configured in pyproject.toml), so a test
that tries to reach the internet fails at once instead of hanging.

The suite runs on several workers at once (`-n`): servers bind port 0, files live in each test's
tmp_path, hypothesis keeps no example database, and with ROTATOR_TEST_PG_URL each worker gets a
PostgreSQL database of its own, created here (so the role needs CREATEDB; .ci/run grants it;
without it the workers share the one database, with a warning).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_clock import FakeClock
from hostile_server import HostileServer
from hypothesis import settings
from user_dirs import isolate_user_dirs

PG_VARIABLE = "ROTATOR_TEST_PG_URL"
_ORIGINAL_PG = pytest.StashKey[str]()  # the URL before a worker pointed it at its own

# No .hypothesis/ folder shared between workers and runs: examples come from each test's
# strategy (and its derandomize/seed settings), not from what an earlier run happened to find.
settings.register_profile("rotator", database=None)
settings.load_profile("rotator")


def worker_database_url(base: str, worker: str) -> str:
    """ROTATOR_TEST_PG_URL with the database name suffixed by the xdist worker id (`gw0`)."""
    from sqlalchemy.engine import make_url

    url = make_url(base)
    return url.set(database=f"{url.database}_{worker}").render_as_string(hide_password=False)


def _recreate_database(admin_url: str, name: str, *, drop_only: bool = False) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if not drop_only:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def pytest_configure(config: pytest.Config) -> None:
    """On an xdist worker, point ROTATOR_TEST_PG_URL at a fresh database of that worker's own.

    Runs before test modules are imported, so their module-level `os.environ.get(...)` and
    every subprocess they start see the worker's database. Before the workers start, the
    package is byte-compiled (`_compile_package`).
    """
    base, worker = os.environ.get(PG_VARIABLE), os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        _compile_package()
    if not base or not worker:
        return
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    url = worker_database_url(base, worker)
    try:
        _recreate_database(base, make_url(url).database or "")
    except SQLAlchemyError as exc:
        # Server down, or a role without CREATEDB: the workers share the one database (each
        # store test still has a schema of its own), and the PostgreSQL tests say the rest.
        reason = " ".join(str(exc.orig or exc).split())[:300]
        config.issue_config_time_warning(
            pytest.PytestWarning(
                f"{PG_VARIABLE}: no database of its own for worker {worker} (the role needs "
                f"CREATEDB: ALTER ROLE ... CREATEDB; .ci/run grants it): {reason}"
            ),
            stacklevel=2,
        )
        return
    config.stash[_ORIGINAL_PG] = base
    os.environ[PG_VARIABLE] = url


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto`: one worker per core, and one more.

    Many tests spend part of their time waiting (on a `python -m rotator` process, a socket
    timeout, a retry's back-off, a held lock), and the extra worker runs while they do. On two
    cores the suite took 272 s with three workers against 314 s with two, and 296 s with four
    (each worker also collects every test). PYTEST_XDIST_AUTO_NUM_WORKERS still decides when
    set, and `-n logical` is pytest-xdist's own.
    """
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS") or config.option.numprocesses != "auto":
        return None
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return cores + 1


def _compile_package() -> None:
    """Byte-compile rotator/ (0.3 s) for the `python -m rotator` processes the tests start.

    Where PYTHONDONTWRITEBYTECODE is set, as on many CI machines, no process writes bytecode,
    so each of those 200-odd processes compiled every module it imports from source again
    (about 0.1 s each). compileall writes the files whatever that setting says; they land in
    the __pycache__ folders git ignores.
    """
    import compileall

    compileall.compile_dir(Path(__file__).resolve().parents[1] / "rotator", quiet=1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `slow` first (otherwise in collection order): the workers take tests as they
    free up, so a long test started last would leave the other worker idle until it ends."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_unconfigure(config: pytest.Config) -> None:
    base = config.stash.get(_ORIGINAL_PG, None)
    if base is None:
        return
    from sqlalchemy.engine import make_url

    worker_db = make_url(os.environ[PG_VARIABLE]).database or ""
    os.environ[PG_VARIABLE] = base
    _recreate_database(base, worker_db, drop_only=True)


@pytest.fixture(autouse=True)
def isolated_secrets() -> Iterator[None]:
    """Each test starts with the credentials registered before it (none of other tests): the
    registry is process-wide, so a value another test registered ("rotator" as a database
    role, say) would otherwise be masked in this test's messages."""
    from rotator import redaction

    saved = (set(redaction._secrets), redaction._secret_pattern)
    yield
    redaction._secrets.clear()
    redaction._secrets.update(saved[0])
    redaction._secret_pattern = saved[1]


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point rotator's data and cache dirs (and the default database) into tmp_path."""
    isolate_user_dirs(monkeypatch, tmp_path)
    return tmp_path


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    """A replay server on 127.0.0.1 that can also redirect, drip, flood, nest and echo."""
    with HostileServer() as server:
        yield server


@pytest.fixture
def fake_clock() -> FakeClock:
    """A recording `FakeClock` (see above)."""
    return FakeClock()
