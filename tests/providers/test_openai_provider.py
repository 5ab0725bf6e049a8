"""The `openai` provider against a local OpenAI-speaking server, over real sockets.

Every case runs twice: on the byte-relay fast path and on the translated path
(`server.fast_path: false`), since both must succeed and fail the same way.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.support.fake_openai import CALC_ARGS, FakeOpenAI
from tests.support.servers import GatewayProcess, ThreadedServer, free_port, run_gateway

UPSTREAM_KEY = "sk-upstream-secret-123456"


class Upstream:
    """The fake OpenAI server, recording the client port of every request it serves."""

    def __init__(self) -> None:
        self.fake = FakeOpenAI()
        self.ports: list[int] = []
        self.server = ThreadedServer(self)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("client"):
            self.ports.append(scope["client"][1])
        app: ASGIApp = self.fake.app
        await app(scope, receive, send)


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    up = Upstream()
    with up.server:
        yield up


@pytest.fixture(scope="module", params=[True, False], ids=["fast-path", "translated"])
def gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, upstream: Upstream
) -> Iterator[GatewayProcess]:
    config = {
        "server": {"fast_path": request.param},
        "providers": {
            "up": {
                "type": "openai",
                "base_url": f"{upstream.server.base_url}/v1",
                "api_key": UPSTREAM_KEY,
                "headers": {"X-Extra-Header": "extra-value"},
                "timeout": {"connect": 1.0, "read": 0.5},
            },
            "refused": {"type": "openai", "base_url": f"http://127.0.0.1:{free_port()}/v1"},
        },
        "models": [{"name": "gpt-test", "provider": "up", "model": "upstream-model"}],
    }
    with run_gateway(tmp_path_factory.mktemp("openai-provider"), config) as process:
        yield process


@pytest.fixture
def client(gateway: GatewayProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key="unused", max_retries=0)


def _user(text: str) -> list[Any]:
    return [{"role": "user", "content": text}]


def _frames(gateway: GatewayProcess, model: str, **extra: Any) -> tuple[int, list[str]]:
    body = {"model": model, "messages": _user("hello there"), "stream": True, **extra}
    with httpx.stream(
        "POST", f"{gateway.base_url}/v1/chat/completions", json=body, timeout=10
    ) as response:
        frames = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
        return response.status_code, frames


# --- success ------------------------------------------------------------------------


def test_plain_reply_with_model_rewritten_and_usage(
    client: openai.OpenAI, upstream: Upstream
) -> None:
    reply = client.chat.completions.create(model="gpt-test", messages=_user("say hi back"))
    assert reply.choices[0].message.content == "say hi back"
    assert upstream.fake.requests[-1]["model"] == "upstream-model"
    assert reply.usage is not None and reply.usage.completion_tokens == 3


def test_api_key_and_extra_headers_are_sent(client: openai.OpenAI, upstream: Upstream) -> None:
    client.chat.completions.create(model="gpt-test", messages=_user("headers"))
    headers = upstream.fake.headers[-1]
    assert headers["authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert headers["x-extra-header"] == "extra-value"


def test_connections_are_pooled_and_kept_alive(client: openai.OpenAI, upstream: Upstream) -> None:
    before = len(upstream.ports)
    for index in range(8):
        client.chat.completions.create(model="gpt-test", messages=_user(f"n{index}"))
    ports = upstream.ports[before:]
    assert len(ports) == 8
    assert len(set(ports)) == 1  # sequential calls reuse one upstream connection


def test_streams_read_to_the_end_reuse_their_connection(
    client: openai.OpenAI, upstream: Upstream
) -> None:
    before = len(upstream.ports)
    for index in range(6):
        stream = client.chat.completions.create(
            model="gpt-test", messages=_user(f"stream {index}"), stream=True
        )
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    ports = upstream.ports[before:]
    assert len(ports) == 6
    assert len(set(ports)) == 1


def test_streamed_reply_and_tool_call_arguments(client: openai.OpenAI) -> None:
    tool = {
        "type": "function",
        "function": {"name": "calculator", "parameters": {"type": "object", "properties": {}}},
    }
    stream = client.chat.completions.create(
        model="up:any-model",
        messages=_user("Calculate 5 + 3"),
        tools=[tool],  # type: ignore[list-item]
        stream=True,
        stream_options={"include_usage": True},
    )
    arguments, finish, usage = "", None, None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            finish = choice.finish_reason or finish
            for call in choice.delta.tool_calls or []:
                arguments += (call.function.arguments or "") if call.function else ""
    assert json.loads(arguments) == json.loads(CALC_ARGS)
    assert finish == "tool_calls"
    assert usage is not None and usage.prompt_tokens > 0


def test_stream_without_usage_request_gets_no_usage_chunk(gateway: GatewayProcess) -> None:
    status, frames = _frames(gateway, "gpt-test")
    assert status == 200 and frames[-1] == "[DONE]"
    chunks = [json.loads(frame) for frame in frames[:-1]]
    assert all(chunk.get("usage") is None for chunk in chunks)
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == "hello there"


# --- failures, not streamed -----------------------------------------------------------


def test_upstream_4xx_is_relayed_with_its_message(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="up:fail-400", messages=_user("x"))
    assert caught.value.status_code == 400
    assert "Invalid value for 'temperature'" in caught.value.message
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model="up:fail-401", messages=_user("x"))


def test_upstream_429_keeps_retry_after(client: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="up:fail-429", messages=_user("x"))
    assert caught.value.response.headers["retry-after"] == "7"


@pytest.mark.parametrize(
    ("model", "status", "words"),
    [
        ("up:fail-500", 502, "failed with HTTP 500"),
        ("up:malformed", 502, "malformed"),
        ("refused:any", 502, "connection refused"),
        ("up:hang", 504, "did not answer in time"),
    ],
)
def test_upstream_failures_map_to_gateway_statuses(
    client: openai.OpenAI, model: str, status: int, words: str
) -> None:
    started = time.monotonic()
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model=model, messages=_user("x"))
    assert caught.value.status_code == status
    assert words in caught.value.message
    assert caught.value.response.headers["x-request-id"]
    assert time.monotonic() - started < 3  # the 0.5 s read timeout, not a hang


# --- failures, streamed -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "status", "words"),
    [
        ("up:fail-400", 400, "Invalid value for 'temperature'"),
        ("up:fail-500", 502, "failed with HTTP 500"),
        ("up:malformed", 502, "malformed"),
        ("refused:any", 502, "connection refused"),
        ("up:hang", 504, "did not answer in time"),
    ],
)
def test_streamed_failures_before_the_first_byte_get_a_status(
    client: openai.OpenAI, model: str, status: int, words: str
) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        stream = client.chat.completions.create(model=model, messages=_user("x"), stream=True)
        list(stream)
    assert caught.value.status_code == status
    assert words in caught.value.message


def test_upstream_cutting_the_stream_ends_it_cleanly(
    gateway: GatewayProcess, client: openai.OpenAI
) -> None:
    status, frames = _frames(gateway, "up:cut-stream", messages=_user("one two three four"))
    assert status == 200
    assert frames[-1] == "[DONE]"
    error = json.loads(frames[-2])["error"]
    assert error["type"] == "upstream_error"
    assert "broke off the stream" in error["message"]
    with pytest.raises(openai.APIError):  # the SDK surfaces the error chunk
        list(
            client.chat.completions.create(
                model="up:cut-stream", messages=_user("one two three four"), stream=True
            )
        )


def test_client_hanging_up_cancels_the_upstream(
    gateway: GatewayProcess, upstream: Upstream
) -> None:
    upstream.fake.disconnected.clear()
    body = {"model": "up:slow-stream", "messages": _user("go"), "stream": True}
    with httpx.stream(
        "POST", f"{gateway.base_url}/v1/chat/completions", json=body, timeout=10
    ) as response:
        received = 0
        for line in response.iter_lines():
            if line.startswith("data: "):
                received += 1
            if received == 3:
                break  # hang up after three chunks of two hundred
    deadline = time.monotonic() + 3
    while not upstream.fake.disconnected.is_set() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert upstream.fake.disconnected.is_set()


def test_gateway_log_holds_no_upstream_secret(gateway: GatewayProcess) -> None:
    assert UPSTREAM_KEY not in gateway.logs()
    assert UPSTREAM_KEY[-8:] not in gateway.logs()
