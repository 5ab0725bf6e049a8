"""The mailbox service: send, receive after a cursor (optionally waiting), acknowledge.

Delivery is at least once: a message is returned by every read until its recipient
acknowledges it, by id or by cursor (`up_to`). Acknowledging by cursor only covers
messages that were actually handed out, so a message committed late with a smaller
sequence number is never acknowledged unseen. Readers that wait are woken through the
bus (topic `mailbox:<tenant>:<agent>`) and re-check the table every `poll_seconds`,
which also covers writers on other gateway instances without a shared bus.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import func, select, update

from relaygate.store.agent_messages import AgentMessageRow
from relaygate.store.db import Database
from relaygate.streaming.bus import Bus


@dataclass(frozen=True, slots=True)
class AgentMessage:
    id: str
    sequence: int
    from_agent: str
    to_agent: str
    conversation_id: str | None
    content: Any
    metadata: dict[str, Any]
    created_at: float
    delivery_count: int
    acknowledged: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "agent.message",
            "sequence": self.sequence,
            "from_agent": self.from_agent,
            "to_agent": self.to_agent,
            "conversation_id": self.conversation_id,
            "content": self.content,
            "metadata": self.metadata,
            "created_at": int(self.created_at),
            "delivery_count": self.delivery_count,
            "acknowledged": self.acknowledged,
        }


def _message(row: AgentMessageRow) -> AgentMessage:
    return AgentMessage(
        id=row.id,
        sequence=row.sequence,
        from_agent=row.from_agent,
        to_agent=row.to_agent,
        conversation_id=row.conversation_id,
        content=row.content,
        metadata=dict(row.metadata_ or {}),
        created_at=row.created_at,
        delivery_count=row.delivery_count,
        acknowledged=row.acked_at is not None,
    )


def _topic(tenant: str, agent_id: str) -> str:
    return f"mailbox:{tenant}:{agent_id}"


class _Wakeups:
    """Set when the bus says the mailbox changed; lives while subscribed."""

    def __init__(self, messages: AsyncIterator[dict[str, Any]]) -> None:
        self.changed = asyncio.Event()
        self._task = asyncio.create_task(self._pump(messages))

    async def _pump(self, messages: AsyncIterator[dict[str, Any]]) -> None:
        async for _ in messages:
            self.changed.set()

    async def wait(self, seconds: float, stop: asyncio.Event | None) -> None:
        """Until a wake-up, `stop`, or `seconds` pass; whichever is first."""
        waits = [asyncio.ensure_future(self.changed.wait())]
        if stop is not None:
            waits.append(asyncio.ensure_future(stop.wait()))
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waits:
                waiter.cancel()
        self.changed.clear()

    async def close(self) -> None:
        self._task.cancel()
        with suppress(asyncio.CancelledError):
            await self._task


class Mailbox:
    def __init__(self, database: Database, bus: Bus, poll_seconds: float = 1.0) -> None:
        self._database = database
        self._bus = bus
        self._poll = poll_seconds

    async def send(
        self,
        tenant: str,
        from_agent: str,
        to_agent: str,
        content: Any,
        conversation_id: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> AgentMessage:
        """Store the message durably, then wake the recipient's readers."""
        row = AgentMessageRow(
            id=f"amsg_{uuid.uuid4().hex}",
            tenant=tenant,
            from_agent=from_agent,
            to_agent=to_agent,
            conversation_id=conversation_id,
            content=content,
            metadata_=metadata or {},
            created_at=time.time(),
            delivery_count=0,
        )
        async with self._database.session() as session, session.begin():
            session.add(row)
        await self._bus.publish(_topic(tenant, to_agent), {"sequence": row.sequence})
        return _message(row)

    async def _take(
        self, tenant: str, agent_id: str, after: int, limit: int
    ) -> list[AgentMessage]:
        """Unacknowledged messages after the cursor, marked as handed out."""
        async with self._database.session() as session, session.begin():
            rows = (
                await session.scalars(
                    select(AgentMessageRow)
                    .where(
                        AgentMessageRow.tenant == tenant,
                        AgentMessageRow.to_agent == agent_id,
                        AgentMessageRow.acked_at.is_(None),
                        AgentMessageRow.sequence > after,
                    )
                    .order_by(AgentMessageRow.sequence)
                    .limit(limit)
                )
            ).all()
            if rows:
                now = time.time()
                await session.execute(
                    update(AgentMessageRow)
                    .where(AgentMessageRow.sequence.in_([row.sequence for row in rows]))
                    .values(
                        delivered_at=func.coalesce(AgentMessageRow.delivered_at, now),
                        delivery_count=AgentMessageRow.delivery_count + 1,
                    )
                    .execution_options(synchronize_session=False)
                )
            return [
                replace(_message(row), delivery_count=row.delivery_count + 1) for row in rows
            ]

    async def receive(
        self,
        tenant: str,
        agent_id: str,
        *,
        after: int = 0,
        limit: int = 100,
        wait: float = 0.0,
        stop: asyncio.Event | None = None,
    ) -> list[AgentMessage]:
        """Messages after `after`; with `wait`, hold the call until one arrives (or time's up)."""
        found = await self._take(tenant, agent_id, after, limit)
        if found or wait <= 0:
            return found
        deadline = time.monotonic() + wait
        async with self._bus.subscribe(_topic(tenant, agent_id)) as messages:
            wakeups = _Wakeups(messages)
            try:
                while True:
                    found = await self._take(tenant, agent_id, after, limit)
                    remaining = deadline - time.monotonic()
                    if found or remaining <= 0 or (stop is not None and stop.is_set()):
                        return found
                    await wakeups.wait(min(remaining, self._poll), stop)
            finally:
                await wakeups.close()

    async def follow(
        self, tenant: str, agent_id: str, *, after: int = 0, stop: asyncio.Event | None = None
    ) -> AsyncIterator[AgentMessage]:
        """Every message after `after`, then new ones as they come, until `stop`."""
        cursor = after
        async with self._bus.subscribe(_topic(tenant, agent_id)) as messages:
            wakeups = _Wakeups(messages)
            try:
                while stop is None or not stop.is_set():
                    found = await self._take(tenant, agent_id, cursor, 100)
                    for message in found:
                        cursor = message.sequence
                        yield message
                    if not found:
                        await wakeups.wait(self._poll, stop)
            finally:
                await wakeups.close()

    async def acknowledge(
        self,
        tenant: str,
        agent_id: str,
        *,
        ids: Sequence[str] = (),
        up_to: int | None = None,
    ) -> int:
        """Mark messages done (by id, or every handed-out one up to a cursor); returns how many."""
        if not ids and up_to is None:
            return 0
        conditions = [
            AgentMessageRow.tenant == tenant,
            AgentMessageRow.to_agent == agent_id,
            AgentMessageRow.acked_at.is_(None),
        ]
        if ids:
            conditions.append(AgentMessageRow.id.in_(list(ids)))
        if up_to is not None:
            conditions += [
                AgentMessageRow.sequence <= up_to,
                AgentMessageRow.delivered_at.is_not(None),
            ]
        async with self._database.session() as session, session.begin():
            result = await session.execute(
                update(AgentMessageRow)
                .where(*conditions)
                .values(acked_at=time.time())
                .execution_options(synchronize_session=False)
            )
        count: int = result.rowcount  # type: ignore[attr-defined]
        return count
