"""Budget counters in the database (SQLite or PostgreSQL, the same code): a row per owner
and period. A reservation is a conditional UPDATE — the row lock (PostgreSQL) or the
write lock (SQLite) orders concurrent ones, and each re-reads the row it adds to — so
instances sharing the database cannot both pass a cap. Loaded only when budgets are used
without Redis (it imports SQLAlchemy).

Reservations and settlements wait in a queue, and one writer applies everything queued
in one transaction (a group commit): the settlements of an owner's period as one UPDATE,
its reservations as one conditional UPDATE of their sum, and one by one only when the sum
would pass a cap. Under load a transaction serves many calls, and this instance's writes
never wait on each other's SQLite write lock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
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
from relaygate.errors import UpstreamUnavailable
from relaygate.observability.logging import get_logger
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


_log = get_logger("relaygate.budgets")

_COUNTERS = cast(Table, BudgetCounterRow.__table__)
_ALERTS = cast(Table, BudgetAlertRow.__table__)


@dataclass(slots=True)
class _Reservation:
    owner: str
    window: Window
    amount: Amount
    caps: Caps | None
    done: asyncio.Future[Reserved]


@dataclass(slots=True)
class _Adjustment:
    owner: str
    window: Window
    delta: Amount
    done: asyncio.Future[Amount]


class SqlCounters:
    def __init__(self, database: Callable[[], Awaitable[Database]]) -> None:
        self._database = database  # the gateway's, opened on first use
        self._rows: set[tuple[str, str]] = set()  # (owner, period) rows known to exist
        self._queued: list[_Reservation | _Adjustment] = []
        self._writer: asyncio.Task[None] | None = None

    async def reserve(self, owner: str, window: Window, amount: Amount,
                      caps: Caps | None) -> Reserved:
        reservation = _Reservation(owner, window, amount, caps,
                                   asyncio.get_running_loop().create_future())
        self._queue(reservation)
        try:
            return await asyncio.shield(reservation.done)
        except asyncio.CancelledError:  # the caller left: give back what it would have held
            reservation.done.add_done_callback(lambda _: self._release_orphan(reservation))
            raise

    async def adjust(self, owner: str, window: Window, delta: Amount) -> Amount:
        adjustment = _Adjustment(owner, window, delta, asyncio.get_running_loop().create_future())
        self._queue(adjustment)
        return await asyncio.shield(adjustment.done)

    def _queue(self, operation: _Reservation | _Adjustment) -> None:
        self._queued.append(operation)
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_queued())

    def _release_orphan(self, reservation: _Reservation) -> None:
        done = reservation.done
        if done.cancelled() or done.exception() is not None or not done.result().granted:
            return
        release = _Adjustment(reservation.owner, reservation.window,
                              Amount() - reservation.amount, done.get_loop().create_future())
        release.done.add_done_callback(_retrieve)
        self._queue(release)

    async def _write_queued(self) -> None:
        """Apply what is queued, one transaction per batch, until the queue is empty."""
        batch: list[_Reservation | _Adjustment] = []
        try:
            while self._queued:
                batch, self._queued = self._queued, []
                try:
                    await self._apply(batch)
                except Exception as exc:
                    _fail(batch, exc)
        except asyncio.CancelledError:  # shutdown: nothing queued may wait for ever
            _fail(batch + self._queued, UpstreamUnavailable("The budget counters closed."))
            self._queued = []
            raise
        finally:
            self._writer = None

    async def _apply(self, batch: list[_Reservation | _Adjustment]) -> None:
        database = await self._database()
        rows = {(operation.owner, operation.window.key) for operation in batch}
        adjustments: dict[tuple[str, str], list[_Adjustment]] = {}
        reservations: dict[tuple[str, str, Caps | None], list[_Reservation]] = {}
        for operation in batch:
            if isinstance(operation, _Adjustment):
                adjustments.setdefault((operation.owner, operation.window.key), []).append(
                    operation)
            else:
                reservations.setdefault(
                    (operation.owner, operation.window.key, operation.caps), []).append(operation)
        results: list[tuple[asyncio.Future[Any], Any]] = []
        async with database.engine.begin() as connection:
            for owner, period in rows - self._rows:
                await self._insert_ignoring_duplicates(
                    connection, _COUNTERS, owner=owner, period=period, spent_nano_usd=0,
                    spent_tokens=0, updated_at=time.time(),
                )
            for (owner, period), settling in adjustments.items():
                total = _sum(adjustment.delta for adjustment in settling)
                row = (await connection.execute(_added(owner, period, total, None))).first()
                after = Amount(int(row[0]), int(row[1])) if row is not None else Amount()
                results.extend((adjustment.done, after) for adjustment in settling)
            for (owner, period, caps), asking in reservations.items():
                granted = await _reserve_together(connection, owner, period, caps, asking)
                if granted is None:
                    granted = [await _reserve_alone(connection, owner, period, caps,
                                                    reservation.amount)
                               for reservation in asking]
                results.extend(zip((reservation.done for reservation in asking), granted,
                                   strict=True))
        self._rows |= rows
        for done, result in results:
            if not done.done():
                done.set_result(result)

    async def _insert_ignoring_duplicates(self, connection: AsyncConnection, table: Any,
                                          **values: Any) -> int:
        """Insert a row unless its primary key is taken; the number of rows inserted."""
        dialect = sqlite if connection.dialect.name == "sqlite" else postgresql
        statement = dialect.insert(table).values(**values).on_conflict_do_nothing()
        result = await connection.execute(statement)
        return int(result.rowcount or 0)

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
        """Wait for what is queued (the database is the gateway's: it closes it)."""
        if self._writer is not None:
            await self._writer


def _added(owner: str, period: str, amount: Amount, caps: Caps | None) -> Any:
    """Add `amount` to the row, only if the sum stays within `caps` (None: always)."""
    where: list[ColumnElement[bool]] = [_COUNTERS.c.owner == owner,
                                        _COUNTERS.c.period == period]
    if caps is not None and caps.max_nano_usd is not None:
        where.append(_COUNTERS.c.spent_nano_usd + amount.nano_usd <= caps.max_nano_usd)
    if caps is not None and caps.max_tokens is not None:
        where.append(_COUNTERS.c.spent_tokens + amount.tokens <= caps.max_tokens)
    return (
        update(_COUNTERS)
        .where(*where)
        .values(spent_nano_usd=_COUNTERS.c.spent_nano_usd + amount.nano_usd,
                spent_tokens=_COUNTERS.c.spent_tokens + amount.tokens,
                updated_at=time.time())
        .returning(_COUNTERS.c.spent_nano_usd, _COUNTERS.c.spent_tokens)
    )


async def _reserve_together(connection: AsyncConnection, owner: str, period: str,
                            caps: Caps | None, asking: list[_Reservation]) -> list[Reserved] | None:
    """All of `asking` granted by one UPDATE of their sum, each seeing the counter as it
    would stand just after its own; None when the sum would pass a cap."""
    total = _sum(reservation.amount for reservation in asking)
    row = (await connection.execute(_added(owner, period, total, caps))).first()
    if row is None:
        return None
    after = Amount(int(row[0]), int(row[1]))
    granted: list[Reserved] = []
    for reservation in reversed(asking):
        granted.append(Reserved(True, after))
        after = after - reservation.amount
    return granted[::-1]


async def _reserve_alone(connection: AsyncConnection, owner: str, period: str,
                         caps: Caps | None, amount: Amount) -> Reserved:
    row = (await connection.execute(_added(owner, period, amount, caps))).first()
    if row is None:
        return Reserved(False, await _current(connection, owner, period))
    return Reserved(True, Amount(int(row[0]), int(row[1])))


def _sum(amounts: Iterable[Amount]) -> Amount:
    total = Amount()
    for amount in amounts:
        total = total + amount
    return total


def _fail(operations: list[_Reservation | _Adjustment], error: BaseException) -> None:
    for operation in operations:
        if not operation.done.done():
            operation.done.set_exception(error)


def _retrieve(done: asyncio.Future[Amount]) -> None:
    """Log the error of a release nobody awaits (its caller left)."""
    if not done.cancelled() and done.exception() is not None:
        _log.warning("budget release failed", error=type(done.exception()).__name__)


async def _current(connection: AsyncConnection, owner: str, period: str) -> Amount:
    row = (await connection.execute(
        select(_COUNTERS.c.spent_nano_usd, _COUNTERS.c.spent_tokens)
        .where(_COUNTERS.c.owner == owner, _COUNTERS.c.period == period)
    )).first()
    return Amount(int(row[0]), int(row[1])) if row is not None else Amount()
