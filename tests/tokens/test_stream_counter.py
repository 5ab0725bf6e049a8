"""Usage is the upstream's when it reports one, ours (marked `estimated`) otherwise."""

from __future__ import annotations

from collections.abc import AsyncIterator

from relaygate.tokens.stream_counter import ensure_usage, with_usage
from relaygate.types import (
    Finish,
    FinishReason,
    Message,
    ModelCall,
    ModelResult,
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
    UsageSource,
)

CALL = ModelCall("m", [Message(Role.USER, [TextPart("say something long enough to count")])])


async def events(*items: StreamEvent) -> AsyncIterator[StreamEvent]:
    for item in items:
        yield item


async def run(*items: StreamEvent) -> list[StreamEvent]:
    return [event async for event in with_usage(events(*items), CALL, "gpt-4o")]


async def test_upstream_usage_is_kept_and_comes_before_finish() -> None:
    upstream = Usage(7, 3)
    out = await run(TextDelta("hi"), Finish(FinishReason.STOP), UsageEvent(upstream))
    assert out == [TextDelta("hi"), UsageEvent(upstream), Finish(FinishReason.STOP)]


async def test_missing_usage_is_estimated_from_the_stream() -> None:
    out = await run(
        TextDelta("hello "),
        TextDelta("world"),
        ToolCallStart(0, "c1", "lookup"),
        ToolCallDelta(0, '{"q": "x"}'),
        ToolCallEnd(0),
        Finish(FinishReason.TOOL_CALLS),
    )
    usage_events = [e for e in out if isinstance(e, UsageEvent)]
    assert len(usage_events) == 1
    usage = usage_events[0].usage
    assert usage.source is UsageSource.ESTIMATED
    assert usage.input_tokens > 0
    assert usage.output_tokens >= 2 + 1 + 5  # text, the name, the arguments
    assert isinstance(out[-1], Finish) and isinstance(out[-2], UsageEvent)


async def test_an_empty_placeholder_usage_is_replaced() -> None:
    out = await run(TextDelta("x"), UsageEvent(Usage(source=UsageSource.ESTIMATED)))
    usage = [e.usage for e in out if isinstance(e, UsageEvent)]
    assert len(usage) == 1 and usage[0].output_tokens == 1


def test_whole_results_get_an_estimate_only_when_missing() -> None:
    message = Message(Role.ASSISTANT, [TextPart("four words right here")])
    result = ModelResult(
        "r", "m", message, FinishReason.STOP, Usage(source=UsageSource.ESTIMATED), 0
    )
    filled = ensure_usage(result, CALL, "gpt-4o").usage
    assert filled.source is UsageSource.ESTIMATED and filled.output_tokens == 4
    kept = ModelResult("r", "m", message, FinishReason.STOP, Usage(1, 2), 0)
    assert ensure_usage(kept, CALL, "gpt-4o").usage == Usage(1, 2)
    calls = Message(Role.ASSISTANT, tool_calls=[ToolCall("c", "f", '{"a":1}')])
    result = ModelResult(
        "r", "m", calls, FinishReason.TOOL_CALLS, Usage(source=UsageSource.ESTIMATED), 0
    )
    assert ensure_usage(result, CALL, "gpt-4o").usage.output_tokens > 3
