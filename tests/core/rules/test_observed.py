"""`RuleContext.observed` (numpy) gives exactly what `RuleContext.series` (pandas) gives.

Rules a replay runs every day read their series as arrays; the values, the days and the
reasons a series is missing or stale must not depend on which of the two a rule uses, nor on
whether the history is a `History` (arrays made once) or a plain mapping.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from rotator.core.history import History, ns_day
from rotator.core.publication import default_lag, visible_through
from rotator.core.rules.engine import history_only
from rotator.core.rules.registry import MissingInput, RuleContext

START = date(2020, 12, 1)


def _plain(values: np.ndarray) -> list[float | None]:
    return [None if np.isnan(v) else float(v) for v in values]


def _answer(ctx: RuleContext, how: str, name: str, **kw: int | None) -> object:
    try:
        if how == "series":
            found = ctx.series(name, **kw)
            days = [stamp.date() for stamp in found.index]
            return days, _plain(found.to_numpy(dtype=float))
        seen = ctx.observed(name, **kw)
        return [seen.day(i) for i in range(len(seen))], _plain(seen.values)
    except MissingInput as exc:
        return f"missing: {exc}"


def _reference(series: pd.Series, day: date, name: str, **kw: int | None) -> object:
    """What a rule may see, by boolean masks over the whole series (no binary search)."""
    lag = default_lag(name) if kw["lag_days"] is None else kw["lag_days"]
    visible = series[series.index <= pd.Timestamp(visible_through(day, lag))]
    if visible.empty:
        return "missing"
    age = (day - visible.index[-1].date()).days
    if kw["max_age"] is not None and age > kw["max_age"]:
        return "missing"
    if kw["days"] is not None:
        visible = visible[visible.index >= pd.Timestamp(day - timedelta(days=kw["days"] - 1))]
    return [stamp.date() for stamp in visible.index], _plain(visible.to_numpy(dtype=float))


@settings(max_examples=150, deadline=None)
@given(
    offsets=st.lists(st.integers(0, 60), max_size=25, unique=True),
    nan_at=st.sets(st.integers(0, 24), max_size=4),
    name=st.sampled_from(["fred:WALCL", "index:MOVE", "close:BTC", "fred:DGS10"]),
    as_of=st.integers(-5, 70),
    max_age=st.none() | st.integers(0, 10),
    days=st.none() | st.integers(1, 40),
    lag_days=st.none() | st.integers(0, 3),
)
def test_observed_and_series_agree(offsets, nan_at, name, as_of, max_age, days, lag_days):
    stamps = sorted(START + timedelta(days=o) for o in offsets)
    values = [float("nan") if i in nan_at else 100.0 + i for i in range(len(stamps))]
    series = pd.Series(values, index=pd.DatetimeIndex(stamps), dtype=float)
    day = START + timedelta(days=as_of)
    kw = {"max_age": max_age, "days": days, "lag_days": lag_days}
    answers = []
    for history in ({name: series}, History({name: series})):
        ctx = RuleContext(day, history, history_only(day, history))
        for how in ("series", "observed"):
            answers.append(_answer(ctx, how, name, **kw))
            answers.append(_answer(ctx, how, "close:ETH", **kw))  # absent
    assert all(a == answers[0] for a in answers[0::2]), answers
    assert all(a == answers[1] for a in answers[1::2]), answers
    expected = _reference(series, day, name, **kw)
    if expected == "missing":
        assert str(answers[0]).startswith("missing: "), answers[0]
    else:
        assert answers[0] == expected
    assert str(answers[1]).startswith("missing: no close:ETH history")


def test_history_makes_each_series_arrays_once():
    series = pd.Series([1.0, 2.0], index=pd.date_range("2021-01-01", periods=2))
    history = History({"close:BTC": series})
    stamps, values = history.arrays("close:BTC")
    assert history.arrays("close:BTC")[0] is stamps
    assert [ns_day(s) for s in stamps] == [date(2021, 1, 1), date(2021, 1, 2)]
    assert np.array_equal(values, [1.0, 2.0])
    assert dict(history) == {"close:BTC": series} and len(history) == 1
