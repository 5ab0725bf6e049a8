"""The schema migrates on SQLite and PostgreSQL through the same code."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import text

from relaygate.store.db import Database, alembic_config


async def test_migrations_reach_every_head(database: str) -> None:
    db = Database(database)
    try:
        await db.migrate()
        await db.migrate()  # idempotent: a restart does not fail
        async with db.engine.connect() as connection:
            rows = await connection.execute(text("select version_num from alembic_version"))
            versions = sorted(rows.scalars().all())
        heads = sorted(ScriptDirectory.from_config(alembic_config()).get_heads())
        assert versions == heads
    finally:
        await db.close()
