"""One gateway (uvicorn in a thread, a real port) before fake OpenAI and Gemini upstreams
that speak embeddings and images, with the mock beside them; a SQLite ledger."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
import pytest
from starlette.applications import Starlette

from relaygate.store.schema import upgrade
from tests.support.fake_gemini import FakeGemini
from tests.support.fake_media import FakeOpenAIMedia
from tests.support.fake_openai import FakeOpenAI
from tests.support.routing_gateway import in_process_gateway
from tests.support.servers import ThreadedServer

KEY = "sk-media-key-0123456789"
TIGHT_KEY = "sk-media-tight-0123456789"  # 20 tokens a minute
BUDGET_KEY = "sk-media-budget-0123456789"  # 12 tokens a month


@dataclass
class Media:
    base_url: str
    database: Path
    openai_fake: FakeOpenAIMedia
    gemini_fake: FakeGemini

    def client(self, key: str = KEY) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.base_url}/v1", api_key=key, max_retries=0,
                             timeout=20)

    def rows(self, request_id: str, wait: float = 5.0) -> list[dict[str, Any]]:
        """The ledger rows of one request, once written (the writer batches)."""
        deadline = time.monotonic() + wait
        while True:
            with sqlite3.connect(self.database) as connection:
                connection.row_factory = sqlite3.Row
                found = [dict(row) for row in connection.execute(
                    "SELECT * FROM usage_ledger WHERE request_id = ?", (request_id,))]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.05)


def media_config(openai_url: str, gemini_url: str, database: Path) -> dict[str, Any]:
    return {
        "storage": {"database_url": f"sqlite+aiosqlite:///{database}"},
        "ledger": {"flush_interval_ms": 50},
        "providers": {
            "mock": {"type": "mock"},
            "oai": {"type": "openai", "base_url": openai_url, "api_key": "sk-upstream-secret"},
            "gem": {"type": "gemini", "base_url": gemini_url, "api_key": "gemini-secret"},
            "ant": {"type": "anthropic", "base_url": "http://127.0.0.1:9", "api_key": "x"},
        },
        "models": [
            {"name": "mock-embed", "provider": "mock"},
            {"name": "mock-image", "provider": "mock"},
            {"name": "text-embedding-3-small", "provider": "oai"},
            {"name": "my-embedder", "provider": "oai", "model": "text-embedding-3-small"},
            {"name": "no-usage", "provider": "oai"},
            {"name": "broken-embedder", "provider": "oai", "model": "fail-503"},
            {"name": "gemini-embedding-001", "provider": "gem"},
            {"name": "dall-e-3", "provider": "oai", "request_price_usd": 0.04},
            {"name": "gpt-image-1", "provider": "oai"},
            {"name": "gemini-2.5-flash-image", "provider": "gem"},
            {"name": "imagen-4.0-generate-001", "provider": "gem"},
            {"name": "claude-embed", "provider": "ant", "model": "claude-3-5-haiku"},
            # a routed group: the failing deployment first, the mock only as failover
            {"name": "grouped-embed", "provider": "oai", "model": "fail-503", "weight": 1},
            {"name": "grouped-embed", "provider": "mock", "model": "mock-embed", "weight": 0},
        ],
        "keys": [
            {"tenant": "acme", "key": KEY, "name": "alice"},
            {"tenant": "beta", "key": TIGHT_KEY, "name": "bob", "limits": {"tpm": 20}},
            {"tenant": "gamma", "key": BUDGET_KEY, "name": "carol",
             "budget": {"max_tokens": 12}},
        ],
    }


@pytest.fixture(scope="package")
def media(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Media]:
    tmp_path = tmp_path_factory.mktemp("media")
    openai_media, gemini = FakeOpenAIMedia(), FakeGemini(api_key="gemini-secret")
    openai_app = Starlette(routes=[*openai_media.app_routes, *FakeOpenAI().app.routes])
    database = tmp_path / "media.db"
    asyncio.run(upgrade(f"sqlite+aiosqlite:///{database}"))
    with ThreadedServer(openai_app) as oai, ThreadedServer(gemini.app) as gem:
        config = media_config(f"{oai.base_url}/v1", f"{gem.base_url}/v1beta", database)
        with in_process_gateway(tmp_path, config) as gateway:
            yield Media(gateway.base_url, database, openai_media, gemini)
