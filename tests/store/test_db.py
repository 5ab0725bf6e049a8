"""The schema migrates on SQLite and PostgreSQL through the same code."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import text

from relaygate.store.db import Database
from relaygate.store.schema import HEADS, alembic_config, upgrade


async def test_migrations_reach_every_head(database: str) -> None:
    await upgrade(database)
    await upgrade(database)  # idempotent: a restart does not fail
    db = Database(database)
    try:
        async with db.engine.connect() as connection:
            rows = await connection.execute(text("select version_num from alembic_version"))
            versions = sorted(rows.scalars().all())
        heads = sorted(ScriptDirectory.from_config(alembic_config()).get_heads())
        assert versions == heads
    finally:
        await db.close()


def test_the_heads_constant_is_alembics() -> None:
    """The restart check compares against HEADS: a new revision must be added there."""
    assert sorted(HEADS) == sorted(ScriptDirectory.from_config(alembic_config()).get_heads())
