"""Anthropic SSE ↔ canonical events, driven by the recorded streams in tests/samples."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from relaygate.streaming.sse import SSEParser
from relaygate.translate.anthropic.stream import EventDecoder, EventEncoder
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
from tests.support.anthropic_schema import check_stream_event

SAMPLES = Path(__file__).parents[2] / "samples" / "anthropic"


def decode_bytes(data: bytes, chunk: int = 0) -> list[StreamEvent]:
    """SSE bytes (fed whole, or `chunk` bytes at a time) → canonical events."""
    parser, decoder = SSEParser(), EventDecoder()
    pieces = [data] if not chunk else [data[i : i + chunk] for i in range(0, len(data), chunk)]
    events: list[StreamEvent] = []
    for piece in pieces:
        for sse in parser.feed(piece):
            payload = orjson.loads(sse.data)
            assert sse.event == payload["type"], "every event names its type on the event: line"
            events += decoder.decode(payload)
    return events


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def collect(events: list[StreamEvent]) -> dict[str, object]:
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    signatures = [e.signature for e in events if isinstance(e, ReasoningDelta) and e.signature]
    calls = {e.index: [e.id, e.name, ""] for e in events if isinstance(e, ToolCallStart)}
    for event in events:
        if isinstance(event, ToolCallDelta):
            calls[event.index][2] += event.arguments
    finishes = [e for e in events if isinstance(e, Finish)]
    usages = [e.usage for e in events if isinstance(e, UsageEvent)]
    return {
        "text": text,
        "reasoning": reasoning,
        "signatures": signatures,
        "calls": [calls[index] for index in sorted(calls)],
        "finish": finishes[-1] if finishes else None,
        "usage": usages[-1] if usages else None,
    }


def test_text_stream_decodes() -> None:
    got = collect(decode_bytes(sample("stream_text.sse")))
    assert got["text"] == "Hello!"
    assert got["finish"] == Finish(FinishReason.STOP)
    assert got["usage"] == Usage(input_tokens=25, output_tokens=15)


def test_tool_stream_arguments_arrive_whole_at_any_chunking() -> None:
    for chunk in (0, 1, 7, 64):
        events = decode_bytes(sample("stream_tool_use.sse"), chunk)
        got = collect(events)
        assert got["text"] == "Okay, let's check the weather for San Francisco, CA:"
        [[call_id, name, arguments]] = got["calls"]  # type: ignore[misc]
        assert (call_id, name) == ("toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather")
        assert json.loads(arguments) == {"location": "San Francisco, CA", "unit": "fahrenheit"}
        assert got["finish"] == Finish(FinishReason.TOOL_CALLS)
        assert sum(isinstance(e, ToolCallEnd) for e in events) == 1


def test_thinking_stream_keeps_text_and_signature() -> None:
    got = collect(decode_bytes(sample("stream_thinking.sse")))
    assert str(got["reasoning"]).startswith("I need to find the GCD of 1071 and 462")
    assert str(got["reasoning"]).endswith("So GCD(1071, 462) = 21")
    assert got["signatures"] == [
        "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds4Kbbmg3kT4f6U6m8jOhtpbSHgrT2xbamoTC8qvaXTNsQ6Wu4j8IRbkxWxIXsFsU1aq4GAjtOEDp"
    ]
    assert got["text"] == "The greatest common divisor of 1071 and 462 is **21**."
    assert got["usage"] == Usage(
        input_tokens=108, output_tokens=152, cached_tokens=40, reasoning_tokens=60
    )


def test_error_event_mid_stream() -> None:
    events = decode_bytes(sample("stream_error.sse"))
    assert isinstance(events[-1], ErrorEvent)
    assert (events[-1].type, events[-1].status, events[-1].message) == (
        "overloaded_error",
        503,
        "Overloaded",
    )
    assert collect(events)["text"] == "Once upon"


def encode_all(events: list[StreamEvent]) -> bytes:
    encoder = EventEncoder("msg_test", "claude-test")
    frames = [frame for event in events for frame in encoder.encode(event)]
    return b"".join([*frames, *encoder.close()])


def test_recorded_streams_survive_decode_encode_decode() -> None:
    for name in ("stream_text.sse", "stream_tool_use.sse", "stream_thinking.sse"):
        first = decode_bytes(sample(name))
        second = decode_bytes(encode_all(first))
        assert collect(second) == collect(first), name


def test_encoder_event_order_follows_anthropic() -> None:
    events: list[StreamEvent] = [
        ReasoningDelta("hmm"),
        ReasoningDelta("", signature="sig"),
        TextDelta("Let me add."),
        ToolCallStart(0, "toolu_1", "calculator"),
        ToolCallDelta(0, '{"a": '),
        ToolCallDelta(0, "5}"),
        ToolCallEnd(0),
        Finish(FinishReason.TOOL_CALLS),
        UsageEvent(Usage(input_tokens=10, output_tokens=5, cached_tokens=4)),
    ]
    parsed = [(e.event, orjson.loads(e.data)) for e in SSEParser().feed(encode_all(events))]
    names = [name for name, _ in parsed]
    assert names == [
        "message_start",
        "ping",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    starts = [data for name, data in parsed if name == "content_block_start"]
    assert [s["index"] for s in starts] == [0, 1, 2]
    assert [s["content_block"]["type"] for s in starts] == ["thinking", "text", "tool_use"]
    delta = parsed[-2][1]
    assert delta["delta"] == {
        "stop_reason": "tool_use", "stop_sequence": None, "stop_details": None, "container": None
    }
    assert delta["usage"] == {
        "input_tokens": 6,
        "output_tokens": 5,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 4,
        "server_tool_use": None,
        "output_tokens_details": {"thinking_tokens": 0},
        "relaygate_usage_source": "upstream",  # ours, an extra field (docs/tokens.md)
    }
    for name, data in parsed:  # today's schema, every field present (the SDK's models)
        if name != "ping":
            check_stream_event(data)


def test_recorded_samples_have_todays_shape() -> None:
    """The recorded upstream streams are what Anthropic sends today, field for field."""
    for name in ("stream_text.sse", "stream_tool_use.sse", "stream_thinking.sse"):
        for event in SSEParser().feed(sample(name)):
            if event.event != "ping":
                check_stream_event(orjson.loads(event.data))


@pytest.mark.parametrize(
    ("finish", "details"),
    [(FinishReason.STOP, None),
     (FinishReason.CONTENT_FILTER, {"type": "refusal", "category": None, "explanation": None})],
)
def test_message_delta_says_why_it_stopped(finish: FinishReason, details: object) -> None:
    parsed = [orjson.loads(e.data) for e in SSEParser().feed(encode_all([Finish(finish)]))]
    delta = next(data for data in parsed if data["type"] == "message_delta")
    check_stream_event(delta)
    assert delta["delta"]["stop_details"] == details
    assert delta["usage"]["output_tokens"] == 0 and delta["usage"]["input_tokens"] is None


def test_usage_after_finish_and_before_finish_give_the_same_close() -> None:
    usage = UsageEvent(Usage(input_tokens=3, output_tokens=2))
    before = encode_all([TextDelta("hi"), usage, Finish(FinishReason.STOP)])
    after = encode_all([TextDelta("hi"), Finish(FinishReason.STOP), usage])
    assert before == after
    assert b'"output_tokens":2' in before.split(b"event: message_delta")[1]


def test_late_argument_fragment_is_not_lost() -> None:
    """OpenAI upstreams may interleave two tool calls; every fragment reaches its call."""
    events: list[StreamEvent] = [
        ToolCallStart(0, "call_a", "first"),
        ToolCallDelta(0, '{"x":'),
        ToolCallStart(1, "call_b", "second"),
        ToolCallDelta(1, '{"y": 2}'),
        ToolCallDelta(0, " 1}"),
        ToolCallEnd(0),
        ToolCallEnd(1),
        Finish(FinishReason.TOOL_CALLS),
    ]
    calls = collect(decode_bytes(encode_all(events)))["calls"]
    assert calls == [["call_a", "first", '{"x": 1}'], ["call_b", "second", '{"y": 2}']]


def test_stop_sequence_is_reported() -> None:
    data = encode_all([TextDelta("1, 2, 3, 4"), Finish(FinishReason.STOP, ", 5")])
    assert b'"stop_reason":"stop_sequence","stop_sequence":", 5"' in data
    assert collect(decode_bytes(data))["finish"] == Finish(FinishReason.STOP, ", 5")


def test_tool_without_arguments_gets_an_empty_object() -> None:
    events: list[StreamEvent] = [ToolCallStart(0, "toolu_1", "now"), ToolCallEnd(0)]
    calls = collect(decode_bytes(encode_all(events)))["calls"]
    assert calls == [["toolu_1", "now", "{}"]]


def test_argument_fragment_after_its_block_stopped_has_no_placeholder_prefix() -> None:
    """A tool block closed before any argument, then a late fragment: the arguments are
    exactly the fragments (no `{}` placeholder in front), valid JSON."""
    events: list[StreamEvent] = [
        ToolCallStart(0, "call_a", "first"),
        ToolCallStart(1, "call_b", "second"),  # closes block 0 before it got an argument
        ToolCallDelta(1, '{"y": 2}'),
        ToolCallDelta(0, '{"x": 1}'),  # the late fragment for the stopped block
        ToolCallEnd(0),
        ToolCallEnd(1),
        Finish(FinishReason.TOOL_CALLS),
    ]
    decoded = decode_bytes(encode_all(events))
    calls = collect(decoded)["calls"]
    assert calls == [["call_a", "first", '{"x": 1}'], ["call_b", "second", '{"y": 2}']]
    ends = [e.index for e in decoded if isinstance(e, ToolCallEnd)]
    assert sorted(ends) == [0, 1]
    finish_at = next(i for i, e in enumerate(decoded) if isinstance(e, Finish))
    assert all(
        i < finish_at for i, e in enumerate(decoded) if isinstance(e, ToolCallDelta | ToolCallEnd)
    )
