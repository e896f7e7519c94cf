"""History coverage: for each series a rule set reads, is enough of it stored, and fresh?

`assess_coverage` is pure: the caller gives the stored extent of each series (rows, first and
last day, the sources they came from, read by rotator.adapters.storage.coverage), the days of
history the rules declare they need (`RuleSet.lookbacks`), how old the newest value may be
(`RuleSet.max_ages`) and today. Statuses:

- ``missing``: nothing stored;
- ``stale``: the newest stored value is older than the rules accept (`max_age` plus the
  series' publication lag, rotator.core.publication);
- ``short``: the stored span starts after today minus the days needed;
- ``ok``: otherwise.

Every series is filled by ``rotator history fetch`` (the MOVE index also by ``rotator history
import MOVE.csv``), so each line names that command.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from rotator.core.dominance_proxy import is_proxy
from rotator.core.publication import default_lag

FETCH = "rotator history fetch"
# Business days of publication lag -> calendar days, with room for a weekend and a holiday.
_LAG_SLACK_DAYS = 3


@dataclass(frozen=True, slots=True)
class StoredExtent:
    """What the store holds of one series: rows, first and last day, the sources."""

    rows: int
    first: date | None
    last: date | None
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SeriesCoverage:
    """One series the rules read: what is stored against what the rules need."""

    series: str
    stored_days: int
    first: date | None
    last: date | None
    needed_days: int
    status: str  # "ok", "short", "missing" or "stale"
    sources: tuple[str, ...] = ()
    fill: str = FETCH

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def describe(self) -> str:
        """One line: series, stored days and span, needed days, status and the fix."""
        span = f"{self.first} to {self.last}" if self.first else "nothing stored"
        source = f" from {', '.join(self.sources)}" if self.sources else ""
        fix = "" if self.ok else f": run `{self.fill}`"
        return (
            f"{self.series}: {self.stored_days} days stored ({span}){source}; "
            f"rules need {self.needed_days} days; {self.status}{fix}"
        )

    def as_json(self) -> dict[str, object]:
        return {
            "series": self.series,
            "stored_days": self.stored_days,
            "first": None if self.first is None else self.first.isoformat(),
            "last": None if self.last is None else self.last.isoformat(),
            "needed_days": self.needed_days,
            "status": self.status,
            "sources": list(self.sources),
            "fill": self.fill,
        }


def attribution(series: str, sources: tuple[str, ...]) -> str:
    """Where a series' stored days came from, naming a proxy as one."""
    if not sources:
        return f"{series}: nothing stored"
    text = f"{series} from {', '.join(sources)}"
    if any(is_proxy(s) for s in sources):
        text += " (a PROXY: BTC's share of the top-N coins' market caps, not real dominance)"
    return text


def fill_command(series: str) -> str:
    """The command that fills `series` (the MOVE index may also come from a CSV file)."""
    if series.startswith("index:"):
        return f"{FETCH} (or `rotator history import MOVE.csv`)"
    return FETCH


def assess_series(
    series: str, extent: StoredExtent | None, needed_days: int, max_age: int, today: date
) -> SeriesCoverage:
    """The coverage of one series (see the module docstring for the statuses)."""
    fill = fill_command(series)
    if extent is None or extent.rows == 0 or extent.first is None or extent.last is None:
        return SeriesCoverage(series, 0, None, None, needed_days, "missing", (), fill)
    allowed = max_age + default_lag(series) + (_LAG_SLACK_DAYS if default_lag(series) else 0)
    if (today - extent.last).days > allowed:
        status = "stale"
    elif extent.first > today - timedelta(days=needed_days):
        status = "short"
    else:
        status = "ok"
    return SeriesCoverage(
        series, extent.rows, extent.first, extent.last, needed_days, status, extent.sources, fill
    )


def assess_coverage(
    needed: Mapping[str, int],
    stored: Mapping[str, StoredExtent],
    max_ages: Mapping[str, int],
    today: date,
) -> tuple[SeriesCoverage, ...]:
    """One coverage line per series in `needed` (in its order)."""
    return tuple(
        assess_series(name, stored.get(name), days, max_ages.get(name, 3), today)
        for name, days in needed.items()
    )


def lacking(coverage: tuple[SeriesCoverage, ...]) -> tuple[SeriesCoverage, ...]:
    """The series that are missing, short or stale."""
    return tuple(c for c in coverage if not c.ok)


def history_note(
    rule_inputs: Mapping[str, tuple[str, ...]],
    unknown: Iterable[str],
    coverage: tuple[SeriesCoverage, ...],
) -> str | None:
    """One line naming the unknown rules that read a missing, short or stale series, or None.

    Args:
        rule_inputs: rule name -> the series it reads.
        unknown: names of the rules that answered unknown.
        coverage: the coverage of those series as of the evaluation day.
    """
    gaps = {c.series: c for c in lacking(coverage)}
    rules = [r for r in unknown if any(s in gaps for s in rule_inputs.get(r, ()))]
    if not rules:
        return None
    read = dict.fromkeys(s for r in rules for s in rule_inputs[r] if s in gaps)
    series = ", ".join(f"{s} {gaps[s].status}" for s in read)
    count = f"{len(rules)} rule{'s' if len(rules) != 1 else ''}"
    return (
        f"{count} unknown for lack of history ({', '.join(rules)}; {series}): "
        f"run `{FETCH}`, then `rotator check` shows the coverage"
    )
