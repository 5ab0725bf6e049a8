"""Usage when the upstream reports none: we count the answer ourselves and say so.

Every result and every stream ends up with exactly one usage: the upstream's when it
gave one (`source=upstream`), else our estimate (`source=estimated`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from relaygate.tokens.estimate import estimate_prompt, estimate_text
from relaygate.types import (
    Finish,
    ModelCall,
    ModelResult,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    ToolCallStart,
    Usage,
    UsageEvent,
    UsageSource,
)

TOOL_CALL_OVERHEAD = 3  # per call: the framing around name and arguments


class StreamCounter:
    """Watches a stream's events and counts what was generated."""

    def __init__(self, call: ModelCall, model: str) -> None:
        self._call = call
        self._model = model
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self._calls = 0
        self.upstream: Usage | None = None

    def feed(self, event: StreamEvent) -> None:
        if isinstance(event, TextDelta):
            self._text.append(event.text)
        elif isinstance(event, ReasoningDelta):
            self._reasoning.append(event.text)
        elif isinstance(event, ToolCallStart):
            self._calls += 1
            self._text.append(event.name)
        elif isinstance(event, ToolCallDelta):
            self._text.append(event.arguments)
        elif isinstance(event, UsageEvent) and event.usage.source is UsageSource.UPSTREAM:
            self.upstream = event.usage

    def estimate(self) -> Usage:
        """Our own count of what streamed so far (source `estimated`)."""
        reasoning = estimate_text("".join(self._reasoning), self._model)
        output = (
            estimate_text("".join(self._text), self._model)
            + reasoning
            + TOOL_CALL_OVERHEAD * self._calls
        )
        return Usage(
            input_tokens=estimate_prompt(self._call.messages, self._call.tools, self._model),
            output_tokens=output,
            reasoning_tokens=reasoning,
            source=UsageSource.ESTIMATED,
        )


async def with_usage(
    events: AsyncIterator[StreamEvent], call: ModelCall, model: str
) -> AsyncIterator[StreamEvent]:
    """Pass a provider's events through; if no upstream usage came, add our estimate.

    The finish is held back to the end so the usage always comes just before it.
    """
    counter = StreamCounter(call, model)
    finish: Finish | None = None
    async for event in events:
        counter.feed(event)
        if isinstance(event, Finish):
            finish = event
            continue
        if isinstance(event, UsageEvent) and event.usage.source is not UsageSource.UPSTREAM:
            continue  # an empty placeholder; our estimate replaces it below
        yield event
    if counter.upstream is None:
        yield UsageEvent(counter.estimate())
    if finish is not None:
        yield finish


def ensure_usage(result: ModelResult, call: ModelCall, model: str) -> ModelResult:
    """A whole answer keeps the upstream's usage; without one it gets our estimate."""
    if result.usage.source is UsageSource.UPSTREAM:
        return result
    message = result.message
    generated = [message.text, *(tool.name + tool.arguments for tool in message.tool_calls)]
    reasoning = estimate_text(message.reasoning or "", model)
    result.usage = Usage(
        input_tokens=estimate_prompt(call.messages, call.tools, model),
        output_tokens=estimate_text("".join(generated), model)
        + reasoning
        + TOOL_CALL_OVERHEAD * len(message.tool_calls),
        reasoning_tokens=reasoning,
        source=UsageSource.ESTIMATED,
    )
    return result
