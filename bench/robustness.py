"""Speed of the block bootstrap in `rotator backtest`: ratios measured in one run.

1. The default bootstrap (1,000 resampled histories, mean block 30 days, against `hodl_btc`
   and `static`) against the replay it assesses: the demo's 2017-2021 daily replay of
   rules/cycle.yaml with both benchmarks (target: the bootstrap adds at most 10 % to it).
2. The same resampled excess CAGRs computed by the `arch` package (`StationaryBootstrap.apply`,
   same seed, same indices, one resample at a time) against rotator's vectorised version.

History: the demo's bundled real CoinGecko data (rotator/demo/history), as bench/backtest.py.

Run: python3 bench/robustness.py   (needs the dev extra for `arch`)
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "pipeline"))

from test_backtest import HISTORY, POLICY  # noqa: E402  (the demo CSVs as series)

from rotator.config.ruleset import load_ruleset, shipped_ruleset  # noqa: E402
from rotator.core.backtest.bootstrap import ANNUAL_DAYS, log_returns  # noqa: E402
from rotator.pipeline.backtest import BacktestSettings, replay  # noqa: E402
from rotator.pipeline.robustness import assess  # noqa: E402

SAMPLES, BLOCK, SEED = 1000, 30, 1


def best_of(runs: int, work) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        work()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ruleset = load_ruleset(shipped_ruleset("cycle.yaml"))
    settings = BacktestSettings(date(2017, 1, 1), date(2021, 12, 31), policy=POLICY)
    t = time.perf_counter()
    result = replay(ruleset, HISTORY, settings)
    replay_s = time.perf_counter() - t
    boot_s = best_of(3, lambda: assess(result, block_days=BLOCK, samples=SAMPLES, seed=SEED))
    print(f"replay 2017-2021 with benchmarks: {replay_s:.2f} s")
    print(f"bootstrap {SAMPLES} x {len(result.main.days) - 1} days, 2 benchmarks: {boot_s:.3f} s")
    print(f"bootstrap / replay: {boot_s / replay_s:.3f} (target <= 0.10)")

    from arch.bootstrap import StationaryBootstrap

    s = log_returns(result.main.equity().to_numpy())
    b = log_returns(result.benchmarks["hodl_btc"].equity().to_numpy())

    def excess(x: np.ndarray, y: np.ndarray) -> float:
        n = len(x)
        return np.expm1(x.sum() * ANNUAL_DAYS / n) - np.expm1(y.sum() * ANNUAL_DAYS / n)

    def with_arch() -> None:
        StationaryBootstrap(BLOCK, s, b, seed=SEED).apply(excess, SAMPLES)

    def with_rotator() -> None:
        from rotator.core.backtest.bootstrap import block_bootstrap

        block_bootstrap(
            result.main.equity().to_numpy(),
            {"hodl_btc": result.benchmarks["hodl_btc"].equity().to_numpy()},
            block_days=BLOCK,
            samples=SAMPLES,
            seed=SEED,
        )

    arch_s, ours_s = best_of(3, with_arch), best_of(3, with_rotator)
    print(f"arch StationaryBootstrap.apply, 1 benchmark: {arch_s:.3f} s")
    print(f"rotator block_bootstrap, 1 benchmark: {ours_s:.3f} s")
    print(f"rotator / arch: {ours_s / arch_s:.2f}")


if __name__ == "__main__":
    main()
