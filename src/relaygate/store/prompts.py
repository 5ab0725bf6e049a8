"""The `prompt_templates`, `prompt_versions` and `prompt_feedback` tables (revision
`0012_prompts`): templates with immutable numbered versions and labels (a label is a
split of weights over versions; one version is `{v2: 100}`); user scores of calls.

SQLite and PostgreSQL through the same code."""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from relaygate.errors import Conflict, NotFound
from relaygate.store.base import Base
from relaygate.store.db import Database


class TemplateRow(Base):
    __tablename__ = "prompt_templates"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    tenant: Mapped[str | None] = mapped_column(String(200), nullable=True)
    labels: Mapped[dict[str, dict[str, int]]] = mapped_column(JSON)
    latest: Mapped[int] = mapped_column(Integer)
    archived_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class VersionRow(Base):
    __tablename__ = "prompt_versions"

    template_id: Mapped[str] = mapped_column(String(40), ForeignKey("prompt_templates.id"),
                                             primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[float] = mapped_column(Float)


class FeedbackRow(Base):
    __tablename__ = "prompt_feedback"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(100))
    tenant: Mapped[str] = mapped_column(String(200))
    score: Mapped[float] = mapped_column(Float)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_prompt_feedback_request", "request_id"),)


@dataclass(slots=True)
class TemplateRecord:
    id: str
    name: str
    tenant: str | None
    labels: dict[str, dict[str, int]]
    latest: int
    archived_at: float | None
    created_at: float
    updated_at: float
    versions: dict[int, dict[str, Any]] = field(default_factory=dict)  # number → content
    version_times: dict[int, float] = field(default_factory=dict)


def _record(row: TemplateRow, versions: Sequence[VersionRow] = ()) -> TemplateRecord:
    return TemplateRecord(
        row.id, row.name, row.tenant, dict(row.labels), row.latest, row.archived_at,
        row.created_at, row.updated_at,
        {version.version: version.content for version in versions},
        {version.version: version.created_at for version in versions},
    )


class PromptStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def create(self, name: str, tenant: str | None, content: dict[str, Any]
                     ) -> TemplateRecord:
        now = time.time()
        row = TemplateRow(id=f"pt_{secrets.token_hex(12)}", name=name, tenant=tenant,
                          labels={}, latest=1, archived_at=None, created_at=now, updated_at=now)
        version = VersionRow(template_id=row.id, version=1, content=content, created_at=now)
        try:
            async with self.database.session() as session, session.begin():
                session.add(row)
                await session.flush()
                session.add(version)
        except IntegrityError:
            raise Conflict(f"A prompt template named {name!r} exists already.", param="name",
                           code="prompt_exists") from None
        return _record(row, [version])

    async def get(self, key: str) -> TemplateRecord | None:
        """A template by id or name, with every version."""
        async with self.database.session() as session:
            row = (await session.execute(select(TemplateRow).where(
                or_(TemplateRow.id == key, TemplateRow.name == key)))).scalars().first()
            if row is None:
                return None
            versions = (await session.execute(select(VersionRow).where(
                VersionRow.template_id == row.id))).scalars().all()
            return _record(row, versions)

    async def list(self, limit: int, after: str | None, archived: bool) -> list[TemplateRecord]:
        query = select(TemplateRow).order_by(TemplateRow.id).limit(limit)
        if after is not None:
            query = query.where(TemplateRow.id > after)
        if not archived:
            query = query.where(TemplateRow.archived_at.is_(None))
        async with self.database.session() as session:
            return [_record(row) for row in (await session.execute(query)).scalars()]

    async def add_version(self, key: str, content: dict[str, Any]) -> tuple[TemplateRecord, int]:
        """The next version (`latest + 1`); two writers racing: one gets a 409."""
        now = time.time()
        try:
            async with self.database.session() as session, session.begin():
                row = await self._live(session, key)
                number = row.latest + 1
                session.add(VersionRow(template_id=row.id, version=number, content=content,
                                       created_at=now))
                row.latest, row.updated_at = number, now
        except IntegrityError:
            raise Conflict("Another version was created at the same time; retry.",
                           code="version_conflict") from None
        template = await self.get(row.id)
        assert template is not None
        return template, number

    async def set_label(self, key: str, label: str, split: dict[str, int]) -> TemplateRecord:
        async with self.database.session() as session, session.begin():
            row = await self._live(session, key)
            for version in split:
                if not 1 <= int(version[1:]) <= row.latest:
                    raise NotFound(f"Template {row.name!r} has no version {version!r}.",
                                   param="version", code="prompt_version_not_found")
            row.labels = {**row.labels, label: split}
            row.updated_at = time.time()
            template_id = row.id
        template = await self.get(template_id)
        assert template is not None
        return template

    async def archive(self, key: str) -> TemplateRecord:
        async with self.database.session() as session, session.begin():
            row = await self._live(session, key)
            row.archived_at = row.updated_at = time.time()
            template_id = row.id
        template = await self.get(template_id)
        assert template is not None
        return template

    async def _live(self, session: AsyncSession, key: str) -> TemplateRow:
        row: TemplateRow | None = (await session.execute(select(TemplateRow).where(
            or_(TemplateRow.id == key, TemplateRow.name == key)).with_for_update()
        )).scalars().first()
        if row is None or row.archived_at is not None:
            raise NotFound(f"No prompt template {key!r}.", code="prompt_not_found")
        return row

    async def add_feedback(self, request_id: str, tenant: str, score: float,
                           comment: str | None) -> str:
        feedback_id = f"fb_{secrets.token_hex(12)}"
        async with self.database.session() as session, session.begin():
            session.add(FeedbackRow(id=feedback_id, request_id=request_id, tenant=tenant,
                                    score=score, comment=comment, at=time.time()))
        return feedback_id
