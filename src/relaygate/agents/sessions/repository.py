"""Store access for sessions: every query is one short transaction, tenant-scoped by the
caller (`load` takes the tenant). Writes that must not interleave (appending a turn) are
guarded by a conditional UPDATE on `message_count`, which also serialises writers across
several gateway instances.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from relaygate.store.db import Database
from relaygate.store.sessions import SessionContextRow, SessionMessageRow, SessionRow
from relaygate.types import Usage

ACTIVE = "active"
EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class UsageTotals:
    """Tokens and cost summed over several sessions (cost None: none had a price)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None


class _Overtaken(Exception):
    """Another writer appended to the session first (or it expired): roll back."""


@dataclass(slots=True)
class NewMessage:
    """A message about to be appended (encoded for the store)."""

    role: str
    content: list[dict[str, Any]]
    tokens: int
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None
    name: str | None = None
    reasoning: str | None = None
    usage: Usage | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class TurnCommit:
    """Everything one turn changes, applied atomically or not at all."""

    session_id: str
    expected_count: int  # message_count the turn was computed on
    turn: int
    messages: list[NewMessage]
    usage: Usage
    cost_usd: float | None
    now: float
    expires_at: float
    tools: list[Any] | None = None  # the session's tools from this turn on, when changed


class SessionRepository:
    def __init__(self, database: Database) -> None:
        self._db = database
        # SQLite has one writer at a time: queue our writes here rather than in its busy
        # handler, which sleeps in coarse steps under contention.
        self._write_lock = asyncio.Lock() if database.is_sqlite else None

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[None]:
        if self._write_lock is None:
            yield
            return
        async with self._write_lock:
            yield

    async def insert(self, row: SessionRow, context: dict[str, Any]) -> None:
        async with self._writing(), self._db.session() as db, db.begin():
            db.add(row)
            await db.flush()
            for key, value in context.items():
                db.add(
                    SessionContextRow(
                        session_id=row.id, key=key, value=value, updated_at=row.created_at
                    )
                )

    async def load(self, tenant: str, session_id: str) -> SessionRow | None:
        async with self._db.session() as db:
            row: SessionRow | None = await db.scalar(
                select(SessionRow).where(SessionRow.id == session_id, SessionRow.tenant == tenant)
            )
            return row

    async def touch(self, session_id: str, now: float, expires_at: float) -> None:
        """Slide the expiry of a live session (a no-op for one already expired)."""
        async with self._writing(), self._db.session() as db, db.begin():
            await db.execute(
                update(SessionRow)
                .where(
                    SessionRow.id == session_id,
                    SessionRow.status == ACTIVE,
                    SessionRow.expires_at > now,
                    SessionRow.expires_at < expires_at,
                )
                .values(expires_at=expires_at)
            )

    async def page(
        self,
        tenant: str,
        now: float,
        limit: int,
        after: SessionRow | None,
        descending: bool,
        metadata: dict[str, str],
    ) -> list[SessionRow]:
        """Live sessions of `tenant`, by creation time, `limit` + 1 rows (for has_more)."""
        query = select(SessionRow).where(
            SessionRow.tenant == tenant, SessionRow.status == ACTIVE, SessionRow.expires_at > now
        )
        for key, value in metadata.items():
            query = query.where(SessionRow.metadata_[key].as_string() == value)
        position = tuple_(SessionRow.created_at, SessionRow.id)
        if after is not None:
            cursor = tuple_(after.created_at, after.id)
            query = query.where(position < cursor if descending else position > cursor)
        if descending:
            query = query.order_by(SessionRow.created_at.desc(), SessionRow.id.desc())
        else:
            query = query.order_by(SessionRow.created_at, SessionRow.id)
        async with self._db.session() as db:
            return list(await db.scalars(query.limit(limit + 1)))

    async def tree_usage(
        self, tenant: str, session_id: str, parent_key: str, now: float
    ) -> UsageTotals:
        """The usage of a session and of every live session below it (those whose
        metadata `parent_key` names it, all the way down), in one query: a recursive CTE,
        whose UNION (not UNION ALL) ends even on a cycle of ids."""
        tree = (
            select(SessionRow.id)
            .where(SessionRow.id == session_id, SessionRow.tenant == tenant)
            .cte("run_tree", recursive=True)
        )
        below = aliased(SessionRow)
        tree = tree.union(
            select(below.id)
            .join(tree, below.metadata_[parent_key].as_string() == tree.c.id)
            .where(below.tenant == tenant, below.status == ACTIVE, below.expires_at > now)
        )
        query = select(
            func.coalesce(func.sum(SessionRow.input_tokens), 0),
            func.coalesce(func.sum(SessionRow.output_tokens), 0),
            func.sum(SessionRow.cost_usd),
        ).join(tree, SessionRow.id == tree.c.id)
        async with self._db.session() as db:
            input_tokens, output_tokens, cost = (await db.execute(query)).one()
        return UsageTotals(
            int(input_tokens), int(output_tokens), None if cost is None else float(cost)
        )

    async def delete(self, session_id: str) -> None:
        async with self._writing(), self._db.session() as db, db.begin():
            await _delete_children(db, [session_id])
            await db.execute(delete(SessionRow).where(SessionRow.id == session_id))

    async def recent(
        self, session_id: str, before: int | None, limit: int
    ) -> list[SessionMessageRow]:
        """Up to `limit` messages older than seq `before` (or the newest), newest first."""
        query = select(SessionMessageRow).where(SessionMessageRow.session_id == session_id)
        if before is not None:
            query = query.where(SessionMessageRow.seq < before)
        query = query.order_by(SessionMessageRow.seq.desc()).limit(limit)
        async with self._db.session() as db:
            return list(await db.scalars(query))

    async def messages(
        self, session_id: str, after: int, limit: int | None = None, descending: bool = False
    ) -> list[SessionMessageRow]:
        """Messages past `after` in seq order (before it when descending)."""
        query = select(SessionMessageRow).where(SessionMessageRow.session_id == session_id)
        if descending:
            if after > 0:
                query = query.where(SessionMessageRow.seq < after)
            query = query.order_by(SessionMessageRow.seq.desc())
        else:
            query = query.where(SessionMessageRow.seq > after).order_by(SessionMessageRow.seq)
        if limit is not None:
            query = query.limit(limit)
        async with self._db.session() as db:
            return list(await db.scalars(query))

    async def append_turn(self, commit: TurnCommit) -> list[SessionMessageRow] | None:
        """Append the turn's messages and usage: the rows, or None if another writer got
        there first (nothing appended)."""
        count = len(commit.messages)
        tokens = sum(message.tokens for message in commit.messages)
        usage = commit.usage
        values: dict[str, Any] = {
            "message_count": SessionRow.message_count + count,
            "turn_count": SessionRow.turn_count + 1,
            "history_tokens": SessionRow.history_tokens + tokens,
            "input_tokens": SessionRow.input_tokens + usage.input_tokens,
            "output_tokens": SessionRow.output_tokens + usage.output_tokens,
            "cached_tokens": SessionRow.cached_tokens + usage.cached_tokens,
            "updated_at": commit.now,
            "expires_at": commit.expires_at,
        }
        if commit.tools is not None:
            values["tools"] = commit.tools
        if commit.cost_usd is not None:
            values["cost_usd"] = func.coalesce(SessionRow.cost_usd, 0.0) + commit.cost_usd
        rows = [
            _row(commit, commit.expected_count + offset, message)
            for offset, message in enumerate(commit.messages, start=1)
        ]
        # Core statements on one connection: the ORM's unit of work costs more CPU than
        # the two statements themselves (see bench/README.md, Sessions)
        async with self._writing(), self._db.engine.connect() as connection:
            try:
                async with connection.begin():
                    # the UPDATE comes first: it takes the write lock before anything is read
                    result = await connection.execute(
                        update(SessionRow)
                        .where(
                            SessionRow.id == commit.session_id,
                            SessionRow.status == ACTIVE,
                            SessionRow.message_count == commit.expected_count,
                        )
                        .values(**values)
                    )
                    if result.rowcount != 1:
                        raise _Overtaken
                    await connection.execute(
                        insert(SessionMessageRow), [_columns(row) for row in rows]
                    )
            except (_Overtaken, IntegrityError):
                return None
        return rows

    async def context_items(self, session_id: str) -> list[SessionContextRow]:
        query = (
            select(SessionContextRow)
            .where(SessionContextRow.session_id == session_id)
            .order_by(SessionContextRow.key)
        )
        async with self._db.session() as db:
            return list(await db.scalars(query))

    async def context_item(self, session_id: str, key: str) -> SessionContextRow | None:
        async with self._db.session() as db:
            row: SessionContextRow | None = await db.get(SessionContextRow, (session_id, key))
            return row

    async def put_context(self, session_id: str, key: str, value: Any, now: float) -> None:
        async with self._writing(), self._db.session() as db, db.begin():
            row = await db.get(SessionContextRow, (session_id, key))
            if row is None:
                db.add(
                    SessionContextRow(session_id=session_id, key=key, value=value, updated_at=now)
                )
            else:
                row.value, row.updated_at = value, now

    async def delete_context(self, session_id: str, key: str) -> bool:
        async with self._writing(), self._db.session() as db, db.begin():
            result = await db.execute(
                delete(SessionContextRow).where(
                    SessionContextRow.session_id == session_id, SessionContextRow.key == key
                )
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def expire_due(self, now: float, batch: int = 200) -> list[tuple[str, str]]:
        """Mark sessions past their expiry as expired, dropping their history; their ids
        and tenants."""
        async with self._db.session() as db:
            due = list(
                await db.execute(
                    select(SessionRow.id, SessionRow.tenant)
                    .where(SessionRow.status == ACTIVE, SessionRow.expires_at <= now)
                    .limit(batch)
                )
            )
        expired = []
        for session_id, tenant in due:
            async with self._writing(), self._db.session() as db, db.begin():
                result = await db.execute(
                    update(SessionRow)
                    .where(
                        SessionRow.id == session_id,
                        SessionRow.status == ACTIVE,
                        SessionRow.expires_at <= now,
                    )
                    .values(status=EXPIRED, updated_at=now)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    await _delete_children(db, [session_id])
                    expired.append((session_id, tenant))
        return expired

    async def purge_expired(self, before: float) -> int:
        """Forget expired sessions whose tombstone is older than `before`."""
        async with self._writing(), self._db.session() as db, db.begin():
            result = await db.execute(
                delete(SessionRow).where(
                    SessionRow.status == EXPIRED, SessionRow.expires_at < before
                )
            )
            return int(result.rowcount)  # type: ignore[attr-defined]


async def _delete_children(db: Any, session_ids: list[str]) -> None:
    await db.execute(delete(SessionMessageRow).where(SessionMessageRow.session_id.in_(session_ids)))
    await db.execute(delete(SessionContextRow).where(SessionContextRow.session_id.in_(session_ids)))


_MESSAGE_COLUMNS = [  # (attribute, column) of every column the INSERT sets
    (attribute.key, attribute.columns[0].name)
    for attribute in SessionMessageRow.__mapper__.column_attrs
    if attribute.key != "row_id"
]


def _columns(row: SessionMessageRow) -> dict[str, Any]:
    """An unsaved row as the parameters of a Core INSERT."""
    return {column: getattr(row, attribute) for attribute, column in _MESSAGE_COLUMNS}


def _row(commit: TurnCommit, seq: int, message: NewMessage) -> SessionMessageRow:
    usage = message.usage or Usage()
    return SessionMessageRow(
        session_id=commit.session_id,
        seq=seq,
        turn=commit.turn,
        role=message.role,
        content=message.content,
        tool_calls=message.tool_calls,
        tool_call_id=message.tool_call_id,
        name=message.name,
        reasoning=message.reasoning,
        tokens=message.tokens,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cached_tokens=usage.cached_tokens,
        metadata_=message.metadata,
        created_at=commit.now,
    )
