"""`SessionService`: the sessions API as one object, built with the gateway (its sweeper
started there, stopped on close) and used by every front (HTTP, WebSocket chat).

Posting messages lives in turns.py (`TurnRunner`); this module holds the rest: sessions,
history, context variables, expiry.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from relaygate.agents.sessions.events import SessionEvents
from relaygate.agents.sessions.lookup import live_session
from relaygate.agents.sessions.outcome import TurnResult
from relaygate.agents.sessions.repository import SessionRepository
from relaygate.agents.sessions.requests import CreateSession, PostMessage
from relaygate.agents.sessions.run_limits import RESERVED_METADATA, RunLimits
from relaygate.agents.sessions.template import check_template
from relaygate.agents.sessions.tool_choice import tool_list
from relaygate.agents.sessions.turns import Listener, PreparedTurn, TurnRunner
from relaygate.agents.sweeper import Sweeper
from relaygate.agents.tools.service import ToolService
from relaygate.config import SessionSettings, ToolLoopSettings
from relaygate.errors import Conflict, InvalidRequest, NotFound
from relaygate.pipeline.auth import Principal
from relaygate.pipeline.call import Origin
from relaygate.pipeline.chain import Pipeline
from relaygate.routing.registry import ModelRegistry
from relaygate.store.db import Database
from relaygate.store.sessions import SessionContextRow, SessionMessageRow, SessionRow
from relaygate.streaming.event_log import EventLog

MAX_KEY_LENGTH = 200
SWEEP_BATCH = 200


class SessionService:
    def __init__(
        self,
        settings: SessionSettings,
        registry: ModelRegistry,
        pipeline: Pipeline,
        database: Database,
        event_log: EventLog,
        *,
        tools: ToolService | None = None,
        loop: ToolLoopSettings | None = None,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.tools = tools
        self.repository = SessionRepository(database)
        self.events = SessionEvents(event_log)
        self.turns = TurnRunner(
            settings,
            registry,
            pipeline,
            self.repository,
            self.events,
            tools,
            loop or ToolLoopSettings(),
        )
        self.sweeper = Sweeper(
            "expired sessions",
            self.sweep,
            settings.sweep_interval_seconds,
            recoverable=(SQLAlchemyError, OSError),
        )
        self._drain_waiter: asyncio.Task[bool] | None = None

    def start(self) -> None:
        self.sweeper.start()

    async def close(self) -> None:
        """Stop the sweeper and any turn still running (it appends nothing)."""
        await self.sweeper.stop()
        await self.turns.close()
        if self._drain_waiter is not None:
            self._drain_waiter.cancel()

    def drain_waiter(self, draining: asyncio.Event) -> asyncio.Task[bool]:
        """One task shared by every live stream, done when the gateway starts draining."""
        if self._drain_waiter is None:
            self._drain_waiter = asyncio.create_task(draining.wait())
        return self._drain_waiter

    # --- sessions ---------------------------------------------------------------

    async def create(
        self,
        tenant: str,
        body: CreateSession,
        *,
        session_id: str | None = None,
        principal: Principal | None = None,
        limits: RunLimits | None = None,
    ) -> SessionRow:
        """A new session; `session_id` lets a front choose the id (409 if taken);
        `limits` are those of the run it is for (every turn of it runs under them)."""
        for key in RESERVED_METADATA:
            if key in body.metadata:
                raise InvalidRequest(
                    f"Invalid metadata key '{key}': it is reserved for the gateway "
                    "(a named agent's run limits).",
                    param=f"metadata.{key}",
                    code="invalid_value",
                )
        self.registry.resolve(body.model)
        for index, name in enumerate(body.allowed_models):
            try:
                self.registry.resolve(name)
            except NotFound as exc:
                exc.param = f"allowed_models[{index}]"
                raise
        tools = tool_list(body.tools)
        self.turns.toolbox(principal or Principal(tenant), tools, None)  # 404/403 on bad names
        check_template(body.system)
        ttl = body.ttl_seconds or self.settings.default_ttl_seconds
        if ttl > self.settings.max_ttl_seconds:
            raise InvalidRequest(
                f"Invalid value for 'ttl_seconds': at most {self.settings.max_ttl_seconds}.",
                param="ttl_seconds",
                code="invalid_value",
            )
        for key in body.context:
            _check_key(key)
        now = time.time()
        row = SessionRow(
            id=session_id or f"sess_{uuid.uuid4().hex}",
            tenant=tenant,
            status="active",
            model=body.model,
            allowed_models=body.allowed_models,
            system=body.system,
            tools=tools,
            metadata_={**body.metadata, **(limits.metadata() if limits else {})},
            max_context_tokens=body.max_context_tokens,
            max_output_tokens=body.max_output_tokens,
            ttl_seconds=ttl,
            created_at=now,
            updated_at=now,
            expires_at=now + ttl,
            message_count=0,
            turn_count=0,
            history_tokens=0,
            input_tokens=0,
            output_tokens=0,
            cached_tokens=0,
            cost_usd=None,
        )
        try:
            await self.repository.insert(row, body.context)
        except IntegrityError:
            raise Conflict(
                f"A session with id '{row.id}' already exists.", param="session_id"
            ) from None
        return row

    async def get(self, tenant: str, session_id: str, *, touch: bool = True) -> SessionRow:
        """A live session of `tenant` (404 if unknown, another tenant's, or expired);
        using it slides its expiry."""
        return await live_session(self.repository, tenant, session_id, touch=touch)

    async def page(
        self,
        tenant: str,
        *,
        limit: int,
        after: str | None,
        descending: bool,
        metadata: dict[str, str],
    ) -> tuple[list[SessionRow], bool]:
        cursor = None
        if after is not None:
            cursor = await self.repository.load(tenant, after)
            if cursor is None:
                raise InvalidRequest(
                    f"Invalid 'after': no session with id '{after}'.", param="after"
                )
        rows = await self.repository.page(tenant, time.time(), limit, cursor, descending, metadata)
        return rows[:limit], len(rows) > limit

    async def delete(self, tenant: str, session_id: str) -> None:
        await self.get(tenant, session_id, touch=False)
        async with self.turns.lock(session_id):
            await self.repository.delete(session_id)
            self.turns.changed(session_id)
        await self.events.end(session_id, "session_deleted", f"Session '{session_id}' was deleted.")
        if self.tools is not None:
            await self.tools.remove_workspace(tenant, session_id)

    async def history(
        self, tenant: str, session_id: str, *, after: int, limit: int, descending: bool
    ) -> tuple[list[SessionMessageRow], bool]:
        await self.get(tenant, session_id)
        rows = await self.repository.messages(session_id, after, limit + 1, descending)
        return rows[:limit], len(rows) > limit

    # --- turns ----------------------------------------------------------------------

    async def prepare(self, origin: Origin, session_id: str, body: PostMessage) -> PreparedTurn:
        """Check a posted message (nothing is appended when a check fails); `origin` says
        whose turn it is and which request started it."""
        return await self.turns.prepare(origin, session_id, body)

    def start_turn(
        self, prepared: PreparedTurn, listener: Listener | None = None
    ) -> asyncio.Task[TurnResult]:
        """Run a prepared turn in its own task; `listener` hears its events."""
        return self.turns.start(prepared, listener)

    async def post(self, origin: Origin, session_id: str, body: PostMessage) -> TurnResult:
        prepared = await self.prepare(origin, session_id, body)
        return await asyncio.shield(self.start_turn(prepared))

    # --- context variables --------------------------------------------------------

    async def context_items(self, tenant: str, session_id: str) -> list[SessionContextRow]:
        await self.get(tenant, session_id)
        return await self.repository.context_items(session_id)

    async def context_item(self, tenant: str, session_id: str, key: str) -> SessionContextRow:
        await self.get(tenant, session_id)
        row = await self.repository.context_item(session_id, key)
        if row is None:
            raise _no_key(session_id, key)
        return row

    async def put_context(self, tenant: str, session_id: str, key: str, value: Any) -> None:
        _check_key(key)
        await self.get(tenant, session_id)
        await self.repository.put_context(session_id, key, value, time.time())
        self.turns.changed(session_id)

    async def delete_context(self, tenant: str, session_id: str, key: str) -> None:
        await self.get(tenant, session_id)
        if not await self.repository.delete_context(session_id, key):
            raise _no_key(session_id, key)
        self.turns.changed(session_id)

    # --- expiry -------------------------------------------------------------------

    async def sweep(self) -> int:
        """Expire what is due (history dropped, the id kept to answer "expired"), end
        their streams, remove their workspaces, and forget old tombstones."""
        now = time.time()
        removed = 0
        while True:
            expired = await self.repository.expire_due(now, SWEEP_BATCH)
            for session_id, tenant in expired:
                await self.events.end(
                    session_id, "session_expired", f"Session '{session_id}' expired."
                )
                if self.tools is not None:
                    await self.tools.remove_workspace(tenant, session_id)
            removed += len(expired)
            if len(expired) < SWEEP_BATCH:
                break
        await self.repository.purge_expired(now - self.settings.tombstone_seconds)
        return removed


def _check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidRequest(
            f"Invalid context key: 1 to {MAX_KEY_LENGTH} characters.",
            param="key",
            code="invalid_value",
        )


def _no_key(session_id: str, key: str) -> NotFound:
    return NotFound(
        f"Session '{session_id}' has no context variable '{key}'.",
        param="key",
        code="context_key_not_found",
    )
