"""Writing output files (reports, `--output`, the backtest page) without trusting the folder.

A file is written as a temporary file created exclusively (O_EXCL, mode 0600) in the target
folder, then renamed over the target, so a reader never sees half a file and nothing is ever
written *through* a symbolic link that someone planted where the file goes: a symlinked target
is refused with a clear error instead. An existing target that is not a regular file (a
terminal, `/dev/stdout`, a pipe) is written in place, opened without following links. Every
OS failure (missing folder, full disk, no permission) becomes an `OutputFileError` naming the
path, never a traceback.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from rotator.errors import OutputFileError

# Files rotator writes are readable as before (0644 under the usual umask of 022).
_MODE = 0o666


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def ensure_folder(folder: Path, *, create: bool = True) -> None:
    """Make sure `folder` is a folder (created when `create`), or raise OutputFileError."""
    try:
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        if not folder.is_dir():
            raise OutputFileError(f"{folder}: is not a folder; give a folder to write into")
    except FileExistsError:
        raise OutputFileError(f"{folder}: is not a folder; give a folder to write into") from None
    except OSError as exc:
        raise OutputFileError(f"{folder}: cannot create the folder ({_why(exc)})") from None


def write_text_safely(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` atomically, never through a symbolic link.

    Raises:
        OutputFileError: the folder is missing, the target is a symbolic link, or the write
            failed (disk full, permission denied); nothing was written.
    """
    data = text.encode("utf-8")
    folder = path.parent
    if path.is_symlink():
        raise OutputFileError(
            f"{path}: is a symbolic link; refusing to write through it "
            "(remove the link or choose another path)"
        )
    if not folder.is_dir():
        raise OutputFileError(f"{path}: the folder {folder} does not exist; create it first")
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise OutputFileError(f"{path}: cannot write ({_why(exc)})") from None
    if mode is not None and not stat.S_ISREG(mode):
        _write_in_place(path, data)
        return
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _MODE & ~_umask())
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise OutputFileError(f"{path}: cannot write ({_why(exc)})") from None


def _write_in_place(path: Path, data: bytes) -> None:
    """A device or pipe (`/dev/stdout`, `/dev/full`): written directly, links not followed."""
    if path.is_dir():
        raise OutputFileError(f"{path}: is a folder; give a file name")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
    except OSError as exc:
        raise OutputFileError(f"{path}: cannot write ({_why(exc)})") from None
