"""One agent turn of a WebSocket conversation, run as a turn of the conversation's session.

A conversation IS a session, so the sessions API sees the same history and usage.
`/ws/chat/sess_…` joins that session; any other conversation id names a session of the
caller's tenant whose id is derived from it (created on the first message, with the
model of that message). The `tools` of any message become the session's gateway tools
from that turn on (the session's function tools are kept; `[]` takes the gateway tools
away; a message without `tools` keeps them): they go with the turn (`PostMessage.tools`),
so a turn that is refused changes nothing. The session's events (chunks, tool calls, tool
results, completion) are translated into the chat protocol and go through `emit`,
which the hub broadcasts to every participant.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from relaygate.agents.sessions.events import SessionEvent
from relaygate.agents.sessions.render import text_of
from relaygate.agents.sessions.requests import CreateSession, PostMessage
from relaygate.agents.sessions.service import SessionService
from relaygate.errors import InvalidRequest, NotFound
from relaygate.pipeline.auth import Principal
from relaygate.pipeline.call import Endpoint, Origin
from relaygate.realtime.protocol import MessageType

Emit = Callable[..., None]  # emit(MessageType, **fields)
SESSION_PREFIX = "sess_"


@dataclass(slots=True)
class TurnRequest:
    principal: Principal
    conversation_id: str
    turn_id: str
    content: str
    model: str | None = None
    tools: list[str] | None = None


def session_id_for(tenant: str, conversation_id: str) -> str:
    """The session a conversation is: its own id when it names one, else one per tenant."""
    if conversation_id.startswith(SESSION_PREFIX):
        return conversation_id
    digest = hashlib.sha256(f"{tenant}\0{conversation_id}".encode()).hexdigest()[:32]
    return SESSION_PREFIX + digest


class ConversationTurns:
    def __init__(self, sessions: SessionService, default_model: Callable[[], str]) -> None:
        self._sessions = sessions
        self._default_model = default_model

    async def session_for(self, request: TurnRequest) -> tuple[str, list[Any] | None]:
        """The conversation's session id, creating the session on first use, and the
        session's tools from this turn on when the message changes them."""
        tenant = request.principal.tenant
        session_id = session_id_for(tenant, request.conversation_id)
        try:
            row = await self._sessions.get(tenant, session_id, touch=False)
        except NotFound as missing:
            if missing.code != "session_not_found" or request.conversation_id == session_id:
                raise
            model = request.model or self._default_model()
            others = [name for name in self._sessions.registry.model_names() if name != model]
            try:
                body = CreateSession(
                    model=model,
                    tools=list(request.tools or []),
                    allowed_models=others,
                    metadata={"conversation_id": request.conversation_id, "source": "websocket"},
                )
            except ValidationError as exc:
                problem = exc.errors()[0]
                where = ".".join(str(part) for part in problem["loc"])
                raise InvalidRequest(f"Cannot start the conversation: {where}: {problem['msg']}",
                                     param=where) from None
            await self._sessions.create(tenant, body, session_id=session_id,
                                        principal=request.principal)
            return session_id, None
        if request.tools is None:
            return session_id, None
        names = list(dict.fromkeys(request.tools))
        current = list(row.tools or [])
        if [tool for tool in current if isinstance(tool, str)] == names:
            return session_id, None
        return session_id, [*names, *(tool for tool in current if not isinstance(tool, str))]

    async def run(self, request: TurnRequest, emit: Emit) -> None:
        """Post the user's message to the session and relay its events as they come."""
        session_id, tools = await self.session_for(request)
        body = PostMessage(content=request.content, model=request.model, stream=True, tools=tools)
        origin = Origin(request.principal, f"req_{uuid.uuid4().hex}", Endpoint.REALTIME)
        prepared = await self._sessions.prepare(origin, session_id, body)
        turn_id = request.turn_id

        async def listener(_event_id: str, event: SessionEvent, payload: dict[str, Any]) -> None:
            if event is SessionEvent.CHUNK:
                emit(MessageType.AGENT_RESPONSE_CHUNK, turn_id=turn_id,
                     index=payload.get("index", 0), text=payload.get("text", ""))
                await asyncio.sleep(0)  # let the peers' writers run between chunks of a burst
            elif event is SessionEvent.TOOL_CALL:
                emit(MessageType.TOOL_CALL, turn_id=turn_id, **_without_turn(payload))
            elif event is SessionEvent.TOOL_RESULT:
                emit(MessageType.TOOL_RESULT, turn_id=turn_id, **_without_turn(payload))
            elif event is SessionEvent.COMPLETED:
                message = payload.get("message") or {}
                emit(
                    MessageType.AGENT_RESPONSE_COMPLETE,
                    turn_id=turn_id,
                    session_id=session_id,
                    turn=payload.get("turn"),
                    message={"role": "assistant", "content": text_of(message.get("content"))},
                    finish_reason=payload.get("finish_reason"),
                    usage=payload.get("usage"),
                )
            # MESSAGE (the user's, already echoed) and ERROR (raised by the task) need nothing

        await self._sessions.start_turn(prepared, listener)


def _without_turn(payload: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in payload.items() if key not in ("turn", "type")}
