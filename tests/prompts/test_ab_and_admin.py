"""A/B splits measured over 1,000 calls (in process, no socket: fast), sticky per user;
the admin API's versions, labels, diff and archive; feedback and the version comparison."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.prompts.conftest import ADMIN_KEY, prompt_config
from tests.support.databases import BACKENDS, database_url
from tests.support.in_process import in_process

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
V1 = {"messages": [{"role": "system", "content": "one"}]}
V2 = {"messages": [{"role": "system", "content": "two {{ extra }}"}],
      "variables": [{"name": "extra", "required": False}]}


async def _key(client: httpx.AsyncClient) -> dict[str, str]:
    (await client.post("/admin/tenants", json={"name": "acme"}, headers=ADMIN)).raise_for_status()
    created = await client.post("/admin/keys", json={"tenant": "acme"}, headers=ADMIN)
    return {"Authorization": f"Bearer {created.json()['key']}"}


async def _chat(client: httpx.AsyncClient, key: dict[str, str], prompt: str,
                user: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"model": "mock", "messages": [{"role": "user", "content": "hi"}]}
    if user is not None:
        body["user"] = user
    return await client.post("/v1/chat/completions", json=body,
                             headers={**key, "x-relaygate-prompt": prompt})


async def test_an_ab_split_holds_its_weights_over_1000_users_and_sticks_to_each(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ab.db'}"
    async with in_process(prompt_config(url)) as gateway:
        client = gateway.client
        key = await _key(client)
        created = await client.post("/admin/prompts", json={"name": "split", **V1},
                                    headers=ADMIN)
        template_id = created.json()["id"]
        (await client.post(f"/admin/prompts/{template_id}/versions", json=V2,
                           headers=ADMIN)).raise_for_status()
        label = await client.put(f"/admin/prompts/{template_id}/labels/production",
                                 json={"weights": {"v1": 90, "v2": 10}}, headers=ADMIN)
        assert label.json()["labels"] == {"production": {"v1": 90, "v2": 10}}
        seen: dict[str, str] = {}
        for number in range(1000):
            reply = await _chat(client, key, "split", user=f"user-{number}")
            assert reply.status_code == 200, reply.text
            seen[f"user-{number}"] = reply.headers["x-relaygate-prompt"]
        counts = Counter(seen.values())
        share = counts[f"{template_id}@v2"] / 1000
        print(f"v2 share over 1000 users: {share:.3f} (weight 0.10)")
        assert abs(share - 0.10) <= 0.03
        for number in range(0, 1000, 20):  # the same user keeps the same version
            again = await _chat(client, key, "split", user=f"user-{number}")
            assert again.headers["x-relaygate-prompt"] == seen[f"user-{number}"]
        pinned = await _chat(client, key, "split@v2", user="user-0")
        assert pinned.headers["x-relaygate-prompt"] == f"{template_id}@v2"

        # the ledger compares the versions; feedback adds mean scores
        for request_id, score in ((pinned.headers["x-request-id"], 1.0),
                                  ((await _chat(client, key, "split@v2")).headers[
                                      "x-request-id"], 0.0)):
            feedback = await client.post("/v1/feedback", headers=key,
                                         json={"request_id": request_id, "score": score})
            assert feedback.status_code == 201, feedback.text
        bad = await client.post("/v1/feedback", headers=key, json={"request_id": "x"})
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "score"
        usage = await client.get("/admin/usage?group_by=prompt_version", headers=ADMIN)
        assert usage.status_code == 200, usage.text
        rows = {row["version"]: row for row in usage.json()["data"]}
        assert rows["v1"]["requests"] + rows["v2"]["requests"] == 1000 + 50 + 2
        assert rows["v2"]["mean_score"] == pytest.approx(0.5)
        assert rows["v2"]["feedback"] == 2 and rows["v1"]["mean_score"] is None
        for field in ("error_rate", "mean_latency_ms", "mean_tokens", "cost_usd", "name"):
            assert field in rows["v1"]
        assert rows["v1"]["name"] == "split"


@pytest.fixture(params=BACKENDS)
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database_url(request.param, tmp_path) as url:
        yield url


async def test_the_admin_api_versions_labels_diff_and_archive(backend_url: str) -> None:
    async with in_process(prompt_config(backend_url)) as gateway:
        client = gateway.client
        key = await _key(client)
        assert (await client.post("/admin/prompts", json={"name": "x", **V1})).status_code == 401
        created = await client.post("/admin/prompts", json={"name": "notes", **V1}, headers=ADMIN)
        assert created.status_code == 201
        template = created.json()
        assert template["latest_version"] == "v1" and template["versions"][0]["version"] == "v1"
        twice = await client.post("/admin/prompts", json={"name": "notes", **V1}, headers=ADMIN)
        assert twice.status_code == 409
        bad = await client.post("/admin/prompts", json={"name": "b", "messages": [
            {"role": "user", "content": "{{ oops"}]}, headers=ADMIN)
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "messages[0].content"
        second = await client.post(f"/admin/prompts/{template['id']}/versions", json=V2,
                                   headers=ADMIN)
        assert second.json()["version"] == "v2"
        assert (await _chat(client, key, "notes")).headers["x-relaygate-prompt"].endswith("@v2")
        put = await client.put("/admin/prompts/notes/labels/production",
                               json={"version": "v1"}, headers=ADMIN)
        assert put.status_code == 200
        # the change dropped the cache: the next call already takes the label
        served = await _chat(client, key, "notes")
        assert served.headers["x-relaygate-prompt"].endswith("@v1")
        (await client.post("/v1/feedback", headers=key, json={
            "request_id": served.headers["x-request-id"], "score": 4, "comment": "good"})
         ).raise_for_status()
        compared = (await client.get("/admin/usage?group_by=prompt_version",
                                     headers=ADMIN)).json()["data"]
        assert [(row["version"], row["requests"], row["mean_score"]) for row in compared] == [
            ("v1", 1, 4.0), ("v2", 1, None)]
        missing = await client.put("/admin/prompts/notes/labels/staging",
                                   json={"version": "v9"}, headers=ADMIN)
        assert missing.status_code == 404
        neither = await client.put("/admin/prompts/notes/labels/staging", json={},
                                   headers=ADMIN)
        assert neither.status_code == 400
        diff = (await client.get("/admin/prompts/notes/diff?from=v1&to=v2",
                                 headers=ADMIN)).json()
        assert diff["changed"] == ["messages", "variables"]
        assert '-      "content": "one"' in diff["diff"]
        listed = (await client.get("/admin/prompts", headers=ADMIN)).json()
        assert [row["name"] for row in listed["data"]] == ["notes"]
        archived = await client.delete(f"/admin/prompts/{template['id']}", headers=ADMIN)
        assert archived.json()["archived"] is True
        assert (await client.get("/admin/prompts", headers=ADMIN)).json()["data"] == []
        gone = await _chat(client, key, "notes")
        assert gone.status_code == 404 and gone.json()["error"]["param"] == "prompt.id"
        # other tenants' templates are not visible
        (await client.post("/admin/prompts", json={"name": "theirs", "tenant": "other", **V1},
                           headers=ADMIN)).raise_for_status()
        assert (await _chat(client, key, "theirs")).status_code == 404


async def test_a_version_is_compiled_once_and_reused(tmp_path: Path) -> None:
    """A template compiled per call would cost every request (render speed: bench/)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cost.db'}"
    async with in_process(prompt_config(url)) as gateway:
        prompts = gateway.gateway.prompts
        assert prompts is not None
        await gateway.client.post("/admin/prompts", headers=ADMIN, json={
            "name": "cost", "instructions": "Be {{ tone }}.",
            "messages": [{"role": "user", "content": "Hi {{ name }}"}]})
        from relaygate.prompts.ref import PromptRef

        ref = PromptRef("cost", variables={"tone": "kind", "name": "Ada"})
        first = await prompts.resolve(ref, "acme", "u")
        second = await prompts.resolve(ref, "acme", "v")
        assert second.compiled is first.compiled
        assert "Be kind." in str(first.compiled.render(ref.variables))


async def test_without_the_admin_api_a_named_template_is_refused(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'off.db'}"
    config = prompt_config(url)
    del config["admin"]
    async with in_process(config) as gateway:
        assert gateway.gateway.prompts is None
        reply = await _chat(gateway.client, {}, "anything")
        assert reply.status_code == 400 and reply.json()["error"]["code"] == "prompts_off"
        responses = await gateway.client.post("/v1/responses", json={
            "model": "echo", "prompt": {"id": "anything"}})
        assert responses.status_code == 400
        assert responses.json()["error"]["param"] == "prompt"


async def test_a_session_naming_a_template_while_templates_are_off_is_refused(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'off-session.db'}"
    config = prompt_config(url)
    del config["admin"]
    async with in_process(config) as gateway:
        reply = await gateway.client.post("/api/sessions", json={
            "model": "mock", "metadata": {"relaygate_prompt": "anything"}})
        assert reply.status_code == 400, reply.text
        assert reply.json()["error"]["code"] == "prompts_off"
        assert reply.json()["error"]["param"] == "metadata.relaygate_prompt"


async def test_prompt_admin_actions_are_in_the_audit_log(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}"
    async with in_process(prompt_config(url)) as gateway:
        client = gateway.client
        created = await client.post("/admin/prompts", json={"name": "audited", **V1},
                                    headers=ADMIN)
        template = created.json()["id"]
        (await client.post(f"/admin/prompts/{template}/versions", json=V2,
                           headers=ADMIN)).raise_for_status()
        (await client.put(f"/admin/prompts/{template}/labels/production",
                          json={"version": "v2"}, headers=ADMIN)).raise_for_status()
        (await client.delete(f"/admin/prompts/{template}", headers=ADMIN)).raise_for_status()
        page = await client.get("/admin/audit", params={"target": f"prompt:{template}"},
                                headers=ADMIN)
        assert page.status_code == 200, page.text
        rows = {row["action"]: row for row in page.json()["data"]}
        assert set(rows) == {"prompt.created", "prompt.version_created",
                             "prompt.label_changed", "prompt.archived"}
        label = rows["prompt.label_changed"]
        assert label["after"]["labels"]["production"] != label["before"]["labels"].get(
            "production")
