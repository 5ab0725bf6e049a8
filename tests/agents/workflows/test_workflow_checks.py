"""Workflow definitions through the admin API: the bad ones are 400s that name the problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from relaygate.agents.workflows.spec import WorkflowSpec, check_input
from relaygate.errors import InvalidRequest
from tests.support.in_process import in_process

ADMIN_KEY = "admin-key-for-tests-0123456789"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}

GOOD: dict[str, Any] = {
    "name": "research",
    "input_schema": {"type": "object", "required": ["topic"],
                     "properties": {"topic": {"type": "string"}}},
    "steps": [
        {"id": "plan", "type": "model", "model": "mock", "input": "Plan {{ input.topic }}"},
        {"id": "each", "type": "map", "over": "{{ steps.plan.output }}", "concurrency": 2,
         "step": {"type": "agent", "agent": "helper"}},
        {"id": "check", "type": "condition", "if": "{{ steps.each.output | length > 1 }}",
         "then": ["sum"], "else": []},
        {"id": "sum", "type": "model", "model": "mock", "depends_on": ["check"],
         "input": "Sum {{ steps.each.output }}"},
    ],
}


def _with(**changes: Any) -> dict[str, Any]:
    return {**GOOD, "name": "bad", **changes}


@pytest.mark.asyncio
async def test_admin_workflows_and_bad_input(tmp_path: Path) -> None:
    config = {"storage": {"database_url": f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}"},
              "admin": {"key": ADMIN_KEY}}
    async with in_process(config) as gw:
        client = gw.client
        created = await client.post("/admin/workflows", headers=ADMIN, json=GOOD)
        assert created.status_code == 201, created.text
        assert (await client.post("/admin/workflows", headers=ADMIN,
                                  json=GOOD)).status_code == 409
        listed = (await client.get("/admin/workflows", headers=ADMIN)).json()["data"]
        assert [item["name"] for item in listed] == ["research"]

        steps = GOOD["steps"]
        cycle = [{**steps[0], "depends_on": ["sum"]}, *steps[1:]]
        missing = [*steps[:3], {**steps[3], "input": "{{ steps.nowhere.output }}"}]
        bad_schema = {"type": "object", "properties": {"topic": {"type": "strnig"}}}
        cases = [
            (_with(steps=cycle), "workflow_cycle", "plan -> sum"),
            (_with(steps=missing), "missing_step_reference", "'nowhere'"),
            (_with(input_schema=bad_schema), "invalid_schema", "input_schema"),
            (_with(steps=[{"id": "x", "type": "teleport"}]), None, "type"),
        ]
        for body, code, named in cases:
            answer = await client.post("/admin/workflows", headers=ADMIN, json=body)
            assert answer.status_code == 400, answer.text
            error = answer.json()["error"]
            if code is not None:
                assert error["code"] == code
            assert named in error["message"] or named == error["param"], error
        assert (await client.delete("/admin/workflows/research",
                                    headers=ADMIN)).status_code == 200


def test_input_schema_mismatch_names_the_place() -> None:
    spec = WorkflowSpec.model_validate({k: v for k, v in GOOD.items() if k != "name"})
    check_input(spec, {"topic": "owls"})
    with pytest.raises(InvalidRequest) as caught:
        check_input(spec, {"topic": 3})
    assert caught.value.code == "schema_mismatch" and "['topic']" in caught.value.message
