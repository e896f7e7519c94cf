"""A clock for tests: the wall time is set, and every wait is recorded instead of slept.

Adapters take the run's clock (rotator.core.clock.Clock) as an argument; tests hand them
`FakeClock().clock` and assert on `waits`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rotator.core.clock import Clock

FAKE_START = datetime(2025, 11, 24, 7, 0, tzinfo=UTC)  # a fake clock's first wall time


class FakeClock:
    """A `rotator.core.clock.Clock` for tests: the wall time starts at `start`, monotonic time
    at 0, and every wait (sync `sleep` or async `asleep`) is recorded in `waits` and moves both
    on by that much at once instead of sleeping.

    Adapters take the clock as an argument; tests hand them `fake.clock` and assert on `waits`
    (the back-off, the rate limit's spacing and the server's Retry-After) without spending the
    time.
    """

    def __init__(self, start: datetime = FAKE_START, *, frozen: bool = False) -> None:
        self.start = start
        self.frozen = frozen  # the wall time stays at `start` (waits move monotonic time only)
        self.elapsed = 0.0
        self.waits: list[float] = []
        self.clock = Clock(
            now=self.now, monotonic=self.monotonic, sleep=self.sleep, asleep=self.asleep
        )

    def now(self) -> datetime:
        return self.start if self.frozen else self.start + timedelta(seconds=self.elapsed)

    def monotonic(self) -> float:
        return self.elapsed

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.elapsed += max(0.0, seconds)

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)
