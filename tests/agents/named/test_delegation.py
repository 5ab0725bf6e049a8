"""Delegation on the mock provider: an agent calls another as the tool `agent_<name>`; each
child run is a session linked to its parent, the chain stops at `delegation.max_depth`,
and a cycle is refused — both as tool errors the calling model reads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.databases import BACKENDS, database_url
from tests.support.in_process import in_process

USER = {"Authorization": "Bearer sk-user-key-for-delegation"}
OTHER = {"Authorization": "Bearer sk-other-key-for-delegation"}
ADMIN_KEY = "admin-key-for-delegation-tests-0123"


def _config(tmp_path: Path, url: str | None = None) -> dict[str, object]:
    return {
        "storage": {"database_url": url or f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}"},
        "providers": {"mock": {"type": "mock"}},
        "models": [{"name": "mock", "provider": "mock"}],
        "keys": [{"key": USER["Authorization"][7:], "tenant": "team-a"},
                 {"key": OTHER["Authorization"][7:], "tenant": "team-b"}],
        "admin": {"key": ADMIN_KEY},
        "delegation": {"max_depth": 2},
        "agents": {
            "lead": {"model": "mock", "tools": ["agent:middle"]},
            "middle": {"model": "mock", "tools": ["agent:worker"]},
            "worker": {"model": "mock", "tools": ["agent:last"]},
            "last": {"model": "mock"},
            "ping": {"model": "mock", "tools": ["agent:pong"]},
            "pong": {"model": "mock", "tools": ["agent:ping"]},
        },
    }


async def _tool_results(client: httpx.AsyncClient, run_id: str) -> list[str]:
    page = (await client.get(f"/api/sessions/{run_id}/messages", headers=USER)).json()
    return [str(item["content"]) for item in page["data"] if item["role"] == "tool"]


async def _run(client: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/agents/runs/{run_id}", headers=USER)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database_url(request.param, tmp_path) as url:
        yield url


@pytest.mark.asyncio
async def test_a_delegation_chain_stops_at_the_depth_limit(tmp_path: Path, store_url: str) -> None:
    async with in_process(_config(tmp_path, store_url)) as gw:
        client = gw.client
        started = await client.post(
            "/v1/agents/lead/runs", headers=USER,
            json={"input": "ask agent_middle, agent_worker and agent_last"})
        assert started.status_code == 200, started.text
        lead = started.json()
        assert lead["depth"] == 0 and lead["parent_run"] is None
        assert len(lead["children"]) == 1

        middle = await _run(client, lead["children"][0])
        assert (middle["agent"], middle["depth"], middle["parent_run"]) == (
            "middle", 1, lead["id"])
        worker = await _run(client, middle["children"][0])
        assert (worker["agent"], worker["depth"]) == ("worker", 2)
        assert worker["children"] == []  # depth 3 was refused: no run of `last`
        refused = await _tool_results(client, worker["id"])
        assert len(refused) == 1 and "Delegation depth limit reached" in refused[0]
        assert "max_depth is 2" in refused[0]
        assert '"code":"delegation_depth_exceeded"' in refused[0]  # the model reads the code
        assert "Delegation depth limit reached" in str(worker["output"])  # the model read it

        # each level's answer reaches its parent as the tool's result
        assert worker["id"] in (await _tool_results(client, middle["id"]))[0]
        # the children's usage is the parent run's too
        own, total = lead["usage"], lead["total_usage"]
        assert total["output_tokens"] == (own["output_tokens"] + middle["usage"]["output_tokens"]
                                          + worker["usage"]["output_tokens"])
        # ... and the key's: every child's model calls are in its ledger
        ledger = (await client.get("/v1/usage", headers=USER)).json()["total"]
        assert ledger["output_tokens"] == total["output_tokens"]
        assert ledger["input_tokens"] == total["input_tokens"]
        # the child runs belong to the caller's tenant only
        hidden = await client.get(f"/v1/agents/runs/{middle['id']}", headers=OTHER)
        assert hidden.status_code == 404


@pytest.mark.asyncio
async def test_a_cycle_is_refused(tmp_path: Path) -> None:
    async with in_process(_config(tmp_path)) as gw:
        client = gw.client
        started = await client.post("/v1/agents/ping/runs", headers=USER,
                                    json={"input": "agent_pong then agent_ping"})
        assert started.status_code == 200, started.text
        ping = started.json()
        pong = await _run(client, ping["children"][0])
        assert pong["agent"] == "pong" and pong["children"] == []
        refused = await _tool_results(client, pong["id"])
        assert "Delegation cycle refused: ping → pong → ping" in refused[0]
        assert '"code":"delegation_cycle"' in refused[0]


@pytest.mark.asyncio
async def test_a_malformed_delegate_is_a_400(tmp_path: Path) -> None:
    async with in_process(_config(tmp_path)) as gw:
        bad = await gw.client.post("/api/sessions", headers=USER,
                                   json={"model": "mock", "tools": ["agent:no such"]})
        assert bad.status_code == 400
        assert bad.json()["error"]["code"] == "invalid_delegate"
        remote = await gw.client.post("/api/sessions", headers=USER,
                                      json={"model": "mock", "tools": ["a2a:nowhere"]})
        assert remote.status_code == 404
        assert remote.json()["error"]["code"] == "a2a_remote_not_found"
        admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
        agent = await gw.client.post("/admin/agents", headers=admin, json={"name": "odd", "model": "mock",
                                           "tools": ["agent:no such"]})
        assert agent.status_code == 400 and "agent:no such" in agent.text
