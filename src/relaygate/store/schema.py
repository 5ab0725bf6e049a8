"""Bring a database to the newest schema (every Alembic head).

Run as `python -m relaygate.store.schema` by `relaygate.store.migrate`, in a child process,
with the database URL in the environment (never on a command line)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError

from relaygate.store.db import Database
from relaygate.store.migrate import URL_VARIABLE

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest revision of each branch; tests/store/test_db.py checks it against Alembic's.
HEADS = frozenset(
    {"0004_responses", "0005_sessions", "0007_agent_messages", "0008_response_runs",
     "0009_access", "0018_cache_savings",  # 0018 follows 0017, 0014_audit, 0012_prompts
     "0019_a2a_tasks"}
)


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def upgrade(url: str) -> None:
    """Migrate the database at `url` to every head; a no-op when it is there already."""
    database = Database(url)
    try:
        if await _revisions(database) == HEADS:
            return  # a restart: nothing to do, and Alembic (~0.3 s to import) stays unloaded
        async with database.engine.begin() as connection:
            await connection.run_sync(_upgrade)
    finally:
        await database.close()


async def _revisions(database: Database) -> set[str]:
    """The revisions the database is at (none for a new database)."""
    try:
        async with database.engine.connect() as connection:
            rows = await connection.execute(text("select version_num from alembic_version"))
            return set(rows.scalars())
    except DBAPIError:  # no alembic_version table yet
        return set()


def _upgrade(connection: Connection) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), "heads")


def _without_password(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<storage.database_url>"


def main() -> int:
    """Migrate the database named in the environment; one line on stderr if that fails."""
    url = os.environ.get(URL_VARIABLE)
    if not url:
        print(f"{URL_VARIABLE} is not set", file=sys.stderr)
        return 2
    try:
        asyncio.run(upgrade(url))
    except Exception as exc:  # reported to the parent in one line, never a traceback
        first_line = str(exc).splitlines()[0] if str(exc) else ""
        message = first_line.replace(url, _without_password(url))
        print(f"cannot migrate the database: {type(exc).__name__}: {message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
