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
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from rotator.core.rules.registry import MissingInput, Params, RuleContext, RuleResult, rule

if TYPE_CHECKING:
    import pandas as pd


class PriorHighParams(Params):
    asset: str = Field("BTC", min_length=1, description="asset whose USD close is tested")
    level: float | None = Field(None, gt=0, description="the prior high; None = find it")
    find: Literal["window", "drawdown"] = Field(
        "window", description="auto level: max close in a window, or the top before a drawdown"
    )
    drawdown_pct: float = Field(
        50.0, gt=0, lt=100, description="auto level (drawdown): a fall this deep ends a cycle"
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
        return self


@rule("prior_high_break", params=PriorHighParams, inputs=("close:{asset}",))
def prior_high_break(p: PriorHighParams, ctx: RuleContext) -> RuleResult:
    """True when the last N daily closes are all above the prior high (by at least x %)."""
    import pandas as pd  # here, not at module level: loading a rule set stays light

    name = f"close:{p.asset}"
    closes = ctx.series(name, max_age=p.max_age)
    if p.level is not None:
        level, where = p.level, "given level"
    elif p.find == "drawdown":
        level, where = _top_before_drawdown(closes, p.drawdown_pct, name)
    else:
        end = ctx.as_of - timedelta(days=p.skip_recent_days)
        start = ctx.as_of - timedelta(days=p.lookback_days)
        index = closes.index
        lo = int(index.searchsorted(pd.Timestamp(start), side="left"))
        hi = int(index.searchsorted(pd.Timestamp(end), side="right"))
        if hi <= lo:
            raise MissingInput(
                f"{name}: no closes between {start} and {end} to find the prior high"
            )
        window = closes.to_numpy()[lo:hi]
        top = int(window.argmax())
        level = float(window[top])
        where = f"max close {start}..{end}, on {pd.Timestamp(index[lo + top]).date()}"
    threshold = level * (1 + p.margin_pct / 100)
    tail = closes.iloc[-p.confirm_closes :].to_numpy()
    last = float(tail[-1])
    above = tail > threshold
    # Consecutive closes above at the end of the series (for display; counted up to 30).
    lookback = max(p.confirm_closes, 30)
    streak = 0
    for flag in closes.iloc[-lookback:].to_numpy()[::-1] > threshold:
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
            f"{name}: only {len(tail)} closes, {p.confirm_closes} needed", inputs, closes.index[-1]
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
            return RuleResult.of(True, reason, inputs, closes.index[-1])
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
    return RuleResult.of(held, reason, inputs, closes.index[-1])


def _held_since(
    closes: pd.Series, level: float, threshold: float, confirm: int, exit_margin_pct: float
) -> object | None:
    """The day of the last confirmed break still standing (no close below the exit level since).

    Pure in the series up to the evaluation day: the closes after the last one below
    level × (1 − exit margin) are searched for `confirm` consecutive closes above `threshold`.
    Returns that run's last day, or None when there is no standing break.
    """
    import numpy as np

    values = closes.to_numpy(dtype=float)
    below = np.flatnonzero(values < level * (1 - exit_margin_pct / 100))
    start = int(below[-1]) + 1 if below.size else 0
    above = (values[start:] > threshold).astype(int)
    if above.size < confirm:
        return None
    runs = np.flatnonzero(np.convolve(above, np.ones(confirm, dtype=int), "valid") == confirm)
    if runs.size == 0:
        return None
    return closes.index[start + int(runs[0]) + confirm - 1].date()


def _top_before_drawdown(closes: pd.Series, drawdown_pct: float, name: str) -> tuple[float, str]:
    """The all-time high as it stood on the last close `drawdown_pct` % or more below it."""
    import numpy as np

    values = closes.to_numpy(dtype=float)
    running_high = np.maximum.accumulate(values)
    deep = np.flatnonzero(values <= running_high * (1 - drawdown_pct / 100))
    if deep.size == 0:
        raise MissingInput(
            f"{name}: never closed {drawdown_pct:g} % below its high, so there is no previous "
            "cycle top yet (give `level:` or use find: window)"
        )
    last_deep = int(deep[-1])
    top = int(values[: last_deep + 1].argmax())
    where = (
        f"top of {closes.index[top].date()} before the {drawdown_pct:g} % drawdown "
        f"lasting to {closes.index[last_deep].date()}"
    )
    return float(running_high[last_deep]), where
