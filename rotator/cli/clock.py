"""The real clock: the one place that reads the system's time and sleeps for real.

Every command builds its session with `session_clock(--now)`; the session hands the clock down
through the pipeline to the adapters (rotator.core.clock), which never read the time themselves.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from rotator.cli.options import parse_now
from rotator.core.clock import Clock


def utc_now() -> datetime:
    """The system's wall time, aware UTC."""
    return datetime.now(UTC)


SYSTEM_CLOCK = Clock(now=utc_now, monotonic=time.monotonic, sleep=time.sleep, asleep=asyncio.sleep)


def session_clock(now_text: str | None) -> Clock:
    """The system clock, its wall time frozen at `--now` when one is given."""
    return SYSTEM_CLOCK.frozen_at(parse_now(now_text)) if now_text else SYSTEM_CLOCK
