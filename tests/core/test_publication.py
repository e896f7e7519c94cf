"""Publication lags: a value is invisible to a rule before the day it was published."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from rotator.core.publication import default_lag, published_on, visible_through
from rotator.core.rules.engine import history_only
from rotator.core.rules.registry import MissingInput, RuleContext


def context(day: date, history: dict[str, pd.Series]) -> RuleContext:
    """A rule's context on stored history alone (no accounts, no datasets)."""
    return RuleContext(day, history, history_only(day, history))


def test_default_lags():
    assert default_lag("fred:WALCL") == 1 and default_lag("fred:WTREGEN") == 1
    assert default_lag("fred:DGS10") == 1 and default_lag("fred:T10Y2Y") == 1
    assert default_lag("fred:RRPONTSYD") == 0 and default_lag("index:MOVE") == 0
    assert default_lag("treasury:buybacks") == 0 and default_lag("close:BTC") == 0


@pytest.mark.parametrize(
    ("reference", "public"),
    [
        (date(2024, 1, 3), date(2024, 1, 4)),  # H.4.1: Wednesday level, Thursday release
        (date(2024, 1, 5), date(2024, 1, 8)),  # H.15: Friday's yield in Monday's update
        (date(2023, 11, 22), date(2023, 11, 24)),  # Thanksgiving Thursday: the Friday
        (date(2021, 7, 2), date(2021, 7, 6)),  # Independence Day observed on Monday 5th
    ],
)
def test_published_on_next_business_day(reference: date, public: date):
    assert published_on(reference, 1) == public
    assert visible_through(public, 1) >= reference
    assert visible_through(public - timedelta(days=1), 1) < reference


def test_value_invisible_before_its_publication_day():
    walcl = pd.Series(
        [7_700_000.0, 7_650_000.0], index=pd.DatetimeIndex(["2024-01-03", "2024-01-10"])
    )
    history = {"fred:WALCL": walcl}
    wednesday = context(date(2024, 1, 10), history).series("fred:WALCL")
    assert list(wednesday) == [7_700_000.0]  # the 01-10 level is not public yet
    thursday = context(date(2024, 1, 11), history).series("fred:WALCL")
    assert list(thursday) == [7_700_000.0, 7_650_000.0]
    with pytest.raises(MissingInput, match=r"no fred:WALCL value published by 2024-01-03"):
        context(date(2024, 1, 3), history).series("fred:WALCL")
    # An explicit lag of 0 shows the value on its reference day.
    eager = context(date(2024, 1, 10), history).series("fred:WALCL", lag_days=0)
    assert len(eager) == 2
