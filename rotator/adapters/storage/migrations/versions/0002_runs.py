"""Run history: runs, their accounts, holdings, prices, allocations, orders, and daily reports.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Exact decimal strings: SQLite has no exact numeric type (see rotator.adapters.storage.runs).
DEC = sa.String(64)


def _run_fk() -> sa.Column:
    return sa.Column(
        "run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("base_currency", sa.String(16), nullable=False),
        sa.Column("total_value", DEC, nullable=True),
        sa.Column("complete", sa.Boolean, nullable=False),
        sa.Column("regime", sa.String(128), nullable=True),
        sa.Column("targets_source", sa.Text, nullable=False),
        sa.Column("targets", sa.JSON, nullable=False),
        sa.Column("problems", sa.JSON, nullable=False),
        sa.Column("notes", sa.JSON, nullable=False),
        sa.Column("explanation", sa.JSON, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
    )
    op.create_index("ix_runs_as_of", "runs", ["as_of"])
    op.create_index("ix_runs_day", "runs", ["day"])
    op.create_table(
        "run_accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        _run_fk(),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("exchange", sa.String(64), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("problems", sa.JSON, nullable=False),
    )
    op.create_table(
        "run_holdings",
        sa.Column("id", sa.Integer, primary_key=True),
        _run_fk(),
        sa.Column("account", sa.String(128), nullable=False),
        sa.Column("wallet", sa.String(16), nullable=False),
        sa.Column("asset", sa.String(32), nullable=False),
        sa.Column("total", DEC, nullable=False),
        sa.Column("free", DEC, nullable=False),
        sa.Column("price", DEC, nullable=True),
        sa.Column("value", DEC, nullable=True),
    )
    op.create_table(
        "run_prices",
        sa.Column("id", sa.Integer, primary_key=True),
        _run_fk(),
        sa.Column("asset", sa.String(32), nullable=False),
        sa.Column("in_base", DEC, nullable=False),
        sa.Column("route", sa.JSON, nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "run_allocations",
        sa.Column("id", sa.Integer, primary_key=True),
        _run_fk(),
        sa.Column("phase", sa.String(8), nullable=False),
        sa.Column("asset", sa.String(32), nullable=False),
        sa.Column("value", DEC, nullable=False),
        sa.Column("weight", DEC, nullable=False),
        sa.Column("target", DEC, nullable=True),
    )
    op.create_table(
        "run_orders",
        sa.Column("id", sa.Integer, primary_key=True),
        _run_fk(),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("account", sa.String(128), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("amount", DEC, nullable=False),
        sa.Column("price", DEC, nullable=False),
        sa.Column("notional", DEC, nullable=False),
        sa.Column("fee", DEC, nullable=False),
        sa.Column("asset", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("leg", sa.Integer, nullable=False),
    )
    for table in ("run_accounts", "run_holdings", "run_prices", "run_allocations", "run_orders"):
        op.create_index(f"ix_{table}_run_id", table, ["run_id"])
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("day", sa.Date, nullable=False, unique=True),
        sa.Column(
            "run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("html_path", sa.Text, nullable=False),
        sa.Column("markdown_path", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivery", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("reports")
    for table in ("run_orders", "run_allocations", "run_prices", "run_holdings", "run_accounts"):
        op.drop_index(f"ix_{table}_run_id", table)
        op.drop_table(table)
    op.drop_index("ix_runs_day", "runs")
    op.drop_index("ix_runs_as_of", "runs")
    op.drop_table("runs")
