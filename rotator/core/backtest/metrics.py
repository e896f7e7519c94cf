"""Performance metrics of a daily equity curve, annualised over 365 days (crypto trades daily).

A few lines of pandas rather than a metrics library (empyrical-reloaded would add scipy,
bottleneck and peewee for these formulas); tests/core/test_backtest_metrics.py checks them
against a plain-Python reference computation on a known series.

- total_return: last / first − 1; cagr: (last / first) ** (365 / days) − 1
- volatility: standard deviation (ddof 1) of daily simple returns × √365
- sharpe: mean daily return / its standard deviation × √365 (risk-free rate 0)
- sortino: mean daily return × 365 / (√(mean of min(r, 0)²) × √365)
- max_drawdown: the lowest equity / running peak − 1 (a negative fraction), with the day of
  that peak and of the trough; calmar: cagr / |max_drawdown|
- time_under_water_days: the longest run of days below a previous peak
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import pandas as pd

ANNUAL_DAYS = 365


def performance(equity: pd.Series) -> dict[str, Any]:
    """The metrics of a daily equity series (DatetimeIndex, ascending, positive values)."""
    values = equity.astype(float)
    first, last = float(values.iloc[0]), float(values.iloc[-1])
    days = (values.index[-1] - values.index[0]).days
    returns = values.pct_change().dropna()
    total = last / first - 1
    cagr = (last / first) ** (ANNUAL_DAYS / days) - 1 if days > 0 else 0.0
    sd = float(returns.std(ddof=1)) if len(returns) > 1 else 0.0
    mean = float(returns.mean()) if len(returns) else 0.0
    downside = math.sqrt(float((returns.clip(upper=0) ** 2).mean())) if len(returns) else 0.0
    peak = values.cummax()
    drawdown = values / peak - 1
    # A DatetimeIndex: its labels are Timestamps.
    trough_at = cast("pd.Timestamp", drawdown.idxmin())
    peak_at = cast("pd.Timestamp", values.loc[:trough_at].idxmax())
    max_dd = float(drawdown.min())
    under = drawdown < 0
    longest = run = 0
    for flag in under.to_numpy():
        run = run + 1 if flag else 0
        longest = max(longest, run)
    return {
        "total_return": total,
        "cagr": cagr,
        "volatility": sd * math.sqrt(ANNUAL_DAYS),
        "sharpe": mean / sd * math.sqrt(ANNUAL_DAYS) if sd > 0 else None,
        "sortino": mean * ANNUAL_DAYS / (downside * math.sqrt(ANNUAL_DAYS))
        if downside > 0
        else None,
        "max_drawdown": max_dd,
        "max_drawdown_peak": peak_at.date().isoformat(),
        "max_drawdown_trough": trough_at.date().isoformat(),
        "calmar": cagr / abs(max_dd) if max_dd < 0 else None,
        "time_under_water_days": longest,
    }
