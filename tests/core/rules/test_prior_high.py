"""prior_high_break on real BTC history: the break above the 2017 closing high."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from rotator.core.rules.engine import RuleSet, RuleSpec, evaluate
from rotator.core.rules.prior_high import PriorHighParams
from rotator.core.rules.registry import default_registry


def one_rule(**params: object) -> RuleSet:
    spec = RuleSpec("brk", "prior_high_break", PriorHighParams(**params))
    return RuleSet("test", (spec,), (), default_registry())


def first_confirmation(rows, level: float, n: int, start: date) -> date:
    """First day on/after `start` whose close and the n-1 closes before it are all > level."""
    for i in range(n - 1, len(rows)):
        day = rows[i][0]
        if day >= start and all(rows[j][1] > level for j in range(i - n + 1, i + 1)):
            return day
    raise AssertionError("never confirmed")


def days(start: date, end: date):
    while start <= end:
        yield start
        start += timedelta(days=1)


def test_first_confirmed_break_of_2017_high_given_level(btc_rows, history):
    high_2017 = max(v for d, v in btc_rows if d.year == 2017)
    expected = first_confirmation(btc_rows, high_2017, 3, date(2018, 1, 1))
    assert date(2020, 11, 1) < expected < date(2021, 1, 31)  # sanity: the late-2020 breakout
    rules = one_rule(level=high_2017, confirm_closes=3)
    fired = [
        d for d in days(date(2018, 1, 1), expected) if evaluate(rules, history, d)["brk"].value
    ]
    assert fired == [expected]  # no break fires before it, and it fires on that day


def test_margin_delays_the_confirmation(btc_rows, history):
    high_2017 = max(v for d, v in btc_rows if d.year == 2017)
    expected = first_confirmation(btc_rows, high_2017 * 1.05, 2, date(2018, 1, 1))
    rules = one_rule(level=high_2017, confirm_closes=2, margin_pct=5)
    assert evaluate(rules, history, expected)["brk"].value is True
    assert evaluate(rules, history, expected - timedelta(days=1))["brk"].value is False


def test_automatic_level_finds_the_2017_high(btc_rows, history):
    # Independently: on each day the level is the max close between 1460 and 365 days back.
    recent = [(d, v) for d, v in btc_rows if d >= date(2014, 6, 1)]

    def auto_level(day: date) -> float:
        lo, hi = day - timedelta(days=1460), day - timedelta(days=365)
        return max(v for d, v in recent if lo <= d <= hi)

    expected = None
    for i in range(2, len(btc_rows)):
        day = btc_rows[i][0]
        if day < date(2019, 1, 1):
            continue
        level = auto_level(day)
        if all(btc_rows[j][1] > level for j in (i - 2, i - 1, i)):
            expected = day
            break
    assert expected is not None
    rules = one_rule(confirm_closes=3)
    result = evaluate(rules, history, expected)["brk"]
    assert result.value is True
    assert result.inputs["level"] == round(max(v for d, v in btc_rows if d.year == 2017), 2)
    assert "2017-12-16" in result.inputs["level_source"]
    before = [
        d
        for d in days(date(2019, 1, 1), expected - timedelta(days=1))
        if evaluate(rules, history, d)["brk"].value
    ]
    assert before == []


def test_distance_reported(history):
    result = evaluate(one_rule(level=20000), history, date(2020, 3, 12))["brk"]
    close = float(history["close:BTC"].loc["2020-03-12"])
    assert result.value is False
    assert result.inputs["distance_pct"] == round((close / 20000 - 1) * 100, 2)
    assert "from the prior high 20,000" in result.reason


def test_stale_closes_are_unknown_not_false(history):
    rules = one_rule(level=20000, max_age=2)
    result = evaluate(rules, history, date(2022, 1, 5))["brk"]  # data ends 2021-12-31
    assert result.value is None
    assert "stale" in result.reason and "2021-12-31" in result.reason


def test_missing_series_is_unknown():
    rules = one_rule(asset="ETH", level=1000)
    result = evaluate(rules, {}, date(2021, 1, 1))["brk"]
    assert result.value is None and "no close:ETH history" in result.reason


def test_data_after_as_of_is_invisible(history):
    # Evaluating on the day before the breakout must not see the breakout.
    cut = {k: v.loc[:"2020-12-01"] for k, v in history.items()}
    rules = one_rule(level=19000, confirm_closes=1)
    assert (
        evaluate(rules, history, date(2020, 12, 1))["brk"]
        == evaluate(rules, cut, date(2020, 12, 1))["brk"]
    )
    assert isinstance(history["close:BTC"], pd.Series)


def top_before_last_drawdown(rows, day: date, drawdown: float) -> tuple[float, date]:
    """Independently, with a loop: the running high on the last close `drawdown` below it."""
    high, found = 0.0, None
    for d, close in rows:
        if d > day:
            break
        high = max(high, close)
        if close <= high * (1 - drawdown):
            found = (high, d)
    assert found is not None
    return found


def test_drawdown_level_holds_the_2017_top_through_the_bear_market(btc_rows, history):
    high_2017 = max(v for d, v in btc_rows if d.year == 2017)
    rules = one_rule(find="drawdown", drawdown_pct=50, confirm_closes=3)
    for day in (date(2018, 6, 30), date(2019, 6, 26), date(2020, 3, 12), date(2020, 10, 1)):
        level, _ = top_before_last_drawdown(btc_rows, day, 0.5)
        assert level == high_2017
        result = evaluate(rules, history, day)["brk"]
        assert result.value is False, day  # a bear market is never "above the prior high"
        assert result.inputs["level"] == round(high_2017, 2)
        assert "2017-12-16" in result.inputs["level_source"]


def test_drawdown_level_confirms_the_late_2020_breakout_and_nothing_before(btc_rows, history):
    high_2017 = max(v for d, v in btc_rows if d.year == 2017)
    expected = first_confirmation(btc_rows, high_2017, 3, date(2018, 1, 1))
    # The cycle that broke 2013's top ends with the first 50 % fall from the 2017 top.
    bear_starts = next(d for d, v in btc_rows if d.year == 2018 and v <= 0.5 * high_2017)
    rules = one_rule(find="drawdown", drawdown_pct=50, confirm_closes=3)
    assert evaluate(rules, history, bear_starts - timedelta(days=1))["brk"].value is True
    fired = [d for d in days(bear_starts, expected) if evaluate(rules, history, d)["brk"].value]
    assert fired == [expected]


def test_drawdown_level_moves_to_the_2021_top_after_the_2021_crash(btc_rows, history):
    day = date(2021, 12, 31)
    level, deep_day = top_before_last_drawdown(btc_rows, day, 0.5)
    assert deep_day.year == 2021 and level > 60_000  # the April 2021 top, after the July crash
    result = evaluate(one_rule(find="drawdown", drawdown_pct=50), history, day)["brk"]
    assert result.inputs["level"] == round(level, 2)


def test_drawdown_without_a_completed_cycle_is_unknown(history):
    young = {"close:BTC": history["close:BTC"].loc["2020-12-01":"2021-01-31"]}
    result = evaluate(one_rule(find="drawdown", drawdown_pct=50), young, date(2021, 1, 31))["brk"]
    assert result.value is None
    assert "no previous cycle top" in result.reason


def test_prior_high_break():
    # Literal closes: a top of 100, a fall of 60 % (a completed cycle), then a new run higher.
    closes = pd.Series(
        [60.0, 80.0, 100.0, 70.0, 40.0, 55.0, 90.0, 101.5, 102.0, 103.0],
        index=pd.date_range("2024-03-01", periods=10, freq="D"),
    )
    history = {"close:BTC": closes}
    as_of = date(2024, 3, 10)

    given = evaluate(one_rule(level=100, confirm_closes=3, margin_pct=1), history, as_of)["brk"]
    assert given.value is True and given.as_of == as_of
    assert given.inputs["level"] == 100.0 and given.inputs["closes_above"] == 3
    assert given.inputs["distance_pct"] == 3.0
    # With a 2 % margin only 103 is strictly above 102: one close of the three needed.
    margin = evaluate(one_rule(level=100, confirm_closes=3, margin_pct=2), history, as_of)["brk"]
    assert margin.value is False and "needs 3 closes above +2.0%, has 1" in margin.reason

    found = evaluate(one_rule(find="drawdown", drawdown_pct=50, confirm_closes=2), history, as_of)[
        "brk"
    ]
    assert found.value is True and found.inputs["level"] == 100.0
    assert "top of 2024-03-03 before the 50 % drawdown lasting to 2024-03-05" in found.reason

    # Two days without a close (max_age 1): unknown, never false.
    stale = evaluate(one_rule(level=100, max_age=1), history, date(2024, 3, 12))["brk"]
    assert stale.value is None and "close:BTC is stale" in stale.reason


def _literal(values: list[float], start: date = date(2021, 1, 1)) -> dict[str, pd.Series]:
    index = pd.DatetimeIndex([start + timedelta(days=i) for i in range(len(values))])
    return {"close:BTC": pd.Series(values, index=index, dtype=float)}


def test_exit_margin_pct_holds_the_break_until_the_exit_level():
    # level 100, enter: 2 closes above 101 (margin 1 %); exit: a close below 95 (exit 5 %).
    closes = [90, 102, 103, 100, 98, 96, 99, 94, 102]
    hist = _literal(closes)
    rules = one_rule(level=100, confirm_closes=2, margin_pct=1, exit_margin_pct=5)
    plain = one_rule(level=100, confirm_closes=2, margin_pct=1)
    seen, seen_plain, held = [], [], []
    for i in range(1, len(closes)):
        day = date(2021, 1, 1) + timedelta(days=i)
        result = evaluate(rules, hist, day)["brk"]
        seen.append(result.value)
        held.append(result.inputs.get("hysteresis"))
        seen_plain.append(evaluate(plain, hist, day)["brk"].value)
    # closes: 102 | 103 (confirmed) | 100, 98, 96, 99 (held) | 94 (exit) | 102 (one close only)
    assert seen == [False, True, True, True, True, True, False, False]
    assert seen_plain == [False, True, False, False, False, False, False, False]
    assert held == [None, None, "held", "held", "held", "held", None, None]
    reason = evaluate(rules, hist, date(2021, 1, 5))["brk"].reason
    assert reason.startswith("held by hysteresis") and "2021-01-03" in reason and "95" in reason


def test_exit_margin_pct_uses_only_closes_up_to_the_day():
    closes = [102, 103, 99, 99]
    rules = one_rule(level=100, confirm_closes=2, exit_margin_pct=5)
    day = date(2021, 1, 4)
    before = evaluate(rules, _literal(closes), day)["brk"]
    later_crash = evaluate(rules, _literal([*closes, 50, 50]), day)["brk"]
    assert before.value is True and later_crash.value is True
    assert before.reason == later_crash.reason


def test_pullback_level_is_the_high_before_the_latest_correction():
    """The thesis's prior high: an old cycle top far below, a new all-time high (106), a 28 %
    pullback on closes (to 76.3, as 106k -> 76k in early 2025), then a confirmed break."""
    values = [
        20.0, 67.6, 30.0, 16.0,      # an old cycle: top 67.6, a 76 % bear market
        60.0, 90.0, 106.0,           # the new all-time high, day 6
        95.0, 85.0, 76.3, 80.0,      # the pullback: 28.0 % down to 76.3 on day 9
        100.0, 105.0, 107.5, 108.0,  # back above 106 + 1 % on days 14 and 15
        109.5,                       # day 15: three closes in a row above 106 + 1 %
    ]  # fmt: skip
    history = _literal(values, start=date(2025, 1, 1))
    rules = one_rule(find="pullback", pullback_pct=25, confirm_closes=3, margin_pct=1)

    during = evaluate(rules, history, date(2025, 1, 10))["brk"]
    assert during.value is False and during.inputs["level"] == 106.0
    assert "all-time high of 2025-01-07 before a 28.0 % pullback to 76 on 2025-01-10" in (
        during.reason
    )
    # The 50 %-drawdown definition, still available, points at the old cycle's top instead.
    old = evaluate(one_rule(find="drawdown", drawdown_pct=50), history, date(2025, 1, 10))["brk"]
    assert old.inputs["level"] == 67.6 and old.value is True

    # Before the fall reaches 25 % (95, 85: 19.8 % down) the prior high is still the old top.
    early = evaluate(rules, history, date(2025, 1, 9))["brk"]
    assert early.inputs["level"] == 67.6 and early.value is True
    fired = [
        d
        for d in days(date(2025, 1, 10), date(2025, 1, 16))
        if evaluate(rules, history, d)["brk"].value
    ]
    # 107.5 and 108 clear 107.06 from day 14; the third close above comes on day 16.
    assert fired == [date(2025, 1, 16)]
    done = evaluate(rules, history, date(2025, 1, 16))["brk"]
    assert done.inputs["level"] == 106.0 and done.inputs["closes_above"] == 3
    assert "closed above 106 +1.0%" in done.reason and "2025-01-07" in done.reason


def test_pullback_smaller_than_the_threshold_keeps_the_earlier_level():
    # A 20 % dip (100 -> 80) is not a 25 % pullback: the level stays the high before the
    # last 25 % fall (50 -> 30), and the new high of 100 is not a "prior" high yet.
    history = _literal([50.0, 30.0, 60.0, 100.0, 80.0, 90.0, 95.0])
    result = evaluate(one_rule(find="pullback", pullback_pct=25), history, date(2021, 1, 7))["brk"]
    assert result.inputs["level"] == 50.0 and result.value is True
    assert "pullback to 30 on 2021-01-02" in result.reason
    none = evaluate(one_rule(find="pullback", pullback_pct=50), history, date(2021, 1, 7))["brk"]
    assert none.value is None and "never closed 50 % below its all-time high" in none.reason


def test_pullback_pct_is_validated():
    import pydantic
    import pytest

    with pytest.raises(pydantic.ValidationError, match="greater than or equal to 5"):
        PriorHighParams(find="pullback", pullback_pct=2)
    with pytest.raises(pydantic.ValidationError, match="less than 100"):
        PriorHighParams(find="pullback", pullback_pct=100)
    with pytest.raises(pydantic.ValidationError, match="pullback_pct applies to find: pullback"):
        PriorHighParams(find="drawdown", pullback_pct=30)
    dumped = PriorHighParams(find="drawdown").model_dump()  # round trips keep validating
    assert PriorHighParams.model_validate(dumped).pullback_pct == 25
