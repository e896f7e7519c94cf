"""Market history: daily OHLCV, BTC dominance, macro series and rule evaluations.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "market_ohlcv",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("market", sa.String(64), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("open", sa.Float, nullable=True),
        sa.Column("high", sa.Float, nullable=True),
        sa.Column("low", sa.Float, nullable=True),
        sa.Column("close", sa.Float, nullable=False),
        sa.Column("volume", sa.Float, nullable=True),
        sa.Column("market_cap", sa.Float, nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("source", "market", "day", name="uq_market_ohlcv_day"),
    )
    op.create_index("ix_market_ohlcv_market_day", "market_ohlcv", ["market", "day"])
    op.create_table(
        "btc_dominance",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("dominance_pct", sa.Float, nullable=False),
        sa.Column("btc_market_cap", sa.Float, nullable=True),
        sa.Column("total_market_cap", sa.Float, nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("source", "day", name="uq_btc_dominance_day"),
    )
    op.create_table(
        "macro_series",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("series", sa.String(64), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("source", "series", "day", name="uq_macro_series_day"),
    )
    op.create_table(
        "rule_evaluations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ruleset", sa.String(255), nullable=False),
        sa.Column("rule", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("value", sa.String(7), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("inputs", sa.JSON, nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.CheckConstraint("value IN ('true', 'false', 'unknown')", name="ck_rule_value"),
    )
    op.create_index("ix_rule_evaluations_as_of", "rule_evaluations", ["as_of", "rule"])
    op.create_index("ix_rule_evaluations_run_id", "rule_evaluations", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_rule_evaluations_run_id", "rule_evaluations")
    op.drop_index("ix_rule_evaluations_as_of", "rule_evaluations")
    op.drop_table("rule_evaluations")
    op.drop_table("macro_series")
    op.drop_table("btc_dominance")
    op.drop_index("ix_market_ohlcv_market_day", "market_ohlcv")
    op.drop_table("market_ohlcv")
