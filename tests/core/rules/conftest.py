"""Real daily history (tests/fixtures/history) as plain rows and as rule inputs."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

HISTORY = Path(__file__).resolve().parents[2] / "fixtures" / "history"


def read_rows(name: str, date_col: str, value_col: str) -> list[tuple[date, float]]:
    """(day, value) rows of a fixture CSV with the csv module only (for expected values)."""
    with (HISTORY / name).open(newline="") as handle:
        return [
            (date.fromisoformat(row[date_col][:10]), float(row[value_col]))
            for row in csv.DictReader(handle)
        ]


def to_series(rows: list[tuple[date, float]]) -> pd.Series:
    return pd.Series([v for _, v in rows], index=pd.DatetimeIndex([d for d, _ in rows]))


@pytest.fixture(scope="session")
def btc_rows() -> list[tuple[date, float]]:
    return read_rows("coingecko_btc-usd_daily_2013-2021.csv", "snapped_at", "price")


@pytest.fixture(scope="session")
def dominance_rows() -> list[tuple[date, float]]:
    return read_rows("btc_dominance_pct_daily_2018-2021.csv", "Date", "value")


@pytest.fixture(scope="session")
def history(btc_rows, dominance_rows) -> dict[str, pd.Series]:
    return {"close:BTC": to_series(btc_rows), "btc_dominance": to_series(dominance_rows)}
