"""`GET /api/sessions/{id}/stream`: everything that happens in a session, as Server-Sent
Events read from the session's event log.

Every event has an `id:`; the first frame carries a `retry:` hint and the `message`
welcome; idle streams get a `: keep-alive` comment every `sessions.keepalive_seconds`;
a client reconnecting with `Last-Event-ID` (header, or `?last_event_id=`) is replayed what
it missed. The stream ends when the session is deleted or expires (an `error` event says
which) and when the gateway shuts down.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from relaygate.agents.sessions.events import SessionEvent
from relaygate.agents.sessions.outcome import TurnResult
from relaygate.agents.sessions.service import SessionService
from relaygate.agents.sessions.turns import PreparedTurn
from relaygate.fronts.common import authenticate, context_of, gateway_of
from relaygate.streaming.event_log import LoggedEvent
from relaygate.streaming.sse import event_frame

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
KEEPALIVE = b": keep-alive\n\n"
_TURN_END = (SessionEvent.COMPLETED, SessionEvent.ERROR)


def live_turn(
    service: SessionService, prepared: PreparedTurn, first: bytes = b"",
    headers: dict[str, str] | None = None,
) -> StreamingResponse:
    """Start a turn and answer with its events as SSE, `first` before them, until its last
    event (the turn goes on if the client leaves)."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    if first:
        queue.put_nowait(first)

    async def listener(event_id: str, event: SessionEvent, payload: dict[str, Any]) -> None:
        queue.put_nowait(event_frame(event.value, payload, event_id))
        if event in _TURN_END:
            queue.put_nowait(b"")

    def finished(task: asyncio.Task[TurnResult]) -> None:
        if not task.cancelled():
            task.exception()  # reported to the client as an `error` event already
        queue.put_nowait(b"")

    service.start_turn(prepared, listener).add_done_callback(finished)
    return StreamingResponse(_until_end(queue), media_type="text/event-stream",
                             headers={**SSE_HEADERS, **(headers or {})})


async def _until_end(queue: asyncio.Queue[bytes]) -> AsyncIterator[bytes]:
    while True:
        frame = await queue.get()
        if not frame:
            return
        yield frame


async def stream_session(request: Request) -> Response:
    gateway = gateway_of(request)
    principal = await authenticate(request, gateway, context_of(request))
    service = (await gateway.agents()).sessions
    session_id = request.path_params["session_id"]
    row = await service.get(principal.tenant, session_id)
    last_event_id = request.headers.get("last-event-id") or request.query_params.get(
        "last_event_id"
    )
    resume = service.events.resume_after(last_event_id)
    position = await service.events.position(session_id)
    welcome = {
        "type": "welcome",
        "session_id": session_id,
        "model": row.model,
        "message_count": row.message_count,
        "expires_at": round(row.expires_at, 3),
        "resumed": resume is not None,
    }
    # the welcome's id is where this stream starts: on a resume, what the client had (the
    # replay follows it), so a client that drops right after the welcome misses nothing
    after = position if resume is None else min(resume, position)
    first = f"retry: {service.settings.retry_ms}\n".encode() + event_frame(
        SessionEvent.MESSAGE.value, welcome, service.events.event_id(after)
    )
    drained = service.drain_waiter(gateway.draining)
    return StreamingResponse(
        _frames(service, session_id, first, after, drained),
        media_type="text/event-stream",
        headers=SSE_HEADERS,
    )


async def _next(events: AsyncIterator[LoggedEvent]) -> LoggedEvent:
    return await anext(events)


async def _frames(
    service: SessionService,
    session_id: str,
    first: bytes,
    after: int,
    drained: asyncio.Future[Any],
) -> AsyncIterator[bytes]:
    yield first
    events = service.events.follow(session_id, after)
    keepalive = service.settings.keepalive_seconds
    pending: asyncio.Task[LoggedEvent] | None = None
    delivered = after
    try:
        while True:
            if pending is None:
                pending = asyncio.create_task(_next(events))
            waiting: set[asyncio.Future[Any]] = {pending, drained}
            done, _ = await asyncio.wait(
                waiting, timeout=keepalive, return_when=asyncio.FIRST_COMPLETED
            )
            if pending in done:
                task, pending = pending, None
                try:
                    event = task.result()
                except StopAsyncIteration:
                    return  # the session was deleted or expired: its log is closed
                delivered = event.sequence
                yield event_frame(
                    str(event.data["event"]),
                    event.data["data"],
                    service.events.event_id(event.sequence),
                )
            elif drained in done:
                yield event_frame(
                    SessionEvent.ERROR.value,
                    {
                        "error": {
                            "message": "The gateway is shutting down.",
                            "type": "server_shutdown",
                            "param": None,
                            "code": "server_shutdown",
                        }
                    },
                    service.events.event_id(delivered),
                )
                return
            else:
                yield KEEPALIVE
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await pending
        if isinstance(events, AsyncGenerator):
            await events.aclose()
