"""The one clock a run reads and waits with, handed down to every adapter that needs time.

A `Clock` bundles the four ways code meets time: the wall time (`now`, an aware UTC datetime:
stamps, the default day, a Retry-After given as an HTTP date), a monotonic count of seconds
(rate-limit spacing, deadlines), and a blocking and an asyncio wait (back-off, Retry-After,
lock polling). The real one is built at the command line's edge (rotator.cli.clock); nothing
else reads the system clock or sleeps, so a test hands in a clock that records each wait and
moves on at once, and `--now` freezes the wall time of a whole run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Clock:
    """Wall time, monotonic time and waiting, for one run.

    Attributes:
        now: the wall time, aware UTC (frozen by `--now` in tests and simulations).
        monotonic: seconds on a clock that never goes back (intervals and deadlines).
        sleep: a blocking wait of so many seconds.
        asleep: the same wait for asyncio code.
    """

    now: Callable[[], datetime]
    monotonic: Callable[[], float]
    sleep: Callable[[float], None]
    asleep: Callable[[float], Awaitable[None]]

    def frozen_at(self, moment: datetime) -> Clock:
        """This clock with its wall time fixed at `moment` (monotonic time and waits unchanged)."""
        return replace(self, now=lambda: moment)
