"""Publication lags: a value is visible to a rule only from the day it was made public.

Macro series are dated by what they describe (the *reference* date: the Wednesday of a weekly
balance sheet, the day a yield was observed), but they are published later. A backtest that
read the Fed's Wednesday balance sheet on Wednesday would trade on a number nobody had yet.
So every series has a ``lag_days``: the number of US business days (Monday to Friday, without
US federal holidays, which the Federal Reserve and the Treasury observe) between its reference
date and the day it is public by the UTC close a rule is evaluated at. ``0`` means the same day.

`RuleContext.series` applies the lag whenever it builds the as-of view of a series, so every
caller (``rotator signals``, ``rotator plan``, a day-by-day replay) sees the same, honest view.

Defaults (override per rule with its ``lag_days`` parameter):

=====================  ====  ===============================================================
series                 lag   why
=====================  ====  ===============================================================
``fred:WALCL``         1     H.4.1, released Thursday 4:30 pm ET for the Wednesday level
                             (the next business day when Thursday is a holiday)
``fred:WTREGEN``       1     H.4.1 as above: the week ending Wednesday
``fred:DGS10``         1     H.15: day D's constant-maturity yield appears in the next business
                             day's H.15 update (Friday's on Monday)
``fred:RRPONTSYD``     0     the New York Fed posts the day's operation results at about
                             1:15 pm ET, before the UTC close
``index:MOVE``         0     ICE's closing value is out the same evening
``treasury:buybacks``  0     results are posted on the operation's afternoon
other ``fred:`` ids    1     FRED posts most daily data the next business day
anything else          0     market data (closes, dominance) is known at its own close
=====================  ====  ===============================================================

FRED revises some series after publication; rotator stores the latest vintage, so a replay
uses revised numbers published on the original date. For H.4.1 and H.15 revisions are rare and
small; the lag, not the vintage, is what would otherwise leak the future.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any


@dataclass(frozen=True, slots=True)
class Publication:
    """When and in what unit a series is published.

    Attributes:
        lag_days: US business days from the reference date to the day the value is public.
        unit: the unit of the stored values.
        release: where the value comes from and when it is released.
    """

    lag_days: int
    unit: str
    release: str


PUBLICATIONS: dict[str, Publication] = {
    "fred:WALCL": Publication(
        1, "millions of USD", "Fed H.4.1, Thursday 4:30 pm ET, Wednesday level (weekly)"
    ),
    "fred:WTREGEN": Publication(
        1, "millions of USD", "Fed H.4.1, Thursday 4:30 pm ET, week ending Wednesday (weekly)"
    ),
    "fred:DGS10": Publication(1, "percent", "Fed H.15, next business day (daily, business days)"),
    "fred:RRPONTSYD": Publication(
        0, "billions of USD", "New York Fed, same day about 1:15 pm ET (daily, business days)"
    ),
    "index:MOVE": Publication(
        0, "index points (bp, annualised)", "ICE BofA MOVE close, same day (daily)"
    ),
    "treasury:buybacks": Publication(
        0, "USD par accepted", "Treasury Fiscal Data, operation day (0 on days without one)"
    ),
}
FRED_DEFAULT = Publication(1, "as published", "FRED, next business day")
MARKET_DEFAULT = Publication(0, "as stored", "known at its own close")


def publication(name: str) -> Publication:
    """The publication facts of series `name` (defaults for unlisted names)."""
    if name in PUBLICATIONS:
        return PUBLICATIONS[name]
    return FRED_DEFAULT if name.startswith("fred:") else MARKET_DEFAULT


def default_lag(name: str) -> int:
    """Default `lag_days` of series `name` (see the module docstring)."""
    return publication(name).lag_days


@lru_cache(maxsize=1)
def _calendar() -> Any:
    """US business days: Monday to Friday without US federal holidays (1950-2100)."""
    import numpy as np
    from pandas.tseries.holiday import USFederalHolidayCalendar

    holidays = USFederalHolidayCalendar().holidays("1950-01-01", "2100-12-31")
    return np.busdaycalendar(holidays=holidays.to_numpy().astype("datetime64[D]"))


def visible_through(as_of: date, lag_days: int) -> date:
    """The newest reference date whose value is public by `as_of`'s close."""
    if lag_days <= 0:
        return as_of
    import numpy as np

    day = np.busday_offset(
        np.datetime64(as_of, "D"), -lag_days, roll="backward", busdaycal=_calendar()
    )
    return day.astype(object)


def published_on(reference: date, lag_days: int) -> date:
    """The day a value with this reference date becomes public."""
    if lag_days <= 0:
        return reference
    import numpy as np

    day = np.busday_offset(
        np.datetime64(reference, "D"), lag_days, roll="forward", busdaycal=_calendar()
    )
    return day.astype(object)
