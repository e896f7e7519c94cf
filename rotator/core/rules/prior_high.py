"""`prior_high_break`: has an asset broken above its prior cycle high and held there?

True when the last `confirm_closes` daily closes are all above the level by at least `margin_pct`
percent. The level is given (`level: 110000`) or found automatically (`find:`):

- `window`: the highest close from `lookback_days` ago up to `skip_recent_days` ago, so the high
  being tested is an older one, not this week's;
- `drawdown`: the previous cycle's top, i.e. the all-time high as it stood on the last day the
  close was at least `drawdown_pct` percent below it (the last bear-market day). A bear market
  resets the level to the top it fell from; new highs after a breakout do not move it, and a
  later fall of `drawdown_pct` starts the next cycle. With the window method a bear market a
  year after the top can read as "above the prior high"; with this one it cannot.
- `pullback`: the previous all-time high before the latest pullback of at least `pullback_pct`
  percent (closes), i.e. the same search with a correction-sized threshold (25 %: a fall from
  ~106k to ~76k on daily closes, as in early 2025). The explanation names the level, the day it
  was set and the pullback (its depth and low). Use it when "prior high" means the last peak
  before the latest correction rather than the top before the last bear market.

Reports the distance of the last close to the level.

Example::

    btc_above_prior_high:
      kind: prior_high_break
      asset: BTC
      level: 110000          # leave out to find it automatically:
      # find: drawdown       # the top before the last fall of drawdown_pct % (a cycle)
      # drawdown_pct: 50
      confirm_closes: 3
      margin_pct: 1.0
      exit_margin_pct: 5     # hysteresis: once broken, stays true until a close 5 % below

With `exit_margin_pct` the rule has separate enter and exit thresholds: it turns true on the
confirmed break (`confirm_closes` closes above level + `margin_pct`) and stays true until a
close falls below level × (1 − exit_margin_pct / 100); the reason then starts with "held by
hysteresis". The state is computed from the closes up to the evaluation day alone.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, model_validator

from rotator.core.rules.registry import (
    MissingInput,
    Observed,
    Params,
    RuleContext,
    RuleResult,
    rule,
)


class PriorHighParams(Params):
    asset: str = Field("BTC", min_length=1, description="asset whose USD close is tested")
    level: float | None = Field(None, gt=0, description="the prior high; None = find it")
    find: Literal["window", "drawdown", "pullback"] = Field(
        "window",
        description="auto level: max close in a window, the top before a drawdown or a pullback",
    )
    drawdown_pct: float = Field(
        50.0, gt=0, lt=100, description="auto level (drawdown): a fall this deep ends a cycle"
    )
    pullback_pct: float = Field(
        25.0,
        ge=5,
        lt=100,
        description="auto level (pullback): the all-time high before a fall of this many %",
    )
    lookback_days: int = Field(1460, gt=1, description="auto level: window start, days back")
    skip_recent_days: int = Field(365, ge=0, description="auto level: window end, days back")
    confirm_closes: int = Field(3, ge=1, le=60, description="consecutive closes above needed")
    margin_pct: float = Field(0.0, ge=0, lt=100, description="closes must clear level by this %")
    max_age: int = Field(2, ge=0, description="days the newest close may be old")
    exit_margin_pct: float | None = Field(
        None,
        ge=0,
        lt=100,
        description="hysteresis: once broken, true until a close below level × (1 − this %)",
    )

    @model_validator(mode="after")
    def _window(self) -> PriorHighParams:
        if (
            self.level is None
            and self.find == "window"
            and (self.skip_recent_days >= self.lookback_days)
        ):
            raise ValueError(
                f"skip_recent_days ({self.skip_recent_days}) must be smaller than "
                f"lookback_days ({self.lookback_days})"
            )
        # A non-default value with another method is a mistake (a default may come from a
        # round trip through model_dump, as in sweeps).
        default = type(self).model_fields["pullback_pct"].default
        if self.pullback_pct != default and self.find != "pullback":
            raise ValueError(f"pullback_pct applies to find: pullback only (find is {self.find!r})")
        return self


def _lookback(p: PriorHighParams) -> int:
    """A given level needs the confirming closes (and the 30 shown); a found one its window."""
    return max(p.confirm_closes, 30) if p.level is not None else p.lookback_days


@rule("prior_high_break", params=PriorHighParams, inputs=("close:{asset}",), lookback=_lookback)
def prior_high_break(p: PriorHighParams, ctx: RuleContext) -> RuleResult:
    """True when the last N daily closes are all above the prior high (by at least x %)."""
    name = f"close:{p.asset}"
    closes = ctx.observed(name, max_age=p.max_age)  # numpy: a replay runs this on every day
    values = closes.values
    if p.level is not None:
        level, where = p.level, "given level"
    elif p.find == "drawdown":
        level, where = _top_before_drawdown(closes, p.drawdown_pct, name)
    elif p.find == "pullback":
        level, where = _high_before_pullback(closes, p.pullback_pct, name)
    else:
        end = ctx.as_of - timedelta(days=p.skip_recent_days)
        start = ctx.as_of - timedelta(days=p.lookback_days)
        lo = closes.since(start)
        hi = closes.on_or_before(end) + 1
        if hi <= lo:
            raise MissingInput(
                f"{name}: no closes between {start} and {end} to find the prior high"
            )
        window = values[lo:hi]
        top = int(window.argmax())
        level = float(window[top])
        where = f"max close {start}..{end}, on {closes.day(lo + top)}"
    threshold = level * (1 + p.margin_pct / 100)
    tail = values[-p.confirm_closes :]
    last = float(tail[-1])
    above = tail > threshold
    # Consecutive closes above at the end of the series (for display; counted up to 30).
    lookback = max(p.confirm_closes, 30)
    streak = 0
    for flag in values[-lookback:][::-1] > threshold:
        if not flag:
            break
        streak += 1
    distance = (last / level - 1) * 100
    inputs = {
        "close": round(last, 2),
        "level": round(level, 2),
        "level_source": where,
        "distance_pct": round(distance, 2),
        "closes_above": streak,
    }
    if len(tail) < p.confirm_closes:
        return RuleResult.unknown(
            f"{name}: only {len(tail)} closes, {p.confirm_closes} needed", inputs, closes.day(-1)
        )
    held = bool(above.all())
    margin = f" +{p.margin_pct}%" if p.margin_pct else ""
    if not held and p.exit_margin_pct is not None:
        kept = _held_since(closes, level, threshold, p.confirm_closes, p.exit_margin_pct)
        if kept is not None:
            exit_level = level * (1 - p.exit_margin_pct / 100)
            inputs |= {"hysteresis": "held", "exit_level": round(exit_level, 2)}
            reason = (
                f"held by hysteresis: {p.asset} broke above {level:,.0f}{margin} ({where}) on "
                f"{kept}; stays true until a close below {exit_level:,.0f} "
                f"(exit_margin_pct {p.exit_margin_pct}); last {last:,.0f} ({distance:+.1f} %)"
            )
            return RuleResult.of(True, reason, inputs, closes.day(-1))
    if held:
        reason = (
            f"{p.asset} closed above {level:,.0f}{margin} ({where}) for the last "
            f"{streak}{'+' if streak == lookback else ''} closes; "
            f"last {last:,.0f} ({distance:+.1f} %)"
        )
    else:
        reason = (
            f"{p.asset} last close {last:,.0f} is {distance:+.1f} % from the prior high "
            f"{level:,.0f} ({where}); needs {p.confirm_closes} closes above{margin}, has {streak}"
        )
    return RuleResult.of(held, reason, inputs, closes.day(-1))


def _held_since(
    closes: Observed, level: float, threshold: float, confirm: int, exit_margin_pct: float
) -> object | None:
    """The day of the last confirmed break still standing (no close below the exit level since).

    Pure in the series up to the evaluation day: the closes after the last one below
    level × (1 − exit margin) are searched for `confirm` consecutive closes above `threshold`.
    Returns that run's last day, or None when there is no standing break.
    """
    import numpy as np

    values = closes.values
    below = np.flatnonzero(values < level * (1 - exit_margin_pct / 100))
    start = int(below[-1]) + 1 if below.size else 0
    above = (values[start:] > threshold).astype(int)
    if above.size < confirm:
        return None
    runs = np.flatnonzero(np.convolve(above, np.ones(confirm, dtype=int), "valid") == confirm)
    if runs.size == 0:
        return None
    return closes.day(start + int(runs[0]) + confirm - 1)


def _last_fall(closes: Observed, pct: float) -> tuple[int, int] | None:
    """(index of the all-time high, index of the last close `pct` % or more below it), or None.

    The high is the running all-time high as it stood on that last deep close.
    """
    import numpy as np

    values = closes.values
    running_high = np.maximum.accumulate(values)
    deep = np.flatnonzero(values <= running_high * (1 - pct / 100))
    if deep.size == 0:
        return None
    last_deep = int(deep[-1])
    return int(values[: last_deep + 1].argmax()), last_deep


def _high_before_pullback(closes: Observed, pullback_pct: float, name: str) -> tuple[float, str]:
    """The all-time high before the latest pullback of `pullback_pct` % or more, and the text
    naming the level, its day and the pullback (depth and low, on closes)."""
    found = _last_fall(closes, pullback_pct)
    if found is None:
        raise MissingInput(
            f"{name}: never closed {pullback_pct:g} % below its all-time high, so there is no "
            "pullback to take the prior high from (give `level:` or lower pullback_pct)"
        )
    import numpy as np

    top, _ = found
    values = closes.values
    level = float(values[top])
    # The pullback's low: the lowest close after the top until it was regained (or until now).
    regained = np.flatnonzero(values[top + 1 :] > level)
    stop = top + 1 + int(regained[0]) if regained.size else len(values)
    low_at = top + int(values[top:stop].argmin())
    depth = (1 - values[low_at] / level) * 100
    where = (
        f"all-time high of {closes.day(top)} before a {depth:.1f} % pullback to "
        f"{values[low_at]:,.0f} on {closes.day(low_at)} (pullback_pct {pullback_pct:g})"
    )
    return level, where


def _top_before_drawdown(closes: Observed, drawdown_pct: float, name: str) -> tuple[float, str]:
    """The all-time high as it stood on the last close `drawdown_pct` % or more below it."""
    found = _last_fall(closes, drawdown_pct)
    if found is None:
        raise MissingInput(
            f"{name}: never closed {drawdown_pct:g} % below its high, so there is no previous "
            "cycle top yet (give `level:` or use find: window)"
        )
    top, last_deep = found
    values = closes.values
    where = (
        f"top of {closes.day(top)} before the {drawdown_pct:g} % drawdown "
        f"lasting to {closes.day(last_deep)}"
    )
    return float(values[top]), where
