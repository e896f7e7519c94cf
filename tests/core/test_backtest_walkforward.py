"""Walk-forward folds, the choice per fold and the stitched curve on literal series, and the
deflated Sharpe ratio against the paper's formula computed by hand with scipy.stats."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pytest

from rotator.core.backtest.walkforward import (
    EULER_GAMMA,
    Fold,
    deflated_sharpe,
    per_day_sharpe,
    stitch,
    walk_forward,
    walk_forward_folds,
)

D = date(2021, 1, 1)


def day(i: int) -> date:
    return D + timedelta(days=i)


def test_folds_roll_by_the_test_window_and_clip_the_last():
    folds = walk_forward_folds(day(0), day(9), 4, 3)
    assert folds == [  # a third fold would start testing after the last day
        Fold(day(0), day(3), day(4), day(6)),
        Fold(day(3), day(6), day(7), day(9)),
    ]
    assert walk_forward_folds(day(0), day(10), 4, 3)[-1] == Fold(day(6), day(9), day(10), day(10))
    with pytest.raises(ValueError, match="too few"):
        walk_forward_folds(day(0), day(3), 4, 3)


def test_best_point_per_training_window_and_only_test_windows_stitched():
    # Point 0 rises 1 %/day on days 1-4 then falls 1 %/day; point 1 does the opposite.
    up_down = [100.0]
    down_up = [100.0]
    for i in range(1, 10):
        up_down.append(up_down[-1] * (1.01 if i <= 4 else 0.99))
        down_up.append(down_up[-1] * (0.99 if i <= 4 else 1.01))
    days = [day(i) for i in range(10)]
    folds = walk_forward_folds(day(0), day(9), 4, 3)

    def total_return(_window, values):
        return values[-1] / values[0] - 1

    chosen = walk_forward(days, [up_down, down_up], folds, total_return)
    # Fold 1 trains on days 0-3 (point 0 rose), fold 2 on days 3-6 (point 1 rose more).
    assert [c[1] for c in chosen] == [0, 1]
    assert chosen[0][2] == pytest.approx(1.01**3 - 1)
    out_days, values = stitch(days, [up_down, down_up], [(f, i) for f, i, _ in chosen], 1000.0)
    assert out_days == days[3:]
    # Test days 4-6 follow point 0 (day 4 +1 %, days 5-6 -1 %), days 7-9 point 1 (+1 % each).
    expected = [1000.0]
    for r in (1.01, 0.99, 0.99, 1.01, 1.01, 1.01):
        expected.append(expected[-1] * r)
    assert values == pytest.approx(expected, rel=1e-12)


def _equity(seed: int, n: int = 1000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    returns = rng.standard_t(4, n) * 0.02 + 0.001  # fat tails: skew and kurtosis matter
    return 100 * np.cumprod(np.concatenate([[1.0], 1 + returns]))


def test_deflated_sharpe_matches_the_paper_formula_with_scipy():
    from scipy import stats  # here: scipy.stats takes over a second to import, per worker

    trials = [_equity(s) for s in range(12)]
    sharpes = [per_day_sharpe(e) for e in trials]
    best = int(np.argmax(sharpes))
    got = deflated_sharpe(trials[best], sharpes)

    returns = np.diff(trials[best]) / trials[best][:-1]
    sr = returns.mean() / returns.std(ddof=1)
    skew = stats.skew(returns)
    kurt = stats.kurtosis(returns, fisher=False)
    n, v, t = len(sharpes), np.var(sharpes, ddof=1), len(returns)
    sr0 = math.sqrt(v) * (
        (1 - np.euler_gamma) * stats.norm.ppf(1 - 1 / n)
        + np.euler_gamma * stats.norm.ppf(1 - 1 / (n * math.e))
    )
    z = (sr - sr0) * math.sqrt(t - 1) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2)
    dsr = stats.norm.cdf(z)
    assert abs(EULER_GAMMA - np.euler_gamma) < 1e-15
    assert got.sharpe == pytest.approx(sr, rel=1e-12)
    assert got.skew == pytest.approx(skew, rel=1e-9)
    assert got.kurtosis == pytest.approx(kurt, rel=1e-9)
    assert got.trials == 12 and got.observations == 1000
    assert got.expected_max_sharpe == pytest.approx(sr0, rel=1e-9)
    assert got.deflated_sharpe == pytest.approx(dsr, abs=1e-9)
    assert 0 < got.deflated_sharpe < 1


def test_more_trials_deflate_more():
    best = _equity(0)
    own = per_day_sharpe(best)
    few = deflated_sharpe(best, [own, own * 0.5, own * 0.2])
    many = deflated_sharpe(best, [own, *np.linspace(-own, own * 0.9, 99)])
    single = deflated_sharpe(best, [own])
    assert single.expected_max_sharpe == 0
    assert many.expected_max_sharpe > few.expected_max_sharpe > 0
    assert many.deflated_sharpe < few.deflated_sharpe < single.deflated_sharpe
