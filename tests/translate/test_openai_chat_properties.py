"""Property tests: the OpenAI Chat translators keep content, tool calls and usage intact.

Every round trip goes through real JSON (orjson) in the middle, as on the wire.
"""

from __future__ import annotations

import itertools
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from relaygate.translate.openai_chat.request import decode_request, encode_request
from relaygate.translate.openai_chat.response import decode_response, encode_result
from relaygate.translate.openai_chat.stream import ChunkDecoder, ChunkEncoder
from relaygate.types import (
    ContentPart,
    Finish,
    FinishReason,
    ImagePart,
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
    ToolSpec,
    Usage,
    UsageEvent,
)

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
NAME = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_.-]{0,20}", fullmatch=True)
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
ARGUMENTS = st.dictionaries(NAME, JSON_VALUE, max_size=4).map(
    lambda value: orjson.dumps(value).decode()
)
IMAGE = st.builds(
    ImagePart,
    url=st.sampled_from(["https://example.com/a.png", "data:image/png;base64,iVBORw0KGgo="]),
    detail=st.sampled_from([None, "low", "high", "auto"]),
)
TOOL_CALL = st.builds(
    ToolCall,
    id=st.from_regex(r"call_[a-z0-9]{4,12}", fullmatch=True),
    name=NAME,
    arguments=ARGUMENTS,
)
USAGE = st.builds(
    Usage,
    input_tokens=st.integers(0, 10**7),
    output_tokens=st.integers(0, 10**7),
    cached_tokens=st.integers(0, 10**6),
    reasoning_tokens=st.integers(0, 10**6),
)


def _text_only(role: Role) -> st.SearchStrategy[Message]:
    return st.builds(
        lambda texts: Message(role, [TextPart(t) for t in texts]),
        st.lists(TEXT, min_size=1, max_size=3),
    )


USER = st.lists(st.one_of(TEXT.map(TextPart), IMAGE), min_size=1, max_size=4).map(
    lambda parts: Message(Role.USER, list[ContentPart](parts))
)
ASSISTANT = st.builds(
    lambda text, calls: Message(Role.ASSISTANT, [TextPart(text)] if text else [], tool_calls=calls),
    st.one_of(st.none(), TEXT),
    st.lists(TOOL_CALL, max_size=3),
)
TOOL_RESULT = st.builds(
    lambda text, call_id: Message(Role.TOOL, [TextPart(text)], tool_call_id=call_id),
    TEXT,
    st.from_regex(r"call_[a-z0-9]{4,12}", fullmatch=True),
)
MESSAGE = st.one_of(
    _text_only(Role.SYSTEM), _text_only(Role.DEVELOPER), USER, ASSISTANT, TOOL_RESULT
)
TOOL_SPEC = st.builds(
    ToolSpec,
    name=NAME,
    description=st.one_of(st.none(), TEXT),
    parameters=st.fixed_dictionaries(
        {
            "type": st.just("object"),
            "properties": st.dictionaries(NAME, st.just({"type": "string"}), max_size=3),
        }
    ),
)


def _shape(message: Message) -> tuple[Any, ...]:
    """What must survive: role, the text, images in order, tool calls, the call answered."""
    images = [(part.url, part.detail) for part in message.content if isinstance(part, ImagePart)]
    calls = [(call.id, call.name, call.arguments) for call in message.tool_calls]
    return (message.role, message.text, images, calls, message.tool_call_id)


def _wire(value: Any) -> Any:
    return orjson.loads(orjson.dumps(value))


@settings(max_examples=150, deadline=None)
@given(
    messages=st.lists(MESSAGE, min_size=1, max_size=6),
    tools=st.lists(TOOL_SPEC, max_size=3),
    max_tokens=st.one_of(st.none(), st.integers(1, 10**6)),
    stop=st.lists(TEXT.filter(bool), max_size=3),
    temperature=st.one_of(st.none(), st.floats(0, 2)),
)
def test_request_round_trip_keeps_content_and_tool_calls(
    messages: list[Message],
    tools: list[ToolSpec],
    max_tokens: int | None,
    stop: list[str],
    temperature: float | None,
) -> None:
    call = ModelCall(
        model="m",
        messages=messages,
        tools=tools,
        max_tokens=max_tokens,
        stop=stop,
        temperature=temperature,
    )
    decoded = decode_request(_wire(encode_request(call, "upstream-m")))
    assert decoded.model == "upstream-m"
    assert [_shape(m) for m in decoded.messages] == [_shape(m) for m in messages]
    assert [(t.name, t.description, t.parameters) for t in decoded.tools] == [
        (t.name, t.description, t.parameters) for t in tools
    ]
    assert (decoded.max_tokens, decoded.stop, decoded.temperature) == (
        max_tokens,
        stop,
        temperature,
    )


@settings(max_examples=150, deadline=None)
@given(
    text=st.one_of(st.none(), TEXT),
    calls=st.lists(TOOL_CALL, max_size=3),
    usage=USAGE,
    finish=st.sampled_from([FinishReason.STOP, FinishReason.LENGTH, FinishReason.CONTENT_FILTER]),
)
def test_response_round_trip_keeps_content_calls_and_usage(
    text: str | None, calls: list[ToolCall], usage: Usage, finish: FinishReason
) -> None:
    message = Message(Role.ASSISTANT, [TextPart(text)] if text else [], tool_calls=calls)
    result = ModelResult(
        "chatcmpl-1", "m", message, FinishReason.TOOL_CALLS if calls else finish, usage, 1
    )
    decoded = decode_response(_wire(encode_result(result)))
    assert _shape(decoded.message) == _shape(message)
    assert decoded.finish_reason is result.finish_reason
    assert decoded.usage == usage
    assert (decoded.id, decoded.model, decoded.created) == ("chatcmpl-1", "m", 1)


@st.composite
def _event_streams(draw: st.DrawFn) -> tuple[list[StreamEvent], str, list[ToolCall], Usage]:
    """A provider-like event stream: text deltas, then tool calls cut into random fragments."""
    pieces = draw(st.lists(TEXT, max_size=6))
    calls = draw(st.lists(TOOL_CALL, max_size=3))
    usage = draw(USAGE)
    events: list[StreamEvent] = [TextDelta(piece) for piece in pieces]
    for index, call in enumerate(calls):
        events.append(ToolCallStart(index, call.id, call.name))
        cuts = sorted(draw(st.lists(st.integers(0, len(call.arguments)), max_size=5)))
        bounds = [0, *cuts, len(call.arguments)]
        for start, end in itertools.pairwise(bounds):
            if end > start:
                events.append(ToolCallDelta(index, call.arguments[start:end]))
        events.append(ToolCallEnd(index))
    events.append(UsageEvent(usage))
    events.append(Finish(FinishReason.TOOL_CALLS if calls else FinishReason.STOP))
    return events, "".join(pieces), calls, usage


@settings(max_examples=200, deadline=None)
@given(stream=_event_streams())
def test_chunk_encoder_to_decoder_keeps_text_arguments_and_usage(
    stream: tuple[list[StreamEvent], str, list[ToolCall], Usage],
) -> None:
    events, text, calls, usage = stream
    encoder = ChunkEncoder("chatcmpl-x", "m", 1, include_usage=True)
    chunks = [chunk for event in events for chunk in encoder.encode(event)] + encoder.close()
    decoder = ChunkDecoder()
    decoded = [event for chunk in chunks for event in decoder.decode(_wire(chunk))]

    assert "".join(e.text for e in decoded if isinstance(e, TextDelta)) == text
    starts = [(e.index, e.id, e.name) for e in decoded if isinstance(e, ToolCallStart)]
    assert starts == [(i, c.id, c.name) for i, c in enumerate(calls)]
    for index, call in enumerate(calls):
        arguments = "".join(
            e.arguments for e in decoded if isinstance(e, ToolCallDelta) and e.index == index
        )
        assert arguments == call.arguments
        assert orjson.loads(arguments) == orjson.loads(call.arguments)
    assert sorted(e.index for e in decoded if isinstance(e, ToolCallEnd)) == list(range(len(calls)))
    assert [e.usage for e in decoded if isinstance(e, UsageEvent)] == [usage]
    finishes = [e.reason for e in decoded if isinstance(e, Finish)]
    assert finishes == [FinishReason.TOOL_CALLS if calls else FinishReason.STOP]
    # every chunk is an OpenAI chunk: same id, one choice, or the final usage-only chunk
    assert all(c["id"] == "chatcmpl-x" and c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] == usage.total_tokens
