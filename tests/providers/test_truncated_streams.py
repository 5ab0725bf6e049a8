"""An upstream whose stream body ends cleanly but early (no finish, no `[DONE]`): the
answer is not whole, and the canonical stream says so with an error instead of passing
the cut text off as a finished answer. Both upstream kinds, over real sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from relaygate.config import ProviderSettings, ProviderType
from relaygate.providers.gemini import GeminiProvider
from relaygate.providers.openai import OpenAIProvider
from relaygate.types import ErrorEvent, Finish, Message, ModelCall, Role, TextDelta, TextPart
from tests.support.servers import ThreadedServer

CHAT_CHUNK = (
    b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m",'
    b'"choices":[{"index":0,"delta":{"content":"half an"},"finish_reason":null}]}\n\n'
)
GEMINI_CHUNK = (
    b'data: {"candidates":[{"content":{"role":"model","parts":[{"text":"half an"}]}}]}\n\n'
)


async def _cut(chunk: bytes) -> AsyncIterator[bytes]:
    yield chunk  # and then the body ends, cleanly


async def chat(request: Request) -> StreamingResponse:
    return StreamingResponse(_cut(CHAT_CHUNK), media_type="text/event-stream")


async def gemini(request: Request) -> StreamingResponse:
    return StreamingResponse(_cut(GEMINI_CHUNK), media_type="text/event-stream")


APP = Starlette(
    routes=[
        Route("/v1/chat/completions", chat, methods=["POST"]),
        Route("/v1beta/models/{model_action:path}", gemini, methods=["POST"]),
    ]
)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with ThreadedServer(APP) as server:
        yield server.base_url


def _call() -> ModelCall:
    return ModelCall("m", [Message(Role.USER, [TextPart("tell me")])], stream=True)


async def _events(provider: OpenAIProvider | GeminiProvider) -> list[object]:
    try:
        return [event async for event in provider.stream(_call(), "m")]
    finally:
        await provider.close()


async def test_openai_stream_cut_short_is_an_error(base_url: str) -> None:
    settings = ProviderSettings(type=ProviderType.OPENAI, base_url=f"{base_url}/v1")
    events = await _events(OpenAIProvider("cut", settings))
    assert TextDelta("half an") in events
    assert any(isinstance(event, ErrorEvent) for event in events)
    assert not any(isinstance(event, Finish) for event in events)


async def test_gemini_stream_cut_short_is_an_error(base_url: str) -> None:
    settings = ProviderSettings(type=ProviderType.GEMINI, base_url=f"{base_url}/v1beta")
    events = await _events(GeminiProvider("cut", settings))
    assert TextDelta("half an") in events
    assert any(isinstance(event, ErrorEvent) for event in events)
    assert not any(isinstance(event, Finish) for event in events)
