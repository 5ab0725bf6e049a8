"""A2A tasks live in the database: two gateway processes on one PostgreSQL, a task sent to
one is read (`tasks/get`) and cancelled (`tasks/cancel`) through the other; the instance
running the cancelled task stops its run (the session gets nothing appended) and never
writes over the cancel."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from a2a.helpers.proto_helpers import get_artifact_text
from a2a.types.a2a_pb2 import (
    CancelTaskRequest,
    GetTaskRequest,
    Message,
    Part,
    Role,
    SendMessageConfiguration,
    SendMessageRequest,
    SubscribeToTaskRequest,
    Task,
    TaskState,
)
from a2a.utils.errors import A2AError, TaskNotFoundError

from tests.a2a.support import TEAM_A, TEAM_B, a2a_client, bearer, gateway_config
from tests.conftest import REDIS_URL
from tests.support.databases import database_url
from tests.support.servers import run_gateway

AGENTS = {"helper": {"model": "mock"}, "slowpoke": {"model": "slow"}}


@pytest.fixture(scope="module")
def instances(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    folder = tmp_path_factory.mktemp("a2a-instances")
    with database_url("postgres", folder) as url:
        config = gateway_config(folder, agents=AGENTS)
        config["storage"] = {"database_url": url}
        with run_gateway(folder, config) as first, run_gateway(folder, config) as second:
            yield first.base_url, second.base_url


def _request(text: str, *, return_immediately: bool = False) -> SendMessageRequest:
    message = Message(role=Role.ROLE_USER, parts=[Part(text=text)], message_id=uuid.uuid4().hex)
    return SendMessageRequest(message=message, configuration=SendMessageConfiguration(
        return_immediately=return_immediately))


async def _send(base_url: str, agent: str, text: str, **options: Any) -> Task:
    async with a2a_client(f"{base_url}/a2a/{agent}", TEAM_A, streaming=False) as client:
        events = [event async for event in client.send_message(_request(text, **options))]
    tasks = [event.task for event in events if event.HasField("task")]
    assert tasks, events
    return tasks[-1]


async def _get(base_url: str, agent: str, task_id: str, key: str = TEAM_A) -> Task:
    async with a2a_client(f"{base_url}/a2a/{agent}", key, streaming=False) as client:
        return await client.get_task(GetTaskRequest(id=task_id))


@pytest.mark.asyncio
async def test_a_task_is_read_on_another_instance(instances: tuple[str, str]) -> None:
    first, second = instances
    task = await _send(first, "helper", "What is 2 + 3?")
    assert task.status.state == TaskState.TASK_STATE_COMPLETED
    elsewhere = await _get(second, "helper", task.id)
    assert elsewhere.status.state == TaskState.TASK_STATE_COMPLETED
    assert get_artifact_text(elsewhere.artifacts[0], "") == "2 + 3 = 5"
    with pytest.raises(TaskNotFoundError):  # still the tenant's own, on every instance
        await _get(second, "helper", task.id, TEAM_B)


@pytest.mark.asyncio
async def test_a_task_is_cancelled_from_another_instance(instances: tuple[str, str]) -> None:
    first, second = instances
    long_input = " ".join(["word"] * 24)  # the slow model takes ~4.5 s to say it back
    task = await _send(first, "slowpoke", long_input, return_immediately=True)
    assert task.status.state in (TaskState.TASK_STATE_SUBMITTED, TaskState.TASK_STATE_WORKING)
    await asyncio.sleep(0.5)  # running on the first instance, streaming its reply
    async with a2a_client(f"{second}/a2a/slowpoke", TEAM_A, streaming=False) as client:
        cancelled = await client.cancel_task(CancelTaskRequest(id=task.id))
    assert cancelled.status.state == TaskState.TASK_STATE_CANCELED

    seen = await _get(first, "slowpoke", task.id)
    assert seen.status.state == TaskState.TASK_STATE_CANCELED
    await asyncio.sleep(5)  # past the reply's end: a run still going would have ended
    later = await _get(first, "slowpoke", task.id)
    assert later.status.state == TaskState.TASK_STATE_CANCELED
    assert later.artifacts == seen.artifacts  # no chunk stored after the cancel

    async with httpx.AsyncClient(base_url=first, headers=bearer(TEAM_A)) as http:
        runs = (await http.get("/api/sessions", params={"metadata[agent]": "slowpoke"})).json()
    assert [run["message_count"] for run in runs["data"]] == [0]  # its turn was cancelled,
    # not finished: nothing appended


@pytest.fixture(scope="module")
def shared_instances(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """Two gateways on one PostgreSQL and one Redis: task events cross instances too."""
    folder = tmp_path_factory.mktemp("a2a-shared")
    with database_url("postgres", folder) as url:
        config = gateway_config(folder, agents=AGENTS)
        config["storage"] = {"database_url": url, "redis_url": REDIS_URL}
        with run_gateway(folder, config) as first, run_gateway(folder, config) as second:
            yield first.base_url, second.base_url


@pytest.mark.asyncio
async def test_a_task_streams_to_another_instance_over_redis(
    shared_instances: tuple[str, str],
) -> None:
    first, second = shared_instances
    task = await _send(first, "slowpoke", " ".join(["word"] * 30), return_immediately=True)
    async with a2a_client(f"{second}/a2a/slowpoke", TEAM_A, streaming=True) as client:
        events = [event async for event in client.subscribe(SubscribeToTaskRequest(id=task.id))]
    chunks = [get_artifact_text(event.artifact_update.artifact, "") for event in events
              if event.HasField("artifact_update")]
    states = [event.status_update.status.state for event in events
              if event.HasField("status_update")]
    assert chunks, events  # the reply's chunks, streamed from the instance running it
    assert states[-1] == TaskState.TASK_STATE_COMPLETED
    done = await _get(second, "slowpoke", task.id)
    assert "word word" in get_artifact_text(done.artifacts[0], "")


@pytest.mark.asyncio
async def test_without_redis_a_resubscription_elsewhere_is_refused(
    instances: tuple[str, str],
) -> None:
    first, second = instances
    task = await _send(first, "slowpoke", " ".join(["word"] * 30), return_immediately=True)
    async with a2a_client(f"{second}/a2a/slowpoke", TEAM_A, streaming=True) as client:
        with pytest.raises(A2AError, match="not running on this gateway instance"):
            async for _ in client.subscribe(SubscribeToTaskRequest(id=task.id)):
                pass
    async with a2a_client(f"{first}/a2a/slowpoke", TEAM_A, streaming=True) as client:
        events = [event async for event in client.subscribe(SubscribeToTaskRequest(id=task.id))]
    states = [event.status_update.status.state for event in events
              if event.HasField("status_update")]
    assert states[-1] == TaskState.TASK_STATE_COMPLETED  # where it runs, it streams
