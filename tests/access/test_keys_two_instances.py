"""Two gateways on one PostgreSQL and Redis: a key made on one works on the other, and a
revocation on one is honoured by the other within a second (Redis pub/sub)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import openai
import pytest

from tests.conftest import REDIS_URL
from tests.support.databases import database_url
from tests.support.servers import run_gateway

ADMIN_KEY = "admin-key-for-tests-0123456789"


def _chat_status(base_url: str, key: str) -> int:
    client = openai.OpenAI(base_url=f"{base_url}/v1", api_key=key, max_retries=0)
    try:
        client.chat.completions.create(model="mock", messages=[{"role": "user", "content": "hi"}])
    except openai.APIStatusError as error:
        return error.status_code
    return 200


def test_a_key_made_on_one_instance_works_on_the_other_and_its_revocation_arrives_within_1s(
    tmp_path: Path,
) -> None:
    with database_url("postgres", tmp_path) as url:
        config = {"admin": {"key": ADMIN_KEY},
                  "storage": {"database_url": url, "redis_url": REDIS_URL}}
        with run_gateway(tmp_path / "a", config) as a, run_gateway(tmp_path / "b", config) as b:
            admin = httpx.Client(base_url=a.base_url, timeout=10,
                                 headers={"Authorization": f"Bearer {ADMIN_KEY}"})
            admin.post("/admin/tenants", json={"name": "acme"}).raise_for_status()
            created = admin.post("/admin/keys", json={"tenant": "acme"}).json()
            assert _chat_status(b.base_url, created["key"]) == 200  # cached on B now
            admin.delete(f"/admin/keys/{created['id']}").raise_for_status()
            revoked_at = time.monotonic()
            while _chat_status(b.base_url, created["key"]) == 200:
                assert time.monotonic() - revoked_at < 1.0, "B still accepts the revoked key"
                time.sleep(0.02)
            waited = time.monotonic() - revoked_at
            print(f"revocation honoured on the other instance after {waited * 1000:.0f} ms")
            assert _chat_status(b.base_url, created["key"]) == 401


@pytest.fixture(autouse=True)
def _dirs(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
