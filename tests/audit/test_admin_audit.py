"""Every admin action leaves an audit row (SQLite and PostgreSQL), secrets never shown;
`GET /admin/audit` filters them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.databases import BACKENDS, database_url
from tests.support.in_process import in_process

ADMIN_KEY = "admin-key-for-audit-tests-0123"
ACTOR = f"admin:{hashlib.sha256(ADMIN_KEY.encode()).hexdigest()[:12]}"
HEADERS = {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database_url(request.param, tmp_path) as url:
        yield url


async def _audit(client: httpx.AsyncClient, **query: Any) -> list[dict[str, Any]]:
    reply = await client.get("/admin/audit", params=query, headers=HEADERS)
    assert reply.status_code == 200, reply.text
    data: list[dict[str, Any]] = reply.json()["data"]
    return data


async def test_each_admin_action_is_recorded_with_its_change_and_no_secret(url: str) -> None:
    config = {"admin": {"key": ADMIN_KEY}, "storage": {"database_url": url},
              "ledger": {"enabled": False}}
    async with in_process(config) as gateway:
        client = gateway.client
        assert (await client.post("/admin/tenants", json={"name": "team"},
                                  headers=HEADERS)).status_code == 201
        assert (await client.patch("/admin/tenants/team", headers=HEADERS, json={
            "budget": {"max_usd": 10}, "limits": {"rpm": 60}})).status_code == 200
        created = (await client.post("/admin/keys", json={"tenant": "team", "name": "ci"},
                                     headers=HEADERS)).json()
        key_id, first_secret = created["id"], created["key"]
        assert (await client.patch(f"/admin/keys/{key_id}", headers=HEADERS,
                                   json={"name": "ci-2", "limits": {"rpm": 5}})).status_code == 200
        rotated = (await client.post(f"/admin/keys/{key_id}/rotate", headers=HEADERS,
                                     json={})).json()
        assert (await client.delete(f"/admin/keys/{key_id}", headers=HEADERS)).status_code == 200
        await client.delete(f"/admin/keys/{key_id}", headers=HEADERS)  # already revoked: no row

        rows = await _audit(client)
        assert [row["action"] for row in reversed(rows)] == [
            "tenant.created", "tenant.updated", "budget.changed", "limits.changed",
            "key.created", "key.updated", "limits.changed", "key.rotated", "key.revoked",
        ]
        assert {row["actor"] for row in rows} == {ACTOR}
        assert all(row["request_id"] for row in rows)
        text = str(rows)
        assert first_secret not in text and rotated["key"] not in text
        assert "digest" not in text
        by_action = {row["action"]: row for row in rows}
        assert by_action["tenant.updated"]["changed"] == ["budget", "limits"]
        assert by_action["budget.changed"]["before"] == {"budget": None}
        assert by_action["budget.changed"]["after"]["budget"]["max_usd"] == 10
        assert by_action["key.updated"]["before"]["name"] == "ci"
        assert by_action["key.updated"]["after"]["name"] == "ci-2"
        assert by_action["key.rotated"]["before"]["prefix"] != by_action["key.rotated"]["after"]["prefix"]
        assert by_action["key.revoked"]["after"]["status"] == "revoked"
        assert by_action["key.created"]["target"] == f"key:{key_id}"

        # filters
        keys_only = await _audit(client, action="key.")
        assert {row["action"] for row in keys_only} == {"key.created", "key.updated",
                                                         "key.rotated", "key.revoked"}
        assert [row["action"] for row in await _audit(client, target="tenant:team")] == [
            "limits.changed", "budget.changed", "tenant.updated", "tenant.created"]
        page = await _audit(client, limit=2)
        older = await _audit(client, limit=50, before=page[-1]["id"])
        assert len(page) + len(older) == len(rows)
        since = rows[0]["at"]
        assert [row["id"] for row in await _audit(client, since=since)] == [
            row["id"] for row in rows if row["at"] >= since]
        assert await _audit(client, actor="admin:someone-else") == []


async def test_the_audit_api_needs_the_admin_key_and_checks_its_query(tmp_path: Path) -> None:
    config = {"admin": {"key": ADMIN_KEY}, "ledger": {"enabled": False},
              "storage": {"database_url": f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"}}
    async with in_process(config) as gateway:
        assert (await gateway.client.get("/admin/audit")).status_code == 401
        reply = await gateway.client.get("/admin/audit", params={"since": "yesterday"},
                                         headers=HEADERS)
        assert reply.status_code == 400 and reply.json()["error"]["param"] == "since"
        reply = await gateway.client.get("/admin/audit", params={"before": "x"}, headers=HEADERS)
        assert reply.status_code == 400


async def test_agent_and_workflow_changes_are_recorded(tmp_path: Path) -> None:
    config = {"admin": {"key": ADMIN_KEY}, "ledger": {"enabled": False},
              "storage": {"database_url": f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"},
              "providers": {"mock": {"type": "mock"}},
              "models": [{"name": "mock", "provider": "mock"}]}
    workflow = {"name": "digest", "steps": [
        {"id": "plan", "type": "model", "model": "mock", "input": "Plan it"}]}
    async with in_process(config) as gateway:
        client = gateway.client
        assert (await client.post("/admin/agents", headers=HEADERS, json={
            "name": "writer", "model": "mock", "instructions": "Be brief."})).status_code == 201
        assert (await client.patch("/admin/agents/writer", headers=HEADERS,
                                   json={"instructions": "Write."})).status_code == 200
        assert (await client.delete("/admin/agents/writer", headers=HEADERS)).status_code == 200
        assert (await client.delete("/admin/agents/writer", headers=HEADERS)).status_code == 404
        assert (await client.post("/admin/workflows", headers=HEADERS,
                                  json=workflow)).status_code == 201
        assert (await client.delete("/admin/workflows/digest", headers=HEADERS)).status_code == 200
        assert (await client.delete("/admin/workflows/digest", headers=HEADERS)).status_code == 404

        rows = await _audit(client)
        assert [(row["action"], row["target"]) for row in reversed(rows)] == [
            ("agent.created", "agent:writer"), ("agent.updated", "agent:writer"),
            ("agent.deleted", "agent:writer"), ("workflow.created", "workflow:digest"),
            ("workflow.deleted", "workflow:digest"),
        ]
        by_action = {row["action"]: row for row in rows}
        assert by_action["agent.updated"]["changed"] == ["instructions"]
        assert by_action["agent.updated"]["before"]["instructions"] == "Be brief."
        assert by_action["agent.deleted"]["before"]["instructions"] == "Write."
        assert by_action["agent.deleted"]["after"] is None
        assert by_action["workflow.deleted"]["before"]["steps"][0]["id"] == "plan"
        assert {row["actor"] for row in rows} == {ACTOR}
