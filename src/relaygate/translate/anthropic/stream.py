"""Anthropic Messages SSE events ↔ canonical stream events.

The encoder opens one content block at a time (thinking, text, tool_use) in index order,
as Anthropic does. A late argument fragment for a tool block already stopped is still sent
to that block's index (clients accumulate by index), so arguments are never dropped.
Usage may arrive before or after Finish: `message_delta` and `message_stop` are written
by `close()`, when the canonical stream has ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from relaygate.streaming.sse import event_frame
from relaygate.translate.anthropic.response import (
    DIRECT_CALLER,
    decode_stop_reason,
    decode_usage,
    encode_delta_usage,
    encode_stop_reason,
    encode_usage,
    stop_details,
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

ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 502,
    "overloaded_error": 503,
    "timeout_error": 504,
}


def error_event(message: str, kind: str) -> bytes:
    """An Anthropic `error` event, the last thing a failing stream sends."""
    return event_frame("error", {"type": "error", "error": {"type": kind, "message": message}})


class EventEncoder:
    """Canonical events → Anthropic SSE frames."""

    def __init__(self, message_id: str, model: str, input_tokens: int = 0) -> None:
        self._id = message_id
        self._model = model
        self._input_tokens = input_tokens
        self._started = False
        self._next_index = 0
        self._open: int | None = None  # the block currently open
        self._open_kind: str | None = None  # "text", "thinking" or "tool_use"
        self._tool_blocks: dict[int, int] = {}  # canonical tool index → block index
        self._finish: Finish | None = None
        self._usage: Usage | None = None

    def _frame(self, name: str, payload: dict[str, Any]) -> bytes:
        return event_frame(name, {"type": name, **payload})

    def start(self) -> list[bytes]:
        """`message_start` and a first `ping`; sent once, before anything else."""
        if self._started:
            return []
        self._started = True
        message: dict[str, Any] = {
            "id": self._id,
            "type": "message",
            "role": "assistant",
            "model": self._model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "stop_details": None,
            "container": None,
            "usage": encode_usage(Usage(input_tokens=self._input_tokens)),
        }
        return [self._frame("message_start", {"message": message}), self._frame("ping", {})]

    def _stop_open(self) -> list[bytes]:
        if self._open is None:
            return []
        index, self._open, self._open_kind = self._open, None, None
        return [self._frame("content_block_stop", {"index": index})]

    def _open_block(self, kind: str, block: dict[str, Any]) -> tuple[int, list[bytes]]:
        frames = self._stop_open()
        index = self._next_index
        self._next_index += 1
        self._open, self._open_kind = index, kind
        frames.append(self._frame("content_block_start", {"index": index, "content_block": block}))
        return index, frames

    def _ensure(self, kind: str, block: dict[str, Any]) -> tuple[int, list[bytes]]:
        if self._open is not None and self._open_kind == kind:
            return self._open, []
        return self._open_block(kind, block)

    def _delta(self, index: int, delta: dict[str, Any]) -> bytes:
        return self._frame("content_block_delta", {"index": index, "delta": delta})

    def _tool_start(self, tool_index: int, call_id: str, name: str) -> list[bytes]:
        block = {
            "type": "tool_use", "id": call_id, "name": name, "input": {},
            "caller": dict(DIRECT_CALLER),
        }
        index, frames = self._open_block("tool_use", block)
        self._tool_blocks[tool_index] = index
        return frames

    def encode(self, event: StreamEvent) -> list[bytes]:
        """The frames for one canonical event (often one, sometimes none)."""
        frames = self.start()
        if isinstance(event, TextDelta):
            if event.text:
                index, opened = self._ensure("text", {"type": "text", "text": "", "citations": None})
                frames += [*opened, self._delta(index, {"type": "text_delta", "text": event.text})]
        elif isinstance(event, ReasoningDelta):
            index, opened = self._ensure(
                "thinking", {"type": "thinking", "thinking": "", "signature": ""}
            )
            frames += opened
            if event.text:
                frames.append(
                    self._delta(index, {"type": "thinking_delta", "thinking": event.text})
                )
            if event.signature:
                delta = {"type": "signature_delta", "signature": event.signature}
                frames.append(self._delta(index, delta))
        elif isinstance(event, ToolCallStart):
            frames += self._tool_start(event.index, event.id, event.name)
        elif isinstance(event, ToolCallDelta):
            if event.index not in self._tool_blocks:  # a fragment without a start: keep it
                frames += self._tool_start(event.index, f"toolu_{event.index}", "")
            if event.arguments:
                delta = {"type": "input_json_delta", "partial_json": event.arguments}
                frames.append(self._delta(self._tool_blocks[event.index], delta))
        elif isinstance(event, ToolCallEnd):
            if self._open is not None and self._open == self._tool_blocks.get(event.index):
                frames += self._stop_open()
        elif isinstance(event, UsageEvent):
            self._usage = event.usage
        elif isinstance(event, Finish):
            self._finish = event
            frames += self._stop_open()
        return frames

    def close(self) -> list[bytes]:
        """`message_delta` (stop reason, usage) and `message_stop`, once the stream ended."""
        frames = [*self.start(), *self._stop_open()]
        finish = self._finish or Finish(FinishReason.STOP)
        if finish.reason is FinishReason.STOP and self._tool_blocks:
            finish = Finish(FinishReason.TOOL_CALLS)
        usage = encode_delta_usage(self._usage)
        if self._usage is not None:  # which usage it is (docs/tokens.md): an extra field
            usage["relaygate_usage_source"] = self._usage.source.value
        delta = {
            "stop_reason": encode_stop_reason(finish.reason, finish.stop_sequence),
            "stop_sequence": finish.stop_sequence,
            "stop_details": stop_details(finish.reason),
            "container": None,
        }
        frames.append(self._frame("message_delta", {"delta": delta, "usage": usage}))
        frames.append(self._frame("message_stop", {}))
        return frames


@dataclass(slots=True)
class _Block:
    kind: str
    tool_index: int = -1
    has_arguments: bool = False
    initial_input: dict[str, Any] | None = None


class EventDecoder:
    """Upstream Anthropic SSE events (decoded JSON) → canonical events."""

    def __init__(self) -> None:
        self._blocks: dict[int, _Block] = {}
        self._tools = 0
        self._usage: dict[str, Any] = {}
        self._stop_reason: str | None = None
        self._stop_sequence: str | None = None
        self.finished = False

    def decode(self, data: dict[str, Any]) -> list[StreamEvent]:
        kind = data.get("type")
        if kind == "message_start":
            self._usage.update((data.get("message") or {}).get("usage") or {})
            return []
        if kind == "content_block_start":
            return self._start(int(data.get("index", 0)), data.get("content_block") or {})
        if kind == "content_block_delta":
            return self._delta(int(data.get("index", 0)), data.get("delta") or {})
        if kind == "content_block_stop":
            return []  # tool calls end at message_stop (see _end_call)
        if kind == "message_delta":
            delta = data.get("delta") or {}
            self._stop_reason = delta.get("stop_reason") or self._stop_reason
            self._stop_sequence = delta.get("stop_sequence") or self._stop_sequence
            usage = data.get("usage") or {}
            self._usage.update({key: value for key, value in usage.items() if value is not None})
            return []
        if kind == "message_stop":
            return self._finish()
        if kind == "error":
            error = data.get("error") or {}
            error_type = str(error.get("type") or "api_error")
            return [
                ErrorEvent(
                    str(error.get("message") or "The upstream stream failed."),
                    type=error_type,
                    status=ERROR_STATUS.get(error_type, 502),
                )
            ]
        return []  # ping, and event types added after this was written

    def _start(self, index: int, block: dict[str, Any]) -> list[StreamEvent]:
        kind = str(block.get("type") or "")
        if kind == "tool_use":
            tool_index = self._tools
            self._tools += 1
            initial = block.get("input")
            self._blocks[index] = _Block(
                kind, tool_index, initial_input=initial if isinstance(initial, dict) else None
            )
            return [ToolCallStart(tool_index, str(block.get("id") or ""), str(block.get("name")))]
        self._blocks[index] = _Block(kind)
        if kind == "text" and block.get("text"):
            return [TextDelta(str(block["text"]))]
        if kind == "thinking" and (block.get("thinking") or block.get("signature")):
            return [ReasoningDelta(str(block.get("thinking") or ""), block.get("signature"))]
        return []

    def _delta(self, index: int, delta: dict[str, Any]) -> list[StreamEvent]:
        block = self._blocks.get(index)
        kind = delta.get("type")
        if kind == "text_delta" and delta.get("text"):
            return [TextDelta(str(delta["text"]))]
        if kind == "thinking_delta" and delta.get("thinking"):
            return [ReasoningDelta(str(delta["thinking"]))]
        if kind == "signature_delta" and delta.get("signature"):
            return [ReasoningDelta("", signature=str(delta["signature"]))]
        if kind == "input_json_delta" and block is not None and block.kind == "tool_use":
            fragment = str(delta.get("partial_json") or "")
            if not fragment:
                return []
            block.has_arguments = True
            return [ToolCallDelta(block.tool_index, fragment)]
        return []

    def _end_call(self, index: int) -> list[StreamEvent]:
        """End a tool call, at the message's end only: a late fragment for a stopped block
        may still come (an interleaving upstream, e.g. another gateway), and it must land
        before the call's end, never behind an empty-object placeholder (`{}{"a":1}`)."""
        block = self._blocks.get(index)
        if block is None or block.kind != "tool_use":
            return []
        events: list[StreamEvent] = []
        if not block.has_arguments:
            arguments = orjson.dumps(block.initial_input or {}).decode()
            events.append(ToolCallDelta(block.tool_index, arguments))
        events.append(ToolCallEnd(block.tool_index))
        return events

    def _finish(self) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for index in list(self._blocks):
            events += self._end_call(index)
        reason = decode_stop_reason(self._stop_reason)
        if reason is FinishReason.STOP and self._tools:
            reason = FinishReason.TOOL_CALLS
        stop_sequence = self._stop_sequence if self._stop_reason == "stop_sequence" else None
        events.append(Finish(reason, stop_sequence))
        events.append(UsageEvent(decode_usage(self._usage)))
        self.finished = True
        return events
