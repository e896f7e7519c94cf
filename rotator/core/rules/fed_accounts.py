"""`reverse_repo` and `treasury_account`: the two accounts that drain or add dollar liquidity.

Money parked in the Fed's overnight reverse repo facility (``fred:RRPONTSYD``, billions of USD,
daily) and in the Treasury General Account (``fred:WTREGEN``, millions of USD, weekly) is out of
the banking system: a *draining* RRP pool and a *falling* TGA add liquidity, rising ones take it
away. Both kinds take the same tests on the series converted to billions (`scale`):

- ``above`` / ``below``: the last value is above / below `level` billions;
- ``change``: it changed by at least `min_change` over `window` days, in billions
  (``change_in: bn``) or percent (``pct``); the sign gives the direction (``-100``: fell at least
  100). Billions suit RRP, whose percent changes explode near zero.

The weekly TGA is carried forward until the next week's value; both use the publication lag of
their series (RRP: same day; TGA: the H.4.1 Thursday).

Example::

    rrp_draining: {kind: reverse_repo, test: change, window: 28, min_change: -100}
    tga_falling: {kind: treasury_account, test: change, window: 28, min_change: -50}
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, model_validator

from rotator.core.rules.macro import LAG_FIELD, observed
from rotator.core.rules.registry import MissingInput, Params, RuleContext, RuleResult, rule


class AccountParams(Params):
    test: Literal["above", "below", "change"] = Field(description="which test")
    level: float | None = Field(None, ge=0, description="billions of USD, for above/below")
    window: int = Field(28, ge=1, le=730, description="days, for change")
    min_change: float | None = Field(None, description="for change; sign = direction")
    change_in: Literal["bn", "pct"] = Field("bn", description="min_change in billions or %")
    lag_days: int | None = LAG_FIELD

    @model_validator(mode="after")
    def _needs(self) -> AccountParams:
        field = "level" if self.test in ("above", "below") else "min_change"
        if getattr(self, field) is None:
            raise ValueError(f"test {self.test!r} needs {field}")
        return self


class ReverseRepoParams(AccountParams):
    series: str = Field("fred:RRPONTSYD", min_length=1)
    scale: float = Field(1.0, gt=0, description="multiplier from the series unit to billions")
    max_age: int = Field(5, ge=0, description="days the newest value may be old")


class TreasuryAccountParams(AccountParams):
    series: str = Field("fred:WTREGEN", min_length=1)
    scale: float = Field(0.001, gt=0, description="multiplier from the series unit to billions")
    max_age: int = Field(10, ge=0, description="days the newest value may be old")


def _account(
    label: str, p: ReverseRepoParams | TreasuryAccountParams, ctx: RuleContext
) -> RuleResult:
    # numpy, not pandas: a replay runs this on every day
    seen, note = observed(ctx, p.series, lag_days=p.lag_days, max_age=p.max_age)
    seen = seen.known()
    values = seen.values * p.scale
    if not len(values):
        raise MissingInput(f"{p.series}: no values")
    last, last_day = float(values[-1]), seen.day(-1)
    inputs: dict[str, object] = {"value_bn": round(last, 2), "data": note}
    if p.test in ("above", "below"):
        level = p.level or 0.0
        value = last > level if p.test == "above" else last < level
        inputs["level_bn"] = level
        reason = f"{label} {last:,.1f}B vs {p.test} {level:,g}B"
        return RuleResult.of(value, reason, inputs, last_day)
    start = ctx.as_of - timedelta(days=p.window)
    before = seen.on_or_before(start)
    if before < 0:
        raise MissingInput(f"{label}: no value on or before {start} to compare with")
    first, since = float(values[before]), seen.day(before)
    if p.change_in == "bn":
        change, unit = last - first, "B"
    elif first == 0:
        return RuleResult.unknown(f"{label} was 0 on {since}: no % change")
    else:
        change, unit = (last / first - 1) * 100, " %"
    need = p.min_change or 0.0
    value = change >= need if need >= 0 else change <= need
    inputs |= {f"change_{p.change_in}": round(change, 2), "since": since}
    word = "at least" if need >= 0 else "at most"
    reason = (
        f"{label} {last:,.1f}B, {change:+,.1f}{unit} over {p.window} days "
        f"(needs {word} {need:+g}{unit})"
    )
    return RuleResult.of(value, reason, inputs, last_day)


@rule(
    "reverse_repo",
    params=ReverseRepoParams,
    inputs=("{series}",),
    lookback=lambda p: p.window + 14,  # the value before the window, published with a lag
)
def reverse_repo(p: ReverseRepoParams, ctx: RuleContext) -> RuleResult:
    """Fed overnight reverse repos (RRP): level above/below, or change over a window."""
    return _account("reverse repos", p, ctx)


@rule(
    "treasury_account",
    params=TreasuryAccountParams,
    inputs=("{series}",),
    lookback=lambda p: p.window + 14,  # weekly: the week before the window, and its lag
)
def treasury_account(p: TreasuryAccountParams, ctx: RuleContext) -> RuleResult:
    """Treasury General Account (TGA): level above/below, or change over a window."""
    return _account("TGA", p, ctx)
