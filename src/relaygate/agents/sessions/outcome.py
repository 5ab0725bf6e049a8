"""What a turn appends (its messages encoded for the store) and the JSON that tells it:
the `message.completed` event (also the body of a non-streamed turn) and the `error`
event (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from relaygate.agents.sessions.codec import encode_part, encode_tool_calls
from relaygate.agents.sessions.render import message_json
from relaygate.agents.sessions.repository import NewMessage
from relaygate.agents.sessions.turn import Produced
from relaygate.errors import GatewayError
from relaygate.store.sessions import SessionMessageRow, SessionRow
from relaygate.tokens.tokenizer import count_message
from relaygate.types import FinishReason, Usage


@dataclass(slots=True)
class TurnResult:
    session: SessionRow
    turn: int
    messages: list[SessionMessageRow]  # what was appended, the user message first
    usage: Usage
    cost_usd: float | None
    finish_reason: FinishReason
    context: dict[str, Any]


def completed_payload(result: TurnResult) -> dict[str, Any]:
    """The `message.completed` event, and the body of a non-streamed turn."""
    return {
        "object": "session.turn",
        "session_id": result.session.id,
        "turn": result.turn,
        "message": message_json(result.messages[-1]),
        "messages": [message_json(row) for row in result.messages],
        "finish_reason": result.finish_reason.value,
        "usage": usage_json(result.usage),
        "cost_usd": result.cost_usd,
        "context": result.context,
    }


def usage_json(usage: Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cached_tokens": usage.cached_tokens,
        "total_tokens": usage.total_tokens,
        "source": usage.source.value,
    }


def error_payload(error: GatewayError) -> dict[str, Any]:
    return {
        "message": error.message,
        "type": error.type,
        "param": error.param,
        "code": error.code,
        "status": error.status,
    }


def new_message(produced: Produced, model: str) -> NewMessage:
    """A message the turn produced, encoded for the store with its size in tokens."""
    message = produced.message
    return NewMessage(
        role=message.role.value,
        content=[encode_part(part) for part in message.content],
        tokens=count_message(message, model),
        tool_calls=encode_tool_calls(message.tool_calls) or None,
        tool_call_id=message.tool_call_id,
        name=message.name,
        reasoning=message.reasoning,
        usage=produced.usage,
        metadata=dict(produced.metadata),
    )
