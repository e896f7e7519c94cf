"""The rows a daily report is made of: value changes, drift, rule answers, chart series.

Plain frozen records shared by the report's builders (rotator.reports.daily and its macro
panel, rotator.reports.macro) and the chart renderer (rotator.reports.charts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class Change:
    """The portfolio value change over a window, from the stored history."""

    label: str
    since: date | None  # the day compared with; None when history does not reach back
    then: Decimal | None
    delta: Decimal | None
    pct: Decimal | None


@dataclass(frozen=True, slots=True)
class DriftRow:
    """One asset (or the cash bucket): weight now, target, drift, and weight after the plan."""

    asset: str
    value: Decimal
    weight: Decimal
    target: Decimal | None
    drift_pp: Decimal | None  # percentage points, weight - target
    after: Decimal | None
    priced: bool = True  # False: held but without a fresh price (value and drift unknown)


@dataclass(frozen=True, slots=True)
class RuleRow:
    """One rule's answer with its freshness."""

    name: str
    kind: str
    state: str  # "true" / "false" / "unknown"
    reason: str
    as_of: date | None
    age_days: int | None
    stale: bool
    inputs: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Series:
    """A daily series for a chart: (day, value) points, oldest first."""

    name: str
    points: tuple[tuple[date, float], ...]

    @property
    def last(self) -> tuple[date, float] | None:
        return self.points[-1] if self.points else None
