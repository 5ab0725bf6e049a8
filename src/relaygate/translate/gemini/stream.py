"""Gemini streamGenerateContent chunks ↔ canonical stream events.

Each chunk is a whole GenerateContentResponse: text arrives in pieces, a function call
arrives whole in one chunk, usageMetadata is cumulative and finishReason comes last.
"""

from __future__ import annotations

from typing import Any

import orjson

from relaygate.translate.gemini.response import (
    call_arguments,
    decode_finish,
    decode_usage,
    encode_finish,
    encode_usage,
    function_call_part,
    new_call_id,
)
from relaygate.types import (
    ErrorEvent,
    Finish,
    FinishReason,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    Usage,
    UsageEvent,
)


class ChunkDecoder:
    """Upstream chunks → canonical events; call `close()` when the upstream ends."""

    def __init__(self) -> None:
        self._calls = 0
        self._usage: Usage | None = None
        self._finish: FinishReason | None = None

    def decode(self, chunk: dict[str, Any]) -> list[StreamEvent]:
        error = chunk.get("error")
        if isinstance(error, dict):
            return [ErrorEvent(str(error.get("message") or "upstream error"))]
        events: list[StreamEvent] = []
        usage = decode_usage(chunk.get("usageMetadata"))
        if usage is not None:
            self._usage = usage
        candidates = chunk.get("candidates") or []
        if not candidates:
            if (chunk.get("promptFeedback") or {}).get("blockReason"):
                self._finish = FinishReason.CONTENT_FILTER
            return events
        candidate = candidates[0]
        for part in (candidate.get("content") or {}).get("parts") or []:
            events.extend(self._part(part))
        if candidate.get("finishReason"):
            self._finish = decode_finish(candidate["finishReason"])
        return events

    def _part(self, part: dict[str, Any]) -> list[StreamEvent]:
        """One part's events; a thoughtSignature comes first, so that an encoder can put
        it back on the part that follows it."""
        events: list[StreamEvent] = []
        signature = part.get("thoughtSignature")
        call = part.get("functionCall")
        text = part.get("text")
        if signature and not (part.get("thought") and text):
            events.append(ReasoningDelta("", signature))
        if isinstance(call, dict):
            index = self._calls
            self._calls += 1
            events.append(ToolCallStart(index, str(call.get("id") or new_call_id()), call["name"]))
            events.append(ToolCallDelta(index, call_arguments(call.get("args"))))
            events.append(ToolCallEnd(index))
        elif isinstance(text, str) and text:
            if part.get("thought"):
                events.append(ReasoningDelta(text, signature))
            else:
                events.append(TextDelta(text))
        return events

    @property
    def finished(self) -> bool:
        """A finishReason (or a blocked prompt) came: the answer is whole."""
        return self._finish is not None

    def close(self) -> list[StreamEvent]:
        """Usage (when the upstream gave it) and the finish, once the stream has ended."""
        events: list[StreamEvent] = []
        if self._usage is not None:
            events.append(UsageEvent(self._usage))
        finish = self._finish or FinishReason.STOP
        if self._calls and finish is FinishReason.STOP:
            finish = FinishReason.TOOL_CALLS
        events.append(Finish(finish))
        return events


class ChunkEncoder:
    """Canonical events → Gemini chunks; tool calls are buffered and sent whole."""

    def __init__(self, model: str, response_id: str) -> None:
        self._model = model
        self._response_id = response_id
        self._calls: dict[int, ToolCall] = {}
        self._signature: str | None = None
        self._usage: Usage | None = None
        self._finish: FinishReason | None = None

    def _chunk(self, parts: list[dict[str, Any]], finish: str | None = None) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
        if finish is not None:
            candidate["finishReason"] = finish
        chunk: dict[str, Any] = {
            "candidates": [candidate],
            "modelVersion": self._model,
            "responseId": self._response_id,
        }
        if self._usage is not None:
            chunk["usageMetadata"] = encode_usage(self._usage)
        return chunk

    def _signed(self, part: dict[str, Any]) -> dict[str, Any]:
        if self._signature:
            part["thoughtSignature"], self._signature = self._signature, None
        return part

    def encode(self, event: StreamEvent) -> list[dict[str, Any]]:
        if isinstance(event, TextDelta):
            return [self._chunk([self._signed({"text": event.text})])] if event.text else []
        if isinstance(event, ReasoningDelta):
            if not event.text:
                self._signature = event.signature or self._signature
                return []
            part: dict[str, Any] = {"text": event.text, "thought": True}
            if event.signature:
                part["thoughtSignature"] = event.signature
            return [self._chunk([part])]
        if isinstance(event, ToolCallStart):
            self._calls[event.index] = ToolCall(event.id, event.name, "")
        elif isinstance(event, ToolCallDelta):
            self._calls.setdefault(
                event.index, ToolCall(new_call_id(), "", "")
            ).arguments += event.arguments
        elif isinstance(event, ToolCallEnd):
            call = self._calls.pop(event.index, None)
            if call is not None:
                return [self._chunk([self._call_part(call)])]
        elif isinstance(event, UsageEvent):
            self._usage = event.usage
        elif isinstance(event, Finish):
            self._finish = event.reason
        return []

    def _call_part(self, call: ToolCall) -> dict[str, Any]:
        return self._signed(function_call_part(call))

    def close(self) -> list[dict[str, Any]]:
        """Calls never ended, then the last chunk: finishReason and usageMetadata."""
        parts = [self._call_part(call) for _, call in sorted(self._calls.items())]
        self._calls.clear()
        finish = encode_finish(self._finish or FinishReason.STOP)
        return [self._chunk(parts or [self._signed({"text": ""})], finish)]


def parse_chunk(data: str) -> dict[str, Any] | None:
    """One SSE `data:` payload → a chunk dict, or None when it is not a JSON object."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None
