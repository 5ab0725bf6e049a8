"""Canonical events → the Responses semantic sequence, checked against the spec."""

from __future__ import annotations

import time

from relaygate.translate.responses.request import ResponseOptions
from relaygate.translate.responses.response import ResponseState, Status, encode_response
from relaygate.translate.responses.stream import Event, OutputItemEvent, ResponseStreamEncoder
from relaygate.types import (
    ErrorEvent,
    Finish,
    FinishReason,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    TokenLogprob,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    Usage,
    UsageEvent,
)
from tests.support.responses_schema import validate, validate_events


def _run(canonical: list[StreamEvent], **options: object) -> tuple[list[Event], ResponseState]:
    state = ResponseState("resp_1", int(time.time()), ResponseOptions(model="m", **options))  # type: ignore[arg-type]
    encoder = ResponseStreamEncoder(state)
    events = encoder.start()
    for event in canonical:
        events += encoder.feed(event)
    if state.status is not Status.FAILED:
        events += encoder.finish()
    validate_events(events)
    validate("ResponseResource", encode_response(state))
    return events, state


def test_reasoning_then_text_then_two_calls_in_order() -> None:
    events, state = _run(
        [
            ReasoningDelta("think "),
            ReasoningDelta("hard", signature="sig"),
            TextDelta("Hel"),
            TextDelta("lo"),
            ToolCallStart(0, "call_a", "calc"),
            ToolCallStart(1, "call_b", "weather"),
            ToolCallDelta(0, '{"a":'),
            ToolCallDelta(1, '{"city":"Oslo"}'),
            ToolCallDelta(0, "1}"),
            ToolCallEnd(1),
            ToolCallEnd(0),
            UsageEvent(Usage(3, 4)),
            Finish(FinishReason.TOOL_CALLS),
        ]
    )
    kinds = [event["type"] for event in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert "response.reasoning.delta" in kinds and "response.reasoning.done" in kinds
    assert [item["type"] for item in state.output] == [
        "reasoning", "message", "function_call", "function_call"
    ]
    assert state.output[0]["content"] == [{"type": "reasoning_text", "text": "think hard"}]
    assert state.output[0]["encrypted_content"] == "sig"
    assert state.output[1]["content"][0]["text"] == "Hello"
    assert state.output[2]["arguments"] == '{"a":1}'
    assert state.output[3]["arguments"] == '{"city":"Oslo"}'
    done = [e for e in events if e["type"] == "response.function_call_arguments.done"]
    assert [(e["output_index"], e["arguments"]) for e in done] == [
        (3, '{"city":"Oslo"}'), (2, '{"a":1}')
    ]
    assert events[-1]["response"]["usage"]["total_tokens"] == 7


def test_length_finish_is_incomplete_with_reason() -> None:
    events, state = _run([TextDelta("cut sh"), Finish(FinishReason.LENGTH)],
                         max_output_tokens=16)
    assert events[-1]["type"] == "response.incomplete"
    assert events[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    assert state.output[0]["status"] == "incomplete"


def test_error_fails_the_response() -> None:
    events, state = _run([TextDelta("partial"), ErrorEvent("upstream broke", "upstream_error")])
    assert events[-1]["type"] == "response.failed"
    assert events[-1]["response"]["error"] == {"code": "upstream_error",
                                               "message": "upstream broke"}
    assert state.status is Status.FAILED


def test_max_tool_calls_drops_the_extra_calls() -> None:
    _, state = _run(
        [ToolCallStart(0, "a", "one"), ToolCallDelta(0, "{}"), ToolCallEnd(0),
         ToolCallStart(1, "b", "two"), ToolCallDelta(1, "{}"), ToolCallEnd(1),
         Finish(FinishReason.TOOL_CALLS)],
        max_tool_calls=1,
    )
    assert [item["name"] for item in state.output] == ["one"]


def test_background_start_is_created_queued_in_progress() -> None:
    state = ResponseState("resp_2", 1, ResponseOptions(model="m", background=True),
                          status=Status.QUEUED)
    events = ResponseStreamEncoder(state).start()
    assert [e["type"] for e in events] == [
        "response.created", "response.queued", "response.in_progress"
    ]
    assert events[0]["response"]["status"] == "queued"
    validate_events(events)


def test_cancel_ends_with_an_error_event() -> None:
    state = ResponseState("resp_3", 1, ResponseOptions(model="m", background=True))
    encoder = ResponseStreamEncoder(state)
    events = encoder.start() + encoder.feed(TextDelta("x")) + encoder.cancel()
    validate_events(events)
    assert events[-1]["error"]["code"] == "response_cancelled"
    assert state.status is Status.CANCELLED


def test_whole_output_items_keep_their_place() -> None:
    state = ResponseState("resp_4", 1, ResponseOptions(model="m"))
    encoder = ResponseStreamEncoder(state)
    item = {"type": "function_call", "id": "fc_x", "call_id": "c", "name": "f",
            "arguments": "{}", "status": "completed"}
    events = encoder.start() + encoder.feed(TextDelta("before ")) + encoder.feed(
        OutputItemEvent(item)) + encoder.feed(TextDelta("after")) + encoder.finish()
    validate_events(events)
    assert [i["type"] for i in state.output] == ["message", "function_call", "message"]
    assert state.output[1] == item


def test_reasoning_as_summary_parts_when_a_summary_is_asked_for() -> None:
    events, state = _run(
        [ReasoningDelta("think "), ReasoningDelta("hard", "sig"), TextDelta("ok"),
         Finish(FinishReason.STOP)],
        reasoning={"effort": "low", "summary": "auto"},
    )
    kinds = [e["type"] for e in events]
    assert kinds[3:9] == [
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
    ]
    assert not any(kind.startswith("response.reasoning.") for kind in kinds)
    assert events[6]["text"] == "think hard" and events[6]["summary_index"] == 0
    reasoning = state.output[0]
    assert reasoning["summary"] == [{"type": "summary_text", "text": "think hard"}]
    assert reasoning["content"] == [] and reasoning["encrypted_content"] == "sig"


def test_logprobs_ride_on_deltas_and_the_part() -> None:
    alternative = TokenLogprob("Hi", -2.5)
    events, state = _run([TextDelta("Hé", [TokenLogprob("Hé", -0.5, [alternative])]),
                          TextDelta("!", [TokenLogprob("!", -0.1)]), Finish(FinishReason.STOP)])
    deltas = [e for e in events if e["type"] == "response.output_text.delta"]
    assert deltas[0]["logprobs"] == [{"token": "Hé", "logprob": -0.5, "bytes": [72, 195, 169],
                                      "top_logprobs": [{"token": "Hi", "logprob": -2.5,
                                                        "bytes": [72, 105]}]}]
    part = state.output[0]["content"][0]
    assert [lp["token"] for lp in part["logprobs"]] == ["Hé", "!"]
