"""An upstream whose event stream is not UTF-8 (one `\\xff` byte in a line), through every
translating front: before the first byte the client gets a 502 in its front's error shape,
mid-stream its front's own error event and terminator; nothing unhandled is logged."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from tests.support.responses_schema import parse_frames
from tests.support.servers import GatewayProcess, ThreadedServer, run_gateway

GOOD = (
    b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m",'
    b'"choices":[{"index":0,"delta":{"role":"assistant","content":"Hello"},'
    b'"finish_reason":null}]}\n\n'
)
BAD = (
    b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m",'
    b'"choices":[{"index":0,"delta":{"content":"caf\xff"},"finish_reason":null}]}\n\n'
)


async def _body(model: str) -> AsyncIterator[bytes]:
    if model == "bad-later":
        yield GOOD
        await asyncio.sleep(0.2)  # the gateway has answered 200 and sent "Hello" by now
    yield BAD
    yield b"data: [DONE]\n\n"


async def chat(request: Request) -> StreamingResponse:
    body = await request.json()
    return StreamingResponse(_body(body["model"]), media_type="text/event-stream")


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    upstream = Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])
    with ThreadedServer(upstream) as fake:
        config = {
            "server": {"fast_path": False},  # chat translates too
            "providers": {"up": {"type": "openai", "base_url": f"{fake.base_url}/v1"}},
            "models": [{"name": "bad-first", "provider": "up"},
                       {"name": "bad-later", "provider": "up"}],
        }
        with run_gateway(tmp_path_factory.mktemp("bad-utf8"), config) as process:
            yield process


def _post(gateway: GatewayProcess, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{gateway.base_url}{path}", json=body, timeout=10)


def _no_traceback(gateway: GatewayProcess) -> None:
    logs = gateway.logs()
    for word in ("Traceback", "UnicodeDecodeError", "Exception in ASGI application"):
        assert word not in logs


def _chat(model: str) -> dict[str, Any]:
    return {"model": model, "stream": True, "messages": [{"role": "user", "content": "hi"}]}


def _messages(model: str) -> dict[str, Any]:
    return {**_chat(model), "max_tokens": 50}


def _responses(model: str) -> dict[str, Any]:
    return {"model": model, "stream": True, "input": "hi"}


def test_chat_before_the_first_byte(gateway: GatewayProcess) -> None:
    reply = _post(gateway, "/v1/chat/completions", _chat("bad-first"))
    assert reply.status_code == 502, reply.text
    assert reply.json()["error"]["type"] == "upstream_error"
    assert reply.json()["error"]["message"] == (
        "The upstream provider 'up' sent a malformed stream event (a line is not UTF-8)."
    )
    _no_traceback(gateway)


def test_chat_mid_stream(gateway: GatewayProcess) -> None:
    reply = _post(gateway, "/v1/chat/completions", _chat("bad-later"))
    assert reply.status_code == 200
    frames = [line.removeprefix("data: ") for line in reply.text.split("\n\n") if line]
    assert frames[-1] == "[DONE]"
    chunks = [json.loads(frame) for frame in frames[:-1]]
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks[:-1]) == "Hello"
    assert chunks[-1]["error"]["type"] == "upstream_error"
    assert "malformed stream" in chunks[-1]["error"]["message"]
    _no_traceback(gateway)


def test_messages_before_the_first_byte(gateway: GatewayProcess) -> None:
    reply = _post(gateway, "/v1/messages", _messages("bad-first"))
    assert reply.status_code == 502, reply.text
    assert reply.json()["type"] == "error" and reply.json()["error"]["type"] == "api_error"
    assert "malformed stream" in reply.json()["error"]["message"]
    _no_traceback(gateway)


def test_messages_mid_stream(gateway: GatewayProcess) -> None:
    reply = _post(gateway, "/v1/messages", _messages("bad-later"))
    assert reply.status_code == 200
    events = parse_frames(reply.content)
    assert [e["delta"]["text"] for e in events if e["type"] == "content_block_delta"] == ["Hello"]
    assert events[-1]["type"] == "error" and "malformed stream" in events[-1]["error"]["message"]
    assert "message_stop" not in [e["type"] for e in events]
    _no_traceback(gateway)


def test_responses_before_the_first_byte(gateway: GatewayProcess) -> None:
    reply = _post(gateway, "/v1/responses", _responses("bad-first"))
    assert reply.status_code == 502, reply.text
    assert "malformed stream" in reply.json()["error"]["message"]
    _no_traceback(gateway)


def test_responses_mid_stream(gateway: GatewayProcess) -> None:
    reply = _post(gateway, "/v1/responses", _responses("bad-later"))
    assert reply.status_code == 200
    assert reply.text.endswith("data: [DONE]\n\n")
    events = parse_frames(reply.content)
    deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
    assert deltas == ["Hello"]
    assert events[-1]["type"] == "response.failed"
    assert "malformed stream" in events[-1]["response"]["error"]["message"]
    _no_traceback(gateway)
