"""Screen history: the baskets `rotator screen` established, by day, for replays.

`rotator screen` stores each result (rule, basket, members with their figures) under its day.
A replay (`rotator signals --as-of`, `rotator backtest`) cannot fetch the screen's inputs as
they were on a past day, so the `revenue_screen` rule reads the basket known on that day: the
latest stored screen of the same rule on or before it, no older than `history_max_age_days`.
Without one it uses the rule set's declared `fallback_basket` (the reason says so), else it is
unknown; it never invents a basket.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

DATASET = "dataset:screen_history"


@dataclass(frozen=True, slots=True)
class StoredScreen:
    """One stored screen result.

    Attributes:
        day: the UTC day it was screened on (one result per rule and day; the last one wins).
        rule: the `revenue_screen` rule's name.
        basket: asset -> weight (sums to 1 or is empty: nothing passed).
        members: the basket's tokens with the figures that put them there.
        screened_at: when it ran (aware).
    """

    day: date
    rule: str
    basket: Mapping[str, Decimal]
    members: tuple[Mapping[str, object], ...]
    screened_at: datetime


@dataclass(frozen=True, slots=True)
class ScreenHistory:
    """Stored screens, ascending by day (the `dataset:screen_history` of a replay)."""

    screens: tuple[StoredScreen, ...] = ()

    def known_on(self, rule: str, day: date, max_age_days: int) -> StoredScreen | None:
        """The latest screen of `rule` on or before `day`, at most `max_age_days` old."""
        found = None
        for screen in self.screens:
            if screen.rule == rule and screen.day <= day:
                found = screen
        if found is None or (day - found.day).days > max_age_days:
            return None
        return found

    def latest_before(self, rule: str, day: date) -> StoredScreen | None:
        """The latest screen of `rule` on or before `day`, however old (for the reason text)."""
        older = [s for s in self.screens if s.rule == rule and s.day <= day]
        return older[-1] if older else None


def fallback(weights: Mapping[str, float]) -> dict[str, Decimal]:
    """The declared fallback basket as normalised Decimal weights."""
    total = sum(Decimal(str(w)) for w in weights.values())
    return {code: Decimal(str(w)) / total for code, w in weights.items()}
