"""`treasury_buybacks`: the Treasury buying back its own bonds (a policy response to stress).

Reads ``treasury:buybacks``: par accepted in Treasury buyback operations per operation day, in
USD, 0 on days without one (the Fiscal Data source fills those days through the day it fetched,
so a fresh series with no operation in a window reads as "none", not as "unknown").

Tests (`test:`): ``above``: accepted par over the last `window` days is above `level_bn`
billions; ``rising``: it is at least `min_rise_pct` % above the `window` days before
(from nothing to something counts as rising).

Example::

    buybacks_rising: {kind: treasury_buybacks, test: rising, window: 28, min_rise_pct: 0}
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from rotator.core.rules.macro import LAG_FIELD, published
from rotator.core.rules.registry import MissingInput, Params, RuleContext, RuleResult, rule


class TreasuryBuybacksParams(Params):
    test: Literal["above", "rising"] = Field(description="which test")
    series: str = Field("treasury:buybacks", min_length=1, description="accepted par, USD/day")
    window: int = Field(28, ge=1, le=365, description="days summed")
    level_bn: float | None = Field(None, ge=0, description="billions of USD, for above")
    min_rise_pct: float = Field(0.0, ge=0, description="percent over the prior window (rising)")
    max_age: int = Field(7, ge=0, description="days the newest value may be old")
    lag_days: int | None = LAG_FIELD

    @model_validator(mode="after")
    def _needs(self) -> TreasuryBuybacksParams:
        if self.test == "above" and self.level_bn is None:
            raise ValueError("test 'above' needs level_bn (billions of USD)")
        return self


@rule(
    "treasury_buybacks",
    params=TreasuryBuybacksParams,
    inputs=("{series}",),
    lookback=lambda p: 2 * p.window if p.test == "rising" else p.window,
)
def treasury_buybacks(p: TreasuryBuybacksParams, ctx: RuleContext) -> RuleResult:
    """Treasury buybacks: accepted par over N days above a level, or rising vs the prior N."""
    import pandas as pd

    series, note = published(ctx, p.series, lag_days=p.lag_days, max_age=p.max_age)
    end = pd.Timestamp(ctx.as_of)
    start = end - pd.Timedelta(days=p.window)
    current = float(series[series.index > start].sum()) / 1e9
    inputs: dict[str, object] = {"accepted_bn": round(current, 3), "data": note}
    if p.test == "above":
        level = p.level_bn or 0.0
        inputs["level_bn"] = level
        reason = f"buybacks accepted {current:,.2f}B over {p.window} days vs above {level:g}B"
        return RuleResult.of(current > level, reason, inputs, series.index[-1])
    prior_start = start - pd.Timedelta(days=p.window)
    if series.index[0] > prior_start + pd.Timedelta(days=1):
        raise MissingInput(
            f"{p.series}: history starts {series.index[0].date()}, the prior window "
            f"starts {(prior_start + pd.Timedelta(days=1)).date()}"
        )
    prior = float(series[(series.index > prior_start) & (series.index <= start)].sum()) / 1e9
    inputs["prior_bn"] = round(prior, 3)
    if prior == 0:
        value = current > 0
    else:
        value = current >= prior * (1 + p.min_rise_pct / 100) and current > prior
    reason = (
        f"buybacks accepted {current:,.2f}B over {p.window} days vs {prior:,.2f}B the "
        f"{p.window} days before (rising needs +{p.min_rise_pct:g} %)"
    )
    return RuleResult.of(value, reason, inputs, series.index[-1])
