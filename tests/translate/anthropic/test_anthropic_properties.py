"""Property: the Anthropic translators keep text, tool calls (complete, valid JSON
arguments) and usage intact, however the stream is chunked."""

from __future__ import annotations

import itertools
import json
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from relaygate.streaming.sse import SSEParser
from relaygate.translate.anthropic.encode import encode_request
from relaygate.translate.anthropic.request import decode_request
from relaygate.translate.anthropic.response import decode_response, encode_result
from relaygate.translate.anthropic.stream import EventDecoder, EventEncoder
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
)

json_scalars = st.none() | st.booleans() | st.integers(-(10**9), 10**9) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
arguments = st.dictionaries(st.text(min_size=1, max_size=10), json_values, max_size=5)
names = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_-]{0,20}", fullmatch=True)
texts = st.lists(st.text(min_size=1, max_size=30), max_size=6)
usages = st.builds(
    Usage,
    input_tokens=st.integers(0, 10**6),
    output_tokens=st.integers(0, 10**6),
)


def _split(text: str, cuts: list[int]) -> list[str]:
    points = sorted({cut % (len(text) + 1) for cut in cuts} | {0, len(text)})
    return [text[a:b] for a, b in itertools.pairwise(points) if text[a:b]]


@settings(max_examples=60, deadline=None)
@given(
    pieces=texts,
    calls=st.lists(
        st.tuples(names, arguments, st.lists(st.integers(0, 400), max_size=6)), max_size=3
    ),
    usage=usages,
    usage_first=st.booleans(),
    chunk=st.integers(1, 97),
)
def test_stream_keeps_text_calls_and_usage(
    pieces: list[str],
    calls: list[tuple[str, dict[str, Any], list[int]]],
    usage: Usage,
    usage_first: bool,
    chunk: int,
) -> None:
    events: list[StreamEvent] = [TextDelta(piece) for piece in pieces]
    for index, (name, args, cuts) in enumerate(calls):
        events.append(ToolCallStart(index, f"toolu_{index}", name))
        events += [ToolCallDelta(index, part) for part in _split(json.dumps(args), cuts)]
        events.append(ToolCallEnd(index))
    ending: list[StreamEvent] = [
        Finish(FinishReason.TOOL_CALLS if calls else FinishReason.STOP),
        UsageEvent(usage),
    ]
    events += ending[::-1] if usage_first else ending

    encoder = EventEncoder("msg_prop", "claude-prop")
    wire = b"".join([f for event in events for f in encoder.encode(event)] + encoder.close())
    parser, decoder = SSEParser(), EventDecoder()
    decoded: list[StreamEvent] = []
    for start in range(0, len(wire), chunk):
        for sse in parser.feed(wire[start : start + chunk]):
            decoded += decoder.decode(orjson.loads(sse.data))

    assert "".join(e.text for e in decoded if isinstance(e, TextDelta)) == "".join(pieces)
    starts = [e for e in decoded if isinstance(e, ToolCallStart)]
    assert [(e.id, e.name) for e in starts] == [(f"toolu_{i}", c[0]) for i, c in enumerate(calls)]
    for index, (_, args, _) in enumerate(calls):
        text = "".join(
            e.arguments for e in decoded if isinstance(e, ToolCallDelta) and e.index == index
        )
        assert json.loads(text) == args
    assert [e.usage for e in decoded if isinstance(e, UsageEvent)] == [usage]
    [finish] = [e for e in decoded if isinstance(e, Finish)]
    assert finish.reason is (FinishReason.TOOL_CALLS if calls else FinishReason.STOP)


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(max_size=60),
    calls=st.lists(st.tuples(names, arguments), max_size=3),
    usage=usages,
    cached=st.integers(0, 1000),
)
def test_result_round_trips(
    text: str, calls: list[tuple[str, dict[str, Any]]], usage: Usage, cached: int
) -> None:
    usage.input_tokens += cached
    usage.cached_tokens = cached
    message = Message(
        Role.ASSISTANT,
        [TextPart(text)] if text else [],
        tool_calls=[
            ToolCall(f"toolu_{i}", name, json.dumps(args)) for i, (name, args) in enumerate(calls)
        ],
    )
    result = ModelResult(
        id="msg_x",
        model="claude",
        message=message,
        finish_reason=FinishReason.TOOL_CALLS if calls else FinishReason.STOP,
        usage=usage,
        created=0,
    )
    again = decode_response(orjson.loads(orjson.dumps(encode_result(result))))
    assert again.message.text == text
    assert [(c.id, c.name, json.loads(c.arguments)) for c in again.message.tool_calls] == [
        (f"toolu_{i}", name, args) for i, (name, args) in enumerate(calls)
    ]
    assert again.usage == usage
    assert again.finish_reason is result.finish_reason


@settings(max_examples=60, deadline=None)
@given(
    prompt=st.text(min_size=1, max_size=40),
    calls=st.lists(st.tuples(names, arguments, st.text(max_size=30)), min_size=1, max_size=3),
)
def test_history_with_tool_calls_round_trips(
    prompt: str, calls: list[tuple[str, dict[str, Any], str]]
) -> None:
    """ModelCall → upstream Messages body → (as a front would read it) → same calls."""
    messages = [
        Message(Role.USER, [TextPart(prompt)]),
        Message(
            Role.ASSISTANT,
            tool_calls=[
                ToolCall(f"call_{i}", name, json.dumps(args))
                for i, (name, args, _) in enumerate(calls)
            ],
        ),
        *[
            Message(Role.TOOL, [TextPart(output)], tool_call_id=f"call_{i}")
            for i, (_, _, output) in enumerate(calls)
        ],
    ]
    body = encode_request(ModelCall(model="m", messages=messages), "claude")
    assert [turn["role"] for turn in body["messages"]] == ["user", "assistant", "user"]
    back = decode_request(orjson.loads(orjson.dumps(body)))
    assistant = next(m for m in back.messages if m.role is Role.ASSISTANT)
    assert [(c.id, c.name, json.loads(c.arguments)) for c in assistant.tool_calls] == [
        (f"call_{i}", name, args) for i, (name, args, _) in enumerate(calls)
    ]
    results = [m for m in back.messages if m.role is Role.TOOL]
    assert [(m.tool_call_id, m.text) for m in results] == [
        (f"call_{i}", output) for i, (_, _, output) in enumerate(calls)
    ]
