"""Whole results ↔ canonical stream events (pure): a result as the events a stream of
it would carry, and a stream's events gathered back into the assistant's message."""

from __future__ import annotations

from relaygate.errors import UpstreamError
from relaygate.types import (
    ErrorEvent,
    Finish,
    FinishReason,
    Message,
    ModelResult,
    ReasoningDelta,
    Role,
    StreamEvent,
    TextDelta,
    TextPart,
    ToolCall,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    Usage,
    UsageEvent,
)


def result_to_events(result: ModelResult) -> list[StreamEvent]:
    """A whole ModelResult as the canonical events a stream of it would carry."""
    message = result.message
    events: list[StreamEvent] = []
    if message.reasoning:
        events.append(ReasoningDelta(message.reasoning, message.reasoning_signature))
    if message.text:
        events.append(TextDelta(message.text))
    for index, call in enumerate(message.tool_calls):
        events += [
            ToolCallStart(index, call.id, call.name),
            ToolCallDelta(index, call.arguments),
            ToolCallEnd(index),
        ]
    events += [UsageEvent(result.usage), Finish(result.finish_reason)]
    return events


class MessageAssembler:
    """Gathers a stream's events into the assistant message, its usage and finish reason;
    an `ErrorEvent` raises the upstream error it carries."""

    def __init__(self) -> None:
        self._texts: list[str] = []
        self._reasoning: list[str] = []
        self._signature: str | None = None
        self._calls: dict[int, ToolCall] = {}
        self.usage: Usage | None = None
        self.finish_reason: FinishReason | None = None

    def feed(self, event: StreamEvent) -> None:
        if isinstance(event, TextDelta):
            self._texts.append(event.text)
        elif isinstance(event, ReasoningDelta):
            self._reasoning.append(event.text)
            self._signature = event.signature or self._signature
        elif isinstance(event, ToolCallStart):
            self._calls[event.index] = ToolCall(event.id, event.name, "")
        elif isinstance(event, ToolCallDelta) and event.index in self._calls:
            self._calls[event.index].arguments += event.arguments
        elif isinstance(event, UsageEvent):
            self.usage = event.usage
        elif isinstance(event, Finish):
            self.finish_reason = event.reason
        elif isinstance(event, ErrorEvent):
            raise UpstreamError(event.message, status=event.status, code=event.type)

    def message(self) -> Message:
        text = "".join(self._texts)
        return Message(
            Role.ASSISTANT,
            [TextPart(text)] if text else [],
            tool_calls=[self._calls[index] for index in sorted(self._calls)],
            reasoning="".join(self._reasoning) or None,
            reasoning_signature=self._signature,
        )
