"""A named agent's own per-run budget (`budget.max_usd`): its loop starts no model step once
the run — with the runs it delegated to — has spent it, the run ends `failed_max_cost`, and
a delegation it would still start is refused as a tool error the model reads."""

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
