"""Gateway tools in sessions end to end: the agent loop, a turn's `tools`, and tools that
read the session's context variables."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.sessions import (
    ACME,
    SessionsGateway,
    SSEReader,
    completed,
    create_session,
    history_of,
    sse_events,
)


def _error(reply: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = reply.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error


def test_gateway_tools_run_in_the_agent_loop(api: httpx.Client, server: SessionsGateway) -> None:
    session_id = create_session(api, tools=["calculator"])
    with SSEReader(f"{server.base_url}/api/sessions/{session_id}/stream", ACME) as stream:
        assert stream.next() is not None
        reply = api.post(
            f"/api/sessions/{session_id}/messages",
            json={"message": "Calculate 5 + 3", "stream": True},
        )
        events = stream.until(completed)
    assert sse_events(reply)[-1].name == "message.completed"
    names = [e.name for e in events]
    assert names.index("tool_call") < names.index("tool_result") < names.index("message.completed")
    call = next(e.data for e in events if e.name == "tool_call")
    result = next(e.data for e in events if e.name == "tool_result")
    assert call["name"] == "calculator" and result["call_id"] == call["call_id"]
    assert result["is_error"] is False and "8" in str(result["output"])
    history = history_of(api, session_id)
    assert [m["role"] for m in history] == ["user", "assistant", "tool", "assistant"]
    assert history[1]["tool_calls"][0]["function"]["name"] == "calculator"
    assert history[2]["tool_call_id"] == history[1]["tool_calls"][0]["id"]
    assert history[3]["content"] == "The result is 8."
    turn = history[3]["metadata"]["turn"]
    assert turn["agent_loop"] == {"stop_reason": "answered", "steps": 2}
    usage = api.get(f"/api/sessions/{session_id}/usage").json()
    assert (
        usage["input_tokens"]
        == history[1]["usage"]["input_tokens"] + history[3]["usage"]["input_tokens"]
    )


def test_unknown_gateway_tool_is_refused_at_creation(api: httpx.Client) -> None:
    reply = api.post("/api/sessions", json={"model": "mock", "tools": ["no_such_tool"]})
    assert reply.status_code == 404, reply.text
    assert "no_such_tool" in _error(reply)["message"]


def test_a_turn_can_change_the_sessions_tools(api: httpx.Client) -> None:
    function = {"type": "function", "function": {"name": "lookup", "parameters": {}}}
    session_id = create_session(api, tools=[function])
    url = f"/api/sessions/{session_id}/messages"
    reply = api.post(
        url, json={"message": "Calculate 5 + 3", "tools": ["calculator", "calculator"]}
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["message"]["content"] == "The result is 8."
    assert api.get(f"/api/sessions/{session_id}").json()["tools"] == ["calculator"]
    reply = api.post(url, json={"message": "Calculate 5 + 3"})  # the tools stay
    assert [m["role"] for m in reply.json()["messages"]] == [
        "user",
        "assistant",
        "tool",
        "assistant",
    ]

    for tools, status in ((["no_such_tool"], 404), ([7], 400), ("calculator", 400)):
        reply = api.post(url, json={"message": "Calculate 5 + 3", "tools": tools})
        assert reply.status_code == status, reply.text
        _error(reply)
    assert len(history_of(api, session_id)) == 8  # refused turns appended nothing
    assert api.get(f"/api/sessions/{session_id}").json()["tools"] == ["calculator"]

    reply = api.post(url, json={"message": "Calculate 5 + 3", "tools": []})
    assert reply.json()["messages"][-1]["role"] == "assistant"
    assert len(reply.json()["messages"]) == 2  # no tool ran
    assert api.get(f"/api/sessions/{session_id}").json()["tools"] == []


def test_gateway_tools_read_the_context_variables(api: httpx.Client) -> None:
    session_id = create_session(api, tools=["context_variables"], context={"city": "Paris"})
    put = api.put(f"/api/sessions/{session_id}/context/team", json={"value": {"name": "blue"}})
    assert put.status_code == 200, put.text
    reply = api.post(
        f"/api/sessions/{session_id}/messages", json={"message": "Show the context variables"}
    )
    assert reply.status_code == 200, reply.text
    tool = next(m for m in reply.json()["messages"] if m["role"] == "tool")
    assert "Paris" in tool["content"] and "blue" in tool["content"]
    assert session_id in tool["content"]

    api.delete(f"/api/sessions/{session_id}/context/city")  # a change the next turn sees
    reply = api.post(
        f"/api/sessions/{session_id}/messages", json={"message": "Show the context variables"}
    )
    tool = next(m for m in reply.json()["messages"] if m["role"] == "tool")
    assert "Paris" not in tool["content"] and "blue" in tool["content"]
