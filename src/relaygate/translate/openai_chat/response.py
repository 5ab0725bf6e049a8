"""OpenAI Chat Completions response ↔ canonical ModelResult."""

from __future__ import annotations

from typing import Any

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

_FINISH_FROM_WIRE = {
    "stop": FinishReason.STOP,
    "length": FinishReason.LENGTH,
    "tool_calls": FinishReason.TOOL_CALLS,
    "function_call": FinishReason.TOOL_CALLS,
    "content_filter": FinishReason.CONTENT_FILTER,
}


def encode_usage(usage: Usage) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


def encode_finish(reason: FinishReason) -> str:
    return "stop" if reason is FinishReason.ERROR else reason.value


def encode_result(result: ModelResult) -> dict[str, Any]:
    """ModelResult → the body a Chat Completions client expects."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": result.message.text if result.message.content else None,
        "refusal": None,
        "annotations": [],
    }
    if result.message.reasoning:
        message["reasoning_content"] = result.message.reasoning
    if result.message.tool_calls:
        message["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in result.message.tool_calls
        ]
    # no `system_fingerprint`: OpenAI's schema types it as a string, and there is none to give
    return {
        "id": result.id,
        "object": "chat.completion",
        "created": result.created,
        "model": result.model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": encode_finish(result.finish_reason),
            }
        ],
        "usage": encode_usage(result.usage),
    }


def decode_usage(usage: dict[str, Any] | None) -> Usage:
    if not usage:
        return Usage(source=UsageSource.ESTIMATED)
    prompt_details = usage.get("prompt_tokens_details") or {}
    completion_details = usage.get("completion_tokens_details") or {}
    return Usage(
        input_tokens=int(usage.get("prompt_tokens") or 0),
        output_tokens=int(usage.get("completion_tokens") or 0),
        cached_tokens=int(prompt_details.get("cached_tokens") or 0),
        reasoning_tokens=int(completion_details.get("reasoning_tokens") or 0),
    )


def decode_response(body: dict[str, Any]) -> ModelResult:
    """An upstream Chat Completions body → ModelResult; raises KeyError/TypeError/ValueError
    when the body is not that shape."""
    choice = body["choices"][0]
    wire_message = choice["message"]
    content = wire_message.get("content")
    if isinstance(content, list):
        content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
    calls = [
        ToolCall(
            id=call["id"],
            name=call["function"]["name"],
            arguments=call["function"].get("arguments") or "{}",
        )
        for call in wire_message.get("tool_calls") or []
    ]
    message = Message(
        Role.ASSISTANT,
        [TextPart(content)] if content else [],
        tool_calls=calls,
        reasoning=wire_message.get("reasoning_content"),
    )
    finish = _FINISH_FROM_WIRE.get(choice.get("finish_reason") or "stop", FinishReason.STOP)
    if calls and finish is FinishReason.STOP:
        finish = FinishReason.TOOL_CALLS
    return ModelResult(
        id=str(body.get("id") or ""),
        model=str(body.get("model") or ""),
        message=message,
        finish_reason=finish,
        usage=decode_usage(body.get("usage")),
        created=int(body.get("created") or 0),
    )


def decode_finish(value: str | None) -> FinishReason:
    return _FINISH_FROM_WIRE.get(value or "stop", FinishReason.STOP)
