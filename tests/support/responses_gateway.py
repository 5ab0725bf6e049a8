"""One gateway for the Responses front tests: two tenants, the mock (fast and slow), a
tiny-window model, and the openai / openai_responses providers on local fakes (one
OpenAI-compatible upstream reports no usage); once on
SQLite (in-process event log) and once on PostgreSQL with Redis (the scaled-out shape:
event logs on Redis, so another instance can resume a run)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai

from tests.support.databases import database_url
from tests.support.fake_openai import FakeOpenAI
from tests.support.fake_responses import FakeResponses
from tests.support.no_usage_openai import NoUsageUpstream
from tests.support.servers import GatewayProcess, ThreadedServer, run_gateway

KEY_A = "sk-tenant-a-0123456789"
KEY_B = "sk-tenant-b-9876543210"
REDIS_URL = os.environ.get("RELAYGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass
class ResponsesGateway:
    process: GatewayProcess
    fake_openai: FakeOpenAI
    fake_responses: FakeResponses
    config: dict[str, Any]  # to start another instance on the same storage
    backend: str

    @property
    def base_url(self) -> str:
        return self.process.base_url

    def client(self, key: str = KEY_A) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.base_url}/v1", api_key=key, max_retries=0)


@contextmanager
def responses_gateway(backend: str, tmp_path: Path) -> Iterator[ResponsesGateway]:
    chat, responses = FakeOpenAI(), FakeResponses()
    with (
        database_url(backend, tmp_path) as url,
        ThreadedServer(chat.app) as chat_server,
        ThreadedServer(responses.app) as responses_server,
        ThreadedServer(NoUsageUpstream()) as bare_server,
    ):
        storage = {"database_url": url}
        if backend == "postgres":
            storage["redis_url"] = REDIS_URL
        config: dict[str, Any] = {
            "storage": storage,
            "providers": {
                "mock": {"type": "mock"},
                "slowmock": {"type": "mock", "stream_delay_ms": 25},
                "oai": {"type": "openai", "base_url": f"{chat_server.base_url}/v1",
                        "api_key": "sk-upstream-chat"},
                "bare": {"type": "openai", "base_url": f"{bare_server.base_url}/v1",
                         "api_key": "sk-upstream-bare"},
                "oresp": {"type": "openai_responses",
                          "base_url": f"{responses_server.base_url}/v1",
                          "api_key": "sk-upstream-resp"},
            },
            "models": [
                {"name": "mock", "provider": "mock"},
                {"name": "echo", "provider": "mock"},
                {"name": "slow", "provider": "slowmock", "model": "echo"},
                {"name": "tiny", "provider": "mock", "model": "echo", "context_window": 60},
                {"name": "fake-gpt", "provider": "oai", "model": "gpt-fake"},
                {"name": "resp-gpt", "provider": "oresp", "model": "gpt-resp"},
                {"name": "bare-gpt", "provider": "bare", "model": "gpt-fake"},  # no usage
            ],
            "keys": [{"tenant": "tenant-a", "key": KEY_A}, {"tenant": "tenant-b", "key": KEY_B}],
        }
        with run_gateway(tmp_path, config) as process:
            yield ResponsesGateway(process, chat, responses, config, backend)
