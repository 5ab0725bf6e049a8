"""Gemini GenerateContentResponse ↔ canonical ModelResult."""

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

_FILTERED = frozenset(
    {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"}
)
_FINISH_FROM_WIRE = {
    "STOP": FinishReason.STOP,
    "MAX_TOKENS": FinishReason.LENGTH,
    "MALFORMED_FUNCTION_CALL": FinishReason.ERROR,
    "UNEXPECTED_TOOL_CALL": FinishReason.ERROR,
}
_FINISH_TO_WIRE = {
    FinishReason.STOP: "STOP",
    FinishReason.TOOL_CALLS: "STOP",
    FinishReason.LENGTH: "MAX_TOKENS",
    FinishReason.CONTENT_FILTER: "SAFETY",
    FinishReason.ERROR: "OTHER",
}


def decode_finish(value: str | None) -> FinishReason:
    if value in _FILTERED:
        return FinishReason.CONTENT_FILTER
    return _FINISH_FROM_WIRE.get(value or "STOP", FinishReason.STOP)


def encode_finish(reason: FinishReason) -> str:
    return _FINISH_TO_WIRE[reason]


def new_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


def decode_usage(metadata: dict[str, Any] | None) -> Usage | None:
    """usageMetadata → Usage; thoughts count as output (as OpenAI counts reasoning)."""
    if not metadata:
        return None
    thoughts = int(metadata.get("thoughtsTokenCount") or 0)
    return Usage(
        input_tokens=int(metadata.get("promptTokenCount") or 0),
        output_tokens=int(metadata.get("candidatesTokenCount") or 0) + thoughts,
        cached_tokens=int(metadata.get("cachedContentTokenCount") or 0),
        reasoning_tokens=thoughts,
        source=UsageSource.UPSTREAM,
    )


def encode_usage(usage: Usage) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "promptTokenCount": usage.input_tokens,
        "candidatesTokenCount": usage.output_tokens - usage.reasoning_tokens,
        "totalTokenCount": usage.total_tokens,
    }
    if usage.cached_tokens:
        metadata["cachedContentTokenCount"] = usage.cached_tokens
    if usage.reasoning_tokens:
        metadata["thoughtsTokenCount"] = usage.reasoning_tokens
    return metadata


def call_arguments(args: Any) -> str:
    return orjson.dumps(args if args is not None else {}).decode()


def decode_parts(parts: list[dict[str, Any]], message: Message) -> None:
    """Add a candidate's parts to `message`: text, thoughts, function calls, signature."""
    for part in parts:
        signature = part.get("thoughtSignature")
        if signature and message.reasoning_signature is None:
            message.reasoning_signature = signature
        call = part.get("functionCall")
        if isinstance(call, dict):
            message.tool_calls.append(
                ToolCall(
                    str(call.get("id") or new_call_id()),
                    str(call["name"]),
                    call_arguments(call.get("args")),
                )
            )
        elif isinstance(part.get("text"), str):
            if part.get("thought"):
                message.reasoning = (message.reasoning or "") + part["text"]
            elif message.content and isinstance(message.content[-1], TextPart):
                message.content[-1].text += part["text"]
            else:
                message.content.append(TextPart(part["text"]))


def decode_response(body: dict[str, Any], model: str) -> ModelResult:
    """An upstream generateContent body → ModelResult; a blocked prompt is a content-filter
    finish with no text. Raises KeyError/TypeError/ValueError for a body of another shape."""
    message = Message(Role.ASSISTANT)
    candidates = body.get("candidates") or []
    if candidates:
        candidate = candidates[0]
        decode_parts((candidate.get("content") or {}).get("parts") or [], message)
        finish = decode_finish(candidate.get("finishReason"))
    elif (body.get("promptFeedback") or {}).get("blockReason"):
        finish = FinishReason.CONTENT_FILTER
    else:
        raise ValueError("no candidates and no promptFeedback")
    if message.tool_calls and finish is FinishReason.STOP:
        finish = FinishReason.TOOL_CALLS
    return ModelResult(
        id=str(body.get("responseId") or ""),
        model=str(body.get("modelVersion") or model),
        message=message,
        finish_reason=finish,
        usage=decode_usage(body.get("usageMetadata")) or Usage(source=UsageSource.ESTIMATED),
        created=0,
    )


def function_call_part(call: ToolCall) -> dict[str, Any]:
    """A canonical call → a functionCall part; arguments that are not a JSON object are
    wrapped (`{"arguments": <text>}`) because Gemini's `args` must be an object."""
    try:
        args = orjson.loads(call.arguments or "{}")
    except orjson.JSONDecodeError:
        args = {"arguments": call.arguments}
    if not isinstance(args, dict):
        args = {"value": args}
    return {"functionCall": {"id": call.id, "name": call.name, "args": args}}


def encode_parts(message: Message) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    if message.reasoning:
        parts.append({"text": message.reasoning, "thought": True})
    if message.text:
        parts.append({"text": message.text})
    parts.extend(function_call_part(call) for call in message.tool_calls)
    if message.reasoning_signature and parts:
        parts[-1]["thoughtSignature"] = message.reasoning_signature
    return parts


def encode_result(result: ModelResult) -> dict[str, Any]:
    """ModelResult → the body a Gemini client expects."""
    parts = encode_parts(result.message) or [{"text": ""}]
    return {
        "candidates": [
            {
                "content": {"role": "model", "parts": parts},
                "finishReason": encode_finish(result.finish_reason),
                "index": 0,
            }
        ],
        "usageMetadata": encode_usage(result.usage),
        "modelVersion": result.model,
        "responseId": result.id,
    }
