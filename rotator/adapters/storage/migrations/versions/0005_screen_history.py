"""Screen history: each `rotator screen` result (basket, members, figures) by day, for replays.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "screen_results",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("rule", sa.String(255), nullable=False),
        sa.Column("screened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("basket", sa.JSON, nullable=False),
        sa.Column("members", sa.JSON, nullable=False),
        sa.Column("figures", sa.JSON, nullable=False),
        sa.UniqueConstraint("day", "rule", name="uq_screen_results_day_rule"),
    )


def downgrade() -> None:
    op.drop_table("screen_results")
