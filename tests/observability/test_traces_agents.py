"""Traces of agent work, end to end on a real port with the real OTLP/HTTP exporter: a
Responses call whose hosted tool runs in the gateway's loop, a session turn with a sandboxed
tool, a tool imported from a remote MCP server (its call a client span whose `traceparent`
the server receives), a background Response linked to the request that queued it."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from relaygate.store.schema import upgrade
from tests.agents.mcp.remote import TOKEN, RemoteMcpApp
from tests.realtime.wsclient import Participant
from tests.support.otlp_receiver import OtlpReceiver, Span, children, traces_config
from tests.support.routing_gateway import in_process_gateway
from tests.support.servers import ThreadedServer

KEY = "sk-traced-agents-0123456789"
HEADERS = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def remote_mcp() -> Iterator[tuple[RemoteMcpApp, ThreadedServer]]:
    app = RemoteMcpApp()
    with ThreadedServer(app) as server:
        yield app, server


@pytest.fixture(scope="module")
def traced(
    tmp_path_factory: pytest.TempPathFactory, remote_mcp: tuple[RemoteMcpApp, ThreadedServer],
) -> Iterator[tuple[OtlpReceiver, str]]:
    receiver = OtlpReceiver()
    tmp = tmp_path_factory.mktemp("traced")
    url = f"sqlite+aiosqlite:///{tmp / 'relaygate.db'}"
    asyncio.run(upgrade(url))
    docs = {"name": "docs", "url": f"{remote_mcp[1].base_url}/mcp",
            "headers": {"Authorization": f"Bearer {TOKEN}"}}
    with ThreadedServer(receiver.app) as collector:
        config = {
            "storage": {"database_url": url},
            "providers": {"mock": {"type": "mock"}},
            "models": [{"name": "mock", "provider": "mock"}],
            "keys": [{"tenant": "acme", "key": KEY}],
            "tools": {"sandbox": {"allow_unsandboxed": True},
                      "tenants": {"acme": {"allow": ["bash", "docs_*"]}},
                      "mcp_servers": {"acme": [docs]}},
            "ledger": {"enabled": False},
            "telemetry": traces_config(collector.base_url),
        }
        with in_process_gateway(tmp, config) as gateway:
            yield receiver, gateway.base_url


def _root(receiver: OtlpReceiver, name: str, since: int) -> Span:
    spans = receiver.wait_for(name, count=since + 1)
    assert len(spans) > since, f"no {name!r} span"
    return spans[-1]


def _tree(receiver: OtlpReceiver, root: Span, expected: int, timeout: float = 10.0) -> list[Span]:
    deadline = time.monotonic() + timeout
    while True:
        spans = receiver.trace(root.trace_id)
        if len(spans) >= expected or time.monotonic() > deadline:
            return spans
        time.sleep(0.02)


def _named(spans: list[Span], prefix: str) -> list[Span]:
    return [span for span in spans if span.name.startswith(prefix)]


def test_a_responses_call_with_a_hosted_tool_is_a_tree_of_steps_and_the_tool(
    traced: tuple[OtlpReceiver, str],
) -> None:
    receiver, base_url = traced
    before = len(receiver.wait_for("POST /v1/responses", timeout=0))
    client = openai.OpenAI(base_url=f"{base_url}/v1", api_key=KEY, max_retries=0)
    calculator: Any = {"type": "relaygate:calculator"}
    response = client.responses.create(model="mock", input="Calculate 5 + 3", tools=[calculator])
    assert response.output_text == "The result is 8."
    request = _root(receiver, "POST /v1/responses", before)
    spans = _tree(receiver, request, 6)
    steps = sorted(_named(spans, "relaygate.agent.step"),
                   key=lambda span: span.attributes["relaygate.agent.step"])
    assert [step.parent_id for step in steps] == [request.span_id] * 2
    assert steps[0].attributes["relaygate.agent.tool_calls"] == 1
    assert steps[1].attributes["gen_ai.response.finish_reasons"] == ["stop"]
    for step in steps:  # each model step's upstream call under it
        (chat,) = _named(children(spans, step), "chat ")
        assert chat.name == "chat mock" and chat.kind == 3
        assert chat.attributes["gen_ai.usage.output_tokens"] > 0
    (tool,) = _named(spans, "execute_tool")
    assert tool.name == "execute_tool calculator"
    assert tool.attributes["gen_ai.tool.name"] == "calculator"
    assert tool.attributes["gen_ai.operation.name"] == "execute_tool"
    assert tool.parent_id == request.span_id and tool.status != 2


def test_a_session_turn_with_a_sandboxed_tool_traces_the_turn_tool_and_sandbox(
    traced: tuple[OtlpReceiver, str],
) -> None:
    receiver, base_url = traced
    with httpx.Client(base_url=base_url, headers=HEADERS, timeout=30) as api:
        created = api.post("/api/sessions", json={"model": "mock", "tools": ["bash"]})
        assert created.status_code == 200, created.text
        session_id = created.json()["session_id"]
        before = len(receiver.wait_for("relaygate.session.turn", timeout=0))
        reply = api.post(f"/api/sessions/{session_id}/messages",
                         json={"message": "use bash to list the files"})
        assert reply.status_code == 200, reply.text
    turn = _root(receiver, "relaygate.session.turn", before)
    assert turn.attributes["gen_ai.conversation.id"] == session_id
    assert turn.attributes["relaygate.tenant"] == "acme"
    spans = _tree(receiver, turn, 7)
    (tool,) = _named(spans, "execute_tool bash")
    assert tool.attributes["relaygate.tool.sandboxed"] is True
    assert tool.parent_id == turn.span_id
    (sandbox,) = children(spans, tool)
    assert sandbox.name == "relaygate.sandbox.run"
    sandboxed = shutil.which("bwrap") is not None  # bubblewrap here: run inside it
    assert sandbox.attributes["relaygate.sandbox.sandboxed"] is sandboxed
    steps = [span for span in children(spans, turn) if span.name == "relaygate.agent.step"]
    assert len(steps) == 2
    assert all(_named(children(spans, step), "chat ") for step in steps)
    (server,) = receiver.wait_for(f"POST /api/sessions/{session_id}/messages")
    assert turn.parent_id == server.span_id


def test_an_mcp_tool_call_is_a_client_span_whose_traceparent_the_server_gets(
    traced: tuple[OtlpReceiver, str], remote_mcp: tuple[RemoteMcpApp, ThreadedServer],
) -> None:
    receiver, base_url = traced
    remote, _ = remote_mcp
    with httpx.Client(base_url=base_url, headers=HEADERS, timeout=30) as api:
        created = api.post("/api/sessions", json={"model": "mock", "tools": ["docs_search"]})
        assert created.status_code == 200, created.text
        session_id = created.json()["session_id"]
        before = len(receiver.wait_for("relaygate.session.turn", timeout=0))
        remote.traceparents.clear()
        reply = api.post(f"/api/sessions/{session_id}/messages",
                         json={"message": "search the docs for billing"})
        assert reply.status_code == 200, reply.text
    turn = _root(receiver, "relaygate.session.turn", before)
    spans = _tree(receiver, turn, 7)
    (tool,) = _named(spans, "execute_tool docs_search")
    assert tool.attributes["relaygate.tool.source"] != "builtin"
    (mcp_call,) = children(spans, tool)
    assert mcp_call.name == "tools/call search" and mcp_call.kind == 3
    assert mcp_call.attributes["mcp.method.name"] == "tools/call"
    assert mcp_call.attributes["gen_ai.tool.name"] == "search"
    assert mcp_call.status != 2
    # every request of that MCP session continued the call's span, in the turn's trace
    assert remote.traceparents
    for traceparent in remote.traceparents:
        assert traceparent is not None
        version, trace_id, parent_id, flags = traceparent.split("-")
        assert (version, trace_id, parent_id) == ("00", turn.trace_id, mcp_call.span_id)
        assert int(flags, 16) & 1  # sampled


def test_a_background_response_is_its_own_trace_linked_to_the_request(
    traced: tuple[OtlpReceiver, str],
) -> None:
    receiver, base_url = traced
    before = len(receiver.wait_for("relaygate.response.background", timeout=0))
    client = openai.OpenAI(base_url=f"{base_url}/v1", api_key=KEY, max_retries=0)
    queued = client.responses.create(model="mock", input="hello", background=True)
    run = _root(receiver, "relaygate.response.background", before)
    assert run.attributes["relaygate.response.id"] == queued.id
    assert run.parent_id == ""
    (request,) = [span for span in receiver.wait_for("POST /v1/responses")
                  if span.span_id in run.links]
    assert request.trace_id != run.trace_id
    spans = _tree(receiver, run, 2)
    assert _named(children(spans, run), "chat mock")


def test_a_realtime_turn_is_a_trace_of_its_own_with_its_session_turn(
    traced: tuple[OtlpReceiver, str],
) -> None:
    receiver, base_url = traced
    before = len(receiver.wait_for("relaygate.realtime.turn", timeout=0))
    person = Participant(base_url, "room-traced", key=KEY, name="ann")
    try:
        person.say("What is 5 + 3?", model="mock", tools=["calculator"])
        person.until(lambda event: event["type"] == "agent_response_complete")
    finally:
        person.close()
    turn = _root(receiver, "relaygate.realtime.turn", before)
    assert turn.parent_id == ""
    spans = _tree(receiver, turn, 6)
    (session_turn,) = children(spans, turn)
    assert session_turn.name == "relaygate.session.turn"
    assert _named(children(spans, session_turn), "execute_tool calculator")
    assert len(_named(children(spans, session_turn), "relaygate.agent.step")) == 2
