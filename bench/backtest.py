"""Speed of `rotator backtest`: ratios measured in one run.

1. A 10-year daily backtest with the full planner (the rule set's replay plus the `static` and
   `hodl_btc` benchmarks: decisions every day, a snapshot and `plan_orders` after each one)
   against one `rotator plan --demo` process (the target: at most 5 ×).
2. A 32-point sweep on 2 local worker processes against the same sweep on 1 (target: at most
   0.6 ×). Process start-up and the history sent to each worker are included.

History: the demo's bundled real CoinGecko data (rotator/demo/history: BTC 2013-2021, ETH from
2015, SOL from 2020, dominance derived before 2018). That is 8.7 years of BTC; to make 10 years
the first 485 days of every series are copied and re-dated to 2012-01-01..2013-04-27 (values
unchanged), as bench/replay_rules.py does.

Run: python3 bench/backtest.py
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "pipeline"))

from test_backtest import HISTORY, POLICY  # noqa: E402  (the demo CSVs as series)

from rotator.config.ruleset import load_ruleset, shipped_ruleset  # noqa: E402
from rotator.pipeline.backtest import BacktestSettings, replay  # noqa: E402
from rotator.pipeline.sweep import run_local  # noqa: E402

START, END = date(2012, 1, 1), date(2021, 12, 31)


def ten_years(series: pd.Series) -> pd.Series:
    """Prefix the series with a re-dated copy of its own first days so it starts on START."""
    first = series.index[0]
    gap = (first - pd.Timestamp(START)).days
    if gap <= 0:
        return series
    head = series.iloc[:gap].copy()
    head.index = head.index - pd.Timedelta(days=gap)
    return pd.concat([head[head.index < first], series])


def plan_process_seconds() -> float:
    """Wall time of one `rotator plan --demo --no-save` process (best of 3)."""
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "ROTATOR_DATA_DIR": tmp, "ROTATOR_CACHE_DIR": tmp}
        cmd = [sys.executable, "-m", "rotator", "plan", "--demo", "--no-save"]
        subprocess.run(cmd, env=env, capture_output=True, check=True)  # warm the demo store
        for _ in range(3):
            t = time.perf_counter()
            subprocess.run(cmd, env=env, capture_output=True, check=True)
            times.append(time.perf_counter() - t)
    return min(times)


def _burn(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def machine_parallelism() -> float:
    """Wall-time ratio of a pure-Python CPU loop on 2 processes vs 1: what the cores allow now."""
    from concurrent.futures import ProcessPoolExecutor

    work = [3_000_000] * 8
    t = time.perf_counter()
    for n in work:
        _burn(n)
    one = time.perf_counter() - t
    t = time.perf_counter()
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_burn, work))
    return (time.perf_counter() - t) / one


def main() -> None:
    cycle = load_ruleset(shipped_ruleset("cycle.yaml"))
    history = {
        name: ten_years(s) if name in ("close:BTC", "btc_dominance") else s
        for name, s in HISTORY.items()
    }
    plan_s = plan_process_seconds()
    settings = BacktestSettings(START, END, policy=POLICY)
    t = time.perf_counter()
    result = replay(cycle, history, settings)
    backtest_s = time.perf_counter() - t
    days = len(result.main.days)
    print(f"rotator plan --demo process: {plan_s:.2f} s")
    print(
        f"10-year daily backtest ({days} days, rule set + static + hodl_btc, "
        f"{result.main.metrics()['trades']} rule-set trades): {backtest_s:.2f} s"
    )
    print(f"ratio backtest / plan process: {backtest_s / plan_s:.2f} (target <= 5)")

    grid = [
        {
            "btc_above_prior_high.confirm_closes": c,
            "btc_above_prior_high.exit_margin_pct": e,
            "dominance_rolling_over.exit_recover_pp": r,
            "rotate.min_days": m,
        }
        for c in (1, 3, 5, 7)
        for e in (10, 20)
        for r in (3, 5)
        for m in (0, 30)
    ]
    assert len(grid) == 32
    window = BacktestSettings(date(2020, 7, 1), date(2021, 12, 31), policy=POLICY)
    load_before = os.getloadavg()[0]
    t, cpu = time.perf_counter(), time.process_time()
    one = run_local(cycle, HISTORY, window, grid, workers=1)
    one_s, one_cpu = time.perf_counter() - t, time.process_time() - cpu
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    two = run_local(cycle, HISTORY, window, grid, workers=2)
    two_s = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    two_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    assert one == two, "the same sweep must give the same rows on 1 and 2 workers"
    print(f"32-point sweep (2020-07..2021-12), 1 worker: {one_s:.2f} s; 2 workers: {two_s:.2f} s")
    print(f"ratio 2 workers / 1 worker: {two_s / one_s:.2f} (target <= 0.6)")
    print(
        "machine check, the same ratio for a pure-Python CPU loop (ideal 0.5 on 2 idle cores): "
        f"{machine_parallelism():.2f}"
    )
    print(
        f"CPU seconds: 1 worker {one_cpu:.1f}, 2 workers {two_cpu:.1f} (in the workers); "
        f"cores visible: {os.cpu_count()}; load average before/after the sweeps "
        f"{load_before:.2f}/{os.getloadavg()[0]:.2f} (other processes share the cores: the "
        "wall-time ratio only means something on otherwise idle cores)"
    )


if __name__ == "__main__":
    main()
