"""Durable state: SQLAlchemy models, the database handle, Alembic migrations, Redis helpers."""
