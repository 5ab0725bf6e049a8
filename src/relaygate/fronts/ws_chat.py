"""`GET /ws/chat/{conversation_id}` (WebSocket) and `GET /health/ws`.

Authentication uses the same keys as HTTP (header, or `?api_key=` for browsers); a
missing or wrong key is accepted and closed at once with 4401 so the client can see why.
`?participant=` names the connection in what the others receive.
"""

from __future__ import annotations

import asyncio
import re
import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from relaygate.errors import GatewayError
from relaygate.pipeline.auth import Principal
from relaygate.realtime.hub import Peer
from relaygate.realtime.protocol import (
    AGENT,
    CloseCode,
    ErrorCode,
    MessageType,
    Ping,
    ProtocolError,
    TypingIndicator,
    UserMessage,
    decode_client,
    envelope,
    error_message,
)
from relaygate.realtime.service import Realtime
from relaygate.services import Gateway

CONVERSATION_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


def _participant(websocket: WebSocket) -> str:
    """The name the client asked for; a generated one if none, or if it is the agent's."""
    name = websocket.query_params.get("participant", "")[:64].strip()
    if not name or name.casefold() == AGENT:
        return f"user-{uuid.uuid4().hex[:6]}"
    return name


async def chat_socket(websocket: WebSocket) -> None:
    gateway: Gateway = websocket.app.state.gateway
    conversation_id = websocket.path_params["conversation_id"]
    query_key = websocket.query_params.get("api_key") or websocket.query_params.get("key")
    try:
        principal = await gateway.authenticate(
            websocket.headers, query_key, websocket.url.path, "GET"
        )
    except GatewayError as exc:
        await websocket.accept()
        await websocket.close(CloseCode.UNAUTHORIZED, exc.message[:120])
        return
    if not CONVERSATION_ID.fullmatch(conversation_id):
        await websocket.accept()
        await websocket.close(1008, "conversation ids are 1-128 of A-Z a-z 0-9 _ . : -")
        return
    realtime = (await gateway.agents()).realtime
    # the room hears every instance before the client learns it is connected
    await realtime.hub.open_room((principal.tenant, conversation_id))
    await websocket.accept()

    async def send(text: str) -> None:
        try:
            await websocket.send_text(text)
        except WebSocketDisconnect as exc:
            raise ConnectionResetError(exc.code) from exc

    async def close(code: int, reason: str) -> None:
        try:
            await websocket.close(code, reason)
        except WebSocketDisconnect as exc:
            raise ConnectionResetError(exc.code) from exc

    peer = realtime.hub.peer((principal.tenant, conversation_id), _participant(websocket),
                             send, close)
    await realtime.hub.attach(peer)
    try:
        await _receive_loop(websocket, realtime, peer, principal)
    finally:
        await realtime.hub.detach(peer)


async def _receive_loop(
    websocket: WebSocket, realtime: Realtime, peer: Peer, principal: Principal
) -> None:
    limit = realtime.settings.max_message_bytes
    while peer.closed is None:
        event = await websocket.receive()
        if event["type"] == "websocket.disconnect":
            return
        peer.heard()
        raw = event.get("text") or event.get("bytes") or ""
        if len(raw) > limit:
            realtime.hub.drop(peer, CloseCode.MESSAGE_TOO_BIG, f"messages are limited to {limit} bytes")
            return
        try:
            message = decode_client(raw)
        except ProtocolError as exc:
            realtime.hub.send(peer, error_message(peer.conversation_id, ErrorCode.BAD_MESSAGE,
                                                  str(exc)))
            continue
        if isinstance(message, UserMessage):
            realtime.user_message(peer, principal, message)
        elif isinstance(message, TypingIndicator):
            realtime.hub.broadcast(
                peer.key,
                envelope(MessageType.TYPING_INDICATOR, peer.conversation_id,
                         participant=peer.participant, typing=message.typing),
                exclude=peer,
            )
        elif isinstance(message, Ping):
            realtime.hub.send(peer, envelope(MessageType.PONG, peer.conversation_id,
                                             reply_to=message.id))
        # a burst of messages already received would otherwise be handled in one go,
        # filling the others' send queues before their writers run: let them run
        await asyncio.sleep(0)


async def health_ws(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    realtime = (await gateway.agents()).realtime
    return JSONResponse({"status": "ok", **realtime.stats()})
