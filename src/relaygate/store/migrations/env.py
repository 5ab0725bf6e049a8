"""Alembic environment: migrations run on the connection the gateway hands over."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through relaygate.store.schema.upgrade()")

context.configure(connection=connection, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
