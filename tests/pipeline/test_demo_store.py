"""The demo's store: the bundled history loaded into a fresh database, each time in full."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from rotator.pipeline.store import demo_engine

TABLES = {
    "market_ohlcv": "source, market, day, open, high, low, close, volume, market_cap",
    "btc_dominance": "source, day, dominance_pct, btc_market_cap, total_market_cap",
    "macro_series": "source, series, day, value",
}


def _rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(path) as conn:
        out = {}
        for table, columns in TABLES.items():
            query = f"SELECT {columns} FROM {table} ORDER BY {columns}"
            out[table] = conn.execute(query).fetchall()
            stamps = conn.execute(f"SELECT DISTINCT recorded_at FROM {table}").fetchall()
            out[f"{table} recorded_at"] = stamps
    return out


def test_each_fresh_demo_store_gets_the_whole_history_stamped_with_its_own_load(tmp_path):
    # The bundled files are parsed once per process; every store still gets every row.
    first_at = datetime(2026, 6, 1, 12, tzinfo=UTC)
    second_at = datetime(2026, 6, 2, 12, tzinfo=UTC)
    for name, at in (("first", first_at), ("second", second_at)):
        demo_engine(f"sqlite:///{tmp_path / name}.sqlite3", at).dispose()
    first, second = _rows(tmp_path / "first.sqlite3"), _rows(tmp_path / "second.sqlite3")
    for stem in TABLES:
        assert first[stem] == second[stem]
        assert len(first[f"{stem} recorded_at"]) == len(second[f"{stem} recorded_at"]) == 1
        assert first[f"{stem} recorded_at"] != second[f"{stem} recorded_at"]
    assert sum(len(first[stem]) for stem in TABLES) == 33_156
    # loading again into a store that has it adds nothing
    demo_engine(f"sqlite:///{tmp_path / 'first'}.sqlite3", second_at).dispose()
    assert _rows(tmp_path / "first.sqlite3") == first
