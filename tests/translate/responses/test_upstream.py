"""The provider direction: ModelCall → Responses body; Responses stream → canonical."""

from __future__ import annotations

from typing import Any

from relaygate.translate.responses.upstream import StreamDecoder, decode_response, encode_request
from relaygate.types import (
    ErrorEvent,
    Finish,
    FinishReason,
    ImagePart,
    Message,
    ModelCall,
    ReasoningDelta,
    ResponseFormat,
    ResponseFormatType,
    Role,
    TextPart,
    ToolCall,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    ToolChoice,
    ToolChoiceMode,
    ToolSpec,
    UsageEvent,
)
from tests.support.responses_schema import validate


def test_encode_request_is_a_valid_create_body() -> None:
    call = ModelCall(
        model="x",
        messages=[
            Message(Role.SYSTEM, [TextPart("sys")]),
            Message(Role.USER, [TextPart("see"), ImagePart("data:image/png;base64,AA")]),
            Message(Role.ASSISTANT, [TextPart("calling")], tool_calls=[ToolCall("c1", "f", "{}")],
                    reasoning="why", reasoning_signature="enc"),
            Message(Role.TOOL, [TextPart("42")], tool_call_id="c1"),
        ],
        tools=[ToolSpec("f"), ToolSpec("g")],
        tool_choice=ToolChoice(ToolChoiceMode.REQUIRED, allowed=["f"]),
        response_format=ResponseFormat(ResponseFormatType.JSON_SCHEMA, name="o",
                                       schema={"type": "object"}),
        max_tokens=64,
        stream=True,
    )
    body = encode_request(call, "gpt-up")
    validate("CreateResponseBody", body)
    assert body["instructions"] == "sys" and body["store"] is False and body["stream"] is True
    assert [item["type"] for item in body["input"]] == [
        "message", "reasoning", "message", "function_call", "function_call_output"
    ]
    assert body["tool_choice"] == {"type": "allowed_tools", "mode": "required",
                                   "tools": [{"type": "function", "name": "f"}]}
    assert body["text"]["format"]["schema"] == {"type": "object"}


def test_decode_response_with_reasoning_and_calls() -> None:
    result = decode_response({
        "id": "resp_1", "model": "m", "status": "completed", "created_at": 5,
        "output": [
            {"type": "reasoning", "id": "rs", "summary": [{"type": "summary_text", "text": "s"}],
             "encrypted_content": "enc"},
            {"type": "message", "id": "m", "role": "assistant", "status": "completed",
             "content": [{"type": "output_text", "text": "hi", "annotations": []}]},
            {"type": "function_call", "id": "fc", "call_id": "c", "name": "f",
             "arguments": "{}", "status": "completed"},
        ],
        "usage": {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7,
                  "input_tokens_details": {"cached_tokens": 1},
                  "output_tokens_details": {"reasoning_tokens": 2}},
    })
    assert result.message.text == "hi" and result.message.reasoning == "s"
    assert result.message.reasoning_signature == "enc"
    assert result.finish_reason is FinishReason.TOOL_CALLS
    assert (result.usage.cached_tokens, result.usage.reasoning_tokens) == (1, 2)


def test_stream_decoder_handles_both_reasoning_names_and_calls_without_deltas() -> None:
    decoder = StreamDecoder()
    events = []
    upstream: list[dict[str, Any]] = [
        {"type": "response.reasoning.delta", "delta": "a"},
        {"type": "response.reasoning_text.delta", "delta": "b"},
        {"type": "response.output_item.added",
         "item": {"type": "function_call", "id": "fc1", "call_id": "c1", "name": "f"}},
        {"type": "response.output_item.done",
         "item": {"type": "function_call", "id": "fc1", "call_id": "c1", "name": "f",
                  "arguments": '{"x":1}'}},
        {"type": "response.completed", "response": {"status": "completed", "usage": None}},
    ]
    for event in upstream:
        events += decoder.decode(event)
    assert events[:2] == [ReasoningDelta("a"), ReasoningDelta("b")]
    assert events[2:5] == [ToolCallStart(0, "c1", "f"), ToolCallDelta(0, '{"x":1}'),
                           ToolCallEnd(0)]
    assert isinstance(events[5], UsageEvent)
    assert events[6] == Finish(FinishReason.TOOL_CALLS) and decoder.done
    failed = StreamDecoder().decode({"type": "response.failed", "response": {
        "status": "failed", "error": {"code": "x", "message": "boom"}}})
    assert failed == [ErrorEvent("boom")]
