"""The block bootstrap against the `arch` package: the same indices for the same seed, the same
resampled statistic and percentile interval, and the replay's own CAGR on the original order."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from rotator.core.backtest.bootstrap import (
    ANNUAL_DAYS,
    block_bootstrap,
    log_returns,
    stationary_indices,
)
from rotator.core.backtest.metrics import performance


def _equity(seed: int, n: int, drift: float = 0.001, vol: float = 0.03) -> np.ndarray:
    """A positive daily equity curve from fixed random returns (literal, reproducible)."""
    returns = np.random.default_rng(seed).normal(drift, vol, n)
    return 10_000 * np.cumprod(np.concatenate([[1.0], 1 + returns]))


@pytest.mark.parametrize(("n", "block", "seed"), [(500, 20, 42), (97, 1, 7), (30, 60, 3)])
def test_indices_equal_arch_stationary_bootstrap_for_the_same_seed(n, block, seed):
    from arch.bootstrap import StationaryBootstrap  # arch (with scipy) takes 3 s to import

    bs = StationaryBootstrap(block, np.arange(n), seed=seed)
    reference = np.array([bs.index.copy() for _ in bs.bootstrap(40)])
    assert np.array_equal(stationary_indices(n, block, 40, seed), reference)


def test_joint_excess_cagr_matches_arch_apply_and_percentile_interval():
    strategy, bench = _equity(1, 730), _equity(2, 730, drift=0.0008, vol=0.04)
    s_logs, b_logs = log_returns(strategy), log_returns(bench)

    def excess(s: np.ndarray, b: np.ndarray) -> float:
        n = len(s)
        return np.expm1(s.sum() * ANNUAL_DAYS / n) - np.expm1(b.sum() * ANNUAL_DAYS / n)

    from arch.bootstrap import StationaryBootstrap

    bs = StationaryBootstrap(30, s_logs, b_logs, seed=11)
    draws = bs.apply(excess, 500).ravel()
    bs.reset()
    low, high = bs.conf_int(excess, 500, method="percentile").ravel()
    out = block_bootstrap(strategy, {"b": bench}, block_days=30, samples=500, seed=11)
    x = out.excess_cagr["b"]
    assert x.ci95_low == pytest.approx(low, abs=1e-12)
    assert x.ci95_high == pytest.approx(high, abs=1e-12)
    assert x.p_positive == pytest.approx(np.mean(draws > 0), abs=1e-12)
    assert x.estimate == pytest.approx(excess(s_logs, b_logs), abs=1e-12)
    assert x.ci95_low < x.estimate < x.ci95_high


def test_estimate_is_the_difference_of_the_replay_cagrs():
    strategy, bench = _equity(3, 400), _equity(4, 400)
    index = pd.DatetimeIndex([date(2020, 1, 1) + timedelta(days=i) for i in range(401)])
    cagr = [performance(pd.Series(e, index=index))["cagr"] for e in (strategy, bench)]
    out = block_bootstrap(strategy, {"b": bench}, block_days=10, samples=100, seed=0)
    assert out.excess_cagr["b"].estimate == pytest.approx(cagr[0] - cagr[1], rel=1e-9)


def test_resampling_is_joint_same_days_for_both_series():
    """The same series as strategy and benchmark: every resample's excess is exactly zero."""
    equity = _equity(5, 300)
    x = block_bootstrap(equity, {"same": equity}, block_days=15, samples=200, seed=9)
    same = x.excess_cagr["same"]
    assert (same.estimate, same.ci95_low, same.ci95_high, same.p_positive) == (0, 0, 0, 0)


def test_a_constant_daily_edge_beats_the_benchmark_in_every_resample():
    bench = _equity(6, 365)
    strategy = bench * np.cumprod(np.full(366, 1.0005)) / 1.0005
    x = block_bootstrap(strategy, {"b": bench}, block_days=20, samples=300, seed=2)
    edge = x.excess_cagr["b"]
    assert edge.p_positive == 1.0 and edge.ci95_low > 0


def test_same_seed_same_result_other_seed_other_result():
    strategy, bench = _equity(7, 500), _equity(8, 500)
    run = [
        block_bootstrap(strategy, {"b": bench}, block_days=25, samples=300, seed=s)
        for s in (5, 5, 6)
    ]
    assert run[0] == run[1]
    assert run[0].excess_cagr["b"].ci95_low != run[2].excess_cagr["b"].ci95_low
    assert run[0].excess_cagr["b"].estimate == run[2].excess_cagr["b"].estimate


def test_mean_block_length_is_block_days():
    indices = stationary_indices(2000, 25, 50, seed=1)
    breaks = np.diff(indices, axis=1) != 1  # a new block (or a wrap) starts here
    wraps = np.diff(indices, axis=1) == -1999
    mean_block = 2000 / (1 + (breaks & ~wraps).sum(axis=1)).mean()
    assert 22 < mean_block < 28


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="positive"):
        log_returns([100.0, 0.0, 50.0])
    with pytest.raises(ValueError, match="block_days"):
        stationary_indices(10, 0, 5, seed=1)
