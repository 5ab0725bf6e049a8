"""Agent-to-agent messages over HTTP.

    POST /v1/agents/messages                    send {from_agent, to_agent, content, ...};
                                                with `a2a: true` also hand it to the named
                                                agent `to_agent` as an A2A task (its answer
                                                comes back to from_agent's mailbox)
    GET  /v1/agents/{agent_id}/messages         unacknowledged messages after ?after=,
                                                ?wait=N holds the call until one arrives
    GET  /v1/agents/{agent_id}/messages/stream  the same as Server-Sent Events (id = sequence)
    POST /v1/agents/{agent_id}/messages/ack     {ids: [...]} or {up_to: <sequence>}
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from relaygate.agents.messages import AgentMessage, Mailbox
from relaygate.errors import InvalidRequest
from relaygate.fronts.common import authenticate, context_of, gateway_of, read_json_object
from relaygate.lazy_import import load_with
from relaygate.pipeline.call import Endpoint, Origin
from relaygate.streaming.sse import event_frame

if TYPE_CHECKING:
    from relaygate.a2a.server import A2AServer

MAX_WAIT_SECONDS = 60.0
MAX_LIMIT = 1000
AGENT_ID_MAX = 200
MAX_SEQUENCE = 2**63 - 1  # the column is a 64-bit integer

HandToTask = Callable[["A2AServer", Mailbox, Origin, AgentMessage], Awaitable[dict[str, Any]]]


def _hand_to_task() -> HandToTask:
    """The mailbox's A2A hand-off; importing it imports the a2a-sdk (in load_with's thread)."""
    from relaygate.a2a.handoff import hand_to_task

    return hand_to_task
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _agent_id(value: Any, param: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"'{param}' must be a non-empty string.", param=param)
    if len(value) > AGENT_ID_MAX:
        raise InvalidRequest(f"'{param}' is longer than {AGENT_ID_MAX} characters.", param=param)
    if "\x00" in value:  # PostgreSQL text cannot hold it
        raise InvalidRequest(f"'{param}' must not contain NUL characters.", param=param)
    return value


def _number(request: Request, name: str, default: float, low: float, high: float) -> float:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InvalidRequest(f"'{name}' must be a number.", param=name) from None
    if not low <= value <= high:
        raise InvalidRequest(f"'{name}' must be between {low:g} and {high:g}.", param=name)
    return value


def _cursor(request: Request) -> int:
    raw = request.query_params.get("after") or request.headers.get("last-event-id") or "0"
    if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_SEQUENCE:
        raise InvalidRequest("'after' must be a message sequence number.", param="after")
    return int(raw)


async def _mailbox(request: Request) -> tuple[Mailbox, str]:
    gateway = gateway_of(request)
    principal = await authenticate(request, gateway, context_of(request))
    return (await gateway.agents()).mailbox, principal.tenant


async def send_message(request: Request) -> Response:
    gateway = gateway_of(request)
    context = context_of(request)
    principal = await authenticate(request, gateway, context)
    services = await gateway.agents()
    mailbox, tenant = services.mailbox, principal.tenant
    _, body = await read_json_object(request, gateway)
    if "content" not in body or body["content"] is None:
        raise InvalidRequest("Missing required parameter: 'content'.", param="content")
    as_task = body.get("a2a", False)
    if not isinstance(as_task, bool):
        raise InvalidRequest("'a2a' must be a boolean.", param="a2a")
    conversation_id = body.get("conversation_id")
    if conversation_id is not None:
        conversation_id = _agent_id(conversation_id, "conversation_id")
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise InvalidRequest("'metadata' must be an object.", param="metadata")
    if as_task:  # the recipient must be a named agent this tenant may run (404 otherwise)
        await services.agents.get(_agent_id(body.get("to_agent"), "to_agent"), tenant)
    message = await mailbox.send(
        tenant,
        _agent_id(body.get("from_agent"), "from_agent"),
        _agent_id(body.get("to_agent"), "to_agent"),
        body["content"],
        conversation_id=conversation_id,
        metadata=metadata,
    )
    shown = message.to_json()
    if as_task:
        hand_to_task = await load_with(_hand_to_task)  # the a2a-sdk, loaded when first used
        origin = Origin(principal, context.request_id, Endpoint.SESSION, context)
        shown["task"] = await hand_to_task(await services.a2a.server(), mailbox, origin, message)
    return JSONResponse(shown, status_code=201)


async def _client_gone(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


@asynccontextmanager
async def _stop_signal(request: Request) -> AsyncIterator[asyncio.Event]:
    """An event set when the gateway drains or the client goes away, so that a long-poll
    nobody waits for any more stops (and takes no message that nobody would receive)."""
    stop = asyncio.Event()
    waits = [asyncio.ensure_future(_client_gone(request)),
             asyncio.ensure_future(gateway_of(request).draining.wait())]

    async def watch() -> None:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        stop.set()

    watcher = asyncio.create_task(watch())
    try:
        yield stop
    finally:
        for task in (watcher, *waits):
            task.cancel()
        await asyncio.gather(watcher, *waits, return_exceptions=True)


async def list_messages(request: Request) -> Response:
    mailbox, tenant = await _mailbox(request)
    agent_id = _agent_id(request.path_params["agent_id"], "agent_id")
    after = _cursor(request)
    limit = int(_number(request, "limit", 100, 1, MAX_LIMIT))
    wait = _number(request, "wait", 0.0, 0.0, MAX_WAIT_SECONDS)
    async with _stop_signal(request) as stop:
        messages = await mailbox.receive(
            tenant, agent_id, after=after, limit=limit, wait=wait, stop=stop
        )
    return JSONResponse(
        {
            "object": "list",
            "data": [message.to_json() for message in messages],
            "next_cursor": messages[-1].sequence if messages else after,
            "has_more": len(messages) == limit,
        }
    )


async def stream_messages(request: Request) -> Response:
    mailbox, tenant = await _mailbox(request)
    agent_id = _agent_id(request.path_params["agent_id"], "agent_id")
    messages = mailbox.follow(
        tenant, agent_id, after=_cursor(request), stop=gateway_of(request).draining
    )
    return StreamingResponse(_frames(messages), media_type="text/event-stream", headers=SSE_HEADERS)


async def _frames(messages: AsyncIterator[AgentMessage]) -> AsyncIterator[bytes]:
    yield b": connected\n\n"
    async for message in messages:
        yield event_frame("agent.message", message.to_json(), message.sequence)


async def acknowledge(request: Request) -> Response:
    mailbox, tenant = await _mailbox(request)
    agent_id = _agent_id(request.path_params["agent_id"], "agent_id")
    _, body = await read_json_object(request, gateway_of(request))
    ids = body.get("ids", [])
    up_to = body.get("up_to")
    if not isinstance(ids, list) or not all(isinstance(item, str) for item in ids):
        raise InvalidRequest("'ids' must be a list of message ids.", param="ids")
    if up_to is not None and (
        not isinstance(up_to, int) or isinstance(up_to, bool) or not 0 <= up_to <= MAX_SEQUENCE
    ):
        raise InvalidRequest("'up_to' must be a message sequence number.", param="up_to")
    if not ids and up_to is None:
        raise InvalidRequest("Give 'ids' or 'up_to' to say which messages are done.")
    count = await mailbox.acknowledge(tenant, agent_id, ids=ids, up_to=up_to)
    return JSONResponse({"object": "agent.messages.ack", "acknowledged": count})
