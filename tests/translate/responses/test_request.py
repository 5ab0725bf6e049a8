"""Responses request → options, items and the canonical call."""

from __future__ import annotations

import pytest

from relaygate.errors import InvalidRequest, UnsupportedContent
from relaygate.translate.responses.items import (
    decode_compaction,
    encode_compaction,
    items_to_messages,
)
from relaygate.translate.responses.request import build_call, parse_request
from relaygate.translate.responses.response import ResponseState, encode_response
from relaygate.types import FilePart, ImagePart, Role, ToolChoiceMode
from tests.support.responses_schema import validate

TOOLS = [
    {"type": "function", "name": "calc", "parameters": {"type": "object", "properties": {}}},
    {"type": "function", "name": "weather", "description": "Weather"},
]


def test_every_item_kind_becomes_messages_in_order() -> None:
    body = {
        "model": "m",
        "instructions": "Be brief.",
        "input": [
            {"type": "message", "role": "system", "content": "sys"},
            {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "dev"}]},
            {"type": "message", "role": "user", "content": [
                {"type": "input_text", "text": "look"},
                {"type": "input_image", "image_url": "data:image/png;base64,AAAA", "detail": "low"},
                {"type": "input_file", "filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBE"},
            ]},
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "hmm"}],
             "encrypted_content": "opaque"},
            {"type": "message", "role": "assistant", "content": "Let me call."},
            {"type": "function_call", "call_id": "c1", "name": "calc", "arguments": "{}"},
            {"type": "function_call", "call_id": "c2", "name": "weather", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "8"},
            {"type": "function_call_output", "call_id": "c2", "output": [{"type": "input_text", "text": "sunny"}]},
            {"type": "compaction", "encrypted_content": encode_compaction("we talked")},
        ],
    }
    validate("CreateResponseBody", body)
    parsed = parse_request(body)
    messages = items_to_messages(parsed.items, parsed.options.instructions)
    roles = [m.role for m in messages]
    assert roles == [Role.SYSTEM, Role.SYSTEM, Role.DEVELOPER, Role.USER, Role.ASSISTANT,
                     Role.TOOL, Role.TOOL, Role.USER]
    user = messages[3]
    assert isinstance(user.content[1], ImagePart) and user.content[1].detail == "low"
    assert isinstance(user.content[2], FilePart) and user.content[2].media_type == "application/pdf"
    assistant = messages[4]
    assert assistant.text == "Let me call."
    assert [c.id for c in assistant.tool_calls] == ["c1", "c2"]
    assert assistant.reasoning == "hmm" and assistant.reasoning_signature == "opaque"
    assert messages[6].text == "sunny" and messages[6].tool_call_id == "c2"
    assert "we talked" in messages[7].text
    assert all(item["id"] for item in parsed.items)


def test_allowed_tools_are_enforced_in_the_call() -> None:
    parsed = parse_request({
        "model": "m", "input": "hi", "tools": TOOLS,
        "tool_choice": {"type": "allowed_tools", "mode": "required",
                        "tools": [{"type": "function", "name": "weather"}]},
    })
    call = build_call(parsed.options, [], stream=False)
    assert [tool.name for tool in call.tools] == ["weather"]
    assert call.tool_choice is not None and call.tool_choice.mode is ToolChoiceMode.REQUIRED
    assert call.tool_choice.allowed == ["weather"]


def test_named_function_choice_and_json_schema_format() -> None:
    parsed = parse_request({
        "model": "m", "input": "hi", "tools": TOOLS,
        "tool_choice": {"type": "function", "name": "calc"},
        "text": {"format": {"type": "json_schema", "name": "out", "strict": True,
                            "schema": {"type": "object"}}},
        "max_output_tokens": 32, "reasoning": {"effort": "low"}, "metadata": {"k": "v"},
    })
    call = build_call(parsed.options, [], stream=True)
    assert call.tool_choice is not None and call.tool_choice.name == "calc"
    assert call.response_format is not None and call.response_format.schema == {"type": "object"}
    assert call.max_tokens == 32 and call.reasoning_effort == "low"
    body = encode_response(ResponseState("resp_x", 1, parsed.options))
    validate("ResponseResource", body)
    assert body["text"]["format"]["schema"] is None  # the spec's response-side quirk
    assert body["reasoning"] == {"effort": "low", "summary": None}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "x"}, "model"),
        ({"model": "m", "input": [{"type": "message", "role": "wizard", "content": "x"}]},
         "input[0].role"),
        ({"model": "m", "max_output_tokens": 3}, "max_output_tokens"),
        ({"model": "m", "tools": [{"type": "function"}]}, "tools[0].name"),
        ({"model": "m", "tools": TOOLS, "tool_choice": {"type": "function", "name": "nope"}},
         "tool_choice.name"),
        ({"model": "m", "input": [{"role": "system", "content": [
            {"type": "input_image", "image_url": "x"}]}]}, "input[0].content[0].type"),
    ],
)
def test_invalid_requests_name_the_field(body: dict[str, object], param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_request(body)
    assert caught.value.param == param
    assert caught.value.status == 400


def test_video_input_is_unsupported() -> None:
    with pytest.raises(UnsupportedContent):
        parse_request({"model": "m", "input": [{"type": "function_call_output", "call_id": "c",
                                                 "output": [{"type": "input_video", "video_url": "u"}]}]})


def test_compaction_round_trip_and_foreign_content() -> None:
    assert decode_compaction(encode_compaction("short")) == "short"
    assert decode_compaction("gAAAA-openai-encrypted") is None


def test_items_without_type_are_accepted_as_messages_and_references() -> None:
    parsed = parse_request({"model": "m", "input": [{"role": "user", "content": "hi"},
                                                    {"id": "msg_1"}]})
    assert [item["type"] for item in parsed.items] == ["message", "item_reference"]
