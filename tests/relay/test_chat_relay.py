"""The Chat Completions byte relay (fast path) under a misbehaving upstream, with aliases,
and its usage as the request log records it (issue 12: items 2, 3, 13, 14).

A stream the openai SDK could not read (a line that is not SSE, data that is not a JSON
object) or one cut before any `finish_reason` ends with an OpenAI error event and
`[DONE]`, as the translating path does; the client's model name comes back, the served
one in a header.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import openai
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from tests.support.fake_openai import FakeOpenAI
from tests.support.gateway_logs import request_record
from tests.support.no_usage_openai import NoUsageUpstream
from tests.support.servers import GatewayProcess, ThreadedServer, run_gateway

CHUNK = {"id": "chatcmpl-x", "object": "chat.completion.chunk", "created": 1, "model": "m",
         "choices": [{"index": 0, "delta": {"content": "Hello"}, "finish_reason": None}]}
FINISH = {**CHUNK, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
BAD_STREAMS: dict[str, list[bytes]] = {  # model → the body the upstream streams
    "not-sse": [b"data: " + json.dumps(CHUNK).encode() + b"\n\n", b"this is not sse\n\n"],
    "not-json": [b"data: " + json.dumps(CHUNK).encode() + b"\n\n", b"data: {not json\n\n"],
    "not-object": [b"data: [1,2,3]\n\n"],
    "truncated": [b"data: " + json.dumps(CHUNK).encode() + b"\n\n"],
}


def _data(chunk: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


async def _faulty(request: Request) -> Response:
    body = await request.json()
    model = body["model"]
    if model == "finished-no-done":
        frames = [_data(CHUNK), _data(FINISH)]
    else:
        frames = BAD_STREAMS[model]

    async def stream() -> AsyncIterator[bytes]:
        for frame in frames:
            yield frame

    return StreamingResponse(stream(), media_type="text/event-stream")


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    faulty = Starlette(routes=[Route("/v1/chat/completions", _faulty, methods=["POST"])])
    with (
        ThreadedServer(faulty) as bad,
        ThreadedServer(FakeOpenAI().app) as good,
        ThreadedServer(NoUsageUpstream()) as bare,
    ):
        config = {
            "providers": {
                "bad": {"type": "openai", "base_url": f"{bad.base_url}/v1"},
                "good": {"type": "openai", "base_url": f"{good.base_url}/v1"},
                "bare": {"type": "openai", "base_url": f"{bare.base_url}/v1"},
            },
            "models": [
                *({"name": name, "provider": "bad"} for name in [*BAD_STREAMS, "finished-no-done"]),
                {"name": "gpt-4-turbo", "provider": "good"},
                {"name": "bare", "provider": "bare"},
            ],
            "aliases": {"gpt-4": "gpt-4-turbo"},
            "rewrites": [{"match": "gpt-3.5*", "to": "gpt-4-turbo"}],
        }
        with run_gateway(tmp_path_factory.mktemp("relay"), config) as process:
            yield process


def _client(gateway: GatewayProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key="x", max_retries=0)


def _events(gateway: GatewayProcess, model: str) -> tuple[list[str], str]:
    body = {"model": model, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    with httpx.stream("POST", f"{gateway.base_url}/v1/chat/completions", json=body) as reply:
        assert reply.status_code == 200
        lines = [line for line in reply.iter_lines() if line]
        return lines, reply.headers["x-request-id"]


@pytest.mark.parametrize("model", sorted(BAD_STREAMS))
def test_a_malformed_or_cut_stream_ends_with_an_error_event_and_done(
    gateway: GatewayProcess, model: str
) -> None:
    lines, request_id = _events(gateway, model)
    assert lines[-1] == "data: [DONE]"
    error = json.loads(lines[-2].removeprefix("data: "))["error"]
    assert error["type"] == "upstream_error"
    expected = "truncated_upstream_stream" if model == "truncated" else "malformed_upstream_stream"
    assert error["code"] == expected
    assert "this is not sse" not in "\n".join(lines)  # garbage is not passed on
    assert request_record(gateway, request_id)["error"] == expected


@pytest.mark.parametrize("model", sorted(BAD_STREAMS))
def test_the_openai_sdk_gets_an_api_error_not_a_crash(gateway: GatewayProcess, model: str) -> None:
    stream = _client(gateway).chat.completions.create(
        model=model, stream=True, messages=[{"role": "user", "content": "hi"}]
    )
    with pytest.raises(openai.APIError) as failed:
        list(stream)
    assert "upstream provider 'bad'" in str(failed.value)


def test_a_finished_stream_without_done_gets_its_done(gateway: GatewayProcess) -> None:
    lines, _ = _events(gateway, "finished-no-done")
    assert lines[-1] == "data: [DONE]"
    assert all("error" not in line for line in lines)


@pytest.mark.parametrize("asked", ["gpt-4", "gpt-3.5-turbo"])
def test_the_client_gets_the_model_name_it_asked_for(gateway: GatewayProcess, asked: str) -> None:
    client = _client(gateway)
    raw = client.chat.completions.with_raw_response.create(
        model=asked, messages=[{"role": "user", "content": "hi"}]
    )
    assert raw.parse().model == asked
    assert raw.headers["x-relaygate-served-by"] == "good/gpt-4-turbo"
    chunks = list(client.chat.completions.create(
        model=asked, stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "hi"}],
    ))
    assert {chunk.model for chunk in chunks} == {asked}


@pytest.mark.parametrize(("stream", "include_usage"), [(False, False), (True, False), (True, True)])
def test_the_request_log_says_the_usage_was_estimated(
    gateway: GatewayProcess, stream: bool, include_usage: bool
) -> None:
    body: dict[str, Any] = {"model": "bare", "messages": [{"role": "user", "content": "a b c"}]}
    if stream:
        body["stream"] = True
        if include_usage:
            body["stream_options"] = {"include_usage": True}
    reply = httpx.post(f"{gateway.base_url}/v1/chat/completions", json=body)
    assert reply.status_code == 200
    record = request_record(gateway, reply.headers["x-request-id"])
    assert record["fast_path"] is True and record["usage_source"] == "estimated"
    assert record["output_tokens"] == 3
