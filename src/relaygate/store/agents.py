"""Named agents created through the admin API (`agents`; revision 0017_agents_workflows)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import JSON, Float, String, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from relaygate.store.base import Base
from relaygate.store.db import Database


class AgentRow(Base):
    __tablename__ = "agents"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class AgentStore:
    """Reads and writes the agents table; a spec is stored as its JSON."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def create(self, name: str, spec: dict[str, Any]) -> bool:
        """False if an agent of that name exists."""
        now = time.time()
        try:
            async with self._database.session() as session, session.begin():
                session.add(AgentRow(name=name, spec=spec, created_at=now, updated_at=now))
        except IntegrityError:
            return False
        return True

    async def get(self, name: str) -> dict[str, Any] | None:
        async with self._database.session() as session:
            row = await session.get(AgentRow, name)
            return None if row is None else dict(row.spec)

    async def all(self) -> dict[str, dict[str, Any]]:
        async with self._database.session() as session:
            rows = await session.execute(select(AgentRow).order_by(AgentRow.name))
            return {row.name: dict(row.spec) for row in rows.scalars()}

    async def replace(self, name: str, spec: dict[str, Any]) -> bool:
        async with self._database.session() as session, session.begin():
            row = await session.get(AgentRow, name)
            if row is None:
                return False
            row.spec, row.updated_at = spec, time.time()
            return True

    async def delete(self, name: str) -> bool:
        async with self._database.session() as session, session.begin():
            result = await session.execute(delete(AgentRow).where(AgentRow.name == name))
            return int(result.rowcount) == 1  # type: ignore[attr-defined]
