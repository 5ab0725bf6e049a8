"""The `tenants` and `api_keys` tables, and the queries the admin API and the key cache make.

A key is stored as the SHA-256 digest of its secret and a visible prefix; the secret itself
is never stored. A rotated key keeps its old digest in `previous_digest` until
`previous_valid_until`, so clients have a grace period to switch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from relaygate.errors import Conflict, NotFound
from relaygate.store.base import Base
from relaygate.store.db import Database


class TenantRow(Base):
    __tablename__ = "tenants"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    models: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    endpoints: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    tools: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    budget: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    limits: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class KeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(200), ForeignKey("tenants.name"))
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    prefix: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    previous_digest: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    previous_valid_until: Mapped[float | None] = mapped_column(Float, nullable=True)
    models: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    endpoints: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    tools: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    budget: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    limits: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON)
    expires_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    revoked_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_api_keys_tenant_created", "tenant", "created_at", "id"),)


@dataclass(slots=True)
class TenantRecord:
    name: str
    models: list[str] | None = None
    endpoints: list[str] | None = None
    tools: dict[str, Any] | None = None  # a ToolPolicySettings, as JSON
    budget: dict[str, Any] | None = None  # a BudgetSettings, as JSON
    limits: dict[str, Any] | None = None  # a LimitSettings, as JSON
    metadata: dict[str, Any] = field(default_factory=dict)
    created_at: float = 0.0
    updated_at: float = 0.0


@dataclass(slots=True)
class KeyRecord:
    id: str
    tenant: str
    prefix: str
    digest: str
    name: str | None = None
    previous_digest: str | None = None
    previous_valid_until: float | None = None
    models: list[str] | None = None
    endpoints: list[str] | None = None
    tools: dict[str, Any] | None = None
    budget: dict[str, Any] | None = None
    limits: dict[str, Any] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    expires_at: float | None = None
    revoked_at: float | None = None
    created_at: float = 0.0
    updated_at: float = 0.0


TENANT_FIELDS = ("models", "endpoints", "tools", "budget", "limits", "metadata")
KEY_FIELDS = ("name", "models", "endpoints", "tools", "budget", "limits", "metadata",
              "expires_at")


def _tenant(row: TenantRow) -> TenantRecord:
    return TenantRecord(row.name, row.models, row.endpoints, row.tools, row.budget, row.limits,
                        row.metadata_, row.created_at, row.updated_at)


def _key(row: KeyRow) -> KeyRecord:
    return KeyRecord(
        row.id, row.tenant, row.prefix, row.digest, row.name, row.previous_digest,
        row.previous_valid_until, row.models, row.endpoints, row.tools, row.budget, row.limits,
        row.metadata_, row.expires_at, row.revoked_at, row.created_at, row.updated_at,
    )


def _change(row: TenantRow | KeyRow, changes: dict[str, Any]) -> None:
    """Set the changed fields (`metadata` is the `metadata_` attribute) and `updated_at`."""
    for field_name, value in changes.items():
        setattr(row, "metadata_" if field_name == "metadata" else field_name, value)
    row.updated_at = time.time()


class AccessStore:
    """Tenants and keys in the database (SQLite or PostgreSQL, the same code)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    # tenants
    async def create_tenant(self, tenant: TenantRecord) -> TenantRecord:
        now = time.time()
        tenant.created_at = tenant.updated_at = now
        row = TenantRow(name=tenant.name, models=tenant.models, endpoints=tenant.endpoints,
                        tools=tenant.tools, budget=tenant.budget, limits=tenant.limits,
                        metadata_=tenant.metadata, created_at=now, updated_at=now)
        try:
            async with self._database.session() as session, session.begin():
                session.add(row)
        except IntegrityError:
            raise Conflict(f"A tenant named {tenant.name!r} exists already.", param="name",
                           code="tenant_exists") from None
        return tenant

    async def tenant(self, name: str) -> TenantRecord | None:
        async with self._database.session() as session:
            row = await session.get(TenantRow, name)
            return _tenant(row) if row is not None else None

    async def tenants(self, limit: int, after: str | None) -> list[TenantRecord]:
        query = select(TenantRow).order_by(TenantRow.name).limit(limit)
        if after is not None:
            query = query.where(TenantRow.name > after)
        async with self._database.session() as session:
            return [_tenant(row) for row in (await session.scalars(query))]

    async def update_tenant(self, name: str, changes: dict[str, Any]) -> TenantRecord:
        async with self._database.session() as session, session.begin():
            row = await session.get(TenantRow, name, with_for_update=True)
            if row is None:
                raise NotFound(f"No tenant named {name!r}.", code="tenant_not_found")
            _change(row, changes)
            return _tenant(row)

    # keys
    async def create_key(self, key: KeyRecord) -> KeyRecord:
        now = time.time()
        key.created_at = key.updated_at = now
        row = KeyRow(id=key.id, tenant=key.tenant, name=key.name, prefix=key.prefix,
                     digest=key.digest, models=key.models, endpoints=key.endpoints,
                     tools=key.tools, budget=key.budget, limits=key.limits,
                     metadata_=key.metadata, expires_at=key.expires_at, created_at=now,
                     updated_at=now)
        async with self._database.session() as session, session.begin():
            session.add(row)
        return key

    async def key(self, key_id: str) -> KeyRecord | None:
        async with self._database.session() as session:
            row = await session.get(KeyRow, key_id)
            return _key(row) if row is not None else None

    async def keys(self, tenant: str | None, limit: int, after: str | None) -> list[KeyRecord]:
        query = select(KeyRow).order_by(KeyRow.id).limit(limit)
        if tenant is not None:
            query = query.where(KeyRow.tenant == tenant)
        if after is not None:
            query = query.where(KeyRow.id > after)
        async with self._database.session() as session:
            return [_key(row) for row in (await session.scalars(query))]

    async def update_key(self, key_id: str, changes: dict[str, Any]) -> KeyRecord:
        async with self._database.session() as session, session.begin():
            row = await session.get(KeyRow, key_id, with_for_update=True)
            if row is None:
                raise NotFound(f"No key with id {key_id!r}.", code="key_not_found")
            _change(row, changes)
            return _key(row)

    async def by_digest(self, digest: str) -> tuple[KeyRecord, TenantRecord] | None:
        """The key whose secret (or, within its grace period, previous secret) has `digest`."""
        query = (
            select(KeyRow, TenantRow)
            .join(TenantRow, TenantRow.name == KeyRow.tenant)
            .where(or_(KeyRow.digest == digest, KeyRow.previous_digest == digest))
        )
        async with self._database.session() as session:
            found = (await session.execute(query)).first()
        if found is None:
            return None
        return _key(found[0]), _tenant(found[1])
