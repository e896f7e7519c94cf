"""Cache of fetched source data (parsed frames) with the time each was fetched.

Table `source_cache`, created by alembic revision 0003. One row per key ("defillama:fees",
"coingecko:supply:ethereum"...); saving a key replaces its row in one transaction. Frames are
stored as pandas "split" JSON, so a cached frame comes back with the same columns; the
`fetched_at` travels with it and becomes the data's as-of, so cached data ages like fresh data
and the screen's staleness checks apply to it unchanged.
"""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, Engine, Integer, String, Text, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from rotator.adapters.storage.db import Base

if TYPE_CHECKING:  # pandas is imported by `load` alone: commands that only read runs skip it
    import pandas as pd

# Columns holding timestamps, restored as tz-aware UTC after a round trip through JSON.
TIME_COLUMNS = ("last_updated", "day")


class SourceCacheRow(Base):
    """One cached source frame."""

    __tablename__ = "source_cache"
    __table_args__ = (UniqueConstraint("key", name="uq_source_cache_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(255))
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[str] = mapped_column(Text)


class SourceCache:
    """Load and save parsed source frames by key, with their fetch time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def load(self, key: str, not_before: datetime) -> tuple[pd.DataFrame, datetime] | None:
        """The frame cached under `key` if it was fetched at or after `not_before`."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(SourceCacheRow.fetched_at, SourceCacheRow.payload).where(
                    SourceCacheRow.key == key
                )
            ).first()
        if row is None:
            return None
        fetched = row.fetched_at if row.fetched_at.tzinfo else row.fetched_at.replace(tzinfo=UTC)
        if fetched < not_before:
            return None
        import pandas as pd

        frame = pd.read_json(StringIO(row.payload), orient="split", dtype=False)
        for column in TIME_COLUMNS:
            if column in frame:
                frame[column] = pd.to_datetime(frame[column], utc=True, errors="coerce")
        if "day" in frame:
            frame["day"] = frame["day"].dt.tz_localize(None)
        return frame, fetched

    def save(self, key: str, frame: pd.DataFrame, fetched_at: datetime) -> None:
        """Store `frame` under `key` (replacing any earlier one) with its fetch time."""
        payload = frame.to_json(orient="split", date_format="iso", index=False)
        with self.engine.begin() as conn:
            conn.execute(delete(SourceCacheRow).where(SourceCacheRow.key == key))
            conn.execute(
                SourceCacheRow.__table__.insert().values(
                    key=key, fetched_at=fetched_at, payload=payload
                )
            )
