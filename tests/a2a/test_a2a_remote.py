"""A local agent (and a workflow through it) calling a remote A2A agent: a second gateway,
run by the test on its own socket, is `a2a.remotes.far`; the local agent has the tool
`a2a:far`. The remote's answer comes back as the tool's result, and the remote run is a
session on the remote gateway."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.a2a.support import TEAM_A, bearer, gateway_config, serve
from tests.support.workflows import finished_run


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    agents = {"far-helper": {"model": "mock", "description": "Does sums far away."}}
    with serve(gateway_config(tmp_path_factory.mktemp("far"), agents=agents)) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory, remote: str) -> Iterator[str]:
    config = gateway_config(
        tmp_path_factory.mktemp("near"),
        a2a={"remotes": {"far": {"url": f"{remote}/a2a/far-helper",
                                 "headers": bearer(TEAM_A)},
                         "broken": {"url": f"{remote}/a2a/far-helper"}}},  # no key
        agents={"near": {"model": "mock", "tools": ["a2a:far"]},
                "lost": {"model": "mock", "tools": ["a2a:broken"]}},
        workflows={"ask-far": {"steps": [
            {"id": "ask", "type": "agent", "agent": "near", "input": "{{ input.question }}"}]}},
    )
    with serve(config) as base_url:
        yield base_url


@pytest.mark.asyncio
async def test_a_local_agent_calls_the_remote_agent(local: str, remote: str) -> None:
    async with httpx.AsyncClient(base_url=local, headers=bearer(TEAM_A), timeout=30) as http:
        started = await http.post("/v1/agents/near/runs",
                                  json={"input": "ask a2a_far: what is 6 + 7?"})
        assert started.status_code == 200, started.text
        run = started.json()
        assert "6 + 7 = 13" in str(run["output"])
        page = (await http.get(f"/api/sessions/{run['id']}/messages")).json()["data"]
        tool = [item for item in page if item["role"] == "tool"]
        assert len(tool) == 1 and "6 + 7 = 13" in str(tool[0]["content"])
        assert "a2a:far" in str(tool[0]["content"])

        flow = await http.post("/v1/workflows/ask-far/runs",
                               json={"input": {"question": "a2a_far, what is 2 + 9?"}})
        assert flow.status_code == 202, flow.text
        done = await finished_run(http, flow.json()["id"])
        assert done["status"] == "completed", done
        assert "2 + 9 = 11" in done["steps"]["ask"]["output"]

        refused = await http.post("/v1/agents/lost/runs",
                                  json={"input": "ask a2a_broken: what is 1 + 1?"})
        lost = (await http.get(f"/api/sessions/{refused.json()['id']}/messages")).json()["data"]
        failed = [str(item["content"]) for item in lost if item["role"] == "tool"]
        assert "The remote A2A agent 'broken' failed" in failed[0] and "401" in failed[0]

    # the remote side ran it as a run of its own agent, under the key it was given
    async with httpx.AsyncClient(base_url=remote, headers=bearer(TEAM_A)) as http:
        sessions = (await http.get("/api/sessions", params={"metadata[agent]": "far-helper"}))
    assert sessions.status_code == 200
    remote_runs = sessions.json()["data"]
    assert len(remote_runs) >= 2
    assert {item["metadata"].get("delegation_depth") for item in remote_runs} == {"1"}
