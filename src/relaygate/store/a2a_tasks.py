"""A2A tasks (table `a2a_tasks`, revision 0019_a2a_tasks): each task's JSON, its state and
a version that every write raises by one. A write names the version it read and changes
nothing when the row has moved on since (another instance wrote it: a cancel), so the
instance running a task learns that it was cancelled elsewhere. Rows are keyed by owner
(`<agent>@<tenant>`) and task id: no other tenant or agent reads them."""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Float, Integer, String, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from relaygate.store.base import Base
from relaygate.store.db import Database


class A2ATaskRow(Base):
    __tablename__ = "a2a_tasks"

    owner: Mapped[str] = mapped_column(String(300), primary_key=True)
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    context_id: Mapped[str] = mapped_column(String(200))
    state: Mapped[int] = mapped_column(Integer)  # the a2a TaskState number
    version: Mapped[int] = mapped_column(Integer)  # 1 on insert, +1 on every write
    task: Mapped[dict[str, Any]] = mapped_column(JSON)  # the Task as protobuf JSON
    updated_at: Mapped[float] = mapped_column(Float)


@dataclass(frozen=True, slots=True)
class StoredTaskRow:
    task: dict[str, Any]
    state: int
    version: int


@dataclass(frozen=True, slots=True)
class TaskQuery:
    """A page of an owner's tasks, newest first."""

    context_id: str | None = None
    state: int | None = None
    updated_after: float | None = None
    offset: int = 0
    limit: int = 50


class A2ATaskStore:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def get(self, owner: str, task_id: str) -> StoredTaskRow | None:
        async with self._database.session() as session:
            row = await session.get(A2ATaskRow, (owner, task_id))
            return None if row is None else StoredTaskRow(dict(row.task), row.state, row.version)

    async def insert(self, owner: str, task_id: str, context_id: str, state: int,
                     task: dict[str, Any]) -> int | None:
        """A new task at version 1; None when one of that id exists already."""
        try:
            async with self._database.session() as session, session.begin():
                session.add(A2ATaskRow(owner=owner, id=task_id, context_id=context_id,
                                       state=state, version=1, task=task,
                                       updated_at=time.time()))
        except IntegrityError:
            return None
        return 1

    async def update(self, owner: str, task_id: str, state: int, task: dict[str, Any], *,
                     expected_version: int | None = None,
                     unless_states: Collection[int] = ()) -> int | None:
        """Write the task if it is still at `expected_version` (any, when None) and not in
        one of `unless_states`; its new version, or None when nothing was written."""
        where = [A2ATaskRow.owner == owner, A2ATaskRow.id == task_id]
        if expected_version is not None:
            where.append(A2ATaskRow.version == expected_version)
        if unless_states:
            where.append(A2ATaskRow.state.not_in(list(unless_states)))
        async with self._database.session() as session, session.begin():
            version = await session.scalar(
                update(A2ATaskRow).where(*where)
                .values(state=state, task=task, version=A2ATaskRow.version + 1,
                        updated_at=time.time())
                .returning(A2ATaskRow.version))
            return None if version is None else int(version)

    async def page(self, owner: str, query: TaskQuery) -> tuple[list[dict[str, Any]], int]:
        """(the page's tasks, how many match in all)."""
        where = [A2ATaskRow.owner == owner]
        if query.context_id:
            where.append(A2ATaskRow.context_id == query.context_id)
        if query.state is not None:
            where.append(A2ATaskRow.state == query.state)
        if query.updated_after is not None:
            where.append(A2ATaskRow.updated_at >= query.updated_after)
        async with self._database.session() as session:
            total = await session.scalar(select(func.count()).select_from(A2ATaskRow)
                                         .where(*where))
            rows = await session.execute(
                select(A2ATaskRow.task).where(*where)
                .order_by(A2ATaskRow.updated_at.desc(), A2ATaskRow.id.desc())
                .offset(query.offset).limit(query.limit))
            return [dict(task) for task in rows.scalars()], int(total or 0)

    async def delete_ended(self, states: Collection[int], before: float) -> int:
        """Delete the tasks in one of `states` (the terminal ones) last written before
        `before`; how many."""
        async with self._database.session() as session, session.begin():
            result = await session.execute(
                delete(A2ATaskRow).where(A2ATaskRow.state.in_(list(states)),
                                         A2ATaskRow.updated_at < before))
            return int(result.rowcount)  # type: ignore[attr-defined]

    async def delete(self, owner: str, task_id: str) -> None:
        async with self._database.session() as session, session.begin():
            await session.execute(delete(A2ATaskRow).where(A2ATaskRow.owner == owner,
                                                           A2ATaskRow.id == task_id))
