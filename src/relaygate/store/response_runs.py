"""Background response runs in progress, each held by one gateway process (its `owner`)
under a lease that the owner renews; a lease that has run out means the owner is gone.

A row lives from the run's creation to its end. Taking over an expired lease is one
conditional UPDATE, so of several instances that notice it, one alone ends the run.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Float, Index, String, delete, select, update
from sqlalchemy.orm import Mapped, mapped_column

from relaygate.store.base import Base
from relaygate.store.db import Database


class ResponseRunRow(Base):
    __tablename__ = "response_runs"

    response_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[float] = mapped_column(Float)  # epoch seconds

    __table_args__ = (
        Index("ix_response_runs_owner", "owner"),
        Index("ix_response_runs_expires", "expires_at"),
    )


@dataclass(frozen=True, slots=True)
class RunLease:
    response_id: str
    tenant: str
    owner: str
    expires_at: float


def _lease(row: ResponseRunRow) -> RunLease:
    return RunLease(row.response_id, row.tenant, row.owner, row.expires_at)


class RunLeaseStore:
    """Reads and writes the leases of background runs."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def claim(self, response_id: str, tenant: str, owner: str, expires_at: float) -> None:
        async with self._database.session() as session, session.begin():
            session.add(ResponseRunRow(response_id=response_id, tenant=tenant, owner=owner,
                                       expires_at=expires_at))

    async def renew(self, owner: str, expires_at: float) -> set[str]:
        """Extend every lease `owner` holds; returns the runs it still holds."""
        async with self._database.session() as session, session.begin():
            await session.execute(
                update(ResponseRunRow).where(ResponseRunRow.owner == owner)
                .values(expires_at=expires_at)
            )
            rows = await session.execute(
                select(ResponseRunRow.response_id).where(ResponseRunRow.owner == owner)
            )
            return set(rows.scalars())

    async def release(self, response_id: str, owner: str) -> None:
        async with self._database.session() as session, session.begin():
            await session.execute(
                delete(ResponseRunRow).where(
                    ResponseRunRow.response_id == response_id, ResponseRunRow.owner == owner
                )
            )

    async def get(self, response_id: str) -> RunLease | None:
        async with self._database.session() as session:
            row = await session.get(ResponseRunRow, response_id)
            return None if row is None else _lease(row)

    async def expired(self, now: float, limit: int = 100) -> list[RunLease]:
        async with self._database.session() as session:
            rows = await session.execute(
                select(ResponseRunRow).where(ResponseRunRow.expires_at < now)
                .order_by(ResponseRunRow.expires_at).limit(limit)
            )
            return [_lease(row) for row in rows.scalars()]

    async def take_over(self, response_id: str, owner: str, now: float,
                        expires_at: float) -> bool:
        """Become the owner of a run whose lease ran out before `now`; False if it had
        not, or another instance took it first."""
        async with self._database.session() as session, session.begin():
            result = await session.execute(
                update(ResponseRunRow)
                .where(ResponseRunRow.response_id == response_id,
                       ResponseRunRow.expires_at < now)
                .values(owner=owner, expires_at=expires_at)
            )
            return int(result.rowcount) == 1  # type: ignore[attr-defined]
