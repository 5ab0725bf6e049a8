"""Named agents and workflows created through the admin API (tables `agents` and
`workflows`; revision 0017_agents_workflows): a name and its spec as JSON."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import JSON, Boolean, Float, String, delete, select, update
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


class WorkflowRow(Base):
    __tablename__ = "workflows"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


SpecRow = type[AgentRow] | type[WorkflowRow]


class AgentStore:
    """Reads and writes a table of named specs (agents by default), each as its JSON."""

    def __init__(self, database: Database, table: SpecRow = AgentRow) -> None:
        self._database = database
        self._row: Any = table

    async def create(self, name: str, spec: dict[str, Any]) -> bool:
        """False if an agent of that name exists."""
        now = time.time()
        try:
            async with self._database.session() as session, session.begin():
                session.add(self._row(name=name, spec=spec, created_at=now, updated_at=now))
        except IntegrityError:
            return False
        return True

    async def get(self, name: str) -> dict[str, Any] | None:
        async with self._database.session() as session:
            row = await session.get(self._row, name)
            return None if row is None else dict(row.spec)

    async def all(self) -> dict[str, dict[str, Any]]:
        async with self._database.session() as session:
            rows = await session.execute(select(self._row).order_by(self._row.name))
            return {row.name: dict(row.spec) for row in rows.scalars()}

    async def replace(self, name: str, spec: dict[str, Any]) -> bool:
        async with self._database.session() as session, session.begin():
            row = await session.get(self._row, name)
            if row is None:
                return False
            row.spec, row.updated_at = spec, time.time()
            return True

    async def delete(self, name: str) -> bool:
        async with self._database.session() as session, session.begin():
            result = await session.execute(delete(self._row).where(self._row.name == name))
            return int(result.rowcount) == 1  # type: ignore[attr-defined]


class WorkflowRunRow(Base):
    """One run of a workflow: its status, input and each step's state, stored as it changes."""

    __tablename__ = "workflow_runs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(200))
    workflow: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # who started it
    scoped: Mapped[bool] = mapped_column(Boolean, default=False)  # that key had a grant
    status: Mapped[str] = mapped_column(String(24))
    input: Mapped[Any] = mapped_column(JSON)
    steps: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    owner: Mapped[str | None] = mapped_column(String(120), nullable=True)  # the lease holder
    expires_at: Mapped[float | None] = mapped_column(Float, nullable=True)  # of its lease


class WorkflowRunStore:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def insert(self, row: WorkflowRunRow) -> None:
        async with self._database.session() as session, session.begin():
            session.add(row)

    async def record(self, row: WorkflowRunRow, owner: str) -> bool:
        """Store the steps and status of a run `owner` holds and that still runs; False when
        it is not ours any more (its lease ran out, or it was cancelled elsewhere). The
        lease columns are the heartbeat's: never written from a stale row."""
        ending = row.status != "running"
        values: dict[str, Any] = {"steps": row.steps, "status": row.status,
                                  "updated_at": time.time()}
        if ending:
            values.update(owner=None, expires_at=None)
        return await self._update(row.id, values, WorkflowRunRow.owner == owner,
                                  WorkflowRunRow.status == "running")

    async def claim(self, row: WorkflowRunRow, owner: str, expires_at: float) -> bool:
        """Run an ended run again (a retry) here; False when it runs already."""
        return await self._update(
            row.id, {"steps": row.steps, "status": "running", "owner": owner,
                     "expires_at": expires_at, "updated_at": time.time()},
            WorkflowRunRow.status != "running")

    async def end(self, run_id: str, status: str) -> bool:
        """End a running run wherever it is held (cancel); its owner stops at its next step."""
        return await self._update(
            run_id, {"status": status, "owner": None, "expires_at": None,
                     "updated_at": time.time()}, WorkflowRunRow.status == "running")

    async def _update(self, run_id: str, values: dict[str, Any], *where: Any) -> bool:
        async with self._database.session() as session, session.begin():
            result = await session.execute(
                update(WorkflowRunRow).where(WorkflowRunRow.id == run_id, *where).values(values))
            return int(result.rowcount) == 1  # type: ignore[attr-defined]

    async def get(self, tenant: str, run_id: str) -> WorkflowRunRow | None:
        async with self._database.session() as session:
            row = await session.get(WorkflowRunRow, run_id)
            return row if row is not None and row.tenant == tenant else None

    async def renew(self, owner: str, expires_at: float) -> None:
        async with self._database.session() as session, session.begin():
            await session.execute(update(WorkflowRunRow).where(WorkflowRunRow.owner == owner)
                                  .values(expires_at=expires_at))

    async def expired(self, now: float, limit: int = 100) -> list[WorkflowRunRow]:
        async with self._database.session() as session:
            rows = await session.execute(
                select(WorkflowRunRow).where(WorkflowRunRow.status == "running",
                                             WorkflowRunRow.expires_at < now).limit(limit))
            return list(rows.scalars())

    async def take_over(self, run_id: str, owner: str, now: float, expires_at: float) -> bool:
        """Hold a run whose lease ran out before `now`; False if another instance did."""
        async with self._database.session() as session, session.begin():
            result = await session.execute(
                update(WorkflowRunRow).where(WorkflowRunRow.id == run_id,
                                             WorkflowRunRow.expires_at < now)
                .values(owner=owner, expires_at=expires_at))
            return int(result.rowcount) == 1  # type: ignore[attr-defined]
