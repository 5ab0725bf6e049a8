"""WebSocket mode on `/v1/responses`: `response.create` turns, the same events as SSE,
continuation by previous_response_id (a connection-local cache for store:false),
`previous_response_not_found`, and eviction after a failed continuation."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from tests.support.responses_gateway import KEY_A, KEY_B, ResponsesGateway
from tests.support.responses_schema import validate, validate_events


@pytest.fixture
def ws(rgw: ResponsesGateway) -> Iterator[ClientConnection]:
    url = rgw.base_url.replace("http://", "ws://") + "/v1/responses"
    with connect(url, additional_headers={"Authorization": f"Bearer {KEY_A}"},
                 open_timeout=5) as connection:
        yield connection


def _turn(ws: ClientConnection, **body: Any) -> list[dict[str, Any]]:
    """Send one response.create; the events up to the terminal one (or the error)."""
    ws.send(json.dumps({"type": "response.create", **body}))
    events: list[dict[str, Any]] = []
    while True:
        event = json.loads(ws.recv(timeout=10))
        events.append(event)
        if event["type"] in ("response.completed", "response.incomplete", "response.failed",
                             "error"):
            return events


def _error(events: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(events) == 1 and events[0]["type"] == "error", events
    validate("WebSocketErrorEvent", events[0])
    return events[0]


def test_sequential_turns_chain_without_storage(ws: ClientConnection,
                                                rgw: ResponsesGateway) -> None:
    body = {"model": "fake-gpt", "store": False}
    first = _turn(ws, input="first turn", **body)
    validate_events(first)
    validate("WebSocketResponseCreateEvent", {"type": "response.create", "input": "x", **body})
    first_id = first[-1]["response"]["id"]
    assert first[-1]["type"] == "response.completed"
    second = _turn(ws, input="second turn", previous_response_id=first_id, **body)
    validate_events(second)
    assert second[-1]["response"]["previous_response_id"] == first_id
    sent = rgw.fake_openai.requests[-1]["messages"]
    assert [m["content"] for m in sent] == ["first turn", "first turn", "second turn"]


def test_unknown_previous_response_is_not_found(ws: ClientConnection) -> None:
    error = _error(_turn(ws, model="echo", input="x", previous_response_id="resp_nope"))
    assert error["status"] == 400
    assert error["error"]["code"] == "previous_response_not_found"
    assert error["error"]["param"] == "previous_response_id"
    assert _turn(ws, model="echo", input="still open")[-1]["type"] == "response.completed"


def test_failed_continuation_evicts_the_id(ws: ClientConnection) -> None:
    first = _turn(ws, model="echo", input="keep me", store=False)
    first_id = first[-1]["response"]["id"]
    failed = _error(_turn(ws, model="no-such-model", input="x", store=False,
                          previous_response_id=first_id))
    assert failed["status"] == 404
    again = _error(_turn(ws, model="echo", input="x", store=False,
                         previous_response_id=first_id))
    assert again["error"]["code"] == "previous_response_not_found"


def test_stored_responses_continue_on_a_new_connection(rgw: ResponsesGateway,
                                                       ws: ClientConnection) -> None:
    stored_id = _turn(ws, model="echo", input="stored turn")[-1]["response"]["id"]
    url = rgw.base_url.replace("http://", "ws://") + "/v1/responses"
    with connect(url, additional_headers={"Authorization": f"Bearer {KEY_A}"}) as fresh:
        events = _turn(fresh, model="echo", input="next", previous_response_id=stored_id)
    assert events[-1]["type"] == "response.completed"
    with connect(url, additional_headers={"Authorization": f"Bearer {KEY_B}"}) as other:
        error = _error(_turn(other, model="echo", input="x", previous_response_id=stored_id))
    assert error["error"]["code"] == "previous_response_not_found"


def test_http_transport_fields_are_ignored(ws: ClientConnection) -> None:
    """The OpenAI Agents SDK sends `stream: true` in every frame; it streams here anyway."""
    for fields in ({"stream": True}, {"stream": False, "background": False},
                   {"stream": True, "stream_options": {"include_obfuscation": False}}):
        events = _turn(ws, model="echo", input="hello there", **fields)
        validate_events(events)
        assert events[-1]["type"] == "response.completed", fields
        assert events[-1]["response"]["output"][0]["content"][0]["text"] == "hello there"


def test_background_and_bad_messages_are_refused(ws: ClientConnection) -> None:
    assert _error(_turn(ws, model="echo", background=True))["error"]["param"] == "background"
    assert _error(_turn(ws, model="echo", input="x", stream="often"))["error"]["param"] == "stream"
    ws.send("not json")
    assert json.loads(ws.recv(timeout=5))["error"]["code"] == "invalid_json"
    ws.send(json.dumps({"type": "response.cancel"}))
    assert json.loads(ws.recv(timeout=5))["error"]["param"] == "type"


def test_tool_call_turn_streams_arguments(ws: ClientConnection) -> None:
    tool = {"type": "function", "name": "calculator",
            "parameters": {"type": "object", "properties": {"a": {"type": "number"}}}}
    events = _turn(ws, model="mock", input="Calculate 2 + 2", tools=[tool])
    validate_events(events)
    done = next(e for e in events if e["type"] == "response.function_call_arguments.done")
    assert json.loads(done["arguments"]) == {"a": 2}


def test_output_for_a_call_never_made_fails_and_evicts(ws: ClientConnection) -> None:
    tool = {"type": "function", "name": "calculator",
            "parameters": {"type": "object", "properties": {"a": {"type": "number"}}}}
    body = {"model": "mock", "store": False, "tools": [tool]}
    first = _turn(ws, input="Calculate 2 + 2", **body)[-1]["response"]
    call_id = next(item["call_id"] for item in first["output"] if item["type"] == "function_call")
    stray = {"type": "function_call_output", "call_id": "call_never_made", "output": "4"}
    failed = _error(_turn(ws, input=[stray], previous_response_id=first["id"], **body))
    assert failed["status"] == 400 and failed["error"]["param"] == "input[0].call_id"
    assert "call_never_made" in failed["error"]["message"]
    answer = {"type": "function_call_output", "call_id": call_id, "output": "4"}
    again = _error(_turn(ws, input=[answer], previous_response_id=first["id"], **body))
    assert again["error"]["code"] == "previous_response_not_found"
    fresh = _turn(ws, input="Calculate 2 + 2", **body)[-1]["response"]
    fresh_call = next(item for item in fresh["output"] if item["type"] == "function_call")
    answered = _turn(ws, input=[{**answer, "call_id": fresh_call["call_id"]}],
                     previous_response_id=fresh["id"], **body)
    assert answered[-1]["type"] == "response.completed"


def test_unauthenticated_socket_gets_an_error(rgw: ResponsesGateway) -> None:
    url = rgw.base_url.replace("http://", "ws://") + "/v1/responses"
    with connect(url) as anonymous:
        event = json.loads(anonymous.recv(timeout=5))
    validate("WebSocketErrorEvent", event)
    assert event["status"] == 401


def test_generate_false_warms_up_a_chain(ws: ClientConnection, rgw: ResponsesGateway) -> None:
    calls = len(rgw.fake_openai.requests)
    warm = _turn(ws, model="fake-gpt", store=False, generate=False,
                 input=[{"role": "developer", "content": "Answer in French."}])
    validate_events(warm)
    assert warm[-1]["response"]["output"] == [] and len(rgw.fake_openai.requests) == calls
    events = _turn(ws, model="fake-gpt", store=False, input="bonjour",
                   previous_response_id=warm[-1]["response"]["id"])
    assert events[-1]["type"] == "response.completed"
    sent = rgw.fake_openai.requests[-1]["messages"]
    assert [m["role"] for m in sent] == ["developer", "user"]


def test_a_client_gone_mid_turn_leaves_the_response_incomplete(rgw: ResponsesGateway) -> None:
    url = rgw.base_url.replace("http://", "ws://") + "/v1/responses"
    with connect(url, additional_headers={"Authorization": f"Bearer {KEY_A}"},
                 open_timeout=5) as connection:
        connection.send(json.dumps({"type": "response.create", "model": "slow",
                                    "input": " ".join(f"w{i}" for i in range(400))}))
        first = json.loads(connection.recv(timeout=10))
        while json.loads(connection.recv(timeout=10))["type"] != "response.output_text.delta":
            pass
    response_id = first["response"]["id"]
    with httpx.Client(base_url=rgw.base_url, headers={"Authorization": f"Bearer {KEY_A}"},
                      timeout=10) as http:
        deadline = time.monotonic() + 10
        body = http.get(f"/v1/responses/{response_id}").json()
        while body["status"] == "in_progress" and time.monotonic() < deadline:
            time.sleep(0.05)
            body = http.get(f"/v1/responses/{response_id}").json()
    validate("ResponseResource", body)
    assert body["status"] == "incomplete"
    assert body["incomplete_details"] == {"reason": "interrupted"}
    assert body["output"][0]["content"][0]["text"].startswith("w0")
