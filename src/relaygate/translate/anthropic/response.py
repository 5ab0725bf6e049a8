"""Anthropic Messages response ↔ canonical ModelResult, stop reasons and usage.

Anthropic's `input_tokens` excludes cache reads and writes; the canonical
`Usage.input_tokens` (like OpenAI's prompt_tokens) includes them.

Replies carry every field today's schema requires, with the values a real reply has where
the gateway has none of its own: `citations: null` on text, `caller: {"type": "direct"}` on
tool_use, `container`/`stop_details` null (a refusal's details with a null category), and
in usage `server_tool_use`/`inference_geo` null, `service_tier: "standard"`,
`output_tokens_details.thinking_tokens`, and `cache_creation` by TTL (null when the split
of cache writes is unknown: the canonical usage keeps only their sum).
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from relaygate.types import (
    FinishReason,
    Message,
    ModelResult,
    Role,
    TextPart,
    ToolCall,
    Usage,
    UsageSource,
)

STOP_REASONS = {
    "end_turn": FinishReason.STOP,
    "stop_sequence": FinishReason.STOP,
    "pause_turn": FinishReason.STOP,
    "max_tokens": FinishReason.LENGTH,
    "model_context_window_exceeded": FinishReason.LENGTH,
    "tool_use": FinishReason.TOOL_CALLS,
    "refusal": FinishReason.CONTENT_FILTER,
}
_STOP_REASON_OUT = {
    FinishReason.STOP: "end_turn",
    FinishReason.LENGTH: "max_tokens",
    FinishReason.TOOL_CALLS: "tool_use",
    FinishReason.CONTENT_FILTER: "refusal",
    FinishReason.ERROR: "end_turn",
}


def decode_stop_reason(value: str | None) -> FinishReason:
    return STOP_REASONS.get(value or "end_turn", FinishReason.STOP)


def encode_stop_reason(reason: FinishReason, stop_sequence: str | None = None) -> str:
    if reason is FinishReason.STOP and stop_sequence is not None:
        return "stop_sequence"
    return _STOP_REASON_OUT[reason]


DIRECT_CALLER = {"type": "direct"}  # a tool_use the model made itself (not a server tool)


def decode_usage(usage: dict[str, Any] | None) -> Usage:
    if not usage:
        return Usage(source=UsageSource.ESTIMATED)
    cache_read = int(usage.get("cache_read_input_tokens") or 0)
    cache_write = int(usage.get("cache_creation_input_tokens") or 0)
    details = usage.get("output_tokens_details")
    thinking = details.get("thinking_tokens") if isinstance(details, dict) else None
    return Usage(
        input_tokens=int(usage.get("input_tokens") or 0) + cache_read + cache_write,
        output_tokens=int(usage.get("output_tokens") or 0),
        cached_tokens=cache_read,
        cache_creation_tokens=cache_write,
        reasoning_tokens=int(thinking or 0),
    )


def _cache_creation(usage: Usage) -> dict[str, int] | None:
    if usage.cache_creation_tokens:
        return None  # written, but for which TTL is not known here
    return {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0}


def encode_usage(usage: Usage) -> dict[str, Any]:
    """The `usage` of a message (and of `message_start`)."""
    uncached = usage.input_tokens - usage.cached_tokens - usage.cache_creation_tokens
    return {
        "input_tokens": max(0, uncached),
        "output_tokens": usage.output_tokens,
        "cache_creation_input_tokens": usage.cache_creation_tokens,
        "cache_read_input_tokens": usage.cached_tokens,
        "cache_creation": _cache_creation(usage),
        "server_tool_use": None,
        "service_tier": "standard",
        "inference_geo": None,
        "output_tokens_details": {"thinking_tokens": usage.reasoning_tokens},
    }


def encode_delta_usage(usage: Usage | None) -> dict[str, Any]:
    """The cumulative `usage` of `message_delta` (nulls for what is not known yet)."""
    if usage is None:
        return {
            "input_tokens": None,
            "output_tokens": 0,
            "cache_creation_input_tokens": None,
            "cache_read_input_tokens": None,
            "server_tool_use": None,
            "output_tokens_details": None,
        }
    whole = encode_usage(usage)
    keys = ("input_tokens", "output_tokens", "cache_creation_input_tokens",
            "cache_read_input_tokens", "server_tool_use", "output_tokens_details")
    return {key: whole[key] for key in keys}


def stop_details(reason: FinishReason) -> dict[str, Any] | None:
    """Structured detail of the stop: a refusal's (category unknown), else none."""
    if reason is FinishReason.CONTENT_FILTER:
        return {"type": "refusal", "category": None, "explanation": None}
    return None


def message_id(result_id: str) -> str:
    """Anthropic-looking ids (`msg_…`) whatever the upstream named the answer."""
    if result_id.startswith("msg_"):
        return result_id
    suffix = result_id.split("-", 1)[-1] if result_id else uuid.uuid4().hex[:24]
    return f"msg_{suffix}"


def tool_input_object(arguments: str) -> dict[str, Any]:
    """A tool call's arguments text → Anthropic's `input` object, never dropping text:
    text that is not a JSON object is kept whole under `_raw_arguments`."""
    if not arguments.strip():
        return {}
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        return {"_raw_arguments": arguments}
    return value if isinstance(value, dict) else {"_raw_arguments": arguments}


def encode_content(message: Message) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if message.reasoning:
        blocks.append(
            {
                "type": "thinking",
                "thinking": message.reasoning,
                "signature": message.reasoning_signature or "",
            }
        )
    text = message.text
    if text:
        blocks.append({"type": "text", "text": text, "citations": None})
    blocks += [
        {
            "type": "tool_use",
            "id": call.id,
            "name": call.name,
            "input": tool_input_object(call.arguments),
            "caller": dict(DIRECT_CALLER),
        }
        for call in message.tool_calls
    ]
    return blocks


def encode_result(result: ModelResult) -> dict[str, Any]:
    """ModelResult → the body an Anthropic Messages client expects."""
    return {
        "id": message_id(result.id),
        "type": "message",
        "role": "assistant",
        "model": result.model,
        "content": encode_content(result.message),
        "stop_reason": encode_stop_reason(result.finish_reason, result.stop_sequence),
        "stop_sequence": result.stop_sequence,
        "stop_details": stop_details(result.finish_reason),
        "container": None,
        "usage": encode_usage(result.usage),
    }


def decode_response(body: dict[str, Any]) -> ModelResult:
    """An upstream Messages body → ModelResult; raises KeyError/TypeError/ValueError when
    the body is not that shape."""
    if body.get("type") != "message":
        raise ValueError("not a Messages response")
    message = Message(Role.ASSISTANT)
    for block in body["content"]:
        kind = block["type"]
        if kind == "text":
            message.content.append(TextPart(block["text"]))
        elif kind == "thinking":
            message.reasoning = (message.reasoning or "") + block["thinking"]
            message.reasoning_signature = block.get("signature") or None
        elif kind == "tool_use":
            arguments = orjson.dumps(block.get("input") or {}).decode()
            message.tool_calls.append(ToolCall(block["id"], block["name"], arguments))
    finish = decode_stop_reason(body.get("stop_reason"))
    if message.tool_calls and finish is FinishReason.STOP:
        finish = FinishReason.TOOL_CALLS
    stop_sequence = body.get("stop_sequence")
    return ModelResult(
        id=str(body.get("id") or ""),
        model=str(body.get("model") or ""),
        message=message,
        finish_reason=finish,
        usage=decode_usage(body.get("usage")),
        created=0,
        stop_sequence=stop_sequence if isinstance(stop_sequence, str) else None,
    )
