"""Property tests: the Gemini translators keep content, tool calls and usage intact,
with real JSON (orjson) in the middle as on the wire."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from relaygate.translate.gemini.encode import encode_request
from relaygate.translate.gemini.request import decode_request
from relaygate.translate.gemini.response import decode_response, encode_result
from relaygate.translate.gemini.schema import to_gemini_schema
from relaygate.translate.gemini.stream import ChunkDecoder, ChunkEncoder
from relaygate.types import (
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

TEXT = st.text(st.characters(codec="utf-8"), min_size=1, max_size=30)
NAME = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,15}", fullmatch=True)
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAME, inner, max_size=3),
    max_leaves=8,
)
ARGS = st.dictionaries(NAME, JSON_VALUE, max_size=4)
CALL_ID = st.from_regex(r"call_[a-z0-9]{4,12}", fullmatch=True)
IMAGE = st.sampled_from(
    [
        "data:image/png;base64,iVBORw0KGgo=",
        "data:image/jpeg;base64,/9j/4AAQ",
        "https://example.com/a.png",
    ]
)
USAGE = st.builds(
    lambda i, o, r, c: Usage(
        input_tokens=i + c, output_tokens=o + r, cached_tokens=c, reasoning_tokens=r
    ),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.integers(0, 10**4),
    st.integers(0, 10**4),
)


def wire(value: Any) -> Any:
    return orjson.loads(orjson.dumps(value))


@st.composite
def conversations(draw: st.DrawFn) -> ModelCall:
    """Alternating turns: user (text, images), assistant (text, tool calls), tool results."""
    messages: list[Message] = []
    if draw(st.booleans()):
        messages.append(Message(Role.SYSTEM, [TextPart(draw(TEXT))]))
    for _ in range(draw(st.integers(1, 3))):
        parts: list[TextPart | ImagePart] = [TextPart(draw(TEXT))]
        parts += [ImagePart(url) for url in draw(st.lists(IMAGE, max_size=2))]
        messages.append(Message(Role.USER, list(parts)))
        calls = draw(
            st.lists(
                st.builds(ToolCall, CALL_ID, NAME, ARGS.map(lambda a: orjson.dumps(a).decode())),
                max_size=2,
                unique_by=lambda c: c.id,
            )
        )
        text = draw(st.none() | TEXT) if calls else draw(TEXT)  # an empty turn is dropped
        messages.append(Message(Role.ASSISTANT, [TextPart(text)] if text else [], tool_calls=calls))
        for call in calls:
            result = draw(
                TEXT.filter(lambda t: not _is_json(t))
                | ARGS.map(lambda a: orjson.dumps(a).decode())
            )
            messages.append(
                Message(Role.TOOL, [TextPart(result)], tool_call_id=call.id, name=call.name)
            )
    tools = [
        ToolSpec(
            name,
            draw(st.none() | TEXT),
            {"type": "object", "properties": {"x": {"type": "string"}}},
        )
        for name in draw(st.lists(NAME, max_size=2, unique=True))
    ]
    return ModelCall(
        "gemini-x",
        messages,
        tools=tools,
        temperature=draw(st.none() | st.floats(0, 2)),
        max_tokens=draw(st.none() | st.integers(1, 10**5)),
        stop=draw(st.lists(TEXT, max_size=2)),
    )


def _is_json(text: str) -> bool:
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return True


def _shape(messages: list[Message]) -> list[tuple[Any, ...]]:
    out = []
    for m in messages:
        calls = [(c.id, c.name, orjson.loads(c.arguments)) for c in m.tool_calls]
        text: Any = orjson.loads(m.text) if m.role is Role.TOOL and _is_json(m.text) else m.text
        images = [p.url for p in m.content if isinstance(p, ImagePart)]
        out.append((m.role, text, images, calls, m.tool_call_id))
    return out


@settings(max_examples=100, deadline=None)
@given(conversations())
def test_request_round_trip(call: ModelCall) -> None:
    back = decode_request(wire(encode_request(call)), call.model, False)
    assert _shape(back.messages) == _shape(call.messages)
    assert [t.name for t in back.tools] == [t.name for t in call.tools]
    assert (back.temperature, back.max_tokens, back.stop) == (
        call.temperature,
        call.max_tokens,
        call.stop,
    )


@settings(max_examples=100, deadline=None)
@given(
    text=st.none() | TEXT,
    reasoning=st.none() | TEXT,
    calls=st.lists(
        st.builds(ToolCall, CALL_ID, NAME, ARGS.map(lambda a: orjson.dumps(a).decode())),
        max_size=3,
        unique_by=lambda c: c.id,
    ),
    finish=st.sampled_from([FinishReason.STOP, FinishReason.LENGTH, FinishReason.CONTENT_FILTER]),
    usage=USAGE,
)
def test_response_round_trip(
    text: str | None,
    reasoning: str | None,
    calls: list[ToolCall],
    finish: FinishReason,
    usage: Usage,
) -> None:
    message = Message(
        Role.ASSISTANT, [TextPart(text)] if text else [], tool_calls=calls, reasoning=reasoning
    )
    result = ModelResult("resp-1", "gemini-x", message, finish, usage, 0)
    back = decode_response(wire(encode_result(result)), "gemini-x")
    assert back.message.text == (text or "")
    assert back.message.reasoning == reasoning
    assert [(c.id, c.name, orjson.loads(c.arguments)) for c in back.message.tool_calls] == [
        (c.id, c.name, orjson.loads(c.arguments)) for c in calls
    ]
    expected = FinishReason.TOOL_CALLS if calls and finish is FinishReason.STOP else finish
    assert back.finish_reason is expected
    assert back.usage == usage


@st.composite
def streams(draw: st.DrawFn) -> list[StreamEvent]:
    events: list[StreamEvent] = [TextDelta(t) for t in draw(st.lists(TEXT, max_size=4))]
    for index in range(draw(st.integers(0, 3))):
        arguments = orjson.dumps(draw(ARGS)).decode()
        cuts = sorted(draw(st.lists(st.integers(0, len(arguments)), max_size=4)))
        pieces = [arguments[a:b] for a, b in zip([0, *cuts], [*cuts, len(arguments)], strict=True)]
        events.append(ToolCallStart(index, f"call_{index}", draw(NAME)))
        events += [ToolCallDelta(index, piece) for piece in pieces if piece]
        events.append(ToolCallEnd(index))
    events.append(UsageEvent(draw(USAGE)))
    events.append(Finish(draw(st.sampled_from([FinishReason.STOP, FinishReason.LENGTH]))))
    return events


@settings(max_examples=100, deadline=None)
@given(streams())
def test_stream_round_trip_keeps_arguments_whole(events: list[StreamEvent]) -> None:
    encoder = ChunkEncoder("gemini-x", "r1")
    chunks = [chunk for event in events for chunk in encoder.encode(event)] + encoder.close()
    decoder = ChunkDecoder()
    back = [e for chunk in chunks for e in decoder.decode(wire(chunk))] + decoder.close()
    assert "".join(e.text for e in back if isinstance(e, TextDelta)) == "".join(
        e.text for e in events if isinstance(e, TextDelta)
    )
    sent = {e.index: "" for e in events if isinstance(e, ToolCallStart)}
    for e in events:
        if isinstance(e, ToolCallDelta):
            sent[e.index] += e.arguments
    got = [orjson.loads(e.arguments) for e in back if isinstance(e, ToolCallDelta)]
    assert got == [orjson.loads(sent[i] or "{}") for i in sorted(sent)]
    names = [e.name for e in back if isinstance(e, ToolCallStart)]
    assert names == [e.name for e in events if isinstance(e, ToolCallStart)]
    assert [e.usage for e in back if isinstance(e, UsageEvent)] == [
        e.usage for e in events if isinstance(e, UsageEvent)
    ]
    finish = next(e for e in events if isinstance(e, Finish)).reason
    if sent and finish is FinishReason.STOP:
        finish = FinishReason.TOOL_CALLS
    assert back[-1] == Finish(finish)


# Gemini's documented Schema fields, written out again on purpose: an oracle independent of
# the list in translate/gemini/schema.py, so a wrong entry there fails here.
_ALLOWED = {
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "items",
    "minimum",
    "maximum",
}
SCHEMA = st.recursive(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["string", "number", "integer", "boolean"])},
        optional={
            "const": st.integers(),
            "additionalProperties": st.booleans(),
            "$schema": st.just("x"),
            "description": TEXT,
        },
    ),
    lambda inner: st.fixed_dictionaries(
        {"type": st.just("object"), "properties": st.dictionaries(NAME, inner, max_size=3)},
        optional={
            "additionalProperties": st.booleans(),
            "oneOf": st.lists(inner, max_size=2),
            "$defs": st.dictionaries(NAME, inner, max_size=1),
        },
    ),
    max_leaves=6,
)


def _keys_ok(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return True
    if set(schema) - _ALLOWED:
        return False
    children = list((schema.get("properties") or {}).values()) + list(schema.get("anyOf") or [])
    return all(_keys_ok(child) for child in children)


@settings(max_examples=100, deadline=None)
@given(SCHEMA)
def test_schemas_sent_to_gemini_use_only_supported_keywords(schema: dict[str, Any]) -> None:
    converted = to_gemini_schema(schema)
    assert _keys_ok(converted)
    assert set(converted.get("properties") or {}) == set(schema.get("properties") or {})
