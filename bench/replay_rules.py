"""Replay the shipped rule set over 10 years of daily history: one evaluation per day.

Prints the time per evaluated day for
1. the pure core (`evaluate` + `choose_regime`) over 3,653 consecutive days, history loaded
   once (a backtest-style replay), and
2. the full path `rotator signals --as-of DAY` takes (`run_rules`: load history from a SQLite
   store as of the day, evaluate, choose the regime, save the evaluations) on a sample of days.

History: real CoinGecko data from tests/fixtures/history (BTC closes 2013-04-28..2021-12-31,
BTC dominance = BTC market cap / total market cap). That is 8.7 years; to make 10 years the
first 485 days of it are copied and re-dated to 2012-01-01..2013-04-27 (values unchanged).
The regimes chosen per year are printed as a sanity check, not as a result.

Run: python3 bench/replay_rules.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rotator.adapters.storage.db import open_engine  # noqa: E402
from rotator.adapters.storage.market import save_bars, save_dominance  # noqa: E402
from rotator.config.ruleset import load_ruleset  # noqa: E402
from rotator.core.history import DailyBar, DominanceObservation  # noqa: E402
from rotator.core.rules.engine import evaluate  # noqa: E402
from rotator.core.rules.regimes import choose_regime  # noqa: E402
from rotator.pipeline.rules import run_rules  # noqa: E402

HISTORY = ROOT / "tests" / "fixtures" / "history"
START, END = date(2012, 1, 1), date(2021, 12, 31)


def real_history() -> dict[str, pd.Series]:
    btc = pd.read_csv(HISTORY / "coingecko_btc-usd_daily_2013-2021.csv")
    btc.index = pd.DatetimeIndex(pd.to_datetime(btc["snapped_at"].str[:10]))
    total = pd.read_csv(HISTORY / "coingecko_global_total_market_cap_daily_2013-2021.csv")
    total.index = pd.DatetimeIndex(pd.to_datetime(total["snapped_at"], unit="ms").dt.normalize())
    dominance = (btc["market_cap"] / total["market_cap"] * 100).dropna()
    dominance = dominance[(dominance > 0) & (dominance < 100)]
    return {"close:BTC": btc["price"].astype(float), "btc_dominance": dominance}


def ten_years(series: pd.Series) -> pd.Series:
    """Prefix the series with a re-dated copy of its own first days so it starts on START."""
    first = series.index[0]
    gap = (first - pd.Timestamp(START)).days
    head = series.iloc[:gap].copy()
    head.index = head.index - pd.Timedelta(days=gap)
    return pd.concat([head[head.index < first], series])


def main() -> None:
    ruleset = load_ruleset(ROOT / "rules" / "cycle.yaml")
    history = {name: ten_years(s) for name, s in real_history().items()}
    days = [START + timedelta(days=k) for k in range((END - START).days + 1)]
    print(f"rule set: {ruleset.name} ({len(ruleset.rules)} rules, {len(ruleset.regimes)} regimes)")
    print(f"history: {', '.join(f'{n} {len(s)} days' for n, s in history.items())}")

    regimes: Counter[tuple[int, str]] = Counter()
    started = time.perf_counter()
    for day in days:
        results = evaluate(ruleset, history, day)
        regimes[(day.year, choose_regime(ruleset.regimes, results).regime)] += 1
    core = time.perf_counter() - started
    print(
        f"core replay: {len(days)} days in {core:.2f} s = "
        f"{core / len(days) * 1000:.3f} ms per evaluated day"
    )

    with tempfile.TemporaryDirectory() as folder:
        engine = open_engine(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        save_bars(
            engine,
            [
                DailyBar("bench", "BTC/USD", ts.date(), float(v))
                for ts, v in history["close:BTC"].items()
            ],
            recorded_at=datetime.now(UTC),
        )
        save_dominance(
            engine,
            [
                DominanceObservation("bench", ts.date(), float(v))
                for ts, v in history["btc_dominance"].items()
            ],
            recorded_at=datetime.now(UTC),
        )
        sample = days[:: len(days) // 200]
        started = time.perf_counter()
        for day in sample:
            run_rules(ruleset, engine, day, save_at=datetime.now(UTC))
        full = time.perf_counter() - started
        engine.dispose()
    print(
        f"store path (load as of day + evaluate + regime + save): {len(sample)} sampled days in "
        f"{full:.2f} s = {full / len(sample) * 1000:.2f} ms per evaluated day"
    )
    for year in range(START.year, END.year + 1):
        counts = {r: n for (y, r), n in sorted(regimes.items()) if y == year}
        print(f"  {year}: " + ", ".join(f"{r} {n} d" for r, n in counts.items()))


if __name__ == "__main__":
    main()
