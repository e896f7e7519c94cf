"""How sure is a backtest's edge? A stationary block bootstrap of its daily returns.

A replay is one path through one market. To see how much of the rule set's excess CAGR over a
benchmark could be luck of that path, the daily returns are resampled in blocks (Politis &
Romano 1994, the stationary bootstrap): each resampled history is as long as the replay and is
made of runs of consecutive days starting at a uniformly drawn day, each run ending after any
day with probability 1 / `block_days` (so runs average `block_days` days and wrap around the
end). Blocks keep the autocorrelation and volatility clustering of crypto returns that an
i.i.d. resample would destroy.

The strategy and its benchmark are resampled **jointly**: the same days, in the same order, so
what is compared is the two series on one resampled market, not two unrelated draws.

For each resampled history the CAGR of each series is `exp(365 / n · Σ log(1 + r)) − 1` over
its n daily returns (on the original order this is exactly the replay's `cagr`), and the
excess is their difference. Reported per benchmark:

- estimate: the replay's own excess CAGR (the unresampled returns);
- ci95_low, ci95_high: the 2.5th and 97.5th percentiles of the resampled excess CAGRs;
- p_positive: the share of resampled histories in which the strategy's CAGR beat the
  benchmark's (a frequency over resamples, not a test's p-value).

Random draws follow the `arch` package's `StationaryBootstrap` with a NumPy `default_rng(seed)`
generator draw for draw (per sample: `integers(n, size=n)` block starts, then `random(n)`
uniforms), so the indices equal `arch`'s for the same seed (tests/core/test_backtest_bootstrap.py
checks that); the chaining of days into blocks is vectorised over all samples at once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

ANNUAL_DAYS = 365


@dataclass(frozen=True, slots=True)
class Interval:
    """The excess CAGR of the replay over one benchmark and how it spreads under resampling."""

    estimate: float
    ci95_low: float
    ci95_high: float
    p_positive: float


@dataclass(frozen=True, slots=True)
class BlockBootstrap:
    """The bootstrap's settings and one interval per benchmark name."""

    block_days: int
    samples: int
    seed: int
    excess_cagr: Mapping[str, Interval]


def stationary_indices(n: int, block_days: int, samples: int, seed: int) -> np.ndarray:
    """Day indices of `samples` stationary-bootstrap resamples of `n` days, shape (samples, n).

    Args:
        n: the number of daily returns.
        block_days: the mean block length (a block ends after a day with probability 1/block_days).
        seed: seeds `numpy.random.default_rng`; the same seed gives the same indices.
    """
    if n < 1 or block_days < 1 or samples < 1:
        raise ValueError(f"need n, block_days and samples >= 1, got {n}, {block_days}, {samples}")
    rng = np.random.default_rng(seed)
    starts = np.empty((samples, n), dtype=np.int64)
    uniforms = np.empty((samples, n), dtype=np.float64)
    for i in range(samples):  # arch's draw order: a sample's integers, then its uniforms
        starts[i] = rng.integers(n, size=n, dtype=np.int64)
        uniforms[i] = rng.random(n)
    fresh = uniforms <= 1.0 / block_days  # a new block starts on this day
    fresh[:, 0] = True
    position = np.arange(n, dtype=np.int64)
    last_start = np.maximum.accumulate(np.where(fresh, position, 0), axis=1)
    chosen = np.take_along_axis(starts, last_start, axis=1)
    return (chosen + (position - last_start)) % n


def log_returns(equity: Sequence[float]) -> np.ndarray:
    """log(1 + r) of each day's simple return of a positive daily equity series."""
    values = np.asarray(equity, dtype=np.float64)
    if values.ndim != 1 or len(values) < 2 or not np.all(np.isfinite(values) & (values > 0)):
        raise ValueError("equity must be at least two positive, finite daily values")
    return np.diff(np.log(values))


def resampled_cagr(logs: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """The CAGR of each resampled history (one per row of `indices`)."""
    n = indices.shape[1]
    return np.expm1(logs[indices].sum(axis=1) * (ANNUAL_DAYS / n))


def excess_interval(strategy: np.ndarray, benchmark: np.ndarray, indices: np.ndarray) -> Interval:
    """The excess CAGR interval of `strategy` over `benchmark` (log returns, same days)."""
    n = len(strategy)
    estimate = math.expm1(float(strategy.sum()) * ANNUAL_DAYS / n) - math.expm1(
        float(benchmark.sum()) * ANNUAL_DAYS / n
    )
    excess = resampled_cagr(strategy, indices) - resampled_cagr(benchmark, indices)
    low, high = np.quantile(excess, [0.025, 0.975])
    return Interval(estimate, float(low), float(high), float(np.mean(excess > 0)))


def block_bootstrap(
    strategy: Sequence[float],
    benchmarks: Mapping[str, Sequence[float]],
    *,
    block_days: int,
    samples: int,
    seed: int,
) -> BlockBootstrap:
    """Excess-CAGR intervals of the strategy over each benchmark, all on the same resamples.

    Args:
        strategy: the replay's daily equity (values at each day's close).
        benchmarks: name -> daily equity on the same days.
    """
    logs = log_returns(strategy)
    indices = stationary_indices(len(logs), block_days, samples, seed)
    out = {}
    for name, equity in benchmarks.items():
        bench = log_returns(equity)
        if len(bench) != len(logs):
            raise ValueError(f"benchmark {name}: {len(bench) + 1} days, strategy {len(logs) + 1}")
        out[name] = excess_interval(logs, bench, indices)
    return BlockBootstrap(block_days, samples, seed, out)
