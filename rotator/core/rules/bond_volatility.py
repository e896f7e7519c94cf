"""`bond_volatility`: bond-market stress, from the MOVE index or a realised-volatility proxy.

The MOVE index (ICE BofA, series ``index:MOVE``) is the implied volatility of 1-month options on
2-, 5-, 10- and 30-year Treasuries, in basis points, annualised. Users without MOVE data can use
a **proxy** from free FRED data: the annualised realised volatility of daily changes in the
10-year yield (``fred:DGS10``, percent) in basis points::

    proxy(d) = stdev(100 * diff(DGS10) over the last `proxy_window` observations) * sqrt(252)

(sample standard deviation; a change across a holiday counts as one change). It is in the same
unit as MOVE but realised, not implied, and on one maturity: levels run lower and it reacts a
little later, so calibrate levels for it. `source: auto` (default) uses MOVE when it has a value
no older than `max_age` days and the proxy otherwise; the reason always says which it used.

Tests (`test:`):

- ``above`` / ``below``: the last value is above / below `level`;
- ``spike``: stress jumped: ``spike_method: zscore``: the last value is at least `z` standard
  deviations above the mean of the previous values in the last `window` days; ``rise``: it is
  at least `rise_pct` % above the value `window` days ago;
- ``relief``: stress peaked and is easing: the highest value of the last `window` days was at or
  above `level`, came before today, and the last value is at least `fallen_pct` % below it (the
  thesis' "stress forced a policy response").

Example::

    bond_stress_relief:
      kind: bond_volatility
      test: relief
      level: 110        # the peak must have reached this (MOVE points)
      window: 90        # ...within the last 90 days
      fallen_pct: 25    # ...and the index is now 25 % below that peak
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from rotator.core.history import series_arrays
from rotator.core.rules.macro import LAG_FIELD, observed, published
from rotator.core.rules.registry import (
    MissingInput,
    Observed,
    Params,
    RuleContext,
    RuleResult,
    rule,
)

if TYPE_CHECKING:
    import pandas as pd

TRADING_DAYS = 252


class BondVolatilityParams(Params):
    test: Literal["above", "below", "spike", "relief"] = Field(description="which test")
    source: Literal["auto", "move", "proxy"] = Field(
        "auto", description="MOVE, the DGS10 proxy, or MOVE when fresh else the proxy"
    )
    series: str = Field("index:MOVE", min_length=1, description="the MOVE series")
    proxy_series: str = Field("fred:DGS10", min_length=1, description="yield, percent")
    proxy_window: int = Field(20, ge=5, le=260, description="daily changes in the proxy's stdev")
    level: float | None = Field(None, gt=0, description="bp / index points (above/below/relief)")
    window: int | None = Field(None, ge=2, le=730, description="days (spike/relief)")
    spike_method: Literal["zscore", "rise"] = "zscore"
    z: float = Field(2.0, gt=0, description="spike zscore: standard deviations above the mean")
    rise_pct: float = Field(20.0, gt=0, description="spike rise: percent above window start")
    fallen_pct: float | None = Field(None, gt=0, lt=100, description="relief: % below the peak")
    max_age: int = Field(5, ge=0, description="days the newest value may be old")
    lag_days: int | None = LAG_FIELD

    @model_validator(mode="after")
    def _needs(self) -> BondVolatilityParams:
        need = {
            "above": ("level",),
            "below": ("level",),
            "spike": ("window",),
            "relief": ("level", "window", "fallen_pct"),
        }[self.test]
        missing = [f for f in need if getattr(self, f) is None]
        if missing:
            raise ValueError(f"test {self.test!r} needs {' and '.join(missing)}")
        return self


def _inputs(p: BondVolatilityParams) -> tuple[str, ...]:
    return {
        "move": (p.series,),
        "proxy": (p.proxy_series,),
        "auto": (p.series, p.proxy_series),
    }[p.source]


def realised_vol_bp(yields_pct: pd.Series, window: int) -> pd.Series:
    """Annualised realised volatility (bp) of daily changes of a yield series in percent."""
    changes = yields_pct.dropna().diff().dropna() * 100
    return (changes.rolling(window).std(ddof=1) * math.sqrt(TRADING_DAYS)).dropna()


def _stress(p: BondVolatilityParams, ctx: RuleContext) -> tuple[Observed, str, str]:
    """(values, label, data note): MOVE or the proxy, as public at ctx.as_of, without gaps."""
    import pandas as pd

    move_problem = ""
    if p.source in ("move", "auto"):
        try:
            seen, note = observed(ctx, p.series, lag_days=p.lag_days, max_age=p.max_age)
            return seen.known(), "MOVE", note
        except MissingInput as exc:
            if p.source == "move":
                raise
            move_problem = f"{exc}; "
    try:
        yields, note = published(ctx, p.proxy_series, lag_days=p.lag_days, max_age=p.max_age)
    except MissingInput as exc:
        raise MissingInput(f"{move_problem}proxy: {exc}") from None
    # Only the tail matters: the test's window plus proxy_window business days before it (with
    # room for weekends and holidays), so a day-by-day replay does not redo the whole history.
    span = (p.window or 0) + 2 * p.proxy_window + 14
    yields = yields[yields.index >= yields.index[-1] - pd.Timedelta(days=span)]
    vol = realised_vol_bp(yields, p.proxy_window)
    if vol.empty:
        raise MissingInput(
            f"{p.proxy_series}: fewer than {p.proxy_window + 1} observations for the proxy"
        )
    label = f"MOVE proxy ({p.proxy_window}-day realised vol of {p.proxy_series} changes, bp)"
    return Observed(p.proxy_series, *series_arrays(vol)), label, note


def _lookback(p: BondVolatilityParams) -> dict[str, int]:
    """The test's window; the proxy also needs its realised-vol window of business days."""
    days = p.window or 5
    return {p.series: days, p.proxy_series: days + 2 * p.proxy_window + 14}


@rule("bond_volatility", params=BondVolatilityParams, inputs=_inputs, lookback=_lookback)
def bond_volatility(p: BondVolatilityParams, ctx: RuleContext) -> RuleResult:
    """Bond-market stress (MOVE or a DGS10 realised-vol proxy): level, spike or relief."""
    seen, label, note = _stress(p, ctx)
    values = seen.values  # numpy, not pandas: a replay runs this on every day
    last_day = seen.day(-1)
    last = float(values[-1])
    inputs: dict[str, object] = {"value": round(last, 2), "source": label, "data": note}
    if p.test in ("above", "below"):
        level = p.level or 0.0
        value = last > level if p.test == "above" else last < level
        inputs["level"] = level
        return RuleResult.of(value, f"{label} {last:.1f} vs {p.test} {level:g}", inputs, last_day)
    window = p.window or 2
    start = ctx.as_of - timedelta(days=window)
    recent = values[seen.since(start) :]
    if p.test == "spike" and p.spike_method == "rise":
        before = seen.on_or_before(start)
        if before < 0:
            raise MissingInput(f"{label}: no value on or before {start} to compare with")
        first = float(values[before])
        rise = (last / first - 1) * 100
        inputs |= {"rise_pct": round(rise, 2), "since": seen.day(before)}
        reason = (
            f"{label} {last:.1f}, {rise:+.1f} % over {window} days (spike needs +{p.rise_pct:g} %)"
        )
        return RuleResult.of(rise >= p.rise_pct, reason, inputs, last_day)
    if p.test == "spike":
        base = recent[:-1]
        if len(base) < 5:
            raise MissingInput(f"{label}: {len(base)} values in {window} days, 5 needed")
        mean, std = float(base.mean()), float(base.std(ddof=1))
        if std == 0:
            return RuleResult.unknown(f"{label}: flat over {window} days, no z-score", inputs)
        z = (last - mean) / std
        inputs |= {"zscore": round(z, 2), "mean": round(mean, 2)}
        reason = f"{label} {last:.1f}, z-score {z:+.2f} vs its {window}-day mean {mean:.1f} "
        reason += f"(spike needs {p.z:g})"
        return RuleResult.of(z >= p.z, reason, inputs, last_day)
    # relief: a peak at or above level within the window, before today, fallen by fallen_pct.
    top = int(recent.argmax())  # the first day of the peak
    peak_day = seen.day(len(values) - len(recent) + top)
    peak = float(recent[top])
    drop = (1 - last / peak) * 100 if peak else 0.0
    level, need = p.level or 0.0, p.fallen_pct or 0.0
    inputs |= {"peak": round(peak, 2), "peak_on": peak_day, "fallen_pct": round(drop, 2)}
    inputs["level"] = level
    value = peak >= level and peak_day < last_day and drop >= need
    reason = (
        f"{label} {last:.1f}, {drop:.1f} % below its {window}-day peak {peak:.1f} "
        f"({peak_day}); relief needs a peak >= {level:g} and a {need:g} % fall"
    )
    return RuleResult.of(value, reason, inputs, last_day)
