"""Run `rotator report` over N simulated consecutive days and time it.

The clock moves one day per run and the replayed exchange prices move with it (see
tests/reports/simulation.py); each run fetches through real ccxt from 127.0.0.1, stores the run
and writes the HTML + Markdown report. Prints the time per report and how it grows with the
stored history, and (with --screenshot) saves the last report rendered by headless Chromium,
the whole page (the documentation's pictures are made by docs/screenshots.py):

    python3 bench/report_days.py --days 30 --screenshot test-artifacts/report-30-days.png
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "reports")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--screenshot", type=Path, default=None)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="rotator-bench-"))
    os.environ["ROTATOR_DATA_DIR"] = str(scratch / "data")
    os.environ["ROTATOR_CACHE_DIR"] = str(scratch / "cache")
    from click.testing import CliRunner
    from simulation import (
        demo_environ,
        dominance,
        factor,
        record_market_day,
        simulated_market,
    )

    from rotator.cli.app import cli

    os.environ.update(demo_environ())
    db = f"sqlite:///{scratch / 'bench.sqlite3'}"
    end = datetime.now(UTC).replace(microsecond=0)
    times: list[float] = []
    runner = CliRunner()
    with simulated_market(scratch) as market:
        config = market.write_config(scratch / "portfolio.yaml", scratch / "reports")
        for index in range(args.days):
            clock = end - timedelta(days=args.days - 1 - index)
            k = factor(index)
            market.set_prices(k)
            record_market_day(db, clock.date(), market.btc_close(k), dominance(index))
            started = time.perf_counter()
            result = runner.invoke(
                cli, ["report", "--config", str(config), "--db", db, "--now", clock.isoformat()]
            )
            times.append(time.perf_counter() - started)
            if result.exit_code != 0:
                raise SystemExit(f"day {index}: exit {result.exit_code}\n{result.output}")
    print(f"{args.days} simulated days, one `rotator report` each (fetch, store, render, write)")
    print(f"first run (imports, market cache cold): {times[0]:.2f} s")
    rest = times[1:] or times
    print(f"later runs: mean {sum(rest) / len(rest):.2f} s, min {min(rest):.2f} s")
    half = len(rest) // 2 or 1
    early, late = rest[:half], rest[-half:]
    ratio = (sum(late) / len(late)) / (sum(early) / len(early))
    print(f"last {half} runs vs first {half} (history grows): x{ratio:.2f}")
    last = sorted((scratch / "reports").glob("report-*.html"))[-1]
    print(f"last report: {last}")
    if args.screenshot:
        from browser import inspect_page

        found = inspect_page(last, "document.images.length", screenshot=args.screenshot)
        print(f"screenshot: {args.screenshot} ({found} charts)")


if __name__ == "__main__":
    main()
