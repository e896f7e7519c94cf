"""Run history store against a real SQLite file and, when ROTATOR_TEST_PG_URL is set, PostgreSQL.

One run is one transaction: a failure (or a SIGKILL) after the snapshot rows are written leaves
no partial run behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select, text

from rotator.adapters.storage import report_store, run_queries, runs
from rotator.adapters.storage.db import open_engine
from rotator.core.models import (
    AccountSnapshot,
    Allocation,
    Holding,
    Order,
    Plan,
    Price,
    Side,
    Snapshot,
    TargetWeights,
    WalletKind,
)
from rotator.core.records import RuleReport, RulesReport
from rotator.errors import Problem, Severity

PG_URL = os.environ.get("ROTATOR_TEST_PG_URL")
T0 = datetime(2026, 3, 1, 7, 0, tzinfo=UTC)
RUN_TABLES = ("runs", "run_accounts", "run_holdings", "run_prices", "run_allocations", "run_orders")


def pg_schema_url(base: str, schema: str) -> str:
    """The PG URL with a search_path so each test gets its own schema (and alembic history)."""
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'runs.sqlite3'}"
        return
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail(
                "CI must run the store tests on PostgreSQL: .ci/run sets ROTATOR_TEST_PG_URL"
            )
        pytest.skip("ROTATOR_TEST_PG_URL not set (CI sets it; see .ci/run)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield pg_schema_url(PG_URL, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = open_engine(db_url)
    yield eng
    eng.dispose()


def make_run(as_of: datetime = T0, btc_price: str = "60000") -> tuple[Snapshot, Plan, list[Price]]:
    btc = Decimal(btc_price)
    snapshot = Snapshot(
        as_of=as_of,
        base_currency="USD",
        accounts=(
            AccountSnapshot(
                name="binance-main",
                exchange="binance",
                holdings=(
                    Holding("binance-main", "BTC", Decimal("0.5"), Decimal("0.4")),
                    Holding("binance-main", "USDT", Decimal("5000.123456789"), Decimal("5000")),
                ),
                fetched_at=as_of,
            ),
            AccountSnapshot(
                name="ledger",
                exchange="manual",
                holdings=(Holding("ledger", "ETH", Decimal("4"), Decimal(0), WalletKind.MANUAL),),
                fetched_at=as_of,
                problems=(Problem(Severity.WARNING, "account ledger", "declared by hand"),),
            ),
        ),
    )
    prices = [
        Price("BTC", btc, ("BTC/USDT", "USDT/USD"), as_of),
        Price("USDT", Decimal("1.0002"), ("USDT/USD",), as_of),
        Price("ETH", Decimal("3000"), ("ETH/USDT", "USDT/USD"), as_of),
    ]
    btc_value = Decimal("0.5") * btc
    usdt_value = Decimal("5000.123456789") * Decimal("1.0002")
    eth_value = Decimal(12000)
    total = btc_value + usdt_value + eth_value
    plan = Plan(
        as_of=as_of,
        base_currency="USD",
        total_value=total,
        targets=TargetWeights(
            {"BTC": Decimal("0.6"), "ETH": Decimal("0.2"), "CASH": Decimal("0.2")}, "regime x"
        ),
        before=(
            Allocation("BTC", btc_value, btc_value / total, Decimal("0.6")),
            Allocation("ETH", eth_value, eth_value / total, Decimal("0.2")),
            Allocation("CASH", usdt_value, usdt_value / total, Decimal("0.2")),
        ),
        after=(Allocation("BTC", btc_value, btc_value / total, Decimal("0.6")),),
        orders=(
            Order(
                "binance-main",
                "BTC/USDT",
                Side.BUY,
                Decimal("0.01234"),
                Decimal("60010.5"),
                Decimal("740.53"),
                Decimal("0.74"),
                "BTC",
                "BTC 40.0% vs target 60.0% (-20.0 pp)",
            ),
        ),
        problems=(Problem(Severity.WARNING, "price SOL/USD", "stale quote"),),
        notes=("ETH: held in a manual wallet, never sold",),
        regime="accumulate",
        explanation=("regime accumulate: default",),
        rules=RulesReport(
            "rules/x.yaml",
            as_of.date(),
            (
                RuleReport(
                    "btc_above_prior_high",
                    "prior_high_break",
                    "unknown",
                    "no fresh BTC closes",
                    {"level": Decimal("110000")},
                    as_of.date(),
                ),
            ),
        ),
    )
    return snapshot, plan, prices


def test_save_and_load_round_trip_is_exact(engine: Engine) -> None:
    snapshot, plan, prices = make_run()
    run_id = runs.save_run(engine, snapshot, plan, prices=prices, kind="report", created_at=T0)
    stored = run_queries.load_run(engine, run_id)
    assert stored is not None
    assert stored.plan.total_value == plan.total_value  # exact Decimal, no float rounding
    assert stored.plan.orders == plan.orders
    assert stored.plan.before == plan.before
    assert stored.plan.after == plan.after
    assert stored.plan.targets == plan.targets
    assert stored.plan.problems == plan.problems
    assert stored.plan.notes == plan.notes
    assert stored.plan.regime == "accumulate"
    assert stored.plan.as_of == T0
    assert stored.plan.rules is not None
    assert stored.plan.rules.rules[0].data_as_of == T0.date()
    assert stored.plan.rules == replace(
        plan.rules, rules=(replace(plan.rules.rules[0], inputs={"level": "110000"}),)
    )
    assert stored.summary.kind == "report"
    assert stored.summary.order_count == 1
    values = {(h.holding.account, h.holding.asset): h.value for h in stored.holdings}
    assert values[("binance-main", "USDT")] == Decimal("5000.123456789") * Decimal("1.0002")
    assert values[("ledger", "ETH")] == Decimal(12000)
    assert {h.holding.wallet for h in stored.holdings} == {WalletKind.SPOT, WalletKind.MANUAL}
    assert {p.asset: p.route for p in stored.prices}["BTC"] == ("BTC/USDT", "USDT/USD")
    ledger = next(a for a in stored.accounts if a.name == "ledger")
    assert ledger.problems[0].message == "declared by hand"


def test_rule_evaluations_are_linked_to_the_run(engine: Engine) -> None:
    from rotator.adapters.storage.market import load_evaluations

    snapshot, plan, prices = make_run()  # the plan carries one rule report
    run_id = runs.save_run(engine, snapshot, plan, prices=prices, created_at=T0)
    stored = load_evaluations(engine, run_id=str(run_id))
    assert [(e.rule, e.value, e.inputs) for e in stored] == [
        (
            "btc_above_prior_high",
            "unknown",
            {"level": "110000", "data_as_of": T0.date().isoformat()},
        )
    ]
    assert {e.ruleset for e in stored} == {"rules/x.yaml"}


def count_rows(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: conn.execute(select(func.count()).select_from(text(t))).scalar_one()
            for t in (*RUN_TABLES, "rule_evaluations")
        }


def test_failure_after_snapshot_rows_leaves_no_partial_run(engine: Engine) -> None:
    snapshot, plan, prices = make_run()
    runs.save_run(engine, snapshot, plan, prices=prices, created_at=T0)
    before = count_rows(engine)

    def explode(conn, run_id: int) -> None:
        # The run's rows are written on this connection by now: prove it, then fail.
        n = conn.execute(
            text("SELECT count(*) FROM run_holdings WHERE run_id = :r"), {"r": run_id}
        ).scalar_one()
        assert n == 3
        raise RuntimeError("injected failure after the snapshot was written")

    assert before["rule_evaluations"] == 1  # the plan carries one rule report
    with pytest.raises(RuntimeError, match="injected"):
        runs.save_run(engine, snapshot, plan, prices=prices, extra_writers=[explode], created_at=T0)
    assert count_rows(engine) == before
    assert len(run_queries.list_runs(engine)) == 1


KILL_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {tests!r})
    from test_runs_store import T0, make_run
    from rotator.adapters.storage import runs
    from rotator.adapters.storage.db import open_engine

    engine = open_engine({url!r})
    snapshot, plan, prices = make_run()

    def die(conn, run_id):
        print("written", run_id, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # a hard kill: no cleanup, no rollback call

    runs.save_run(engine, snapshot, plan, prices=prices, extra_writers=[die], created_at=T0)
    """
)


def test_process_killed_mid_run_leaves_no_partial_run(db_url: str, tmp_path: Path) -> None:
    engine = open_engine(db_url)
    script = KILL_SCRIPT.format(tests=str(Path(__file__).parent), url=db_url)
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert proc.stdout.startswith("written")
    assert all(n == 0 for n in count_rows(engine).values())
    # and the database is still usable for the next run
    snapshot, plan, prices = make_run()
    assert runs.save_run(engine, snapshot, plan, prices=prices, created_at=T0) >= 1
    engine.dispose()


def test_list_runs_newest_first_and_daily_values(engine: Engine) -> None:
    for day in range(5):
        snapshot, plan, prices = make_run(T0 + timedelta(days=day), btc_price=str(60000 + day))
        runs.save_run(engine, snapshot, plan, prices=prices, created_at=T0)
    # a second, later run on the last day: the day's value is the last complete run's
    snapshot, plan, prices = make_run(T0 + timedelta(days=4, hours=3), btc_price="70000")
    last_id = runs.save_run(engine, snapshot, plan, prices=prices, created_at=T0)
    listed = run_queries.list_runs(engine)
    assert listed[0].id == last_id
    assert len(listed) == 6
    values = run_queries.daily_values(engine, until=date(2026, 3, 5))
    assert [d for d, _ in values] == [date(2026, 3, d) for d in range(1, 6)]
    assert values[-1][1] == run_queries.load_run(engine, last_id).plan.total_value
    assert len(run_queries.daily_values(engine, until=date(2026, 3, 5), days=2)) == 2


def test_incomplete_runs_stay_out_of_the_value_series(engine: Engine) -> None:
    from dataclasses import replace

    snapshot, plan, prices = make_run()
    broken = replace(plan, problems=(Problem(Severity.ERROR, "account binance-main", "timed out"),))
    run_id = runs.save_run(engine, snapshot, broken, prices=prices, created_at=T0)
    assert run_queries.load_run(engine, run_id).summary.complete is False
    assert run_queries.daily_values(engine, until=T0.date()) == []
    assert run_queries.latest_run_before(engine, T0.date()) is None


def test_report_row_is_one_per_day(engine: Engine) -> None:
    snapshot, plan, prices = make_run()
    first = runs.save_run(engine, snapshot, plan, prices=prices, created_at=T0)
    second = runs.save_run(engine, snapshot, plan, prices=prices, created_at=T0)
    report_store.save_report(engine, T0.date(), first, "/r/a.html", "/r/a.md", created_at=T0)
    report_store.save_report(
        engine,
        T0.date(),
        second,
        "/r/b.html",
        "/r/b.md",
        delivery=[{"ok": True}],
        created_at=T0,
    )
    reports = report_store.list_reports(engine)
    assert len(reports) == 1
    assert reports[0].run_id == second
    assert reports[0].delivery == ({"ok": True},)
    report_store.set_delivery(engine, T0.date(), [{"target": "x", "ok": False}])
    assert report_store.report_for(engine, T0.date()).delivery == ({"target": "x", "ok": False},)


def test_migration_downgrade_removes_run_tables(db_url: str) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect

    from rotator.adapters.storage.db import MIGRATIONS

    engine = open_engine(db_url)
    assert set(RUN_TABLES) | {"reports"} <= set(inspect(engine).get_table_names())
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0001")
    names = set(inspect(engine).get_table_names())
    assert not (set(RUN_TABLES) | {"reports"}) & names
    assert "rule_evaluations" in names
    engine.dispose()


def test_migration_matches_the_table_classes(engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from rotator.adapters.storage import run_tables
    from rotator.adapters.storage.db import Base

    ours = {*RUN_TABLES, "reports"}
    assert {t for t in Base.metadata.tables if t in ours} == ours
    assert run_tables.RunRow.__tablename__ == "runs"
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)

    def table_of(entry: object) -> str | None:
        item = entry[0] if isinstance(entry, list) else entry
        for obj in item[1:] if isinstance(item, tuple) else ():
            name = getattr(obj, "name", None) if not isinstance(obj, str) else obj
            table = getattr(obj, "table", None)
            if table is not None:
                return table.name
            if name in ours:
                return name
        return None

    assert [d for d in diff if table_of(d) in ours] == []
