"""`dominance`: tests on BTC dominance (percent of total crypto market cap).

One kind, several tests, chosen with `test:`:

- ``above`` / ``below``: the last value is above / below `level` percent;
- ``change``: the value changed by at least `min_change_pp` points over `window` days
  (positive: rose at least that much; negative: fell at least that much);
- ``fallen_from_peak``: the last value is at least `fallen_pp` points below its `window`-day peak
  (dominance "rolling over");
- ``ma_cross``: the `fast`-day moving average is below (`direction: below`) or above the
  `slow`-day moving average.

Example::

    dominance_rolling_over: {kind: dominance, test: fallen_from_peak, window: 90, fallen_pp: 3}

`exit_recover_pp` (fallen_from_peak only) adds hysteresis: once the roll-over holds, it stays
true until dominance recovers that many points from its lowest value since, or makes a new
`window`-day peak (reason: "held by hysteresis"), computed from the series up to the evaluation
day alone. The hold is against noise, not against the trend: a new peak always ends it.

`confirm_days` (default 1) asks the test to hold on each of the last N days with data, so one
day's wiggle does not switch a regime. `series` may name another daily percent series (default
``btc_dominance``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from rotator.core.history import NS_PER_DAY, ns_day
from rotator.core.rules.registry import Params, RuleContext, RuleResult, rule

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

Test = Literal["above", "below", "change", "fallen_from_peak", "ma_cross"]
REQUIRED: dict[str, tuple[str, ...]] = {
    "above": ("level",),
    "below": ("level",),
    "change": ("window", "min_change_pp"),
    "fallen_from_peak": ("window", "fallen_pp"),
    "ma_cross": ("fast", "slow"),
}


class DominanceParams(Params):
    test: Test = Field(description="which test (see module docstring)")
    series: str = Field("btc_dominance", min_length=1)
    level: float | None = Field(None, gt=0, lt=100, description="percent, for above/below")
    window: int | None = Field(None, gt=1, le=3650, description="days, for change/peak")
    min_change_pp: float | None = Field(None, description="points, for change (sign = direction)")
    fallen_pp: float | None = Field(None, gt=0, lt=100, description="points, for fallen_from_peak")
    fast: int | None = Field(None, ge=1, description="days, fast moving average")
    slow: int | None = Field(None, ge=2, description="days, slow moving average")
    direction: Literal["below", "above"] = "below"
    confirm_days: int = Field(1, ge=1, le=60, description="the test must hold on this many days")
    max_age: int = Field(3, ge=0, description="days the newest value may be old")
    exit_recover_pp: float | None = Field(
        None,
        gt=0,
        lt=100,
        description="fallen_from_peak hysteresis: true until it recovers this many points",
    )

    @model_validator(mode="after")
    def _needs(self) -> DominanceParams:
        missing = [f for f in REQUIRED[self.test] if getattr(self, f) is None]
        if missing:
            raise ValueError(f"test {self.test!r} needs {' and '.join(missing)}")
        if self.test == "ma_cross" and self.fast >= self.slow:  # type: ignore[operator]
            raise ValueError(f"fast ({self.fast}) must be shorter than slow ({self.slow})")
        if self.exit_recover_pp is not None and self.test != "fallen_from_peak":
            raise ValueError("exit_recover_pp applies to test 'fallen_from_peak' only")
        if self.level is not None and self.level <= 1:
            raise ValueError(
                f"level is a percentage between 1 and 100, got {self.level} "
                f"(did you mean {self.level * 100:g}?)"
            )
        return self


def _lookback(p: DominanceParams) -> int:
    """The test's window (the slow average for ma_cross) plus the confirming days."""
    days = {"change": p.window, "fallen_from_peak": p.window, "ma_cross": p.slow}.get(p.test)
    return (days or 1) + p.confirm_days


@rule("dominance", params=DominanceParams, inputs=("{series}",), lookback=_lookback)
def dominance(p: DominanceParams, ctx: RuleContext) -> RuleResult:
    """Tests BTC dominance: level above/below, change over a window, fall from peak, MA cross."""
    import numpy as np

    days = {"change": p.window, "fallen_from_peak": p.window, "ma_cross": p.slow}.get(p.test)
    span = None if days is None else days + p.confirm_days - 1
    seen = ctx.observed(p.series, max_age=p.max_age, days=span)  # numpy: a replay runs this daily
    if len(seen) < p.confirm_days:
        return RuleResult.unknown(
            f"{p.series}: {len(seen)} values, {p.confirm_days} needed for confirm_days"
        )
    verdicts = []
    stamps, values = seen.stamps, seen.values
    for pos in range(len(seen) - p.confirm_days, len(seen)):  # the test on each of the last days
        lo = 0
        if days is not None:
            lo = int(np.searchsorted(stamps, stamps[pos] - days * NS_PER_DAY, side="right"))
        verdicts.append(_test(p, stamps[lo : pos + 1], values[lo : pos + 1]))
    value, inputs, reason = verdicts[-1]
    as_of = seen.day(-1)
    if value is None:
        return RuleResult.unknown(reason, inputs, as_of)
    if p.confirm_days > 1:
        held = sum(1 for v, _, _ in verdicts if v)
        inputs["days_holding"] = held
        reason += f"; true on {held} of the last {p.confirm_days} days (all needed)"
        value = held == p.confirm_days
    if not value and p.exit_recover_pp is not None:
        since = _rolled_over_since(ctx.series(p.series, max_age=p.max_age), p)
        if since is not None:
            inputs |= {"hysteresis": "held", "rolled_over_on": since}
            reason = (
                f"held by hysteresis: rolled over on {since} and has not recovered "
                f"{p.exit_recover_pp} points from its low since; now: {reason}"
            )
            value = True
    return RuleResult.of(value, reason, inputs, as_of)


def _rolled_over_since(series: pd.Series, p: DominanceParams) -> object | None:
    """The last day the roll-over test held, if dominance has not recovered since (else None).

    Pure in the series up to the evaluation day: the test is computed for every day (peak over
    the `window` days ending that day, confirmed on `confirm_days` days with data); after the
    last day it held, the roll-over stands until a value is `exit_recover_pp` points above the
    lowest value since that day, or until dominance makes a new `window`-day peak (closes at
    or above the highest value of the `window` days ending that day).
    """
    import numpy as np

    peak = series.rolling(f"{p.window}D").max()
    raw = ((peak - series) >= (p.fallen_pp or 0.0)).astype(int)
    confirmed = raw.rolling(p.confirm_days).min().to_numpy() == 1
    hits = np.flatnonzero(confirmed)
    if hits.size == 0:
        return None
    last = int(hits[-1])
    after = series.to_numpy(dtype=float)[last:]
    low = np.minimum.accumulate(after)
    if bool(((after - low) >= (p.exit_recover_pp or 0.0)).any()):
        return None
    # A new `window`-day peak since then ends it too: hysteresis holds the roll-over against
    # noise, not against dominance trending up again.
    if bool((series.to_numpy(dtype=float)[last + 1 :] >= peak.to_numpy()[last + 1 :]).any()):
        return None
    return series.index[last].date()


def _test(
    p: DominanceParams, stamps: np.ndarray, values: np.ndarray
) -> tuple[bool | None, dict[str, object], str]:
    """The test on a window that ends on the day judged (already cut to the test's window):
    its days (int64 nanoseconds since the epoch) and values (missing values are skipped, as
    pandas does)."""
    import numpy as np

    last = float(values[-1])
    inputs: dict[str, object] = {"dominance_pct": round(last, 2)}
    if p.test in ("above", "below"):
        level = p.level or 0.0
        value = last > level if p.test == "above" else last < level
        inputs["level"] = level
        return value, inputs, f"dominance {last:.2f}% vs {p.test} {level}%"
    if p.test == "change":
        change = last - float(values[0])
        need = p.min_change_pp or 0.0
        value = change >= need if need >= 0 else change <= need
        inputs |= {"change_pp": round(change, 2), "since": ns_day(stamps[0])}
        word = "at least" if need >= 0 else "at most"
        reason = (
            f"dominance {last:.2f}%, {change:+.2f} pp over {p.window} days (needs {word} {need:+g})"
        )
        return value, inputs, reason
    if p.test == "fallen_from_peak":
        top = int(np.nanargmax(values))
        peak = float(values[top])
        peak_on = ns_day(stamps[top])
        drop = peak - last
        inputs |= {"peak": round(peak, 2), "peak_on": peak_on, "fallen_pp": round(drop, 2)}
        reason = (
            f"dominance {last:.2f}%, {drop:.2f} pp below its {p.window}-day peak {peak:.2f}% "
            f"({peak_on}); needs {p.fallen_pp}"
        )
        return drop >= (p.fallen_pp or 0.0), inputs, reason
    # ma_cross: averages over the last fast / slow observations.
    if len(values) < (p.slow or 0):
        reason = (
            f"{p.series}: {len(values)} values in the last {p.slow} days, {p.slow} needed for "
            f"the {p.slow}-day average"
        )
        return None, inputs, reason
    fast = float(np.nanmean(values[-(p.fast or 1) :]))
    slow = float(np.nanmean(values))
    value = fast < slow if p.direction == "below" else fast > slow
    inputs |= {"ma_fast": round(fast, 2), "ma_slow": round(slow, 2)}
    reason = f"{p.fast}-day average {fast:.2f}% vs {p.slow}-day {slow:.2f}% (wants {p.direction})"
    return value, inputs, reason
