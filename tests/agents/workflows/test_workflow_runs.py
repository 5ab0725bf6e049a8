"""A workflow run on the mock provider and real tools: a tool step, a parallel map over a
named agent, a condition that skips a branch, a model step; each step's state stored."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.support.in_process import in_process
from tests.support.workflows import finished_run

WORKFLOW: dict[str, Any] = {
    "input_schema": {"type": "object", "required": ["a", "topics"]},
    "steps": [
        {"id": "plan", "type": "tool", "tool": "calculator",
         "arguments": {"operation": "evaluate", "formula": "{{ input.a }} * 2"}},
        {"id": "each", "type": "map", "over": "{{ input.topics }}", "concurrency": 2,
         "step": {"type": "agent", "agent": "helper", "input": "About {{ item }}"}},
        {"id": "check", "type": "condition", "if": "{{ steps.plan.output.result > 5 }}",
         "then": ["sum"], "else": ["small"], "depends_on": ["each"]},
        {"id": "sum", "type": "model", "model": "mock", "depends_on": ["check"],
         "input": "Sum {{ steps.each.output | join(', ') }}"},
        {"id": "small", "type": "model", "model": "mock", "depends_on": ["check"],
         "input": "small"},
    ],
}


@pytest.mark.asyncio
async def test_dag_with_map_and_condition(tmp_path: Path) -> None:
    config = {
        "storage": {"database_url": f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}"},
        "providers": {"mock": {"type": "mock"}},
        "models": [{"name": "mock", "provider": "mock"}],
        "agents": {"helper": {"model": "mock"}},
        "workflows": {"research": WORKFLOW},
    }
    async with in_process(config) as gw:
        client = gw.client
        started = await client.post(
            "/v1/workflows/research/runs",
                                    json={"input": {"a": 4, "topics": ["owls", "bats", "moths"]}},
        )
        assert started.status_code == 202, started.text
        run = await finished_run(client, started.json()["id"])
        steps = run["steps"]
        assert run["status"] == "completed", steps
        assert steps["plan"]["output"] == {"result": 8}
        assert len(steps["each"]["output"]) == 3 and all(steps["each"]["output"])
        assert steps["check"]["output"] is True
        assert steps["small"]["status"] == "skipped"
        assert steps["sum"]["status"] == "completed" and steps["sum"]["output"]

        mismatch = await client.post("/v1/workflows/research/runs", json={"input": {"a": 1}})
        assert mismatch.status_code == 400
        assert mismatch.json()["error"]["code"] == "schema_mismatch"
        unknown = await client.post("/v1/workflows/nowhere/runs", json={"input": {}})
        assert unknown.status_code == 404


@pytest.mark.asyncio
async def test_wait_approval_and_cancel(tmp_path: Path) -> None:
    waiting = {"steps": [
        {"id": "gate", "type": "wait", "timeout_seconds": 30},
        {"id": "after", "type": "tool", "tool": "echo",
         "arguments": {"text": "got {{ steps.gate.output }}"}},
    ]}
    config = {
        "storage": {"database_url": f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}"},
        "workflows": {"gated": waiting},
    }
    async with in_process(config) as gw:
        client = gw.client
        first = (await client.post("/v1/workflows/gated/runs", json={})).json()["id"]
        await asyncio.sleep(0.2)
        approved = await client.post(f"/v1/workflows/runs/{first}/steps/gate/approve",
                                     json={"output": "yes"})
        assert approved.status_code == 200
        run = await finished_run(client, first)
        assert run["status"] == "completed", run["steps"]
        assert run["steps"]["after"]["output"] == "got yes"

        second = (await client.post("/v1/workflows/gated/runs", json={})).json()["id"]
        await asyncio.sleep(0.2)
        cancelled = await client.post(f"/v1/workflows/runs/{second}/cancel")
        assert cancelled.json()["status"] == "cancelled"
        assert cancelled.json()["steps"]["gate"]["status"] == "running"


@pytest.mark.asyncio
async def test_retry_a_failed_step_and_events_resume(tmp_path: Path) -> None:
    flow = {"steps": [
        {"id": "first", "type": "tool", "tool": "echo", "arguments": {"text": "one"}},
        {"id": "gate", "type": "wait", "timeout_seconds": 0.3, "depends_on": ["first"]},
    ]}
    config = {
        "storage": {"database_url": f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}"},
        "workflows": {"flow": flow},
    }
    async with in_process(config) as gw:
        client = gw.client
        run_id = (await client.post("/v1/workflows/flow/runs", json={})).json()["id"]
        failed = await finished_run(client, run_id)
        assert failed["status"] == "failed"
        assert "timed out" in failed["steps"]["gate"]["error"]
        async with client.stream("GET", f"/v1/workflows/runs/{run_id}/events") as events:
            text = "".join([chunk async for chunk in events.aiter_text()])
        assert "event: step" in text and "event: run.failed" in text
        async with client.stream("GET", f"/v1/workflows/runs/{run_id}/events",
                                 headers={"Last-Event-ID": "3"}) as events:
            resumed = "".join([chunk async for chunk in events.aiter_text()])
        assert "id: 1\n" not in resumed and "id: 4\n" in resumed

        not_failed = await client.post(f"/v1/workflows/runs/{run_id}/steps/first/retry")
        assert not_failed.status_code == 400
        retried = await client.post(f"/v1/workflows/runs/{run_id}/steps/gate/retry")
        assert retried.status_code == 202, retried.text
        await asyncio.sleep(0.1)
        await client.post(f"/v1/workflows/runs/{run_id}/steps/gate/approve",
                          json={"output": "ok"})
        done = await finished_run(client, run_id)
        assert done["status"] == "completed", done["steps"]
        assert done["steps"]["first"]["output"] == "one"
        assert done["steps"]["gate"]["output"] == "ok"


@pytest.mark.asyncio
async def test_a_step_whose_template_names_nothing_fails_instead_of_hanging(
    tmp_path: Path,
) -> None:
    typo = {"steps": [
        {"id": "a", "type": "tool", "tool": "echo", "arguments": {"text": "hi"}},
        {"id": "b", "type": "tool", "tool": "echo", "depends_on": ["a"],
         "arguments": {"text": "{{ steps.a.output.nothing.deeper }}"}},
    ]}
    config = {
        "storage": {"database_url": f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}"},
        "providers": {"mock": {"type": "mock"}},
        "models": [{"name": "mock", "provider": "mock"}],
        "workflows": {"typo": typo},
    }
    async with in_process(config) as gw:
        started = await gw.client.post("/v1/workflows/typo/runs", json={"input": {}})
        assert started.status_code == 202, started.text
        run = await finished_run(gw.client, started.json()["id"])
        assert run["status"] == "failed", run
        assert run["steps"]["a"]["status"] == "completed"
        assert run["steps"]["b"]["status"] == "failed"
        assert "template" in run["steps"]["b"]["error"]
