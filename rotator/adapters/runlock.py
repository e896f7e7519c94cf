"""One run at a time per thing it writes: OS-level locks that an overlapping cron job waits for.

A `rotator report` holds two locks for its whole run, keyed by what it protects rather than by
the data directory: the report folder (`run_lock(report_dir)`) and the database
(`rotator.adapters.storage.db.database_lock`: a lock file beside a SQLite file, an advisory
lock on PostgreSQL). Two runs on the same database or the same report folder therefore
take turns, whatever data directories they use. A run that still finds a lock taken after
a bounded wait gives up with `LockedError` (exit code 4) naming the lock. File locks
(filelock) and PostgreSQL session locks are released when the holding process exits, even
when killed, so a crashed run never leaves a stale lock behind.
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock, Timeout

from rotator.core.clock import Clock
from rotator.errors import LockedError, OutputFileError

if TYPE_CHECKING:
    from sqlalchemy import Engine

# Waits a person should hear about (shown above the progress display; rotator.cli.progress).
WAIT_LOG = logging.getLogger("rotator.wait")
LOCK_NAME = "rotator.lock"
DEFAULT_WAIT_SECONDS = 600.0
POLL_SECONDS = 0.25


@contextmanager
def run_lock(directory: Path, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> Iterator[Path]:
    """Hold the run lock of `directory` (`<directory>/rotator.lock`) for the block.

    Args:
        wait_seconds: how long to wait for another run to finish; 0 fails at once.

    Raises:
        LockedError: another process still holds the lock after `wait_seconds`.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputFileError(f"{directory}: cannot create the folder ({exc.strerror})") from None
    with file_lock(directory / LOCK_NAME, wait_seconds) as path:
        yield path


@contextmanager
def file_lock(path: Path, wait_seconds: float) -> Iterator[Path]:
    """Hold an OS file lock at `path`, writing our process id beside it for messages.

    Raises:
        LockedError: another process holds the lock after `wait_seconds`.
        OutputFileError: the lock or its pid file is a symbolic link (someone planted it to
            have a victim file truncated), or the lock file cannot be created.
    """
    pid_path = Path(f"{path}.pid")
    for candidate in (path, pid_path):
        if candidate.is_symlink():
            raise OutputFileError(
                f"{candidate}: the lock file is a symbolic link; refusing to use it "
                "(remove the link: rotator creates its lock files itself)"
            )
    lock = FileLock(str(path))
    try:
        try:
            lock.acquire(blocking=False)
        except Timeout:
            if wait_seconds <= 0:
                raise
            WAIT_LOG.info(
                "waiting up to %g s for another rotator run to finish (it holds %s%s)",
                wait_seconds,
                path,
                _holder(path),
            )
            lock.acquire(timeout=wait_seconds)
    except Timeout:
        raise LockedError(
            f"another rotator run holds {path}{_holder(path)} and did not finish within "
            f"{wait_seconds:g} s; try again later (or raise --wait)"
        ) from None
    except OSError as exc:  # after Timeout, which is an OSError too
        raise OutputFileError(f"{path}: cannot create the lock file ({exc.strerror})") from None
    try:
        _write_pid(pid_path)
        yield path
    finally:
        lock.release()


@contextmanager
def pg_advisory_lock(engine: Engine, wait_seconds: float, clock: Clock) -> Iterator[str]:
    """A PostgreSQL session-level advisory lock on the run, polled on `clock` until
    `wait_seconds`."""
    from sqlalchemy import text

    name = f"rotator run lock on {engine.url.render_as_string(hide_password=True)}"
    key = zlib.crc32(b"rotator-run")
    deadline = clock.monotonic() + wait_seconds
    with engine.connect() as connection:
        announced = False
        while not connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
            connection.rollback()
            if not announced:
                WAIT_LOG.info("waiting up to %g s for the %s", wait_seconds, name)
                announced = True
            if clock.monotonic() >= deadline:
                raise LockedError(
                    f"another rotator run holds the {name} and did not finish within "
                    f"{wait_seconds:g} s; try again later (or raise --wait)"
                )
            clock.sleep(POLL_SECONDS)
        connection.commit()
        try:
            yield name
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            connection.commit()


def _write_pid(pid_path: Path) -> None:
    """Our process id in `pid_path`, opened without following a link planted there."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
    try:
        fd = os.open(pid_path, flags, 0o600)
    except OSError as exc:
        raise OutputFileError(
            f"{pid_path}: cannot write the lock's pid file ({exc.strerror})"
        ) from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(str(os.getpid()))


def _holder(path: Path) -> str:
    try:
        pid = Path(f"{path}.pid").read_text(encoding="utf-8").strip()
    except OSError:
        return ""
    return f" (process {pid})" if pid.isdigit() else ""
