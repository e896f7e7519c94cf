"""Daily report records: which run each day's report came from, its files and delivery.

One row per day (`reports.day` is unique): rebuilding a day's report replaces its row. Part of
the run history store (alembic revision 0002, table in run_tables.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from rotator.adapters.storage.run_tables import ReportRow
from rotator.adapters.storage.runs import to_jsonable


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class ReportRecord:
    """A report stored for a day."""

    day: date
    run_id: int
    html_path: str
    markdown_path: str
    created_at: datetime
    delivery: tuple[Mapping[str, Any], ...]


def save_report(
    engine: Engine,
    day: date,
    run_id: int,
    html_path: str,
    markdown_path: str,
    delivery: Sequence[Mapping[str, Any]] = (),
    *,
    created_at: datetime,
) -> None:
    """Record the report of a day (written at `created_at`, the run's time), replacing an
    earlier one for the same day."""
    table = ReportRow.__table__
    with engine.begin() as conn:
        conn.execute(delete(table).where(table.c.day == day))
        conn.execute(
            insert(table),
            {
                "day": day,
                "run_id": run_id,
                "html_path": html_path,
                "markdown_path": markdown_path,
                "created_at": created_at,
                "delivery": json.loads(json.dumps(to_jsonable(list(delivery)))),
            },
        )


def set_delivery(engine: Engine, day: date, delivery: Sequence[Mapping[str, Any]]) -> None:
    """Record the delivery outcome of a day's report."""

    table = ReportRow.__table__
    with engine.begin() as conn:
        conn.execute(
            update(table).where(table.c.day == day).values(delivery=to_jsonable(list(delivery)))
        )


def report_for(engine: Engine, day: date) -> ReportRecord | None:
    """The report stored for a day, if any."""
    table = ReportRow.__table__
    with engine.connect() as conn:
        row = conn.execute(select(table).where(table.c.day == day)).first()
    if row is None:
        return None
    return ReportRecord(
        day=row.day,
        run_id=row.run_id,
        html_path=row.html_path,
        markdown_path=row.markdown_path,
        created_at=_utc(row.created_at),
        delivery=tuple(row.delivery or ()),
    )


def list_reports(engine: Engine) -> list[ReportRecord]:
    """Every stored report, oldest day first."""
    table = ReportRow.__table__
    with engine.connect() as conn:
        days = conn.execute(select(table.c.day).order_by(table.c.day)).scalars().all()
    return [r for d in days if (r := report_for(engine, d)) is not None]
