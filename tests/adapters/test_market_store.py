"""Market-history store on a real SQLite file: idempotent imports, as-of loads, evaluations."""

from __future__ import annotations

import csv
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select, text

from rotator.adapters.sources.csv_import import import_csv
from rotator.adapters.storage.db import open_engine
from rotator.adapters.storage.market import (
    DominanceRow,
    OhlcvRow,
    load_evaluations,
    load_history,
    save_bars,
    save_dominance,
    save_evaluations,
)
from rotator.core.history import DailyBar
from rotator.errors import ConfigError

RECORDED_AT = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)  # the run time rows are stored with

HISTORY = Path(__file__).resolve().parents[1] / "fixtures" / "history"
BTC = HISTORY / "coingecko_btc-usd_daily_2013-2021.csv"
DOMINANCE = HISTORY / "btc_dominance_pct_daily_2018-2021.csv"
TOTAL = HISTORY / "coingecko_global_total_market_cap_daily_2013-2021.csv"


PG_URL = os.environ.get("ROTATOR_TEST_PG_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A real SQLite file; and PostgreSQL (own schema per test) when ROTATOR_TEST_PG_URL is set."""
    if request.param == "sqlite":
        eng = open_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}")
        yield eng
        eng.dispose()
        return
    if not PG_URL:
        pytest.skip("ROTATOR_TEST_PG_URL not set (CI sets it; see .ci/run)")
    schema = f"m_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    eng = open_engine(f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}")
    try:
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_reimport_replaces_never_duplicates(engine):
    bars = import_csv(BTC).bars
    assert len(bars) == 3168 and bars[0].market == "BTC/USD"
    save_bars(engine, bars, recorded_at=RECORDED_AT)
    save_bars(engine, bars, recorded_at=RECORDED_AT)
    assert count(engine, OhlcvRow) == 3168
    # A corrected value for a stored day replaces it.
    save_bars(
        engine, [DailyBar("import", "BTC/USD", date(2021, 1, 7), 1.0)], recorded_at=RECORDED_AT
    )
    assert count(engine, OhlcvRow) == 3168
    history = load_history(engine, ["close:BTC"], date(2021, 1, 7))
    assert history["close:BTC"].iloc[-1] == 1.0


def test_history_as_it_stood_at_a_day(engine):
    save_bars(engine, import_csv(BTC).bars, recorded_at=RECORDED_AT)
    save_dominance(
        engine, import_csv(DOMINANCE, kind="dominance").dominance, recorded_at=RECORDED_AT
    )
    history = load_history(engine, ["close:BTC", "btc_dominance", "close:ETH"], date(2020, 6, 30))
    assert set(history) == {"close:BTC", "btc_dominance"}  # no ETH stored: absent
    assert history["close:BTC"].index[-1].date() == date(2020, 6, 30)
    assert history["btc_dominance"].index[0].date() == date(2018, 1, 1)
    with BTC.open() as handle:
        expected = next(
            float(r["price"])
            for r in csv.DictReader(handle)
            if r["snapped_at"][:10] == "2020-06-30"
        )
    assert history["close:BTC"].iloc[-1] == expected


def test_preferred_market_wins_and_gaps_are_filled(engine):
    save_bars(
        engine,
        [
            DailyBar("binance", "BTC/USDT", date(2021, 1, 1), 101.0),
            DailyBar("binance", "BTC/USDT", date(2021, 1, 2), 102.0),
            DailyBar("import", "BTC/USD", date(2021, 1, 1), 100.0),
        ],
        recorded_at=RECORDED_AT,
    )
    series = load_history(engine, ["close:BTC"], date(2021, 1, 2))["close:BTC"]
    assert series.tolist() == [100.0, 102.0]  # BTC/USD first, BTC/USDT where USD is missing
    exact = load_history(engine, ["close:BTC/USDT"], date(2021, 1, 2))["close:BTC/USDT"]
    assert exact.tolist() == [101.0, 102.0]


def test_dominance_from_market_caps_csv(engine, tmp_path: Path):
    # Compose date,btc_market_cap,total_market_cap from the two CoinGecko files.
    with BTC.open() as handle:
        btc = {r["snapped_at"][:10]: r["market_cap"] for r in csv.DictReader(handle)}
    path = tmp_path / "caps.csv"
    with TOTAL.open() as src, path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["timestamp", "btc_market_cap", "total_market_cap"])
        for row in csv.DictReader(src):
            day = date.fromtimestamp(int(row["snapped_at"]) / 1000).isoformat()
            if day in btc and float(btc[day]) > 0:
                writer.writerow([row["snapped_at"], btc[day], row["market_cap"]])
    imported = import_csv(path)
    save_dominance(engine, imported.dominance, recorded_at=RECORDED_AT)
    series = load_history(engine, ["btc_dominance"], date(2021, 12, 31))["btc_dominance"]
    # The shared data's SOURCES.md: this ratio matches the dominance file to 2 decimals.
    with DOMINANCE.open() as handle:
        reference = {r["Date"]: float(r["value"]) for r in csv.DictReader(handle)}
    assert abs(series.loc["2021-01-07"] - reference["2021-01-07"]) < 0.5
    assert count(engine, DominanceRow) == len(imported.dominance)


def test_evaluations_replace_for_the_same_day_and_run(engine):
    row = {"rule": "r", "kind": "dominance", "value": "true", "reason": "x", "inputs": {"a": 1}}
    save_evaluations(engine, "cycle.yaml", date(2021, 1, 7), [row], evaluated_at=RECORDED_AT)
    save_evaluations(
        engine,
        "cycle.yaml",
        date(2021, 1, 7),
        [{**row, "value": "unknown"}],
        evaluated_at=RECORDED_AT,
    )
    save_evaluations(
        engine, "cycle.yaml", date(2021, 1, 7), [row], run_id="7", evaluated_at=RECORDED_AT
    )
    stored = load_evaluations(engine, as_of=date(2021, 1, 7))
    assert [(e.value, e.run_id) for e in stored] == [("unknown", None), ("true", "7")]
    assert stored[0].inputs == {"a": 1}


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        ("date,value\n2021-01-01,50\n", "auto", "could be dominance or prices: pass --kind"),
        ("day,close\n2021-01-01,abc\n", "prices", "x.csv:2: close: expected a number, got 'abc'"),
        ("when,close\n2021-01-01,1\n", "auto", "x.csv:1: no date column"),
        ("date,dominance\n2021-13-01,50\n", "auto", "x.csv:2: date: expected a date like"),
    ],
)
def test_bad_csv_names_file_and_line(tmp_path: Path, text, kind, message):
    path = tmp_path / "x.csv"
    path.write_text(text)
    with pytest.raises(ConfigError, match=None) as info:
        import_csv(path, kind=kind, asset="BTC")
    assert message in str(info.value)


def test_macro_keys_round_trip(engine: Engine):
    """index:/treasury: series keep their namespace in the store (SQLite and PostgreSQL)."""
    move = import_csv(
        Path(__file__).resolve().parents[2] / "rotator" / "demo" / "history" / "MOVE.csv"
    ).macro[-5:]
    from rotator.adapters.storage.market import save_macro

    save_macro(engine, move, recorded_at=RECORDED_AT)
    got = load_history(engine, ["index:MOVE", "fred:MOVE"], date(2021, 12, 31))
    assert list(got) == ["index:MOVE"] and got["index:MOVE"].iloc[-1] == 77.1


def test_saved_rows_are_stored_as_sqlalchemy_would_store_them(engine: Engine):
    # The upsert hands the driver its rows directly (each value through its column type's bind
    # processor); what lands in the table is what SQLAlchemy's own execute would have stored.
    from rotator.adapters.storage.market import MacroRow, save_macro
    from rotator.core.history import MacroObservation

    bars = [
        DailyBar("demo", "BTC/USD", date(2021, 1, d), 30000.5 + d, 29000.25, 31000.0, 28000.0)
        for d in range(1, 4)
    ] + [DailyBar("demo", "ETH/USD", date(2021, 1, 1), 730.1, volume=None, market_cap=8.5e10)]
    macro = [MacroObservation("fred", "WALCL", date(2021, 1, 6), 7_404_932.0)]
    columns = {
        OhlcvRow.__table__: "source, market, day, open, high, low, close, volume, "
        "market_cap, recorded_at",
        MacroRow.__table__: "source, series, day, value, recorded_at",
    }

    def stored() -> dict[object, list[tuple[object, ...]]]:
        with engine.connect() as conn:
            return {
                table: [
                    tuple(row)
                    for row in conn.exec_driver_sql(
                        f"SELECT {names} FROM {table.name} ORDER BY {names}"
                    )
                ]
                for table, names in columns.items()
            }

    save_bars(engine, bars, RECORDED_AT)
    save_macro(engine, macro, RECORDED_AT)
    ours = stored()
    assert len(ours[OhlcvRow.__table__]) == 4 and len(ours[MacroRow.__table__]) == 1
    with engine.begin() as conn:
        for table in columns:
            rows = [dict(row._mapping) for row in conn.execute(select(table))]
            conn.execute(table.delete())
            conn.execute(table.insert(), [{k: v for k, v in r.items() if k != "id"} for r in rows])
    assert stored() == ours
    # The same rows saved again replace, never duplicate.
    save_bars(engine, bars, RECORDED_AT)
    save_macro(engine, macro, RECORDED_AT)
    assert stored() == ours
