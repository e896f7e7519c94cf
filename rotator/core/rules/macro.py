"""Shared helpers of the macro rule kinds: the published view of a series and its data note.

Every macro kind reads its series through `published`, which applies the series' publication
lag (rotator.core.publication) and returns a note such as
``fred:WALCL 2021-12-29 (public 2021-12-30, lag 1 bd)`` that the kinds put in their inputs under
``data``, so `rotator signals` and the report show which observation a rule used and when it
became public.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from rotator.core.publication import default_lag, published_on
from rotator.core.rules.registry import Observed, RuleContext

if TYPE_CHECKING:
    from datetime import date

    import pandas as pd

LAG_FIELD = Field(
    None, ge=0, le=30, description="publication lag in US business days (None: series default)"
)


def published(
    ctx: RuleContext,
    name: str,
    *,
    lag_days: int | None,
    max_age: int | None,
    days: int | None = None,
) -> tuple[pd.Series, str]:
    """The series as public at `ctx.as_of` (see RuleContext.series) and its data note."""
    series = ctx.series(name, max_age=max_age, days=days, lag_days=lag_days)
    return series, data_note(name, series, lag_days)


def observed(
    ctx: RuleContext,
    name: str,
    *,
    lag_days: int | None,
    max_age: int | None,
    days: int | None = None,
) -> tuple[Observed, str]:
    """`published` as numpy arrays (RuleContext.observed), for rules a replay runs daily."""
    seen = ctx.observed(name, max_age=max_age, days=days, lag_days=lag_days)
    return seen, note_on(name, seen.day(-1), lag_days)


def data_note(name: str, series: pd.Series, lag_days: int | None) -> str:
    """ "<name> <reference date> (public <day>, lag N bd)" for the newest value of `series`."""
    return note_on(name, series.index[-1].date(), lag_days)


def note_on(name: str, newest: date, lag_days: int | None) -> str:
    """The data note of series `name` whose newest value is of reference date `newest`."""
    lag = default_lag(name) if lag_days is None else lag_days
    if lag == 0:
        return f"{name} {newest} (lag 0)"
    return f"{name} {newest} (public {published_on(newest, lag)}, lag {lag} bd)"
