"""Errors that stop a run, the exit codes they map to, and the Problem record for data issues.

Expected data problems (an unpriceable asset, a failed account, a stale signal) are `Problem`
records carried inside a snapshot or plan and shown to the user. Failures that stop a run are
`RotatorError` subclasses, turned into one clean message and an exit code in `rotator.cli.app`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum, StrEnum


class ExitCode(IntEnum):
    """Process exit codes; documented in docs/exit-codes.md."""

    OK = 0
    INTERNAL_ERROR = 1
    CONFIG_ERROR = 2  # bad portfolio.yaml / rule set / usage: as Click uses 2 for bad usage
    INCOMPLETE = 3  # plan built without some account, price or signal: orders withheld
    LOCKED = 4  # another rotator run holds the lock (overlapping cron)
    DELIVERY_FAILED = 5  # report written, but sending it failed after a retry
    STORE_ERROR = 6  # the database is damaged, from a newer rotator, or cannot be opened


class RotatorError(Exception):
    """A failure that stops the command; its message is shown to the user as is."""

    exit_code: ExitCode = ExitCode.INTERNAL_ERROR


class ConfigError(RotatorError):
    """portfolio.yaml or a rule set is invalid. The message names file, field path and fix."""

    exit_code = ExitCode.CONFIG_ERROR


class OutputFileError(RotatorError):
    """An output file or folder cannot be written safely (missing folder, full disk, a symbolic
    link planted where the file goes). Nothing was written through it; exit code 2."""

    exit_code = ExitCode.CONFIG_ERROR


class LockedError(RotatorError):
    """Another run of rotator holds the run lock."""

    exit_code = ExitCode.LOCKED


class StoreError(RotatorError):
    """The database cannot be used (damaged file, unknown schema revision, missing tables).

    Raised before anything is written; the message names the database and what to do.
    """

    exit_code = ExitCode.STORE_ERROR


class ReadOnlyViolation(RotatorError):
    """Something tried to call an exchange method that is not on the read-only allow-list."""

    exit_code = ExitCode.INTERNAL_ERROR


class Severity(StrEnum):
    """How much a problem matters to the plan."""

    INFO = "info"
    WARNING = "warning"  # shown; plan still complete
    ERROR = "error"  # data missing: plan incomplete, dependent orders withheld


# C0 controls but tab and newline, DEL, C1 controls, bidi embeddings/overrides/isolates.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible_controls(text: str) -> str:
    """`text` with every control character written as a visible escape (ESC -> `\\x1b`)."""
    return CONTROL_CHARACTERS.sub(_visible, text)


@dataclass(frozen=True, slots=True)
class Problem:
    """A data problem found during a run, carried to the output instead of raised.

    Attributes:
        severity: how much it matters; ERROR makes the plan incomplete.
        subject: what it is about, e.g. "account binance-main" or "price SOL/USD".
        message: what happened and, where possible, what to do about it.
    """

    severity: Severity
    subject: str
    message: str

    def __post_init__(self) -> None:
        # Messages quote servers: control characters (terminal escapes) are made visible once,
        # here, so no output, file or table of a run ever holds them.
        for name in ("subject", "message"):
            value = getattr(self, name)
            if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
                object.__setattr__(self, name, visible_controls(value))

    def __str__(self) -> str:
        return f"{self.subject}: {self.message}"
