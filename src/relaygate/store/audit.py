"""The `audit_log` table (revision `0014_audit`): one row per admin action, and its query."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Float, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from relaygate.store.base import Base
from relaygate.store.db import Database


class AuditRow(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[float] = mapped_column(Float)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(300))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(200), nullable=True)


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None  # exact, or a prefix ending in "." ("key.")
    target: str | None = None
    since: float | None = None
    until: float | None = None
    before_id: int | None = None  # the page cursor: rows older than this one
    limit: int = 50


class AuditStore:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def add(self, row: AuditRow) -> int:
        async with self._database.session() as session, session.begin():
            session.add(row)
            await session.flush()
            return row.id

    async def query(self, where: AuditFilter) -> list[AuditRow]:
        """Newest first."""
        query = select(AuditRow)
        if where.actor is not None:
            query = query.where(AuditRow.actor == where.actor)
        if where.action is not None:
            if where.action.endswith("."):
                query = query.where(AuditRow.action.startswith(where.action, autoescape=True))
            else:
                query = query.where(AuditRow.action == where.action)
        if where.target is not None:
            query = query.where(AuditRow.target == where.target)
        if where.since is not None:
            query = query.where(AuditRow.at >= where.since)
        if where.until is not None:
            query = query.where(AuditRow.at < where.until)
        if where.before_id is not None:
            query = query.where(AuditRow.id < where.before_id)
        query = query.order_by(AuditRow.id.desc()).limit(where.limit)
        async with self._database.session() as session:
            return list((await session.execute(query)).scalars())
