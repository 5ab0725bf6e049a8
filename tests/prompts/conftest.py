"""A gateway with the admin API on a real socket (uvicorn in a thread), on SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from relaygate.app import create_app
from relaygate.config import Settings
from relaygate.store.schema import upgrade
from tests.support.servers import ThreadedServer

ADMIN_KEY = "admin-key-for-prompt-tests-0123"


def prompt_config(database_url: str, **extra: Any) -> dict[str, Any]:
    return {"admin": {"key": ADMIN_KEY}, "storage": {"database_url": database_url},
            "ledger": {"flush_interval_ms": 50},
            "providers": {"mock": {"type": "mock"}},
            "models": [{"name": "mock", "provider": "mock"}, {"name": "echo", "provider": "mock"}],
            **extra}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('prompts') / 'gateway.db'}"
    asyncio.run(upgrade(url))
    app = create_app(Settings.model_validate(prompt_config(url)))
    with ThreadedServer(app, lifespan="on") as running:
        yield running


@pytest.fixture
def admin(server: ThreadedServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=10,
                      headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
        yield client


def make_template(admin: httpx.Client, **body: Any) -> dict[str, Any]:
    response = admin.post("/admin/prompts", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created




@pytest.fixture(scope="module")
def api_key(server: ThreadedServer) -> str:
    """A key of tenant `acme`, made through the admin API."""
    with httpx.Client(base_url=server.base_url, timeout=10,
                      headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
        client.post("/admin/tenants", json={"name": "acme"}).raise_for_status()
        created = client.post("/admin/keys", json={"tenant": "acme"})
        created.raise_for_status()
        key: str = created.json()["key"]
        return key
