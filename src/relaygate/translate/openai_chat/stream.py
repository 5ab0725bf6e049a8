"""OpenAI Chat Completions stream chunks ↔ canonical stream events."""

from __future__ import annotations

from typing import Any

from relaygate.translate.openai_chat.response import (
    decode_finish,
    decode_usage,
    encode_finish,
    encode_usage,
)
from relaygate.types import (
    ErrorEvent,
    Finish,
    FinishReason,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    Usage,
    UsageEvent,
)


class ChunkEncoder:
    """Canonical events → `chat.completion.chunk` bodies, in OpenAI's order."""

    def __init__(self, response_id: str, model: str, created: int, include_usage: bool) -> None:
        self._base = {  # no `system_fingerprint`, as in whole replies (response.py)
            "id": response_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
        }
        self._include_usage = include_usage
        self._started = False
        self._usage: Usage | None = None
        self._tool_index: dict[int, int] = {}  # canonical index → wire index

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        chunk = dict(self._base)
        chunk["choices"] = [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
        return chunk

    def _opening(self) -> list[dict[str, Any]]:
        if self._started:
            return []
        self._started = True
        return [self._chunk({"role": "assistant", "content": "", "refusal": None})]

    def encode(self, event: StreamEvent) -> list[dict[str, Any]]:
        """The chunks for one event (often one, sometimes none)."""
        if isinstance(event, UsageEvent):
            self._usage = event.usage
            return []
        if isinstance(event, ToolCallEnd | ErrorEvent):
            return []
        chunks = self._opening()
        if isinstance(event, TextDelta):
            chunks.append(self._chunk({"content": event.text}))
        elif isinstance(event, ReasoningDelta):
            chunks.append(self._chunk({"reasoning_content": event.text}))
        elif isinstance(event, ToolCallStart):
            wire_index = self._tool_index.setdefault(event.index, len(self._tool_index))
            chunks.append(
                self._chunk(
                    {
                        "tool_calls": [
                            {
                                "index": wire_index,
                                "id": event.id,
                                "type": "function",
                                "function": {"name": event.name, "arguments": ""},
                            }
                        ]
                    }
                )
            )
        elif isinstance(event, ToolCallDelta):
            wire_index = self._tool_index.setdefault(event.index, len(self._tool_index))
            chunks.append(
                self._chunk(
                    {
                        "tool_calls": [
                            {
                                "index": wire_index,
                                "function": {"arguments": event.arguments},
                            }
                        ]
                    }
                )
            )
        elif isinstance(event, Finish):
            chunks.append(self._chunk({}, encode_finish(event.reason)))
        return chunks

    def close(self) -> list[dict[str, Any]]:
        """The final usage chunk, when the client asked for it."""
        if not self._include_usage or self._usage is None:
            return []
        chunk = dict(self._base)
        chunk["choices"] = []
        # which usage this is (upstream's or the gateway's estimate): docs/tokens.md
        source = {"relaygate_usage_source": self._usage.source.value}
        chunk["usage"] = {**encode_usage(self._usage), **source}
        return [chunk]


class ChunkDecoder:
    """Upstream `chat.completion.chunk` bodies → canonical events."""

    def __init__(self) -> None:
        self._open_calls: dict[int, bool] = {}
        self.finished = False  # a finish_reason came: the answer is whole

    def decode(self, chunk: dict[str, Any]) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        if "error" in chunk and not chunk.get("choices"):
            error = chunk["error"] if isinstance(chunk["error"], dict) else {}
            events.append(ErrorEvent(str(error.get("message") or chunk["error"])))
            return events
        for choice in chunk.get("choices") or []:
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if reasoning:
                events.append(ReasoningDelta(reasoning))
            if delta.get("content"):
                events.append(TextDelta(delta["content"]))
            for call in delta.get("tool_calls") or []:
                index = int(call.get("index", 0))
                function = call.get("function") or {}
                if index not in self._open_calls:
                    self._open_calls[index] = True
                    events.append(
                        ToolCallStart(
                            index, call.get("id") or f"call_{index}", function.get("name") or ""
                        )
                    )
                if function.get("arguments"):
                    events.append(ToolCallDelta(index, function["arguments"]))
            if choice.get("finish_reason"):
                events.extend(ToolCallEnd(index) for index in self._open_calls)
                self._open_calls.clear()
                reason = decode_finish(choice["finish_reason"])
                if (
                    reason is FinishReason.STOP
                    and events
                    and any(isinstance(event, ToolCallEnd) for event in events)
                ):
                    reason = FinishReason.TOOL_CALLS
                events.append(Finish(reason))
                self.finished = True
        if chunk.get("usage"):
            events.append(UsageEvent(decode_usage(chunk["usage"])))
        return events
