"""Screen history: `rotator screen` results stored by day (table `screen_results`, revision 0005).

One row per (day, rule); storing a rule's screen again on the same day replaces the row in one
transaction. The basket's weights are stored as decimal strings, the members and the figures of
every screened token as JSON. `load_screen_history` maps the rows back to core records for
replays (rotator.core.screen.history).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Engine,
    Integer,
    String,
    UniqueConstraint,
    delete,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from rotator.adapters.storage.db import Base
from rotator.core.screen.history import ScreenHistory, StoredScreen


class ScreenResultRow(Base):
    """One stored screen result."""

    __tablename__ = "screen_results"
    __table_args__ = (UniqueConstraint("day", "rule", name="uq_screen_results_day_rule"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    rule: Mapped[str] = mapped_column(String(255))
    screened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    basket: Mapped[dict[str, str]] = mapped_column(JSON)
    members: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    figures: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


def save_screen(
    engine: Engine,
    *,
    rule: str,
    screened_at: datetime,
    basket: Mapping[str, Decimal],
    members: Sequence[Mapping[str, Any]],
    figures: Sequence[Mapping[str, Any]],
) -> None:
    """Store one screen result under its UTC day, replacing that rule's earlier one that day."""
    day = screened_at.astimezone(UTC).date()
    with engine.begin() as conn:
        conn.execute(
            delete(ScreenResultRow).where(ScreenResultRow.day == day, ScreenResultRow.rule == rule)
        )
        conn.execute(
            ScreenResultRow.__table__.insert().values(
                day=day,
                rule=rule,
                screened_at=screened_at,
                basket={code: str(weight) for code, weight in basket.items()},
                members=[dict(m) for m in members],
                figures=[dict(f) for f in figures],
            )
        )


def load_screen_history(
    engine: Engine, rules: Iterable[str] | None = None, up_to: date | None = None
) -> ScreenHistory:
    """Stored screens (of `rules`, on or before `up_to`), ascending by day."""
    query = select(
        ScreenResultRow.day,
        ScreenResultRow.rule,
        ScreenResultRow.screened_at,
        ScreenResultRow.basket,
        ScreenResultRow.members,
    ).order_by(ScreenResultRow.day, ScreenResultRow.rule)
    if rules is not None:
        query = query.where(ScreenResultRow.rule.in_(list(rules)))
    if up_to is not None:
        query = query.where(ScreenResultRow.day <= up_to)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return ScreenHistory(
        tuple(
            StoredScreen(
                day=row.day,
                rule=row.rule,
                basket={code: Decimal(weight) for code, weight in row.basket.items()},
                members=tuple(row.members),
                screened_at=(
                    row.screened_at
                    if row.screened_at.tzinfo
                    else row.screened_at.replace(tzinfo=UTC)
                ),
            )
            for row in rows
        )
    )
