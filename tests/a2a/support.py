"""A gateway serving named agents over A2A on a real socket, and a2a-sdk clients for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
from a2a.client import Client, ClientConfig, create_client

from tests.support.databases import database_url
from tests.support.threaded_gateway import serve

__all__ = ["TEAM_A", "TEAM_B", "a2a_client", "bearer", "gateway_config", "serve",
           "serve_on"]

TEAM_A = "sk-a2a-team-a-key-0123456789"
TEAM_B = "sk-a2a-team-b-key-0123456789"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def gateway_config(tmp_path: Path, **extra: Any) -> dict[str, Any]:
    return {
        "storage": {"database_url": f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}"},
        "providers": {"mock": {"type": "mock"},
                      "slowmock": {"type": "mock", "stream_delay_ms": 150}},
        "models": [{"name": "mock", "provider": "mock"},
                   {"name": "slow", "provider": "slowmock"},
                   {"name": "priced", "provider": "mock", "model": "mock",
                    "request_price_usd": 0.01}],
        "keys": [{"key": TEAM_A, "tenant": "team-a"}, {"key": TEAM_B, "tenant": "team-b"}],
        **extra,
    }


@contextmanager
def serve_on(backend: str, folder: Path, agents: dict[str, Any], **extra: Any) -> Iterator[str]:
    """A gateway serving `agents` on a fresh database of `backend` (sqlite, postgres)."""
    with database_url(backend, folder) as url:
        config = gateway_config(folder, agents=agents, **extra)
        config["storage"] = {"database_url": url}
        with serve(config) as base_url:
            yield base_url


@asynccontextmanager
async def a2a_client(url: str, key: str, *, streaming: bool) -> AsyncIterator[Client]:
    """An a2a-sdk client for the agent at `url` (its card read from there, with the key)."""
    async with httpx.AsyncClient(headers=bearer(key), timeout=30) as http:
        client = await create_client(url, ClientConfig(streaming=streaming, httpx_client=http))
        async with client:
            yield client
