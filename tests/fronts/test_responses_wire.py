"""`/v1/responses` on the wire: SSE framing, every body and event against the spec's
schemas, the error shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.responses_gateway import KEY_A, ResponsesGateway
from tests.support.responses_schema import parse_frames, validate, validate_events

HEADERS = {"Authorization": f"Bearer {KEY_A}"}
CALCULATOR = {"type": "function", "name": "calculator",
              "parameters": {"type": "object", "properties": {"a": {"type": "number"}}}}




@pytest.fixture
def http(rgw: ResponsesGateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=rgw.base_url, headers=HEADERS, timeout=20) as client:
        yield client


def _stream(http: httpx.Client, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = http.post("/v1/responses", json={**body, "stream": True})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_frames(response.content)
    validate_events(events)
    return events


@pytest.mark.parametrize(
    ("body", "terminal"),
    [
        ({"model": "mock", "input": "hello"}, "response.completed"),
        ({"model": "mock", "input": "Calculate 5 + 3", "tools": [CALCULATOR]},
         "response.completed"),
        ({"model": "echo", "input": " ".join(["word"] * 80), "max_output_tokens": 16},
         "response.incomplete"),
        ({"model": "oai:cut-stream", "input": "one two three four five"}, "response.failed"),
        ({"model": "resp-gpt", "input": "Calculate 1 + 1", "tools": [CALCULATOR]},
         "response.completed"),
    ],
    ids=["text", "function-call", "incomplete", "failed-mid-stream", "responses-upstream"],
)
def test_every_streamed_event_is_valid(http: httpx.Client, body: dict[str, Any],
                                       terminal: str) -> None:
    validate("CreateResponseBody", {**body, "stream": True})
    events = _stream(http, body)
    assert events[-1]["type"] == terminal
    final = events[-1]["response"]
    if terminal == "response.failed":
        assert final["error"]["code"] and final["status"] == "failed"
    if terminal == "response.incomplete":
        assert final["incomplete_details"] == {"reason": "max_output_tokens"}
    stored = http.get(f"/v1/responses/{final['id']}").json()
    validate("ResponseResource", stored)
    assert stored["status"] == final["status"] and stored["output"] == final["output"]


def test_function_call_events_carry_whole_arguments(http: httpx.Client) -> None:
    events = _stream(http, {"model": "mock", "input": "Calculate 5 + 3", "tools": [CALCULATOR]})
    deltas = "".join(e["delta"] for e in events
                     if e["type"] == "response.function_call_arguments.delta")
    done = next(e for e in events if e["type"] == "response.function_call_arguments.done")
    assert json.loads(deltas) == json.loads(done["arguments"]) == {"a": 5}


def test_sse_framing_is_exact(http: httpx.Client) -> None:
    raw = http.post("/v1/responses", json={"model": "echo", "input": "a b", "stream": True}).content
    assert b"\r" not in raw
    assert raw.endswith(b"data: [DONE]\n\n")
    frames = raw.decode().split("\n\n")
    assert frames[-1] == ""
    for frame in frames[:-2]:
        lines = frame.split("\n")
        assert len(lines) == 2 and lines[0].startswith("event: ")
        assert lines[1].startswith("data: ")
        assert json.loads(lines[1][6:])["type"] == lines[0][7:]


def test_full_request_body_echoes_as_a_valid_response(http: httpx.Client) -> None:
    body = {
        "model": "mock", "input": [{"type": "message", "role": "user", "content": "hi"}],
        "instructions": "Be brief.", "tools": [CALCULATOR], "tool_choice": "none",
        "text": {"format": {"type": "json_schema", "name": "answer", "strict": True,
                            "schema": {"type": "object", "properties": {
                                "answer": {"type": "string"}}, "required": ["answer"]}}},
        "temperature": 0.5, "top_p": 0.9, "presence_penalty": 0.1, "frequency_penalty": 0.2,
        "parallel_tool_calls": False, "max_output_tokens": 200, "max_tool_calls": 2,
        "reasoning": {"effort": "low", "summary": "auto"}, "metadata": {"team": "a"},
        "truncation": "auto", "store": True, "service_tier": "default", "top_logprobs": 0,
        "safety_identifier": "user-1", "prompt_cache_key": "k1", "include": [],
    }
    validate("CreateResponseBody", body)
    response = http.post("/v1/responses", json=body)
    assert response.status_code == 200, response.text
    data = response.json()
    validate("ResponseResource", data)
    assert json.loads(data["output"][0]["content"][0]["text"])["answer"]
    assert data["metadata"] == {"team": "a"} and data["temperature"] == 0.5
    assert data["tool_choice"] == "none" and data["max_tool_calls"] == 2


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"input": "no model"}, 400, "model"),
        ({"model": "mock", "input": 5}, 400, "input"),
        ({"model": "mock", "background": True, "store": False}, 400, "store"),
        ({"model": "mock", "previous_response_id": "resp_missing"}, 400, "previous_response_id"),
        ({"model": "mock", "tools": [{"type": "web_search"}]}, 400, "tools"),
        ({"model": "mock", "input": [{"type": "function_call_output", "call_id": "call_x",
                                      "output": "4"}]}, 400, "input[0].call_id"),
    ],
)
def test_errors_have_the_openai_shape(http: httpx.Client, body: dict[str, Any], status: int,
                                      param: str) -> None:
    response = http.post("/v1/responses", json=body)
    assert response.status_code == status
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["param"] == param and error["message"]


def test_unknown_and_unauthenticated(rgw: ResponsesGateway) -> None:
    assert httpx.get(f"{rgw.base_url}/v1/responses/resp_x", headers=HEADERS).status_code == 404
    anonymous = httpx.post(f"{rgw.base_url}/v1/responses", json={"model": "mock", "input": "x"})
    assert anonymous.status_code == 401


def test_compact_takes_the_items_create_takes(http: httpx.Client) -> None:
    """Items may omit `type` (it defaults to `message`; OpenAI's `EasyInputMessage`) on
    both endpoints: one parser reads both."""
    items = [{"role": "user", "content": "hi"},
             {"role": "assistant", "content": "hello, how can I help?"},
             {"role": "user", "content": [{"type": "input_text", "text": "plan my trip"}]}]
    created = http.post("/v1/responses", json={"model": "mock", "input": items})
    assert created.status_code == 200, created.text
    compacted = http.post("/v1/responses/compact", json={"model": "mock", "input": items})
    assert compacted.status_code == 200, compacted.text
    data = compacted.json()
    validate("CompactResource", data)
    users = [item for item in data["output"] if item["type"] == "message"]
    assert [item["content"][0]["text"] for item in users] == ["hi", "plan my trip"]
    assert data["output"][-1]["type"] == "compaction"
    bad = http.post("/v1/responses/compact", json={"model": "mock", "input": [{"content": "x"}]})
    assert bad.status_code == 400
    assert bad.json()["error"]["param"] == "input[0].type"
