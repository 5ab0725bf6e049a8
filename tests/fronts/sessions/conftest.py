"""One gateway for the sessions tests, per database backend (SQLite, PostgreSQL), with two
tenants, the mock provider, a slow mock, prices, and a fake OpenAI upstream that records
every request it receives (to check what a turn actually sent)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.databases import BACKENDS, database_url
from tests.support.fake_openai import FakeOpenAI
from tests.support.servers import ThreadedServer, run_gateway
from tests.support.sessions import ACME, SessionsGateway


def gateway_config(upstream_url: str) -> dict[str, Any]:
    return {
        "providers": {
            "mock": {"type": "mock"},
            "slow": {"type": "mock", "stream_delay_ms": 2},
            "upstream": {"type": "openai", "base_url": f"{upstream_url}/v1", "api_key": "sk-fake"},
        },
        "models": [
            {"name": "mock", "provider": "mock"},
            {"name": "echo", "provider": "mock"},
            {"name": "slow-echo", "provider": "slow", "model": "echo"},
            {"name": "fake-gpt", "provider": "upstream"},
            {"name": "broken", "provider": "upstream", "model": "fail-500"},
            {
                "name": "priced",
                "provider": "mock",
                "model": "mock",
                "input_price_per_mtok": 2.0,
                "output_price_per_mtok": 8.0,
            },
        ],
        "keys": [{"tenant": "acme", "key": "key-acme"}, {"tenant": "beta", "key": "key-beta"}],
        "sessions": {
            "keepalive_seconds": 0.3,
            "sweep_interval_seconds": 0.2,
            "max_message_bytes": 2000,
        },
        "server": {"shutdown_grace_seconds": 1},
        "tools": {"custom": ["tests.support.sessions:context_variables"]},
    }


@pytest.fixture(scope="package", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SessionsGateway]:
    tmp = tmp_path_factory.mktemp("sessions")
    upstream = FakeOpenAI()
    with ThreadedServer(upstream.app) as fake, database_url(request.param, tmp) as url:
        config = {**gateway_config(fake.base_url), "storage": {"database_url": url}}
        with run_gateway(tmp, config) as process:
            yield SessionsGateway(process, upstream)


@pytest.fixture
def api(server: SessionsGateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, headers=ACME, timeout=30) as client:
        yield client
