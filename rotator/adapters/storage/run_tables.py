"""Run history tables (alembic revision 0002): one row per run, and its child rows.

Plain mappings of columns: no logic, no class-level session. rotator.adapters.storage.runs maps
these rows to records and back. Quantities are exact decimal strings (see runs.py).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rotator.adapters.storage.db import Base


class RunRow(Base):
    """One run of the pipeline (a `plan` or a `report`)."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(16))
    base_currency: Mapped[str] = mapped_column(String(16))
    total_value: Mapped[str | None] = mapped_column(String(64))
    complete: Mapped[bool] = mapped_column(Boolean)
    regime: Mapped[str | None] = mapped_column(String(128))
    targets_source: Mapped[str] = mapped_column(Text)
    targets: Mapped[dict[str, str]] = mapped_column(JSON)
    problems: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    notes: Mapped[list[str]] = mapped_column(JSON)
    explanation: Mapped[list[str]] = mapped_column(JSON)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class RunAccountRow(Base):
    """One account (exchange or manual wallet) as the run saw it."""

    __tablename__ = "run_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    exchange: Mapped[str] = mapped_column(String(64))
    fetched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    problems: Mapped[list[dict[str, str]]] = mapped_column(JSON)


class RunHoldingRow(Base):
    """An amount of one asset in one wallet of one account, with its value in the base."""

    __tablename__ = "run_holdings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    account: Mapped[str] = mapped_column(String(128))
    wallet: Mapped[str] = mapped_column(String(16))
    asset: Mapped[str] = mapped_column(String(32))
    total: Mapped[str] = mapped_column(String(64))
    free: Mapped[str] = mapped_column(String(64))
    price: Mapped[str | None] = mapped_column(String(64))
    value: Mapped[str | None] = mapped_column(String(64))
    # on-chain holdings: {chain, address, block, read_at, addresses}
    source: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class RunPriceRow(Base):
    """The price of one asset in the base currency that the run used, and its route."""

    __tablename__ = "run_prices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    asset: Mapped[str] = mapped_column(String(32))
    in_base: Mapped[str] = mapped_column(String(64))
    route: Mapped[list[str]] = mapped_column(JSON)
    as_of: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    oracle: Mapped[str | None] = mapped_column(Text, nullable=True)  # oracle source, if any


class RunAllocationRow(Base):
    """One allocation row of the plan, before or after its orders."""

    __tablename__ = "run_allocations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    phase: Mapped[str] = mapped_column(String(8))  # "before" | "after"
    asset: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(64))
    weight: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(64))


class RunOrderRow(Base):
    """One suggested (dry-run, never executed) order of the plan, in plan order."""

    __tablename__ = "run_orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    account: Mapped[str] = mapped_column(String(128))
    symbol: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(4))
    amount: Mapped[str] = mapped_column(String(64))
    price: Mapped[str] = mapped_column(String(64))
    notional: Mapped[str] = mapped_column(String(64))
    fee: Mapped[str] = mapped_column(String(64))
    asset: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    leg: Mapped[int] = mapped_column(Integer)


class ReportRow(Base):
    """The report written for a day: one row per day (a rebuild replaces it)."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    html_path: Mapped[str] = mapped_column(Text)
    markdown_path: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivery: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
