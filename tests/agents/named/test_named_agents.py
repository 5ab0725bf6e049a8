"""Named agents from the YAML and the admin API, run directly: each run is a session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.in_process import in_process

ADMIN_KEY = "admin-key-for-tests-0123456789"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
USER_KEY = "sk-user-key-for-agent-tests"
USER = {"Authorization": f"Bearer {USER_KEY}"}


def _config(tmp_path: Path) -> dict[str, object]:
    return {
        "storage": {"database_url": f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}"},
        "providers": {"mock": {"type": "mock"}},
        "models": [{"name": "mock", "provider": "mock"}],
        "admin": {"key": ADMIN_KEY},
        "keys": [{"key": USER_KEY, "tenant": "team-a"}],
        "agents": {"helper": {"model": "mock", "instructions": "Be brief."}},
    }


@pytest.mark.asyncio
async def test_admin_crud_and_runs(tmp_path: Path) -> None:
    async with in_process(_config(tmp_path)) as gw:
        client = gw.client
        created = await client.post("/admin/agents", headers=ADMIN,
                                    json={"name": "writer", "model": "mock"})
        assert created.status_code == 201, created.text
        again = await client.post("/admin/agents", headers=ADMIN,
                                  json={"name": "writer", "model": "mock"})
        assert again.status_code == 409
        bad = await client.post("/admin/agents", headers=ADMIN, json={"name": "x", "modl": "m"})
        assert bad.status_code == 400
        listed = (await client.get("/admin/agents", headers=ADMIN)).json()["data"]
        assert {item["name"]: item["source"] for item in listed} == {
            "helper": "config", "writer": "admin"}
        patched = await client.patch("/admin/agents/writer", headers=ADMIN,
                                     json={"instructions": "Write."})
        assert patched.json()["instructions"] == "Write."
        assert (await client.get("/admin/agents/writer")).status_code == 401

        run = await client.post("/v1/agents/writer/runs", json={"input": "hello there"},
                              headers=USER)
        assert run.status_code == 200, run.text
        body = run.json()
        assert body["object"] == "agent.run" and body["status"] == "completed"
        assert body["output"] and body["usage"]["output_tokens"] > 0
        fetched = (await client.get(f"/v1/agents/runs/{body['id']}", headers=USER)).json()
        assert fetched["output"] == body["output"]
        session = (await client.get(f"/api/sessions/{body['id']}", headers=USER)).json()
        assert session["metadata"] == {"agent": "writer"}
        assert session["system"] == "Write."

        async with client.stream("POST", "/v1/agents/helper/runs",
                                 json={"input": "hi", "stream": True}, headers=USER) as streamed:
            text = "".join([chunk async for chunk in streamed.aiter_text()])
        assert "event: run.created" in text and "event: message.completed" in text

        gone = await client.delete("/admin/agents/writer", headers=ADMIN)
        assert gone.status_code == 200
        missing = await client.post("/v1/agents/writer/runs", json={"input": "x"}, headers=USER)
        assert missing.status_code == 404 and "writer" in missing.text
        assert (await client.delete("/admin/agents/helper", headers=ADMIN)).status_code == 404
