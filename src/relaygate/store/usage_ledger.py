"""The `usage_ledger` table: one row per upstream call; batch inserts, retention, totals.

SQLite and PostgreSQL through the same code. Rows arrive from `ledger/writer.py` in
batches (one `executemany`); the usage API reads totals grouped by tenant, key, model,
provider or UTC day, over a time range.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    Index,
    Integer,
    String,
    case,
    delete,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from relaygate.ledger.report import UsageTotals
from relaygate.ledger.rows import LedgerRow
from relaygate.store.base import Base
from relaygate.store.db import Database


class UsageLedgerRow(Base):
    __tablename__ = "usage_ledger"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[float] = mapped_column(Float)
    day: Mapped[str] = mapped_column(String(10))
    request_id: Mapped[str] = mapped_column(String(100))
    tenant: Mapped[str] = mapped_column(String(200))
    key_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    key_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    endpoint: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(200))
    upstream_model: Mapped[str] = mapped_column(String(200))
    input_tokens: Mapped[int] = mapped_column(BigInteger)
    output_tokens: Mapped[int] = mapped_column(BigInteger)
    cached_tokens: Mapped[int] = mapped_column(BigInteger)
    cost_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    latency_ms: Mapped[float] = mapped_column(Float)
    ttft_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(100), nullable=True)
    cache_hit: Mapped[bool] = mapped_column(Boolean)
    stream: Mapped[bool] = mapped_column(Boolean)
    session_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    prompt_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    prompt_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    saved_usd: Mapped[float | None] = mapped_column(Float, nullable=True)  # a cache hit's

    __table_args__ = (
        Index("ix_usage_ledger_at", "at"),
        Index("ix_usage_ledger_tenant_at", "tenant", "at"),
        Index("ix_usage_ledger_key_at", "key_id", "at"),
    )


GROUPS: dict[str, ColumnElement[str | None]] = {
    "tenant": UsageLedgerRow.tenant,  # type: ignore[dict-item]
    "key": UsageLedgerRow.key_id,  # type: ignore[dict-item]
    "model": UsageLedgerRow.model,  # type: ignore[dict-item]
    "provider": UsageLedgerRow.provider,  # type: ignore[dict-item]
    "day": UsageLedgerRow.day,  # type: ignore[dict-item]
}


COLUMNS = LedgerRow._fields
_MARKS = {  # the DBAPI's placeholder for parameter n (1-based), by its paramstyle
    "qmark": "?",
    "numeric": ":{n}",
    "numeric_dollar": "${n}",
    "format": "%s",
}


def insert_statement(paramstyle: str) -> str:
    """The INSERT of one row, in the driver's own placeholders (a batch is an executemany
    of it: the per-row cost is the driver's, not the SQL toolkit's)."""
    marks = ", ".join(_MARKS[paramstyle].format(n=n) for n in range(1, len(COLUMNS) + 1))
    return f"INSERT INTO usage_ledger ({', '.join(COLUMNS)}) VALUES ({marks})"


async def insert_rows(database: Database, rows: Sequence[LedgerRow]) -> None:
    """Write `rows` in one transaction, one `executemany`."""
    async with database.engine.begin() as connection:
        statement = insert_statement(connection.dialect.paramstyle)
        await connection.exec_driver_sql(statement, list(rows))  # rows are tuples


async def delete_before(database: Database, cutoff: float) -> int:
    """Remove the rows of calls that ended before `cutoff` (unix seconds); how many."""
    async with database.engine.begin() as connection:
        result = await connection.execute(delete(UsageLedgerRow).where(UsageLedgerRow.at < cutoff))
        return int(result.rowcount or 0)


async def totals(
    database: Database,
    group_by: str,
    since: float | None = None,
    until: float | None = None,
    tenant: str | None = None,
    key_id: str | None = None,
    only_key: bool = False,
) -> list[UsageTotals]:
    """Requests, tokens and cost per group, in group order; `only_key` filters on `key_id`
    (None then means the rows without a key, the open gateway's)."""
    group = GROUPS[group_by]
    query = select(
        group,
        func.count(),
        func.coalesce(func.sum(UsageLedgerRow.input_tokens), 0),
        func.coalesce(func.sum(UsageLedgerRow.output_tokens), 0),
        func.coalesce(func.sum(UsageLedgerRow.cached_tokens), 0),
        func.sum(UsageLedgerRow.cost_usd),  # SUM of only NULLs is NULL: no made-up 0
        func.coalesce(func.sum(case((UsageLedgerRow.cache_hit, 1), else_=0)), 0),
        func.sum(UsageLedgerRow.saved_usd),
    ).group_by(group).order_by(group)
    if since is not None:
        query = query.where(UsageLedgerRow.at >= since)
    if until is not None:
        query = query.where(UsageLedgerRow.at < until)
    if tenant is not None:
        query = query.where(UsageLedgerRow.tenant == tenant)
    if only_key:
        query = query.where(
            UsageLedgerRow.key_id == key_id if key_id is not None else UsageLedgerRow.key_id.is_(None)
        )
    async with database.engine.connect() as connection:
        result = await connection.execute(query)
        return [
            UsageTotals(
                row[0], int(row[1]), int(row[2]), int(row[3]), int(row[4]),
                float(row[5]) if row[5] is not None else None,
                int(row[6]), float(row[7]) if row[7] is not None else None,
            )
            for row in result
        ]
