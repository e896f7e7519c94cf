"""The SQL store (SQLAlchemy 2.0, alembic migrations): SQLite by default, any URL via --db.

`db` holds the engine, the declarative base and the migration runner; each area of the
schema maps rows to core records in its own module (market history, runs).
"""
