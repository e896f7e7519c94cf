"""Choosing sweep parameters honestly: walk-forward folds and the deflated Sharpe ratio.

**Walk-forward.** With `TRAIN_DAYS:TEST_DAYS`, the replay window is cut into folds: fold k trains
on the `TRAIN_DAYS` days starting `k · TEST_DAYS` days after the first day and tests on the
`TEST_DAYS` days right after (the last test window may be shorter). On each fold the grid point
that ranks best on the training window (by the sweep's `rank_by` metric of that window alone) is
chosen, and only its following test window is kept. The test windows are stitched into one
out-of-sample equity curve: each point's replay runs over the whole window once (its regime
state carried through), and the stitched curve follows the chosen point's daily returns on each
test window, starting from the replay's start value on the last day of the first training
window. Nothing in a test window influences which point trades it.

**Deflated Sharpe ratio** (Bailey & López de Prado, "The Deflated Sharpe Ratio: Correcting for
Selection Bias, Backtest Overfitting and Non-Normality", Journal of Portfolio Management 40(5),
2014). Picking the best of N tried points inflates its Sharpe ratio. With per-day (not
annualised) Sharpe ratios SR_n of the N points, their variance V, the best point's SR*, its
T daily returns' skewness γ3 and (non-excess) kurtosis γ4, and γ ≈ 0.5772 (Euler-Mascheroni):

    SR0 = √V · ((1 − γ) · Φ⁻¹(1 − 1/N) + γ · Φ⁻¹(1 − 1/(N·e)))
    DSR = Φ((SR* − SR0) · √(T − 1) / √(1 − γ3 · SR* + (γ4 − 1) / 4 · SR*²))

SR0 is the Sharpe ratio the best of N unskilled points would be expected to reach; DSR is the
probability that the best point's true Sharpe ratio is above it. With one point SR0 = 0 and
DSR is the probabilistic Sharpe ratio against zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import NormalDist

import numpy as np

EULER_GAMMA = 0.5772156649015329


@dataclass(frozen=True, slots=True)
class Fold:
    """One walk-forward fold: its training and test windows (inclusive days)."""

    train_from: date
    train_to: date
    test_from: date
    test_to: date


@dataclass(frozen=True, slots=True)
class DeflatedSharpe:
    """The best point's per-day Sharpe ratio deflated for the number of points tried."""

    sharpe: float  # SR*, per day
    sharpe_annualised: float
    trials: int
    sharpe_variance: float  # V, across the trials, per day
    skew: float
    kurtosis: float  # non-excess (a normal distribution has 3)
    observations: int  # T, daily returns
    expected_max_sharpe: float  # SR0, per day
    deflated_sharpe: float  # DSR, a probability


def walk_forward_folds(start: date, end: date, train_days: int, test_days: int) -> list[Fold]:
    """Folds over [start, end]: train `train_days`, test the next `test_days`, roll by the test.

    Raises:
        ValueError: the window has no room for one training window and one test day.
    """
    if train_days < 1 or test_days < 1:
        raise ValueError(f"train and test days must be at least 1, got {train_days}:{test_days}")
    folds = []
    step = timedelta(days=test_days)
    train_from = start
    while True:
        test_from = train_from + timedelta(days=train_days)
        if test_from > end:
            break
        folds.append(
            Fold(
                train_from,
                test_from - timedelta(days=1),
                test_from,
                min(test_from + step - timedelta(days=1), end),
            )
        )
        train_from += step
    if not folds:
        raise ValueError(
            f"{start}..{end} has {(end - start).days + 1} days: too few for a {train_days}-day "
            "training window and a test window"
        )
    return folds


def choose_best(scores: Sequence[float | None]) -> int:
    """The index of the highest score (the first on ties; None ranks last)."""
    best = 0
    for i, score in enumerate(scores):
        current = scores[best]
        if score is not None and (current is None or score > current):
            best = i
    return best


def stitch(
    days: Sequence[date],
    equities: Sequence[Sequence[float]],
    chosen: Sequence[tuple[Fold, int]],
    start_value: float,
) -> tuple[list[date], list[float]]:
    """The out-of-sample equity: on each fold's test window, the chosen point's daily returns.

    Args:
        days: the replay's days (every point's equity is on these days).
        equities: each point's daily equity.
        chosen: (fold, point index) per fold, in order.
    Returns:
        The stitched days (from the last day of the first training window) and values.
    """
    where = {d: i for i, d in enumerate(days)}
    first = chosen[0][0]
    out_days = [first.train_to]
    values = [start_value]
    for fold, point in chosen:
        series = equities[point]
        i = where[fold.test_from]
        j = where[fold.test_to]
        for k in range(i, j + 1):
            out_days.append(days[k])
            values.append(values[-1] * series[k] / series[k - 1])
    return out_days, values


def deflated_sharpe(
    best_equity: Sequence[float], trial_sharpes: Sequence[float], annual_days: int = 365
) -> DeflatedSharpe:
    """The deflated Sharpe ratio of the point with equity `best_equity` among `trial_sharpes`.

    Args:
        best_equity: the chosen point's daily equity.
        trial_sharpes: every tried point's per-day Sharpe ratio (the chosen one included).
    """
    values = np.asarray(best_equity, dtype=np.float64)
    returns = values[1:] / values[:-1] - 1
    t = len(returns)
    sd = float(returns.std(ddof=1)) if t > 1 else 0.0
    if t < 3 or sd == 0:
        raise ValueError("the deflated Sharpe ratio needs at least 3 varying daily returns")
    sr = float(returns.mean()) / sd
    centred = returns - returns.mean()
    m2 = float(np.mean(centred**2))
    skew = float(np.mean(centred**3)) / m2**1.5
    kurt = float(np.mean(centred**4)) / m2**2
    n = len(trial_sharpes)
    variance = float(np.var(np.asarray(trial_sharpes, dtype=np.float64), ddof=1)) if n > 1 else 0.0
    sr0 = expected_max_sharpe(variance, n)
    denominator = 1 - skew * sr + (kurt - 1) / 4 * sr**2
    z = (sr - sr0) * math.sqrt(t - 1) / math.sqrt(denominator) if denominator > 0 else math.inf
    return DeflatedSharpe(
        sharpe=sr,
        sharpe_annualised=sr * math.sqrt(annual_days),
        trials=n,
        sharpe_variance=variance,
        skew=skew,
        kurtosis=kurt,
        observations=t,
        expected_max_sharpe=sr0,
        deflated_sharpe=NormalDist().cdf(z) if math.isfinite(z) else 1.0,
    )


def expected_max_sharpe(variance: float, trials: int) -> float:
    """SR0: the expected best Sharpe ratio of `trials` unskilled points with that variance."""
    if trials < 2 or variance <= 0:
        return 0.0
    phi_inv = NormalDist().inv_cdf
    return math.sqrt(variance) * (
        (1 - EULER_GAMMA) * phi_inv(1 - 1 / trials)
        + EULER_GAMMA * phi_inv(1 - 1 / (trials * math.e))
    )


def per_day_sharpe(equity: Sequence[float]) -> float:
    """Mean daily simple return / its standard deviation (ddof 1), not annualised (0 if flat)."""
    values = np.asarray(equity, dtype=np.float64)
    returns = values[1:] / values[:-1] - 1
    sd = float(returns.std(ddof=1)) if len(returns) > 1 else 0.0
    return float(returns.mean()) / sd if sd > 0 else 0.0


def walk_forward(
    days: Sequence[date],
    equities: Sequence[Sequence[float]],
    folds: Sequence[Fold],
    score: Callable[[Sequence[date], Sequence[float]], float | None],
) -> list[tuple[Fold, int, float | None]]:
    """Per fold: the point whose training-window equity scores best, and that score.

    Args:
        score: the ranking metric of an equity window (higher is better; None ranks last).
    """
    where = {d: i for i, d in enumerate(days)}
    out = []
    for fold in folds:
        i, j = where[fold.train_from], where[fold.train_to] + 1
        window = days[i:j]
        scores = [score(window, equity[i:j]) for equity in equities]
        best = choose_best(scores)
        out.append((fold, best, scores[best]))
    return out
