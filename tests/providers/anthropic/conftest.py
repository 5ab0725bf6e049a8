"""One local Anthropic-speaking server and one gateway per mode (fast path, translated),
shared by the `anthropic` provider's test modules; clients are the official SDKs."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import openai
import pytest

from tests.providers.anthropic.shared import UPSTREAM_KEY
from tests.support.fake_anthropic import FakeAnthropic
from tests.support.servers import GatewayProcess, ThreadedServer, free_port, run_gateway


@pytest.fixture(scope="package")
def fake() -> Iterator[FakeAnthropic]:
    upstream = FakeAnthropic()
    with ThreadedServer(upstream.app) as server:
        upstream.base_url = server.base_url  # type: ignore[attr-defined]
        yield upstream


@pytest.fixture(scope="package", params=[True, False], ids=["fast-path", "translated"])
def gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, fake: FakeAnthropic
) -> Iterator[GatewayProcess]:
    config = {
        "server": {"fast_path": request.param},
        "providers": {
            "claude": {
                "type": "anthropic",
                "base_url": fake.base_url,  # type: ignore[attr-defined]
                "api_key": UPSTREAM_KEY,
                "timeout": {"connect": 1.0, "read": 0.5},
            },
            "refused": {"type": "anthropic", "base_url": f"http://127.0.0.1:{free_port()}"},
        },
        "models": [{"name": "claude-test", "provider": "claude", "model": "claude-upstream"}],
    }
    with run_gateway(tmp_path_factory.mktemp("anthropic-provider"), config) as process:
        yield process


@pytest.fixture
def chat(gateway: GatewayProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key="unused", max_retries=0)


@pytest.fixture
def claude(gateway: GatewayProcess) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gateway.base_url, api_key="unused", max_retries=0)
