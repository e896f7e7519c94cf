"""Progress on stderr for long work: replays, sweeps, source retries, a held run lock.

`show_progress(quiet)` yields a `Progress` a command hands to the pipeline as plain callbacks
(`progress.step(name, total)` -> `advance(done)`). Waits are announced by the adapters on the
`rotator.wait` logger (a retry's back-off, a lock held by another run); while a display is
shown they appear above it. Nothing is shown when stderr is not a terminal (cron, pipes,
tests) or with `--quiet`: stdout stays the command's result alone either way.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress

from rotator.redaction import RedactingFilter

WAIT_LOGGER = "rotator.wait"


class Progress:
    """Callbacks for the pipeline; silent when there is no display."""

    def __init__(self, display: RichProgress | None = None) -> None:
        self._display = display

    @property
    def shown(self) -> bool:
        return self._display is not None

    def step(self, description: str, total: int | None) -> Callable[[int], None]:
        """A task of `total` units (None: unknown, a pulsing bar); the returned callable sets
        how many are done."""
        if self._display is None:
            return _nothing
        display = self._display
        task = display.add_task(escape(description), total=total)
        return lambda done: display.update(task, completed=done)


def _nothing(_done: int) -> None:
    return None


class _DisplayHandler(logging.Handler):
    """Prints `rotator.wait` records above the progress display (or alone on stderr)."""

    def __init__(self, console: Console) -> None:
        super().__init__(logging.INFO)
        self.console = console
        self.addFilter(RedactingFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.console.print(f"[dim]{escape(record.getMessage())}[/dim]", highlight=False)


def wants_display(quiet: bool, stream: TextIO | None = None) -> bool:
    """Whether to show progress: a terminal on stderr and no --quiet."""
    stream = stream if stream is not None else sys.stderr
    return not quiet and bool(getattr(stream, "isatty", lambda: False)())


@contextmanager
def show_progress(quiet: bool, *, console: Console | None = None) -> Iterator[Progress]:
    """A progress display on stderr for the block (a silent one when not wanted)."""
    if console is None and not wants_display(quiet):
        yield Progress()
        return
    console = console or Console(stderr=True)
    display = RichProgress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    logger = logging.getLogger(WAIT_LOGGER)
    handler = _DisplayHandler(console)
    before = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        with display:
            yield Progress(display)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(before[0])
        logger.propagate = before[1]
