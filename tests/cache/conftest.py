"""The cache tests' upstreams: fake OpenAI (chat and embeddings), Anthropic and Gemini
servers on real ports, each keeping the requests it was sent (so a hit shows as no new
request), and a gateway config with the cache on in front of them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from relaygate.cache.embedder import BundledE5Embedder
from relaygate.store.schema import upgrade
from tests.support.fake_anthropic import FakeAnthropic
from tests.support.fake_gemini import FakeGemini
from tests.support.fake_media import FakeOpenAIMedia
from tests.support.fake_openai import FakeOpenAI
from tests.support.routing_gateway import in_process_gateway
from tests.support.servers import ThreadedServer

KEYS = [
    {"name": "acme-key", "key": "sk-acme-0123456789", "tenant": "acme"},
    {"name": "acme-other", "key": "sk-acme-other-0123", "tenant": "acme"},
    {"name": "globex-key", "key": "sk-globex-0123456", "tenant": "globex"},
    {"name": "initech-key", "key": "sk-initech-012345", "tenant": "initech"},
    {"name": "hooli-key", "key": "sk-hooli-01234567", "tenant": "hooli"},
]


@dataclass
class Upstreams:
    openai: FakeOpenAI
    media: FakeOpenAIMedia
    anthropic: FakeAnthropic
    gemini: FakeGemini
    openai_url: str
    anthropic_url: str
    gemini_url: str

    def sent(self) -> int:
        """Requests the upstreams have received so far, all of them."""
        return (len(self.openai.requests) + len(self.media.requests)
                + len(self.anthropic.requests) + len(self.gemini.requests))

    def config(self, cache: dict[str, Any] | None = None, **more: Any) -> dict[str, Any]:
        return {
            "providers": {
                "oai": {"type": "openai", "base_url": self.openai_url, "api_key": "sk-up"},
                "ant": {"type": "anthropic", "base_url": self.anthropic_url,
                        "api_key": "sk-ant-up"},
                "gem": {"type": "gemini", "base_url": self.gemini_url, "api_key": "g-up"},
            },
            "models": [
                {"name": "gpt", "provider": "oai", "model": "gpt-4o-mini"},
                {"name": "claude", "provider": "ant", "model": "claude-sonnet-4-5"},
                {"name": "gemini", "provider": "gem", "model": "gemini-2.5-flash"},
                {"name": "embed", "provider": "oai", "model": "text-embedding-3-small"},
            ],
            "keys": KEYS,
            "cache": {"enabled": True, **(cache or {})},
            **more,
        }


@pytest.fixture(scope="package")
def upstreams() -> Iterator[Upstreams]:
    openai_fake, media, anthropic, gemini = (FakeOpenAI(), FakeOpenAIMedia(), FakeAnthropic(),
                                             FakeGemini())
    openai_app = Starlette(routes=[*media.app_routes, *openai_fake.app.routes])
    with ThreadedServer(openai_app) as oai, ThreadedServer(anthropic.app) as ant, \
            ThreadedServer(gemini.app) as gem:
        yield Upstreams(openai_fake, media, anthropic, gemini, f"{oai.base_url}/v1",
                        ant.base_url, f"{gem.base_url}/v1beta")


@contextmanager
def cache_gateway(tmp_path: Path, config: dict[str, Any]) -> Iterator[ThreadedServer]:
    """An in-process gateway on a real port, its SQLite database migrated first."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'relaygate.db'}"
    asyncio.run(upgrade(url))
    config = {**config, "storage": {"database_url": url, **config.get("storage", {})}}
    with in_process_gateway(tmp_path, config) as gateway:
        yield gateway


@pytest.fixture(scope="session")
def e5() -> BundledE5Embedder:
    """The bundled embedder, loaded once per session."""
    return BundledE5Embedder()
