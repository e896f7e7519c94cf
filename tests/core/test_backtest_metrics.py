"""Backtest metrics against a plain-Python reference computation on a known series."""

from __future__ import annotations

import itertools
import math
import statistics
from datetime import date, timedelta

import pandas as pd
import pytest

from rotator.core.backtest.metrics import ANNUAL_DAYS, performance

VALUES = [100.0, 110.0, 99.0, 120.0, 90.0, 95.0, 130.0, 125.0]


def _series(values: list[float]) -> pd.Series:
    index = pd.DatetimeIndex([date(2021, 1, 1) + timedelta(days=i) for i in range(len(values))])
    return pd.Series(values, index=index)


def reference(values: list[float]) -> dict[str, float]:
    """The textbook definitions with the statistics module only."""
    returns = [b / a - 1 for a, b in itertools.pairwise(values)]
    mean, sd = statistics.fmean(returns), statistics.stdev(returns)
    downside = math.sqrt(sum(min(r, 0.0) ** 2 for r in returns) / len(returns))
    days = len(values) - 1
    cagr = (values[-1] / values[0]) ** (365 / days) - 1
    peak, worst, peak_i, trough_i, run, longest = values[0], 0.0, 0, 0, 0, 0
    best_i = 0
    for i, v in enumerate(values):
        if v > peak:
            peak, best_i = v, i
        dd = v / peak - 1
        if dd < worst:
            worst, peak_i, trough_i = dd, best_i, i
        run = run + 1 if dd < 0 else 0
        longest = max(longest, run)
    return {
        "total_return": values[-1] / values[0] - 1,
        "cagr": cagr,
        "volatility": sd * math.sqrt(365),
        "sharpe": mean / sd * math.sqrt(365),
        "sortino": mean * 365 / (downside * math.sqrt(365)),
        "max_drawdown": worst,
        "calmar": cagr / abs(worst),
        "time_under_water_days": longest,
        "peak": peak_i,
        "trough": trough_i,
    }


def test_metrics_match_the_reference_computation():
    got = performance(_series(VALUES))
    ref = reference(VALUES)
    assert ANNUAL_DAYS == 365
    for key in ("total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown"):
        assert got[key] == pytest.approx(ref[key], rel=1e-12), key
    assert got["calmar"] == pytest.approx(ref["calmar"], rel=1e-12)
    assert got["time_under_water_days"] == ref["time_under_water_days"] == 2
    # 120 on day 3 fell to 90 on day 4: -25 %
    assert got["max_drawdown"] == pytest.approx(-0.25)
    assert got["max_drawdown_peak"] == "2021-01-04" == (date(2021, 1, 1) + timedelta(3)).isoformat()
    assert got["max_drawdown_trough"] == "2021-01-05"
    assert ref["peak"] == 3 and ref["trough"] == 4


def test_a_flat_series_has_no_ratio():
    got = performance(_series([100.0, 100.0, 100.0]))
    assert got["total_return"] == 0 and got["sharpe"] is None and got["calmar"] is None
