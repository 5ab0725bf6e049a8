"""The WebSocket chat protocol: every message is a JSON object with `type`, `id`,
`conversation_id` and `timestamp`, plus the fields of its type.

    client → server   user_message {content, model?, tools?}, typing_indicator {typing},
                      ping, pong
    server → clients  user_message {participant, content} (to the other participants),
                      agent_response_chunk {turn_id, index, text}, tool_call, tool_result,
                      agent_response_complete {turn_id, message, usage},
                      typing_indicator {participant, typing}, ping, pong, error {code, message}

Messages broadcast to a conversation also carry `sequence`, the same order for everyone.
Pure functions only: no I/O here.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from typing import Any

import orjson


class MessageType(StrEnum):
    USER_MESSAGE = "user_message"
    TYPING_INDICATOR = "typing_indicator"
    PING = "ping"
    PONG = "pong"
    AGENT_RESPONSE_CHUNK = "agent_response_chunk"
    TOOL_CALL = "tool_call"
    TOOL_RESULT = "tool_result"
    AGENT_RESPONSE_COMPLETE = "agent_response_complete"
    ERROR = "error"


class ErrorCode(StrEnum):
    BAD_MESSAGE = "bad_message"  # not JSON, unknown type, missing or wrong field
    BUSY = "busy"  # the turn queue is full: try again shortly
    TIMEOUT = "timeout"  # the turn ran past its time limit
    MODEL_NOT_FOUND = "model_not_found"
    NOT_FOUND = "not_found"  # e.g. a tool name the gateway does not know
    FORBIDDEN = "forbidden"  # e.g. a tool the key's policy denies
    UPSTREAM_ERROR = "upstream_error"
    INTERNAL_ERROR = "internal_error"


class CloseCode(IntEnum):
    NORMAL = 1000
    GOING_AWAY = 1001  # the gateway is shutting down
    MESSAGE_TOO_BIG = 1009
    UNAUTHORIZED = 4401  # missing or wrong API key
    IDLE = 4408  # silent longer than the idle timeout
    SLOW_CONSUMER = 4429  # fell behind: its send queue overflowed


AGENT = "agent"  # the participant name of the model's side


def now_iso() -> str:
    """UTC time with milliseconds, e.g. 2026-05-01T12:00:00.123Z."""
    moment = datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def envelope(kind: MessageType, conversation_id: str, **fields: Any) -> dict[str, Any]:
    """A server message: the common head plus its fields."""
    return {
        "type": kind.value,
        "id": f"evt_{uuid.uuid4().hex[:20]}",
        "conversation_id": conversation_id,
        "timestamp": now_iso(),
        **fields,
    }


def error_message(
    conversation_id: str, code: ErrorCode, message: str, **fields: Any
) -> dict[str, Any]:
    return envelope(MessageType.ERROR, conversation_id, code=code.value, message=message, **fields)


def encode(message: dict[str, Any]) -> str:
    return orjson.dumps(message).decode()


class ProtocolError(ValueError):
    """A client message that cannot be used; the text says why."""


@dataclass(slots=True)
class UserMessage:
    content: str
    id: str
    model: str | None = None
    tools: list[str] | None = None  # names of server tools the agent may call
    received: float = field(default_factory=time.time)


@dataclass(slots=True)
class TypingIndicator:
    typing: bool


@dataclass(slots=True)
class Ping:
    id: str


@dataclass(slots=True)
class Pong:
    pass


ClientMessage = UserMessage | TypingIndicator | Ping | Pong


def _client_id(data: dict[str, Any]) -> str:
    given = data.get("id")
    return given if isinstance(given, str) and 0 < len(given) <= 100 else f"msg_{uuid.uuid4().hex[:20]}"


def decode_client(text: str | bytes) -> ClientMessage:
    """One client frame → a typed message, or ProtocolError."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise ProtocolError("Messages must be JSON objects.") from None
    if not isinstance(data, dict):
        raise ProtocolError("Messages must be JSON objects.")
    kind = data.get("type")
    if kind == MessageType.USER_MESSAGE:
        return _user_message(data)
    if kind == MessageType.TYPING_INDICATOR:
        return TypingIndicator(typing=data.get("typing", True) is not False)
    if kind == MessageType.PING:
        return Ping(_client_id(data))
    if kind == MessageType.PONG:
        return Pong()
    raise ProtocolError(
        f"Unknown message type {kind!r}; expected user_message, typing_indicator, ping or pong."
    )


def _user_message(data: dict[str, Any]) -> UserMessage:
    content = data.get("content")
    if not isinstance(content, str) or not content.strip():
        raise ProtocolError("'content' must be a non-empty string.")
    model = data.get("model")
    if model is not None and (not isinstance(model, str) or not model):
        raise ProtocolError("'model' must be a non-empty string.")
    tools = data.get("tools")
    if tools is not None and (
        not isinstance(tools, list) or not all(isinstance(name, str) for name in tools)
    ):
        raise ProtocolError("'tools' must be a list of tool names.")
    return UserMessage(content=content, id=_client_id(data), model=model, tools=tools)
