"""Done-when: `rotator report` run on 30 simulated consecutive days (clock and prices moving)
gives 30 rows of history and a value chart with 30 points.

The first 28 days are seeded through the run and report store (the demo portfolio valued and
planned at each day's prices, see `seed_report_days`); the real CLI reports the last two, against
the replay server running on the test's clock.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from simulation import (
    demo_environ,
    dominance,
    factor,
    record_market_day,
    seed_report_days,
    simulated_market,
)

from rotator.adapters.storage import report_store, run_queries
from rotator.adapters.storage.db import open_engine
from rotator.cli.app import cli

DAYS = 30
SEEDED = 28  # stored directly; the CLI reports the days after them
END = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # the last simulated day's 07:00 UTC run


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in demo_environ().items():
        monkeypatch.setenv(name, value)


def test_thirty_simulated_days(tmp_path: Path, environ: None) -> None:
    db = f"sqlite:///{tmp_path / 'sim.sqlite3'}"
    reports = tmp_path / "reports"
    clocks = [END - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]
    runner = CliRunner()
    now = [clocks[SEEDED]]  # the replay server's clock: it stamps the tickers it serves
    with simulated_market(tmp_path, clock=lambda: now[0]) as market:
        config = market.write_config(tmp_path / "portfolio.yaml", reports)
        seeded = seed_report_days(db, clocks[:SEEDED], config, reports)
        assert len(seeded) == SEEDED
        for index in range(SEEDED, DAYS):
            clock = now[0] = clocks[index]
            k = factor(index)
            market.set_prices(k)
            record_market_day(db, clock.date(), market.btc_close(k), dominance(index))
            result = runner.invoke(
                cli,
                ["report", "--config", str(config), "--db", db, "--now", clock.isoformat()],
            )
            assert result.exit_code == 0, result.output

    engine = open_engine(db)
    listed = run_queries.list_runs(engine, limit=100)
    assert len(listed) == DAYS
    assert sorted(r.day for r in listed) == [c.date() for c in clocks]
    values = run_queries.daily_values(engine, until=clocks[-1].date())
    assert len(values) == DAYS
    # prices moved, so did the value: it follows the price factor, not a constant
    assert len({v for _, v in values}) == DAYS
    first, last = values[0][1], values[-1][1]
    assert last > first * Decimal("1.05")  # the path ends ~12 % up on the crypto part
    assert len(report_store.list_reports(engine)) == DAYS
    engine.dispose()

    html = (reports / f"report-{clocks[-1].date().isoformat()}.html").read_text()
    value_chart = re.search(r'<img[^>]*data-chart="value"[^>]*>', html)
    assert value_chart and 'data-points="30"' in value_chart.group(0)
    btc_chart = re.search(r'<img[^>]*data-chart="btc"[^>]*>', html)
    assert btc_chart and 'data-points="30"' in btc_chart.group(0)
    markdown = (reports / f"report-{clocks[-1].date().isoformat()}.md").read_text()
    assert "30 day(s) of stored complete runs." in markdown
    # 1/7-day changes are computed from the stored history
    assert re.search(r"\| 1 day \| [+-][\d,]+\.\d\d \|", markdown)
    assert re.search(r"\| 7 days \| [+-][\d,]+\.\d\d \|", markdown)
    # 29 days of history before today: not 30 yet, and the report says where they start
    assert f"| 30 days | n/a | n/a | history starts {clocks[0].date().isoformat()} |" in markdown
