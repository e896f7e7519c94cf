"""Screen history: `rotator screen` stores each result by day; `signals --as-of` and `backtest`
read the basket known on that day, else the rule set's declared fallback basket (said once)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, text

from rotator.adapters.storage.db import MIGRATIONS, open_engine
from rotator.adapters.storage.screen_history import load_screen_history, save_screen
from rotator.cli.app import cli

ROOT = Path(__file__).resolve().parents[1]
THESIS = ROOT / "rules" / "thesis.yaml"
PG_URL = os.environ.get("ROTATOR_TEST_PG_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'screens.sqlite3'}"
        return
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must run the store tests on PostgreSQL: .ci/run sets it")
        pytest.skip("ROTATOR_TEST_PG_URL not set (CI sets it; see .ci/run)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def test_screens_are_stored_by_day_and_rule_and_read_back(db_url: str) -> None:
    engine = open_engine(db_url)
    member = {"symbol": "AAVE", "weight": 0.6, "revenue_yield": 0.041}
    first = datetime(2021, 5, 20, 8, 0, tzinfo=UTC)
    save_screen(
        engine,
        rule="revenue_basket",
        screened_at=first,
        basket={"AAVE": Decimal("0.6"), "UNI": Decimal("0.4")},
        members=[member],
        figures=[{"gecko_id": "aave", "passed": True}, {"gecko_id": "x", "passed": False}],
    )
    # Screened again the same day: the later result replaces it.
    again = datetime(2021, 5, 20, 18, 30, tzinfo=UTC)
    save_screen(
        engine,
        rule="revenue_basket",
        screened_at=again,
        basket={"AAVE": Decimal("1")},
        members=[member],
        figures=[],
    )
    save_screen(
        engine,
        rule="other",
        screened_at=datetime(2021, 6, 2, tzinfo=UTC),
        basket={},
        members=[],
        figures=[],
    )
    history = load_screen_history(engine)
    assert [(s.day, s.rule) for s in history.screens] == [
        (date(2021, 5, 20), "revenue_basket"),
        (date(2021, 6, 2), "other"),
    ]
    stored = history.screens[0]
    assert stored.basket == {"AAVE": Decimal("1")} and stored.screened_at == again
    assert stored.members == (member,)
    assert load_screen_history(engine, ["revenue_basket"], date(2021, 5, 19)).screens == ()
    known = history.known_on("revenue_basket", date(2021, 6, 24), max_age_days=35)
    assert known is not None and known.day == date(2021, 5, 20)
    assert history.known_on("revenue_basket", date(2021, 6, 25), max_age_days=35) is None
    assert history.known_on("revenue_basket", date(2021, 5, 19), max_age_days=35) is None

    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.config import Config
    from alembic.migration import MigrationContext

    from rotator.adapters.storage.db import Base

    with engine.connect() as conn:  # the migration creates exactly the table class's schema
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diff if "screen_results" in repr(d)] == []

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0004")
    assert "screen_results" not in inspect(engine).get_table_names()
    engine.dispose()


def _signals(db: str, day: str) -> dict:
    result = CliRunner().invoke(
        cli,
        ["signals", "--demo", "--db", db, "--rules", str(THESIS), "--as-of", day,
         "--format", "json", "--no-save"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return {r["rule"]: r for r in json.loads(result.stdout)["rules"]}


def test_screen_result_is_stored_and_replayed_by_signals(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    screened = CliRunner().invoke(
        cli,
        ["screen", "--demo", "--db", db, "--now", "2021-05-20T12:00:00", "--format", "json"],
    )
    assert screened.exit_code == 0, screened.output
    basket = json.loads(screened.stdout)["basket"]
    assert basket  # the demo's screen builds a basket
    stored = load_screen_history(open_engine(db)).screens
    assert [(s.day, s.rule) for s in stored] == [(date(2021, 5, 20), "revenue_basket")]
    assert stored[0].basket == {code: Decimal(w) for code, w in basket.items()}
    assert [m["symbol"] for m in stored[0].members] == list(basket)

    # Before the screen: the declared fallback, said in the reason.
    before = _signals(db, "2021-05-19")["revenue_basket"]
    assert before["value"] == "true"
    assert "fallback basket declared in the rule set" in before["reason"]
    assert "no screen stored on or before 2021-05-19" in before["reason"]
    # After it: the stored basket, with its day.
    after = _signals(db, "2021-06-01")["revenue_basket"]
    assert "stored screen of 2021-05-20" in after["reason"]
    assert set(after["basket"]) == set(basket)
    # More than history_max_age_days (35) later: too old to count as known; fallback again.
    late = _signals(db, "2021-07-01")["revenue_basket"]
    assert "older than 35 days" in late["reason"] and "fallback basket" in late["reason"]


def _store_sol_screen(db: str) -> None:
    """A screen stored on 2021-03-01 whose basket is SOL alone."""
    engine = open_engine(db)
    save_screen(
        engine,
        rule="revenue_basket",
        screened_at=datetime(2021, 3, 1, tzinfo=UTC),
        basket={"SOL": Decimal("1")},
        members=[{"symbol": "SOL", "weight": 1.0}],
        figures=[],
    )
    engine.dispose()


def test_backtest_uses_the_basket_known_on_each_day(tmp_path: Path) -> None:
    """thesis.yaml rotates in spring 2021; a screen stored on 2021-03-01 names SOL: the replay
    buys SOL from then on, and before it (2021-02) it uses the fallback, said once."""
    db = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    _store_sol_screen(db)
    result = CliRunner().invoke(
        cli,
        ["backtest", "--demo", "--db", db, "--rules", str(THESIS), "--from", "2020-12-01",
         "--to", "2021-06-30", "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    rotate = [p for p in report["regimes"] if p["regime"] == "rotate"]
    assert rotate, report["regimes"]
    assert "cannot fire in the backtest" not in result.stderr
    assert result.stderr.count("fallback basket declared in the rule set") == 1
    # Each rotate period names the basket it aimed at on the day it was entered.
    before = [p for p in rotate if p["from"] < "2021-03-01"]
    after = [p for p in rotate if p["from"] >= "2021-03-01"]
    assert before and after, rotate
    assert all("basket revenue_basket (0.25): ETH 100%" in p["reason"] for p in before)
    assert all("basket revenue_basket (0.25): SOL 100%" in p["reason"] for p in after)


@pytest.mark.slow  # started first (see conftest.py)
def test_sweep_points_use_the_basket_known_on_each_day(tmp_path: Path) -> None:
    """A sweep replays each point like `backtest` does: with the stored screen (SOL from
    2021-03-01), the point equal to the rule set's own parameters scores what the plain
    backtest scores, and differently from the same sweep without the stored screen."""
    window = ["--rules", str(THESIS), "--from", "2020-12-01", "--to", "2021-06-30"]
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("grid:\n  rotate.min_days: [30]\n")  # thesis.yaml's own value

    def run(db: str, *extra: str) -> dict:
        args = ["backtest", "--demo", "--db", db, *window, *extra, "--format", "json"]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def own_point(report: dict) -> dict:
        [point] = [p for p in report["points"] if p["params"] == {"rotate.min_days": 30}]
        return point["in_sample"]

    bare = f"sqlite:///{tmp_path / 'bare.sqlite3'}"
    without = own_point(run(bare, "--sweep", str(sweep), "--workers", "1"))

    db = f"sqlite:///{tmp_path / 'screens.sqlite3'}"
    _store_sol_screen(db)
    single = run(db)["metrics"]
    # on worker processes: the stored screens travel with the history
    swept = own_point(run(db, "--sweep", str(sweep), "--workers", "2"))
    assert swept["total_return"] == single["total_return"]
    assert swept["fees"] == single["fees"]
    assert without["total_return"] != single["total_return"]
