"""`net_liquidity`: the Fed's net liquidity (balance sheet minus TGA minus reverse repos).

net liquidity = WALCL - WTREGEN - RRPONTSYD, in billions of USD. FRED publishes WALCL in
millions (weekly, Wednesday levels), WTREGEN in millions (weekly; FRED's older copies were in
billions: set its scale to 1 for those) and RRPONTSYD in billions (daily); `scales` converts each
to billions. Each series is seen only from the day it was published (rotator.core.publication:
the weekly H.4.1 levels the next business day; `lag_days` overrides per series). The weekly
series are carried forward to each day (a weekly level holds until the next one); each must be
fresher than `max_age` days.

Tests (`test:`): ``change``: net liquidity changed by at least `min_change_pct` percent over
`window` days (negative: fell at least that much); ``above`` / ``below``: level in billions.

Example::

    liquidity_rising: {kind: net_liquidity, test: change, window: 28, min_change_pct: 0}

Fetch the inputs with `rotator history fetch` (needs a free FRED API key in FRED_API_KEY).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, model_validator

from rotator.core.history import day_ns
from rotator.core.rules.registry import (
    MissingInput,
    Observed,
    Params,
    RuleContext,
    RuleResult,
    rule,
)

SERIES = ("WALCL", "WTREGEN", "RRPONTSYD")


class NetLiquidityParams(Params):
    test: Literal["change", "above", "below"] = "change"
    window: int = Field(28, gt=1, le=730, description="days, for change")
    min_change_pct: float = Field(0.0, description="percent over the window (sign = direction)")
    level: float | None = Field(None, gt=0, description="billions of USD, for above/below")
    scales: dict[str, float] = Field(
        default_factory=lambda: {"WALCL": 0.001, "WTREGEN": 0.001, "RRPONTSYD": 1.0},
        description="multiplier from each series' FRED unit to billions",
    )
    max_age: int = Field(10, ge=0, description="days the newest value of each may be old")
    lag_days: dict[str, int] = Field(
        default_factory=dict,
        description="publication lag override per series id (US business days)",
    )

    @model_validator(mode="after")
    def _needs(self) -> NetLiquidityParams:
        if self.test in ("above", "below") and self.level is None:
            raise ValueError(f"test {self.test!r} needs level (billions of USD)")
        missing = [s for s in SERIES if s not in self.scales]
        if missing:
            raise ValueError(f"scales must give {', '.join(missing)}")
        unknown = [s for s in self.lag_days if s not in SERIES]
        if unknown:
            raise ValueError(f"lag_days: unknown series {', '.join(unknown)}")
        return self


def net_series(
    p: NetLiquidityParams, ctx: RuleContext, days: int | None
) -> tuple[Observed, list[str]]:
    """Net liquidity in billions per day as public at ctx.as_of, and the data notes. Numpy,
    not pandas: a replay asks every day."""
    import numpy as np

    from rotator.core.rules.macro import observed

    parts, notes = [], []
    for name in SERIES:
        seen, note = observed(ctx, f"fred:{name}", lag_days=p.lag_days.get(name), max_age=p.max_age)
        seen = seen.known()
        parts.append((seen.stamps, seen.values * p.scales[name]))
        notes.append(note)
    # Only the days asked for are needed: each series from its last value on or before the
    # first of them (the value carried forward into it) gives those days exactly as the whole
    # history would, without joining years of it on every day of a replay.
    start = None if days is None else day_ns(ctx.as_of - timedelta(days=days - 1))
    first = start
    if first is None and all(len(when) for when, _ in parts):
        first = min(int(when[-1]) for when, _ in parts)
    if first is not None:
        starts = [max(int(np.searchsorted(when, first, side="right")) - 1, 0) for when, _ in parts]
        parts = [(when[k:], values[k:]) for (when, values), k in zip(parts, starts, strict=True)]
    # Every date any series has, each series carried forward to it; dates before a series'
    # first value are dropped.
    dates = np.unique(np.concatenate([when for when, _ in parts]))
    levels = []
    for when, values in parts:
        pos = np.searchsorted(when, dates, side="right") - 1
        carried = values[np.maximum(pos, 0)] if len(values) else np.full(len(dates), np.nan)
        levels.append(np.where(pos >= 0, carried, np.nan))
    walcl, tga, rrp = levels
    known = ~(np.isnan(walcl) | np.isnan(tga) | np.isnan(rrp))
    if not known.any():
        raise MissingInput("net liquidity: the FRED series have no common dates")
    stamps, net = dates[known], (walcl - tga - rrp)[known]
    if start is not None:
        keep = stamps >= start
        stamps, net = stamps[keep], net[keep]
    return Observed("net liquidity", stamps, net), notes


@rule(
    "net_liquidity",
    params=NetLiquidityParams,
    inputs=tuple(f"fred:{s}" for s in SERIES),
    lookback=lambda p: p.window + 14,  # weekly series: a week before the window, and its lag
)
def net_liquidity(p: NetLiquidityParams, ctx: RuleContext) -> RuleResult:
    """Fed net liquidity (WALCL - TGA - reverse repos): level above/below, or change over days."""
    if p.test != "change":
        net, notes = net_series(p, ctx, None)
        last = float(net.values[-1])
        value = last > (p.level or 0) if p.test == "above" else last < (p.level or 0)
        reason = f"net liquidity {last:,.0f}B vs {p.test} {p.level:,.0f}B"
        inputs = {"net_liquidity_bn": round(last, 1), "data": notes}
        return RuleResult.of(value, reason, inputs, net.day(-1))
    # a little more than the window, so its first day is covered
    net, notes = net_series(p, ctx, p.window + 14)
    start = ctx.as_of - timedelta(days=p.window)
    before = net.on_or_before(start)
    if before < 0:
        raise MissingInput(f"net liquidity: no value on or before {start} to compare with")
    first, last = float(net.values[before]), float(net.values[-1])
    change = (last / first - 1) * 100
    need = p.min_change_pct
    value = change >= need if need >= 0 else change <= need
    inputs = {"net_liquidity_bn": round(last, 1), "change_pct": round(change, 2), "data": notes}
    word = "at least" if need >= 0 else "at most"
    reason = (
        f"net liquidity {last:,.0f}B, {change:+.2f} % over {p.window} days "
        f"(needs {word} {need:+g} %)"
    )
    return RuleResult.of(value, reason, inputs, net.day(-1))
