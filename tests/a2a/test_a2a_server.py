"""Named agents served over A2A on a real socket, driven by the a2a-sdk client: send and
stream, tasks/get and tasks/cancel, the 0.3 method names, the keys, the directory."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from a2a.helpers.proto_helpers import get_artifact_text, get_message_text
from a2a.types.a2a_pb2 import (
    CancelTaskRequest,
    GetTaskRequest,
    Message,
    Part,
    Role,
    SendMessageConfiguration,
    SendMessageRequest,
    StreamResponse,
    Task,
    TaskState,
)
from a2a.utils.errors import TaskNotFoundError

from tests.a2a.support import TEAM_A, TEAM_B, a2a_client, bearer, serve_on
from tests.support.databases import BACKENDS

AGENTS = {
    "helper": {"model": "mock", "description": "Answers sums."},
    "slowpoke": {"model": "slow"},
    "secret": {"model": "mock", "tenant": "team-b"},
    "thrifty": {"model": "priced", "tools": ["calculator"], "budget": {"max_usd": 0.005}},
}


@pytest.fixture(scope="module", params=BACKENDS)
def gateway(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The gateway on SQLite and on PostgreSQL (the tasks are in the database)."""
    with serve_on(request.param, tmp_path_factory.mktemp("a2a"), AGENTS) as base_url:
        yield base_url


def _request(text: str, *, return_immediately: bool = False) -> SendMessageRequest:
    message = Message(role=Role.ROLE_USER, parts=[Part(text=text)], message_id=uuid.uuid4().hex)
    configuration = SendMessageConfiguration(return_immediately=return_immediately)
    return SendMessageRequest(message=message, configuration=configuration)


async def _last_task(events: list[StreamResponse]) -> Task:
    tasks = [event.task for event in events if event.HasField("task")]
    assert tasks, events
    return tasks[-1]


@pytest.mark.asyncio
async def test_send_then_get_the_task(gateway: str) -> None:
    async with a2a_client(f"{gateway}/a2a/helper", TEAM_A, streaming=False) as client:
        events = [event async for event in client.send_message(_request("What is 2 + 3?"))]
        task = await _last_task(events)
        assert task.status.state == TaskState.TASK_STATE_COMPLETED
        assert get_artifact_text(task.artifacts[0], "") == "2 + 3 = 5"
        run_id = task.artifacts[0].metadata["relaygate_run_id"]

        fetched = await client.get_task(GetTaskRequest(id=task.id))
        assert fetched.status.state == TaskState.TASK_STATE_COMPLETED
        assert get_artifact_text(fetched.artifacts[0], "") == "2 + 3 = 5"

    # the task was a run of the agent, a session like any other run
    async with httpx.AsyncClient(base_url=gateway, headers=bearer(TEAM_A)) as http:
        run = (await http.get(f"/v1/agents/runs/{run_id}")).json()
    assert run["agent"] == "helper" and run["output"] == "2 + 3 = 5"

    async with a2a_client(f"{gateway}/a2a/helper", TEAM_B, streaming=False) as other:
        with pytest.raises(TaskNotFoundError):  # another tenant's task
            await other.get_task(GetTaskRequest(id=task.id))
    async with a2a_client(f"{gateway}/a2a/slowpoke", TEAM_A, streaming=False) as elsewhere:
        with pytest.raises(TaskNotFoundError):  # another agent's task
            await elsewhere.get_task(GetTaskRequest(id=task.id))


@pytest.mark.asyncio
async def test_a_run_stopped_by_the_agents_budget_fails_its_task(gateway: str) -> None:
    async with a2a_client(f"{gateway}/a2a/thrifty", TEAM_A, streaming=False) as client:
        events = [event async for event in client.send_message(_request("What is 2 + 3?"))]
    task = await _last_task(events)
    assert task.status.state == TaskState.TASK_STATE_FAILED
    why = get_message_text(task.status.message)
    assert why.startswith("failed_max_cost:") and "budget.max_usd" in why


@pytest.mark.asyncio
async def test_stream_sends_the_reply_in_chunks(gateway: str) -> None:
    async with a2a_client(f"{gateway}/a2a/helper", TEAM_A, streaming=True) as client:
        events = [event async for event in client.send_message(
            _request("tell me about the weather in a few words please"))]
    chunks = [get_artifact_text(event.artifact_update.artifact, "") for event in events
              if event.HasField("artifact_update")]
    assert len(chunks) > 3  # one update per chunk of the reply, as it streamed
    states = [event.status_update.status.state for event in events
              if event.HasField("status_update")]
    assert states[-1] == TaskState.TASK_STATE_COMPLETED
    assert "".join(chunks).startswith("This is a mock reply to: tell me")


@pytest.mark.asyncio
async def test_cancel_a_running_task(gateway: str) -> None:
    long_input = " ".join(["word"] * 200)  # the slow model takes seconds to say it back
    async with a2a_client(f"{gateway}/a2a/slowpoke", TEAM_A, streaming=False) as client:
        events = [event async for event in client.send_message(
            _request(long_input, return_immediately=True))]
        task = await _last_task(events)
        assert task.status.state in (TaskState.TASK_STATE_SUBMITTED,
                                     TaskState.TASK_STATE_WORKING)
        cancelled = await client.cancel_task(CancelTaskRequest(id=task.id))
        assert cancelled.status.state == TaskState.TASK_STATE_CANCELED
        again = await client.get_task(GetTaskRequest(id=task.id))
        assert again.status.state == TaskState.TASK_STATE_CANCELED


@pytest.mark.asyncio
async def test_the_0_3_method_names_answer(gateway: str) -> None:
    message = {"role": "user", "parts": [{"kind": "text", "text": "What is 4 + 4?"}],
               "messageId": uuid.uuid4().hex, "kind": "message"}
    async with httpx.AsyncClient(base_url=gateway, headers=bearer(TEAM_A)) as http:
        sent = await http.post("/a2a/helper", json={
            "jsonrpc": "2.0", "id": 1, "method": "message/send", "params": {"message": message}})
        assert sent.status_code == 200, sent.text
        result = sent.json()["result"]
        assert result["status"]["state"] == "completed"
        got = await http.post("/a2a/helper", json={
            "jsonrpc": "2.0", "id": 2, "method": "tasks/get", "params": {"id": result["id"]}})
        parts = got.json()["result"]["artifacts"][0]["parts"]
        assert "".join(part["text"] for part in parts) == "4 + 4 = 8"


@pytest.mark.asyncio
async def test_keys_are_required_and_tenants_see_their_own(gateway: str) -> None:
    async with httpx.AsyncClient(base_url=gateway) as http:
        body = {"jsonrpc": "2.0", "id": 1, "method": "message/send", "params": {}}
        refused = await http.post("/a2a/helper", json=body)
        assert refused.status_code == 401
        assert refused.json()["error"]["type"] == "authentication_error"
        wrong = await http.post("/a2a/helper", json=body, headers=bearer("sk-wrong"))
        assert wrong.status_code == 401
        assert (await http.get("/a2a/helper/.well-known/agent-card.json")).status_code == 401
        assert (await http.get("/.well-known/agent-card.json")).status_code == 401

        hidden = await http.post("/a2a/secret", json=body, headers=bearer(TEAM_A))
        assert hidden.status_code == 404 and "secret" in hidden.json()["error"]["message"]

        card = (await http.get("/a2a/helper/.well-known/agent-card.json",
                               headers=bearer(TEAM_A))).json()
        assert card["name"] == "helper" and card["description"] == "Answers sums."
        assert card["supportedInterfaces"][0]["url"] == f"{gateway}/a2a/helper"
        assert card["capabilities"]["streaming"] is True

        team_a = (await http.get("/.well-known/agent-card.json", headers=bearer(TEAM_A))).json()
        team_b = (await http.get("/.well-known/agent-card.json", headers=bearer(TEAM_B))).json()
    assert [skill["id"] for skill in team_a["skills"]] == ["helper", "slowpoke", "thrifty"]
    assert [skill["id"] for skill in team_b["skills"]] == [
        "helper", "secret", "slowpoke", "thrifty"]
    assert [item["url"] for item in team_a["supportedInterfaces"]] == [
        f"{gateway}/a2a/helper", f"{gateway}/a2a/slowpoke", f"{gateway}/a2a/thrifty"]


@pytest.fixture
def short_lived(tmp_path: Path) -> Iterator[str]:
    """A gateway keeping ended tasks for one second."""
    with serve_on("sqlite", tmp_path, AGENTS, a2a={"task_ttl_seconds": 1}) as base_url:
        yield base_url


@pytest.mark.asyncio
async def test_ended_tasks_are_deleted_after_their_ttl(short_lived: str) -> None:
    async with a2a_client(f"{short_lived}/a2a/helper", TEAM_A, streaming=False) as client:
        events = [event async for event in client.send_message(_request("What is 1 + 1?"))]
        task = await _last_task(events)
        assert (await client.get_task(GetTaskRequest(id=task.id))).id == task.id
        for _ in range(50):  # swept within a few seconds
            await asyncio.sleep(0.1)
            try:
                await client.get_task(GetTaskRequest(id=task.id))
            except TaskNotFoundError:
                break
        else:
            raise AssertionError("the ended task was not deleted")
