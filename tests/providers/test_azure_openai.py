"""Azure OpenAI style deployments through the `openai` provider, over real sockets:
{base_url}/openai/deployments/{deployment}/chat/completions?api-version=…, `api-key`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import orjson
import pytest
from starlette.types import Receive, Scope, Send

from relaygate.config import ProviderSettings, ProviderType
from relaygate.errors import UpstreamRejected
from relaygate.providers.openai import OpenAIProvider
from relaygate.types import Message, ModelCall, Role, TextDelta, TextPart
from tests.support.fake_openai import FakeOpenAI
from tests.support.servers import ThreadedServer

AZURE_KEY = "azure-key-0123456789abcdef"
DEPLOYMENT = "my-gpt4o-deployment"
EXPECTED_TARGET = f"/openai/deployments/{DEPLOYMENT}/chat/completions?api-version=2024-10-21"


class Recorder:
    """The fake OpenAI server, keeping each request's path and query string."""

    def __init__(self) -> None:
        self.fake = FakeOpenAI()
        self.targets: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.targets.append(f"{scope['path']}?{scope['query_string'].decode()}")
        await self.fake.app(scope, receive, send)


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[Recorder, str]]:
    recorder = Recorder()
    with ThreadedServer(recorder) as server:
        yield recorder, server.base_url


@pytest.fixture
async def provider(upstream: tuple[Recorder, str]) -> AsyncIterator[OpenAIProvider]:
    settings = ProviderSettings(
        type=ProviderType.OPENAI,
        azure=True,
        api_version="2024-10-21",
        base_url=upstream[1],
        api_key=AZURE_KEY,
    )
    azure = OpenAIProvider("azure", settings)
    yield azure
    await azure.close()


def ask(text: str) -> ModelCall:
    return ModelCall("gpt-4o", [Message(Role.USER, [TextPart(text)])])


def assert_azure_request(recorder: Recorder) -> None:
    assert recorder.targets[-1] == EXPECTED_TARGET
    headers = recorder.fake.headers[-1]
    assert headers["api-key"] == AZURE_KEY
    assert "authorization" not in headers


async def test_send_and_stream_go_to_the_deployment(
    provider: OpenAIProvider, upstream: tuple[Recorder, str]
) -> None:
    result = await provider.send(ask("hello azure"), DEPLOYMENT)
    assert result.message.text == "hello azure"
    assert_azure_request(upstream[0])
    events = [event async for event in provider.stream(ask("one two three"), DEPLOYMENT)]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "one two three"
    assert_azure_request(upstream[0])


async def test_the_byte_relay_goes_to_the_deployment_of_the_route(
    provider: OpenAIProvider, upstream: tuple[Recorder, str]
) -> None:
    body = {"model": DEPLOYMENT, "messages": [{"role": "user", "content": "relayed"}]}
    reply = await provider.relay(orjson.dumps(body), DEPLOYMENT, "req_1", {})
    assert orjson.loads(reply.body)["choices"][0]["message"]["content"] == "relayed"
    assert_azure_request(upstream[0])
    raw = b"".join(
        [
            chunk
            async for chunk in provider.relay_stream(
                orjson.dumps({**body, "stream": True}), DEPLOYMENT, "req_2", {}
            )
        ]
    )
    assert b"relayed" in raw and raw.rstrip().endswith(b"[DONE]")
    assert_azure_request(upstream[0])


async def test_deployment_errors_are_mapped(provider: OpenAIProvider) -> None:
    with pytest.raises(UpstreamRejected) as caught:
        await provider.send(ask("x"), "fail-404")
    assert caught.value.status == 404
