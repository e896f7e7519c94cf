"""Alembic environment: runs migrations on the connection handed in by storage.db.migrate."""

from alembic import context

from rotator.adapters.storage.db import Base

target_metadata = Base.metadata
connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
