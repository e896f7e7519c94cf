"""Printing text that may come from outside (servers, chains, files) to the terminal.

Every message that can carry server text goes through `echo`: control characters (terminal
escapes, OSC 52 clipboard writes, clear-screen) are shown as visible `\\x1b`-style escapes and
secrets are masked, so a hostile response cannot drive the user's terminal. Only the result
goes to stdout; notes, warnings and confirmations go to stderr (docs/output-formats.md).
"""

from __future__ import annotations

import click

from rotator.redaction import redact
from rotator.reports.escape import strip_controls


def echo(message: object = "", err: bool = False, nl: bool = True) -> None:
    """`click.echo` of `message` with secrets masked and control characters escaped."""
    click.echo(strip_controls(redact(str(message))), err=err, nl=nl)
