"""Two gateways on one PostgreSQL and Redis see the same templates: one made on A serves
on B, and a label moved on A reaches B's cache within a second (over the bus)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import openai

from tests.conftest import REDIS_URL
from tests.prompts.conftest import ADMIN_KEY
from tests.support.databases import database_url
from tests.support.servers import run_gateway


def test_two_instances_share_the_store_and_its_changes(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with database_url("postgres", tmp_path) as url:
        config = {"admin": {"key": ADMIN_KEY},
                  "storage": {"database_url": url, "redis_url": REDIS_URL}}
        with run_gateway(tmp_path / "a", config) as a, run_gateway(tmp_path / "b", config) as b:
            admin = httpx.Client(base_url=a.base_url, timeout=10,
                                 headers={"Authorization": f"Bearer {ADMIN_KEY}"})
            admin.post("/admin/tenants", json={"name": "acme"}).raise_for_status()
            key = admin.post("/admin/keys", json={"tenant": "acme"}).json()["key"]
            template = admin.post("/admin/prompts", json={
                "name": "shared", "model": "echo",
                "messages": [{"role": "user", "content": "Hi {{ name }}"}]}).json()
            client = openai.OpenAI(base_url=f"{b.base_url}/v1", api_key=key, max_retries=0)
            prompt: Any = {"id": "shared", "variables": {"name": "Ada"}}
            assert client.responses.create(prompt=prompt).output_text == "Hi Ada"  # cached on B
            admin.post(f"/admin/prompts/{template['id']}/versions", json={
                "model": "echo", "messages": [{"role": "user", "content": "Bye {{ name }}"}],
            }).raise_for_status()
            admin.put(f"/admin/prompts/{template['id']}/labels/production",
                      json={"version": "v2"}).raise_for_status()
            moved = time.monotonic()
            while client.responses.create(prompt=prompt).output_text != "Bye Ada":
                assert time.monotonic() - moved < 1.0, "B still serves the old version"
                time.sleep(0.02)
            listed = httpx.get(f"{b.base_url}/admin/prompts", timeout=10,
                               headers={"Authorization": f"Bearer {ADMIN_KEY}"}).json()
            assert [row["name"] for row in listed["data"]] == ["shared"]
