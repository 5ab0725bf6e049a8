"""A named agent's own per-run budget (`budget.max_usd`): its loop starts no model step once
the run — with the runs it delegated to — has spent it, the run ends `failed_max_cost`, and
a delegation it would still start is refused as a tool error the model reads. The limits
are the run's: a message posted later to the run's session runs under them too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.in_process import in_process

USER = {"Authorization": "Bearer sk-user-key-for-agent-budgets"}
CALL_PRICE = 0.01  # every call of the `priced` model


def _config(tmp_path: Path) -> dict[str, Any]:
    return {
        "storage": {"database_url": f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}"},
        "providers": {"mock": {"type": "mock"}},
        "models": [{"name": "priced", "provider": "mock", "model": "mock",
                    "request_price_usd": CALL_PRICE}],
        "keys": [{"key": USER["Authorization"][7:], "tenant": "team-a"}],
        "agents": {
            "thrifty": {"model": "priced", "tools": ["calculator"], "budget": {"max_usd": 0.005}},
            "free": {"model": "priced", "tools": ["calculator"]},
            # $0.01 for its own first call + $0.01 for the worker's: over $0.015
            "lead": {"model": "priced", "tools": ["agent:worker"], "budget": {"max_usd": 0.015}},
            "broke": {"model": "priced", "tools": ["agent:worker"], "budget": {"max_usd": 0.005}},
            "worker": {"model": "priced"},
            # its first run (a calculator call, then the answer) stays under $0.025
            "roomy": {"model": "priced", "tools": ["calculator"], "budget": {"max_usd": 0.025}},
            "hurried": {"model": "priced", "tools": ["calculator"], "max_steps": 1},
        },
    }


async def _start(client: httpx.AsyncClient, agent: str, text: str) -> dict[str, Any]:
    response = await client.post(f"/v1/agents/{agent}/runs", headers=USER, json={"input": text})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _tool_results(client: httpx.AsyncClient, run_id: str) -> list[str]:
    page = (await client.get(f"/api/sessions/{run_id}/messages", headers=USER)).json()
    return [str(item["content"]) for item in page["data"] if item["role"] == "tool"]


@pytest.mark.asyncio
async def test_an_agents_budget_stops_its_run(tmp_path: Path) -> None:
    async with in_process(_config(tmp_path)) as gw:
        stopped = await _start(gw.client, "thrifty", "What is 2 + 3?")
        assert stopped["status"] == "failed_max_cost"
        assert stopped["stop_reason"] == "max_cost"
        assert stopped["usage"]["cost_usd"] == pytest.approx(CALL_PRICE)  # one step, no more
        answered = await _start(gw.client, "free", "What is 2 + 3?")
        assert answered["status"] == "completed" and answered["stop_reason"] == "answered"
        assert answered["usage"]["cost_usd"] == pytest.approx(2 * CALL_PRICE)


@pytest.mark.asyncio
async def test_delegated_runs_count_toward_the_parents_budget(tmp_path: Path) -> None:
    async with in_process(_config(tmp_path)) as gw:
        lead = await _start(gw.client, "lead", "ask agent_worker")
        assert lead["status"] == "failed_max_cost", lead
        assert len(lead["children"]) == 1  # the worker ran, and its call counted
        assert lead["usage"]["cost_usd"] == pytest.approx(CALL_PRICE)  # lead's answer never ran
        assert lead["total_usage"]["cost_usd"] == pytest.approx(2 * CALL_PRICE)

        broke = await _start(gw.client, "broke", "ask agent_worker")
        assert broke["status"] == "failed_max_cost" and broke["children"] == []
        refused = await _tool_results(gw.client, broke["id"])
        assert len(refused) == 1 and "run_cost_limit_reached" in refused[0]
        assert "cost limit" in refused[0]


async def _post(client: httpx.AsyncClient, run_id: str, text: str,
                stream: bool = False) -> httpx.Response:
    return await client.post(f"/api/sessions/{run_id}/messages", headers=USER,
                             json={"content": text, "stream": stream})


async def _run(client: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    body: dict[str, Any] = (await client.get(f"/v1/agents/runs/{run_id}", headers=USER)).json()
    return body


@pytest.mark.asyncio
async def test_a_message_posted_to_a_spent_run_is_refused(tmp_path: Path) -> None:
    async with in_process(_config(tmp_path)) as gw:
        stopped = await _start(gw.client, "thrifty", "What is 2 + 3?")
        assert stopped["status"] == "failed_max_cost"
        for stream in (False, True):
            refused = await _post(gw.client, stopped["id"], "What is 4 + 4?", stream)
            assert refused.status_code == 429, refused.text
            error = refused.json()["error"]
            assert error["code"] == "run_cost_limit_reached"
            assert "run of agent 'thrifty'" in error["message"]
            assert "$0.005 cost limit" in error["message"]
        after = await _run(gw.client, stopped["id"])
        assert after["usage"]["cost_usd"] == pytest.approx(CALL_PRICE)  # nothing more ran
        assert after["status"] == "failed_max_cost"


@pytest.mark.asyncio
async def test_a_later_turn_counts_the_runs_whole_spend(tmp_path: Path) -> None:
    async with in_process(_config(tmp_path)) as gw:
        first = await _start(gw.client, "roomy", "What is 2 + 3?")
        assert first["status"] == "completed"
        assert first["usage"]["cost_usd"] == pytest.approx(2 * CALL_PRICE)
        posted = await _post(gw.client, first["id"], "What is 4 + 4?")
        assert posted.status_code == 200, posted.text
        # its calculator step brings the run to $0.03: its answer never runs
        second = await _run(gw.client, first["id"])
        assert (second["status"], second["stop_reason"]) == ("failed_max_cost", "max_cost")
        assert second["usage"]["cost_usd"] == pytest.approx(3 * CALL_PRICE)

        lead = await _start(gw.client, "lead", "ask agent_worker")
        assert lead["usage"]["cost_usd"] < 0.015 <= lead["total_usage"]["cost_usd"]
        refused = await _post(gw.client, lead["id"], "ask agent_worker again")
        assert refused.status_code == 429, refused.text  # its child's spend counts too
        assert refused.json()["error"]["code"] == "run_cost_limit_reached"


@pytest.mark.asyncio
async def test_a_later_turn_keeps_the_agents_step_limit(tmp_path: Path) -> None:
    async with in_process(_config(tmp_path)) as gw:
        first = await _start(gw.client, "hurried", "What is 2 + 3?")
        assert (first["status"], first["stop_reason"]) == ("failed_max_steps", "max_steps")
        posted = await _post(gw.client, first["id"], "What is 4 + 4?")
        assert posted.status_code == 200, posted.text
        assert posted.json()["finish_reason"] == "length"
        second = await _run(gw.client, first["id"])
        assert (second["status"], second["stop_reason"]) == ("failed_max_steps", "max_steps")
        assert second["usage"]["cost_usd"] == pytest.approx(2 * CALL_PRICE)  # a step a turn
        # a client's own session cannot give itself a run's limits (above the gateway's)
        own = await gw.client.post("/api/sessions", headers=USER, json={
            "model": "priced", "metadata": {"run_max_steps": "64"}})
        assert own.status_code == 400, own.text
        assert own.json()["error"]["param"] == "metadata.run_max_steps"


@pytest.mark.asyncio
async def test_an_agents_max_seconds_bounds_its_run(tmp_path: Path) -> None:
    config = _config(tmp_path)
    config["providers"]["slowmock"] = {"type": "mock", "stream_delay_ms": 300}
    config["models"].append({"name": "slow", "provider": "slowmock", "model": "mock"})
    # step 1 (the calculator call) streams in ~0.6 s, the answer would take ~1.2 s more
    config["agents"]["hasty"] = {"model": "slow", "tools": ["calculator"], "max_seconds": 1.2}
    async with in_process(config) as gw:
        streamed = await gw.client.post("/v1/agents/hasty/runs", headers=USER,
                                        json={"input": "What is 2 + 3?", "stream": True})
        assert streamed.status_code == 200, streamed.text
        run_id = streamed.headers["X-Relaygate-Run-Id"]
        run = (await gw.client.get(f"/v1/agents/runs/{run_id}", headers=USER)).json()
        assert (run["status"], run["stop_reason"]) == ("failed_max_time", "time_budget")
