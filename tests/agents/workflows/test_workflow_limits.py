"""A workflow run's limits: `max_cost_usd` (every model call of its steps counts — a model
step's, an agent step's loop and the runs that agent delegates to), `max_steps` and
`max_seconds`; each stops the run with its own failed status, and what did not run stays
pending."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.in_process import in_process
from tests.support.workflows import finished_run

CALL_PRICE = 0.01  # every call of the `priced` model costs this much


def _config(tmp_path: Path, workflows: dict[str, Any]) -> dict[str, Any]:
    return {
        "storage": {"database_url": f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}"},
        "providers": {"mock": {"type": "mock"}},
        "models": [{"name": "priced", "provider": "mock", "model": "mock",
                    "request_price_usd": CALL_PRICE}],
        "agents": {"lead": {"model": "priced", "tools": ["agent:worker"]},
                   "worker": {"model": "priced"}},
        "workflows": workflows,
    }


async def _run(client: httpx.AsyncClient, name: str) -> dict[str, Any]:
    started = await client.post(f"/v1/workflows/{name}/runs", json={"input": {}})
    assert started.status_code == 202, started.text
    return await finished_run(client, started.json()["id"])


def _model(step_id: str, after: str | None = None) -> dict[str, Any]:
    return {"id": step_id, "type": "model", "model": "priced", "input": f"say {step_id}",
            **({"depends_on": [after]} if after else {})}


@pytest.mark.asyncio
async def test_max_cost_stops_a_run_of_model_steps(tmp_path: Path) -> None:
    flows = {
        "pricey": {"max_cost_usd": 0.015,
                   "steps": [_model("a"), _model("b", "a"), _model("c", "b")]},
        "roomy": {"max_cost_usd": 1.0,
                  "steps": [_model("a"), _model("b", "a"), _model("c", "b")]},
    }
    async with in_process(_config(tmp_path, flows)) as gw:
        stopped = await _run(gw.client, "pricey")
        steps = stopped["steps"]
        assert stopped["status"] == "failed_max_cost", steps
        assert steps["a"] == {"status": "completed", "output": steps["a"]["output"],
                              "error": None, "cost_usd": pytest.approx(CALL_PRICE)}
        assert steps["b"]["cost_usd"] == pytest.approx(CALL_PRICE)  # the call that passed it
        assert "c" not in steps  # never started
        assert stopped["cost_usd"] == pytest.approx(2 * CALL_PRICE)

        under = await _run(gw.client, "roomy")
        assert under["status"] == "completed", under["steps"]
        assert under["cost_usd"] == pytest.approx(3 * CALL_PRICE)


@pytest.mark.asyncio
async def test_an_agent_steps_delegated_runs_count_toward_the_cost(tmp_path: Path) -> None:
    # lead: a call asking agent_worker ($0.01), the worker's answer ($0.01), lead's answer
    # ($0.01): $0.03 in all, over $0.025 only if the delegated run's call counts
    flows = {"team": {"max_cost_usd": 0.025, "steps": [
        {"id": "ask", "type": "agent", "agent": "lead", "input": "ask agent_worker"},
        _model("after", "ask"),
    ]}}
    async with in_process(_config(tmp_path, flows)) as gw:
        run = await _run(gw.client, "team")
        assert run["status"] == "failed_max_cost", run["steps"]
        assert run["steps"]["ask"]["cost_usd"] == pytest.approx(3 * CALL_PRICE)
        assert "after" not in run["steps"]


@pytest.mark.asyncio
async def test_max_steps_and_max_seconds_stop_a_run(tmp_path: Path) -> None:
    echo = [{"id": f"s{index}", "type": "tool", "tool": "echo", "arguments": {"text": "x"},
             **({"depends_on": [f"s{index - 1}"]} if index else {})} for index in range(3)]
    flows = {
        "long": {"max_steps": 2, "steps": echo},
        "slow": {"max_seconds": 0.3, "steps": [
            {"id": "gate", "type": "wait", "timeout_seconds": 30},
            {"id": "after", "type": "tool", "tool": "echo", "arguments": {"text": "x"},
             "depends_on": ["gate"]}]},
    }
    async with in_process(_config(tmp_path, flows)) as gw:
        long = await _run(gw.client, "long")
        assert long["status"] == "failed_max_steps"
        assert [long["steps"][key]["status"] for key in ("s0", "s1")] == ["completed"] * 2
        assert "s2" not in long["steps"]

        slow = await _run(gw.client, "slow")
        assert slow["status"] == "failed_max_time"
        assert slow["steps"]["gate"]["status"] == "failed"
        assert "time limit" in slow["steps"]["gate"]["error"]
        assert "after" not in slow["steps"]


@pytest.mark.asyncio
async def test_cancelling_a_run_cancels_its_running_steps() -> None:
    """The engine on its own, with a leaf runner that waits until cancelled."""
    from relaygate.agents.workflows.engine import StepState, WorkflowRun, run_workflow
    from relaygate.agents.workflows.spec import WorkflowSpec
    from relaygate.pipeline.run_cost import RunCost

    started, stopped = asyncio.Event(), asyncio.Event()

    async def leaf(kind: str, fields: dict[str, Any], item: Any, cost: RunCost) -> Any:
        started.set()
        try:
            await asyncio.sleep(60)
        finally:
            stopped.set()

    async def on_step(step_id: str, state: StepState) -> None:
        pass

    spec = WorkflowSpec.model_validate({"steps": [{"id": "gate", "type": "wait"}]})
    run = asyncio.create_task(run_workflow(WorkflowRun(spec, {}), leaf, on_step))
    await asyncio.wait_for(started.wait(), 5)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert stopped.is_set()  # the step did not go on in the background
