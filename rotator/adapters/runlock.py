"""One run at a time: a file lock in the data directory, so an overlapping cron job waits.

A second `rotator report` started while the first still runs waits up to a bounded time for
the lock, then gives up with `LockedError` (exit code 4) naming the lock file. The lock is an
OS-level lock (filelock): it is released when the holding process exits, even when killed, so
a crashed run never leaves a stale lock behind.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from rotator.errors import LockedError

LOCK_NAME = "rotator.lock"
DEFAULT_WAIT_SECONDS = 600.0


@contextmanager
def run_lock(data_dir: Path, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> Iterator[Path]:
    """Hold the run lock in `data_dir` for the duration of the block.

    Args:
        wait_seconds: how long to wait for another run to finish; 0 fails at once.

    Raises:
        LockedError: another process still holds the lock after `wait_seconds`.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOCK_NAME
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=wait_seconds)
    except Timeout:
        holder = _holder(data_dir)
        raise LockedError(
            f"another rotator run holds {path}{holder} and did not finish within "
            f"{wait_seconds:g} s; try again later (or raise --wait)"
        ) from None
    try:
        (data_dir / f"{LOCK_NAME}.pid").write_text(str(os.getpid()), encoding="utf-8")
        yield path
    finally:
        lock.release()


def _holder(data_dir: Path) -> str:
    try:
        pid = (data_dir / f"{LOCK_NAME}.pid").read_text(encoding="utf-8").strip()
    except OSError:
        return ""
    return f" (process {pid})" if pid.isdigit() else ""
