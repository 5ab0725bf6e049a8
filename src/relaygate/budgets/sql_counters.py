"""Budget counters in the database (SQLite or PostgreSQL, the same code): a row per owner
and period. A reservation is one conditional UPDATE — the row lock (PostgreSQL) or the
write lock (SQLite) orders concurrent ones, and each re-reads the row it adds to — so
instances sharing the database cannot both pass a cap. Loaded only when budgets are used
without Redis (it imports SQLAlchemy)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Integer,
    String,
    Table,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Mapped, mapped_column

from relaygate.budgets.counters import NANO_PER_USD, Amount, Caps, Reserved, Spent
from relaygate.budgets.periods import Window, current_window
from relaygate.control_settings import BudgetPeriod
from relaygate.store.base import Base
from relaygate.store.db import Database


class BudgetCounterRow(Base):
    __tablename__ = "budget_counters"

    owner: Mapped[str] = mapped_column(String(200), primary_key=True)
    period: Mapped[str] = mapped_column(String(40), primary_key=True)
    spent_nano_usd: Mapped[int] = mapped_column(BigInteger)
    spent_tokens: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[float] = mapped_column(Float)


class BudgetAlertRow(Base):
    __tablename__ = "budget_alerts"

    owner: Mapped[str] = mapped_column(String(200), primary_key=True)
    period: Mapped[str] = mapped_column(String(40), primary_key=True)
    threshold: Mapped[int] = mapped_column(Integer, primary_key=True)
    sent_at: Mapped[float] = mapped_column(Float)


_COUNTERS = cast(Table, BudgetCounterRow.__table__)
_ALERTS = cast(Table, BudgetAlertRow.__table__)


class SqlCounters:
    def __init__(self, database: Callable[[], Awaitable[Database]]) -> None:
        self._database = database  # the gateway's, opened on first use
        self._rows: set[tuple[str, str]] = set()  # (owner, period) rows known to exist

    async def _insert_ignoring_duplicates(self, connection: AsyncConnection, table: Any,
                                          **values: Any) -> int:
        """Insert a row unless its primary key is taken; the number of rows inserted."""
        dialect = sqlite if connection.dialect.name == "sqlite" else postgresql
        statement = dialect.insert(table).values(**values).on_conflict_do_nothing()
        result = await connection.execute(statement)
        return int(result.rowcount or 0)

    async def _ensure_row(self, connection: AsyncConnection, owner: str, period: str) -> None:
        """The counter's row exists (remembered once a transaction that made sure committed)."""
        if (owner, period) in self._rows:
            return
        await self._insert_ignoring_duplicates(
            connection, _COUNTERS, owner=owner, period=period, spent_nano_usd=0,
            spent_tokens=0, updated_at=time.time(),
        )

    async def reserve(self, owner: str, window: Window, amount: Amount,
                      caps: Caps | None) -> Reserved:
        database = await self._database()
        where: list[ColumnElement[bool]] = [_COUNTERS.c.owner == owner,
                                            _COUNTERS.c.period == window.key]
        if caps is not None and caps.max_nano_usd is not None:
            where.append(_COUNTERS.c.spent_nano_usd + amount.nano_usd <= caps.max_nano_usd)
        if caps is not None and caps.max_tokens is not None:
            where.append(_COUNTERS.c.spent_tokens + amount.tokens <= caps.max_tokens)
        async with database.engine.begin() as connection:
            await self._ensure_row(connection, owner, window.key)
            row = (await connection.execute(_added(where, amount))).first()
            current = None if row is not None else await _current(connection, owner, window.key)
        self._rows.add((owner, window.key))
        if current is None:
            assert row is not None
            return Reserved(True, Amount(int(row[0]), int(row[1])))
        return Reserved(False, current)

    async def adjust(self, owner: str, window: Window, delta: Amount) -> Amount:
        database = await self._database()
        where = [_COUNTERS.c.owner == owner, _COUNTERS.c.period == window.key]
        async with database.engine.begin() as connection:
            await self._ensure_row(connection, owner, window.key)
            row = (await connection.execute(_added(where, delta))).first()
        self._rows.add((owner, window.key))
        return Amount(int(row[0]), int(row[1])) if row is not None else Amount()

    async def claim_alert(self, owner: str, window: Window, threshold: int) -> bool:
        database = await self._database()
        async with database.engine.begin() as connection:
            inserted = await self._insert_ignoring_duplicates(
                connection, _ALERTS, owner=owner, period=window.key, threshold=threshold,
                sent_at=time.time(),
            )
        return inserted == 1

    async def spent(self, owner: str, period: BudgetPeriod) -> Spent:
        window = current_window(period)
        database = await self._database()
        async with database.engine.connect() as connection:
            current = await _current(connection, owner, window.key)
        return Spent(current.nano_usd / NANO_PER_USD, current.tokens, window.end)

    async def close(self) -> None:
        """The database is the gateway's (it closes it)."""


def _added(where: list[ColumnElement[bool]], amount: Amount) -> Any:
    return (
        update(_COUNTERS)
        .where(*where)
        .values(spent_nano_usd=_COUNTERS.c.spent_nano_usd + amount.nano_usd,
                spent_tokens=_COUNTERS.c.spent_tokens + amount.tokens,
                updated_at=time.time())
        .returning(_COUNTERS.c.spent_nano_usd, _COUNTERS.c.spent_tokens)
    )


async def _current(connection: AsyncConnection, owner: str, period: str) -> Amount:
    row = (await connection.execute(
        select(_COUNTERS.c.spent_nano_usd, _COUNTERS.c.spent_tokens)
        .where(_COUNTERS.c.owner == owner, _COUNTERS.c.period == period)
    )).first()
    return Amount(int(row[0]), int(row[1])) if row is not None else Amount()
