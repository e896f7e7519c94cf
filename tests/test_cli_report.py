"""`rotator report`, `rotator history list/show/diff` and `rotator schedule` through the real CLI.

The demo runs the real pipeline against recorded exchange responses replayed on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from rotator.adapters.runlock import file_lock, run_lock
from rotator.adapters.storage import report_store, run_queries
from rotator.adapters.storage.db import open_engine
from rotator.cli.app import cli
from rotator.config.paths import data_dir

MD_SECTIONS = (
    "## Portfolio value",
    "## Allocation now vs target",
    "## Regime:",
    "### What changed since yesterday",
    "## Signals",
    "### Rules",
    "## Suggested orders (",
    "## Portfolio value over time",
)


def demo_engine():
    return open_engine(f"sqlite:///{data_dir() / 'demo.sqlite3'}")


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_report_demo_writes_html_and_markdown_offline_once_per_day() -> None:
    result = invoke("report", "--demo")
    assert result.exit_code == 0, result.output
    folder = data_dir() / "demo-reports"
    html = sorted(folder.glob("report-*.html"))
    md = sorted(folder.glob("report-*.md"))
    assert len(html) == 1 and len(md) == 1
    assert str(html[0]) in result.stderr and result.stdout == ""  # confirmations: stderr
    page = html[0].read_text()
    assert page.count('src="data:image/png;base64,') >= 2  # allocation and value charts
    assert "http://" not in page and "https://" not in page  # nothing fetched when opened
    markdown = md[0].read_text()
    for heading in MD_SECTIONS:
        assert heading in markdown
    assert "DRY RUN" in markdown and "DRY RUN" in page
    # the demo never touches the user's database
    assert not (data_dir() / "rotator.sqlite3").exists()

    again = invoke("report", "--demo")
    assert again.exit_code == 0
    assert "already written" in again.stderr and again.stdout == ""
    engine = demo_engine()
    assert run_queries.run_count(engine) == 1
    assert len(report_store.list_reports(engine)) == 1

    forced = invoke("report", "--demo", "--force")
    assert forced.exit_code == 0, forced.output
    assert run_queries.run_count(engine) == 2
    reports = report_store.list_reports(engine)
    assert len(reports) == 1 and reports[0].run_id == 2  # replaced, not duplicated
    assert len(list(folder.glob("report-*"))) == 2
    with engine.connect() as conn:
        holdings = conn.execute(
            select(func.count()).select_from(text("run_holdings")).where(text("run_id = 2"))
        ).scalar_one()
    assert holdings > 5
    engine.dispose()


def test_report_out_always_gets_the_report(tmp_path: Path) -> None:
    assert invoke("report", "--demo").exit_code == 0
    elsewhere = tmp_path / "elsewhere"
    result = invoke("report", "--demo", "--out", str(elsewhere))
    assert result.exit_code == 0, result.output
    assert "already written" not in result.output
    html = sorted(elsewhere.glob("report-*.html"))
    assert len(html) == 1 and len(sorted(elsewhere.glob("report-*.md"))) == 1
    assert str(html[0]) in result.output
    engine = demo_engine()
    assert run_queries.run_count(engine) == 1  # the same run, written to --out too
    engine.dispose()
    again = invoke("report", "--demo", "--out", str(elsewhere))
    assert "already written" in again.output and str(html[0]) in again.output


def test_report_rebuilds_a_stored_run_and_rejects_unknown_ids() -> None:
    assert invoke("report", "--demo").exit_code == 0
    html = next((data_dir() / "demo-reports").glob("report-*.html"))
    html.unlink()
    rebuilt = invoke("report", "--demo", "--run", "1")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert html.exists()
    missing = invoke("report", "--demo", "--run", "99")
    assert missing.exit_code == 2
    assert "no stored run with id 99" in missing.output


@pytest.mark.parametrize("held", ["database", "report folder"])
def test_report_waits_for_the_lock_then_exits_4(held: str) -> None:
    # The locks are keyed by what they protect: the database file and the report folder.
    if held == "database":
        lock = file_lock(Path(f"{data_dir() / 'demo.sqlite3'}.rotator.lock"), 0)
    else:
        lock = run_lock(data_dir() / "demo-reports", 0)
    with lock:
        result = invoke("report", "--demo", "--wait", "0.2")
    assert result.exit_code == 4
    assert "rotator.lock" in result.output and "did not finish within 0.2 s" in result.output
    assert not list((data_dir() / "demo-reports").glob("report-*"))


@pytest.mark.slow  # started first (see conftest.py)
def test_two_concurrent_report_processes_leave_one_report(isolated_dirs: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "rotator", "report", "--demo"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert sum("already written" in err for _, err in outputs) == 1
    engine = demo_engine()
    assert len(report_store.list_reports(engine)) == 1
    assert run_queries.run_count(engine) == 1  # the second process did not even run
    engine.dispose()
    folder = data_dir() / "demo-reports"
    assert len(list(folder.glob("report-*.html"))) == 1
    assert len(list(folder.glob("report-*.md"))) == 1
    assert not list(folder.glob(".*.tmp"))


def test_history_list_show_and_diff() -> None:
    assert invoke("history", "list", "--demo").output.startswith("no runs stored yet")
    assert invoke("report", "--demo").exit_code == 0
    assert invoke("report", "--demo", "--force").exit_code == 0

    listed = invoke("history", "list", "--demo", "--format", "json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [r["id"] for r in rows] == [2, 1]
    assert all(r["kind"] == "report" and r["order_count"] > 0 for r in rows)
    table = invoke("history", "list", "--demo")
    assert "regime" in table.output and "orders" in table.output

    shown = json.loads(invoke("history", "show", "--demo", "1", "--format", "json").stdout)
    assert shown["run"]["id"] == 1
    assets = {h["asset"] for h in shown["holdings"]}
    assert {"BTC", "ETH"} <= assets
    assert shown["plan"]["orders"]
    text_view = invoke("history", "show", "--demo", "1")
    assert "Holdings" in text_view.output and "DRY RUN" in text_view.output

    diff = json.loads(invoke("history", "diff", "--demo", "1", "2", "--format", "json").stdout)
    btc = next(r for r in diff["assets"] if r["asset"] == "BTC")
    assert btc["amount_a"] == btc["amount_b"]
    assert Decimal_str(btc["amount_change"]) == 0
    assert invoke("history", "diff", "--demo", "1", "7").exit_code == 2


def Decimal_str(value: str):
    from decimal import Decimal

    return Decimal(value)


def test_schedule_prints_cron_and_systemd_for_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "my portfolio.yaml"
    config.write_text(
        "base_currency: USD\n"
        "accounts:\n"
        "  - {name: b, exchange: binance, api_key_env: MY_KEY, secret_env: MY_SECRET}\n"
        "targets: {BTC: 1}\n"
    )
    monkeypatch.setenv("MY_KEY", "sentinel-key-value")
    cron = invoke("schedule", "--cron", "--config", str(config), "--at", "06:45")
    assert cron.exit_code == 0, cron.output
    line = next(x for x in cron.output.splitlines() if not x.startswith("#") and "report" in x)
    assert line.startswith("45 6 * * * ")
    assert f"report --config '{config.resolve()}'" in line
    assert "MY_KEY, MY_SECRET" in cron.output
    assert "sentinel-key-value" not in cron.output

    units = invoke("schedule", "--systemd", "--config", str(config))
    assert units.exit_code == 0, units.output
    assert "OnCalendar=*-*-* 07:00:00" in units.output
    assert "Type=oneshot" in units.output
    assert "ExecStart=" in units.output and f'"{config.resolve()}"' in units.output
    assert "[Install]\nWantedBy=timers.target" in units.output

    assert "history fetch" not in cron.output + units.output  # no rules: no history to record

    assert invoke("schedule", "--config", str(config)).exit_code == 2
    broken = tmp_path / "broken.yaml"
    broken.write_text("targets: {BTC: 2}\n")
    bad = invoke("schedule", "--cron", "--config", str(broken))
    assert bad.exit_code == 2
    assert "broken.yaml" in bad.output


def test_schedule_records_market_history_before_the_report_when_rules_read_it(
    tmp_path: Path,
) -> None:
    config = tmp_path / "portfolio.yaml"
    config.write_text("base_currency: USD\nrules: rules/cycle.yaml\n")

    cron = invoke("schedule", "--cron", "--config", str(config))
    units = invoke("schedule", "--systemd", "--config", str(config))

    assert cron.exit_code == units.exit_code == 0, cron.output + units.output
    line = next(x for x in cron.output.splitlines() if not x.startswith("#") and "report" in x)
    fetch, report = line.index(f"history fetch --config {config}"), line.index("report --config")
    assert fetch < report
    # A failed fetch must not stop the report (`;`, and systemd's "-" prefix).
    assert "&& " not in line[fetch:]
    assert "ExecStartPre=-" in units.output and "history fetch" in units.output
