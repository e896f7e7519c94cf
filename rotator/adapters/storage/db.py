"""Engine creation, the declarative base shared by all tables, and migrations to head.

Opening a store is safe against the two things that used to crash it:

- two processes opening a fresh database at once: migrations run under a lock that holds
  across processes (a file lock beside a SQLite file, a transaction-scoped advisory lock on
  PostgreSQL), so the second finds the schema at head and does nothing;
- a database rotator cannot use (a damaged SQLite file, a schema revision from a newer
  rotator, tables dropped by hand): `StoreError` (exit code 6) naming the database and what
  to do, raised before anything is written to it.

Commands that only read a database open it with `read_engine`: nothing is created or written
(not even the migration lock file) unless its schema is older than this rotator's.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import ClassVar

from sqlalchemy import Engine, Table, create_engine, event, inspect, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase

from rotator.core.clock import Clock
from rotator.errors import StoreError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_WAIT_SECONDS = 300.0
# pg_advisory_xact_lock key for migrations: any fixed 64-bit number, the same in every process.
MIGRATION_LOCK_KEY = 0x526F7461746F72  # "Rotator"


class Base(DeclarativeBase):
    """Declarative base for every table; its metadata is alembic's target."""

    # Every model here maps one Table (SQLAlchemy types it as any FromClause).
    __table__: ClassVar[Table]


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for in-memory SQLite and other databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser()


def display_url(url: str) -> str:
    """The URL without its password, for messages."""
    path = sqlite_file(url)
    return str(path) if path is not None else make_url(url).render_as_string(hide_password=True)


def _create_private(path: Path) -> None:
    """Create the SQLite file 0600 (and its folder 0700 when new): it holds xpubs and
    addresses. An existing file keeps its mode; a symbolic link is refused."""
    if path.is_symlink():
        raise StoreError(f"{path}: the database file is a symbolic link; refusing to open it")
    try:
        if not path.parent.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        os.close(fd)
    except FileExistsError:
        return
    except OSError as exc:
        raise StoreError(f"{path}: cannot create the database file ({exc.strerror})") from None


DB_URL_FORMS = (
    "sqlite:///relative/file.sqlite3, sqlite:////absolute/file.sqlite3 or "
    "postgresql+psycopg://USER:PASSWORD@HOST:5432/DB (any SQLAlchemy URL whose driver is "
    "installed)"
)


def url_problem(url: str) -> str | None:
    """Why `url` cannot name a database rotator can open, or None when it can.

    Checked before anything is created: a plain file path, an unknown scheme (`foo://`) and a
    scheme whose driver is not installed (`mysql://` without mysqlclient) are all refused.
    The text never repeats the URL (it may hold a password).
    """
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return "is not a database URL (a plain file path needs the sqlite:/// prefix)"
    try:
        dialect = parsed.get_dialect()
    except NoSuchModuleError:
        return f"names an unknown database kind {parsed.drivername!r}"
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        return (
            f"needs the Python driver of {parsed.drivername!r}, which is not installed "
            f"({exc.name or exc})"
        )
    return None


def open_engine(url: str) -> Engine:
    """Create an engine for `url` and migrate it to head (the default URL is the caller's:
    rotator.config.env.Settings.db_url).

    Raises:
        StoreError: the database is damaged, unknown to this version, or cannot be opened.
    """
    path = sqlite_file(url)
    if path is not None:
        _create_private(path)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    with _opening(url, path, engine):
        with _migration_lock(path):
            if path is not None and path.exists() and path.stat().st_size > 0:
                _check_sqlite(engine)
            migrate(engine)
        _check_tables(engine)
    return engine


@contextmanager
def _opening(url: str, path: Path | None, engine: Engine) -> Iterator[None]:
    """What opening a database raises, as a StoreError naming it; the engine is disposed."""
    try:
        yield
    except StoreError as exc:
        engine.dispose()
        raise StoreError(f"{display_url(url)}: {exc}") from None
    except (SQLAlchemyError, _alembic_error()) as exc:
        engine.dispose()
        raise StoreError(_explain(url, path, exc)) from None


def read_engine(url: str) -> Engine | None:
    """An engine on an existing database, for a command that only reads it.

    Nothing is created and nothing is written to a database at this rotator's schema: no
    migration lock file is made (migrations make it), and SQLite's journal mode is left as
    the file has it. None when there is nothing to read: a SQLite file that does not exist
    (it is not created), or a database without any table (an empty file, as `touch` or
    `sqlite3 FILE` leaves it). A schema older than this rotator's cannot be read as it is: it
    is migrated first, as `open_engine` does (the one write a reading command makes).

    Raises:
        StoreError: as `open_engine` (damaged, from a newer rotator, tables missing).
    """
    path = sqlite_file(url)
    if path is not None:
        if path.is_symlink():
            raise StoreError(f"{path}: the database file is a symbolic link; refusing to open it")
        if not path.exists():
            return None
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_read_pragmas)
    with _opening(url, path, engine):
        if path is not None and path.stat().st_size > 0:
            _check_sqlite(engine)
        state = _schema_state(engine)
        if state == "current":
            _check_tables(engine)
    if state == "current":
        return engine
    engine.dispose()
    return None if state == "empty" else open_engine(url)


def _schema_state(engine: Engine) -> str:
    """ "empty" (no table at all), "current" (at this rotator's newest revision) or "behind"
    (older, or tables without a revision: `migrate` decides). Reads only.

    Raises:
        alembic's CommandError: a revision this rotator does not know (a newer rotator's).
    """
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    with engine.connect() as connection:
        if not inspect(connection).get_table_names():
            return "empty"
        current = MigrationContext.configure(connection).get_current_heads()
    script = ScriptDirectory(str(MIGRATIONS))
    for revision in current:
        # "Can't locate revision": written by a newer rotator (`_explain` says so).
        script.get_revision(revision)
    return "current" if set(current) == set(script.get_heads()) else "behind"


def _sqlite_read_pragmas(dbapi_connection: object, _record: object) -> None:
    """`_sqlite_pragmas` without the journal mode (setting it writes to the file)."""
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")  # wait for a concurrent writer, don't fail
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def migrate(engine: Engine) -> None:
    """Upgrade the database schema to the newest alembic revision.

    On PostgreSQL the migration takes a transaction-scoped advisory lock first, so concurrent
    processes migrate one after the other (SQLite files are locked by `open_engine`).
    """
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _migration_lock(path: Path | None) -> AbstractContextManager[object]:
    """A lock file beside a SQLite file, held while it is checked and migrated."""
    if path is None:
        return nullcontext()
    from filelock import FileLock

    lock_path = Path(f"{path}.migrate.lock")
    if lock_path.is_symlink():
        raise StoreError(f"{lock_path}: the lock file is a symbolic link; remove it")
    return FileLock(str(lock_path), timeout=MIGRATION_WAIT_SECONDS)


def _check_sqlite(engine: Engine) -> None:
    """Read every page of a SQLite file (PRAGMA quick_check) before anything writes to it."""
    with engine.connect() as connection:
        rows = [r[0] for r in connection.execute(text("PRAGMA quick_check(5)"))]
    if rows != ["ok"]:
        raise StoreError(f"the database file is damaged ({'; '.join(rows)}); {_DAMAGED_TODO}")


def _check_tables(engine: Engine) -> None:
    """Every table the schema defines exists (tables dropped by hand are not re-created)."""
    from rotator.adapters.storage import (  # noqa: F401
        market,
        run_tables,
        screen_history,
        source_cache,
    )

    with engine.connect() as connection:
        present = set(inspect(connection).get_table_names())
    missing = sorted(set(Base.metadata.tables) - present)
    if missing:
        raise StoreError(
            f"the database lacks table(s) {', '.join(missing)} although its schema revision "
            f"says they exist (dropped by hand?); {_DAMAGED_TODO}"
        )


_DAMAGED_TODO = (
    "rotator has written nothing to it. Restore it from a backup, or move it aside (rotator "
    "then starts a new, empty database: stored runs and market history are not in it)"
)


def _alembic_error() -> type[Exception]:
    from alembic.util import CommandError

    return CommandError


def _explain(url: str, path: Path | None, exc: BaseException) -> str:
    where = display_url(url)
    detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    if isinstance(exc, _alembic_error()) and "Can't locate revision" in detail:
        return (
            f"{where}: the database's schema revision is unknown to this version of rotator "
            f"({detail}): it was written by a newer rotator. rotator has written nothing to "
            "it. Upgrade rotator, or point --db / ROTATOR_DB_URL at another database"
        )
    damaged = ("file is not a database", "malformed", "not a database", "disk image")
    if path is not None and any(word in detail for word in damaged):
        return f"{where}: the database file is damaged ({detail}); {_DAMAGED_TODO}"
    return (
        f"{where}: cannot open the database ({detail}); check --db / ROTATOR_DB_URL and "
        "that the database is reachable. rotator has written nothing to it"
    )


@contextmanager
def database_lock(engine: Engine, wait_seconds: float, clock: Clock) -> Iterator[str]:
    """Hold the run lock of a database: one report run per database at a time.

    A file lock beside a SQLite file; a session-level advisory lock on PostgreSQL; nothing
    for other databases. Yields what is locked (for messages).

    Raises:
        LockedError: another process holds it after `wait_seconds` (PostgreSQL's lock is
            polled on `clock`).
    """
    from rotator.adapters.runlock import file_lock, pg_advisory_lock

    path = sqlite_file(engine.url.render_as_string(hide_password=False))
    if path is not None:
        with file_lock(Path(f"{path}.rotator.lock"), wait_seconds) as held:
            yield str(held)
    elif engine.dialect.name == "postgresql":
        with pg_advisory_lock(engine, wait_seconds, clock) as held:
            yield held
    else:
        yield ""
