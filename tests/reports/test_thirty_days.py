"""Done-when: `rotator report` run on 30 simulated consecutive days (clock and prices moving)
gives 30 rows of history and a value chart with 30 points."""

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
    simulated_market,
)

from rotator.adapters.storage import report_store, run_queries
from rotator.adapters.storage.db import open_engine
from rotator.cli.app import cli

DAYS = 30


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in demo_environ().items():
        monkeypatch.setenv(name, value)


def test_thirty_simulated_days(tmp_path: Path, environ: None) -> None:
    db = f"sqlite:///{tmp_path / 'sim.sqlite3'}"
    reports = tmp_path / "reports"
    # Simulated clocks end now: the replay server stamps tickers with the real time, and a
    # quote newer than the run counts as fresh, an older one as stale.
    end = datetime.now(UTC).replace(microsecond=0)
    clocks = [end - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]
    runner = CliRunner()
    with simulated_market(tmp_path) as market:
        config = market.write_config(tmp_path / "portfolio.yaml", reports)
        for index, clock in enumerate(clocks):
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
    assert "| 30 days | n/a |" in markdown  # 29 days of history before today: not 30 yet
