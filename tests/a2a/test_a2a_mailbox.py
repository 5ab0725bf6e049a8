"""The mailbox hands a message to an A2A task: `a2a: true` runs the named agent it is
addressed to, and the answer comes back to the sender's mailbox."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.a2a.support import TEAM_A, bearer, serve_on
from tests.support.databases import BACKENDS


@pytest.fixture(scope="module", params=BACKENDS)
def gateway(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    agents = {"helper": {"model": "mock"}}
    with serve_on(request.param, tmp_path_factory.mktemp("mail"), agents) as base_url:
        yield base_url


@pytest.mark.asyncio
async def test_a_message_to_an_agent_becomes_a_task_and_its_answer_comes_back(
    gateway: str,
) -> None:
    async with httpx.AsyncClient(base_url=gateway, headers=bearer(TEAM_A), timeout=30) as http:
        sent = await http.post("/v1/agents/messages", json={
            "from_agent": "alice", "to_agent": "helper", "content": "What is 3 + 4?",
            "conversation_id": "c-1", "a2a": True})
        assert sent.status_code == 201, sent.text
        task = sent.json()["task"]
        assert task["agent"] == "helper" and task["id"]

        replies = (await http.get("/v1/agents/alice/messages", params={"wait": 20})).json()
        reply = replies["data"][0]
        assert (reply["from_agent"], reply["content"]) == ("helper", "3 + 4 = 7")
        assert reply["conversation_id"] == "c-1"
        assert reply["metadata"]["a2a_task_id"] == task["id"]
        assert reply["metadata"]["in_reply_to"] == sent.json()["id"]
        assert reply["metadata"]["state"] == "completed"

        got = await http.post("/a2a/helper", headers={"A2A-Version": "1.0"}, json={
            "jsonrpc": "2.0", "id": uuid.uuid4().hex, "method": "GetTask",
            "params": {"id": task["id"]}})
        assert got.json()["result"]["status"]["state"] == "TASK_STATE_COMPLETED", got.text
        # the task took the message: nothing is left waiting in the agent's mailbox
        left = (await http.get("/v1/agents/helper/messages")).json()["data"]
        assert left == []


@pytest.mark.asyncio
async def test_bad_hand_offs_are_refused(gateway: str) -> None:
    async with httpx.AsyncClient(base_url=gateway, headers=bearer(TEAM_A)) as http:
        bad = await http.post("/v1/agents/messages", json={
            "from_agent": "alice", "to_agent": "helper", "content": "x", "a2a": "yes"})
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "a2a"
        nobody = await http.post("/v1/agents/messages", json={
            "from_agent": "alice", "to_agent": "nobody", "content": "x", "a2a": True})
        assert nobody.status_code == 404 and "nobody" in nobody.json()["error"]["message"]
        plain = await http.post("/v1/agents/messages", json={
            "from_agent": "alice", "to_agent": "nobody", "content": "x"})
        assert plain.status_code == 201 and "task" not in plain.json()
