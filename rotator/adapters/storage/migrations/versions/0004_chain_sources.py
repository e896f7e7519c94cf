"""On-chain sources and oracle prices: where a holding was read, which oracle priced an asset.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("run_holdings") as batch:
        batch.add_column(sa.Column("source", sa.JSON, nullable=True))
    with op.batch_alter_table("run_prices") as batch:
        batch.add_column(sa.Column("oracle", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("run_prices") as batch:
        batch.drop_column("oracle")
    with op.batch_alter_table("run_holdings") as batch:
        batch.drop_column("source")
