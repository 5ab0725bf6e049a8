"""Every front × every provider: the same conversations through each pair, over real HTTP.

Built as data: FRONTS (tests/support/matrix_clients.py) holds a client per front API,
PROVIDERS below a config entry per provider type (local fakes speaking each vendor's
wire format, and the built-in mock). A new front or provider is one more row.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest

from tests.support.fake_anthropic import FakeAnthropic
from tests.support.fake_gemini import FakeGemini
from tests.support.fake_openai import FakeOpenAI
from tests.support.fake_responses import FakeResponses
from tests.support.matrix_cases import PNG, TOOL_NAME, Call, Case, Msg, Outcome
from tests.support.matrix_clients import FRONTS, Front
from tests.support.servers import GatewayProcess, ThreadedServer, run_gateway

EXPECTED_ARGS = {"a": 5, "b": 3, "operation": "add"}
LONG_TEXT = " ".join(f"word{i}" for i in range(40))


class Upstreams:
    """The fake vendor servers, each on its own port."""

    def __init__(self) -> None:
        self.openai = FakeOpenAI()
        self.anthropic = FakeAnthropic()
        self.gemini = FakeGemini(api_key="gemini-upstream-key")
        self.responses = FakeResponses()
        self.servers = {
            "openai": ThreadedServer(self.openai.app),
            "anthropic": ThreadedServer(self.anthropic.app),
            "gemini": ThreadedServer(self.gemini.app),
            "responses": ThreadedServer(self.responses.app),
        }

    def url(self, name: str) -> str:
        return self.servers[name].base_url


@dataclass(frozen=True)
class Provider:
    name: str
    settings: Callable[[Upstreams], dict[str, Any]]
    upstream_model: str
    last_request: Callable[[Upstreams], dict[str, Any]] | None  # None: nothing to inspect (mock)


PROVIDERS = [
    Provider("mock", lambda up: {"type": "mock"}, "mock", None),
    Provider(
        "openai",
        lambda up: {"type": "openai", "base_url": f"{up.url('openai')}/v1", "api_key": "sk-up"},
        "gpt-matrix",
        lambda up: up.openai.requests[-1],
    ),
    Provider(
        "anthropic",
        lambda up: {"type": "anthropic", "base_url": up.url("anthropic"), "api_key": "sk-ant-up"},
        "claude-matrix",
        lambda up: up.anthropic.requests[-1],
    ),
    Provider(
        "gemini",
        lambda up: {
            "type": "gemini",
            "base_url": f"{up.url('gemini')}/v1beta",
            "api_key": "gemini-upstream-key",
        },
        "gemini-matrix",
        lambda up: up.gemini.requests[-1],
    ),
    Provider(
        "openai_responses",
        lambda up: {
            "type": "openai_responses",
            "base_url": f"{up.url('responses')}/v1",
            "api_key": "sk-up",
        },
        "resp-matrix",
        lambda up: up.responses.requests[-1],
    ),
]
PAIRS = [
    pytest.param(front, provider, id=f"{front.name}-{provider.name}")
    for front in FRONTS
    for provider in PROVIDERS
]


@pytest.fixture(scope="module")
def upstreams() -> Iterator[Upstreams]:
    up = Upstreams()
    for server in up.servers.values():
        server.__enter__()
    try:
        yield up
    finally:
        for server in up.servers.values():
            server.__exit__(None, None, None)


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, upstreams: Upstreams
) -> Iterator[GatewayProcess]:
    config = {
        "providers": {p.name: p.settings(upstreams) for p in PROVIDERS},
        "models": [
            {"name": f"m-{p.name}", "provider": p.name, "model": p.upstream_model}
            for p in PROVIDERS
        ],
    }
    with run_gateway(tmp_path_factory.mktemp("matrix"), config) as process:
        yield process


def ask(
    gateway: GatewayProcess, front: Front, provider: Provider, case: Case, stream: bool = False
) -> Outcome:
    call = front.stream if stream else front.send
    return call(gateway.base_url, f"m-{provider.name}", case)


def sent(upstreams: Upstreams, provider: Provider) -> str:
    assert provider.last_request is not None
    return json.dumps(provider.last_request(upstreams))


def user(text: str, image: str | None = None) -> Msg:
    return Msg("user", text, image)


@pytest.mark.parametrize(("front", "provider"), PAIRS)
def test_plain_text(gateway: GatewayProcess, front: Front, provider: Provider) -> None:
    out = ask(gateway, front, provider, Case([user("plain matrix words")]))
    assert "plain matrix words" in out.text
    assert out.finish == "stop" and not out.calls
    assert out.input_tokens > 0 and out.output_tokens > 0


@pytest.mark.parametrize(("front", "provider"), PAIRS)
def test_system_prompt(
    gateway: GatewayProcess, upstreams: Upstreams, front: Front, provider: Provider
) -> None:
    plain = ask(gateway, front, provider, Case([user("ahoy there")]))
    out = ask(gateway, front, provider, Case([user("ahoy there")], system="Speak like a pirate"))
    assert "ahoy there" in out.text and out.finish == "stop"
    if provider.last_request is not None:
        assert "Speak like a pirate" in sent(upstreams, provider)
    else:  # the mock does not repeat it, but counts it
        assert out.input_tokens > plain.input_tokens


@pytest.mark.parametrize(("front", "provider"), PAIRS)
def test_multi_turn(
    gateway: GatewayProcess, upstreams: Upstreams, front: Front, provider: Provider
) -> None:
    case = Case(
        [
            user("My name is Ada"),
            Msg("assistant", "Hello Ada, nice to meet you"),
            user("What is my name?"),
        ]
    )
    out = ask(gateway, front, provider, case)
    assert "What is my name?" in out.text and out.finish == "stop"
    if provider.last_request is not None:
        wire = sent(upstreams, provider)
        assert (
            wire.index("My name is Ada")
            < wire.index("Hello Ada, nice to meet you")
            < wire.index("What is my name?")
        )


@pytest.mark.parametrize(("front", "provider"), PAIRS)
def test_image_input(
    gateway: GatewayProcess, upstreams: Upstreams, front: Front, provider: Provider
) -> None:
    out = ask(gateway, front, provider, Case([user("Describe this picture", PNG)]))
    assert "Describe this picture" in out.text
    if provider.last_request is not None:
        assert PNG in sent(upstreams, provider)
    else:
        assert "1 image" in out.text


@pytest.mark.parametrize(("front", "provider"), PAIRS)
def test_tool_call_and_result(gateway: GatewayProcess, front: Front, provider: Provider) -> None:
    question = user("Calculate 5 + 3")
    first = ask(gateway, front, provider, Case([question], tools=True))
    assert first.finish == "tool_calls"
    assert [call.name for call in first.calls] == [TOOL_NAME]
    call = first.calls[0]
    assert json.loads(call.arguments) == EXPECTED_ARGS
    assert call.id or front.name == "gemini"  # Gemini's wire makes call ids optional
    follow_up = Case([question, Msg("call", call=call), Msg("tool", "8", call=call)], tools=True)
    second = ask(gateway, front, provider, follow_up)
    assert "8" in second.text and second.finish == "stop" and not second.calls


@pytest.mark.parametrize(("front", "provider"), PAIRS)
def test_streamed_text(gateway: GatewayProcess, front: Front, provider: Provider) -> None:
    whole = ask(gateway, front, provider, Case([user("one two three four five")]))
    streamed = ask(gateway, front, provider, Case([user("one two three four five")]), stream=True)
    assert streamed.text == whole.text and "one two three four five" in streamed.text
    assert streamed.finish == "stop"
    assert streamed.input_tokens > 0 and streamed.output_tokens > 0


@pytest.mark.parametrize(("front", "provider"), PAIRS)
def test_streamed_tool_call_arguments_arrive_whole(
    gateway: GatewayProcess, front: Front, provider: Provider
) -> None:
    out = ask(gateway, front, provider, Case([user("Calculate 5 + 3")], tools=True), stream=True)
    assert [call.name for call in out.calls] == [TOOL_NAME]
    assert json.loads(out.calls[0].arguments) == EXPECTED_ARGS
    assert out.calls[0].id or front.name == "gemini"
    assert out.finish == "tool_calls"
    assert out.output_tokens > 0


@pytest.mark.parametrize(("front", "provider"), PAIRS)
def test_length_stop(gateway: GatewayProcess, front: Front, provider: Provider) -> None:
    case = Case([user(LONG_TEXT)], max_tokens=16)
    assert ask(gateway, front, provider, case).finish == "length"
    assert ask(gateway, front, provider, case, stream=True).finish == "length"


def test_every_pair_is_in_the_table() -> None:
    """The matrix covers all four fronts and all five provider types, nothing skipped."""
    assert {front.name for front in FRONTS} == {"chat", "anthropic", "gemini", "responses"}
    assert {provider.name for provider in PROVIDERS} == {
        "mock",
        "openai",
        "anthropic",
        "gemini",
        "openai_responses",
    }
    assert len(PAIRS) == 20
    _ = Call  # re-exported for readers extending the table


@pytest.mark.parametrize("front", FRONTS, ids=lambda front: front.name)
@pytest.mark.parametrize("model", ["safety", "blocked"])
def test_gemini_safety_blocks_reach_every_front_as_a_filter(
    gateway: GatewayProcess, front: Front, model: str
) -> None:
    """Gemini's SAFETY finish and a blocked prompt are each front's content-filter stop."""
    case = Case([user("something unsafe")])
    assert front.send(gateway.base_url, f"gemini:{model}", case).finish == "content_filter"
    assert front.stream(gateway.base_url, f"gemini:{model}", case).finish == "content_filter"


UPSTREAM_ERRORS: dict[str, dict[int, type[Exception]]] = {
    "chat": {400: openai.BadRequestError, 429: openai.RateLimitError},
    "responses": {400: openai.BadRequestError, 429: openai.RateLimitError},
    "anthropic": {400: anthropic.BadRequestError, 429: anthropic.RateLimitError},
    "gemini": {400: httpx.HTTPStatusError, 429: httpx.HTTPStatusError},
}
GEMINI_STATUS = {400: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED"}
SAMPLES = Path(__file__).parent / "samples"


def upstream_words(provider: str, status: int) -> str:
    """A piece of the error message each fake upstream sends (its vendor's recorded body)."""
    if provider == "openai_responses":
        return f"fake responses failure {status}"
    vendor = {"openai": "openai", "anthropic": "anthropic", "gemini": "gemini"}[provider]
    message = json.loads((SAMPLES / vendor / f"error_{status}.json").read_text())["error"]
    return str(message["message"]).strip()[:40]


ERROR_PAIRS = [
    pytest.param(front, provider, id=f"{front.name}-{provider.name}")
    for front in FRONTS
    for provider in PROVIDERS
    if provider.last_request is not None  # the mock has no vendor error bodies
]


@pytest.mark.parametrize(("front", "provider"), ERROR_PAIRS)
@pytest.mark.parametrize("status", [400, 429])
def test_upstream_errors_in_every_front_format(
    gateway: GatewayProcess, front: Front, provider: Provider, status: int
) -> None:
    """Each vendor's error bodies reach each client as that client's own error, with the
    status and the upstream's message kept, streamed or not."""
    case = Case([user("x")])
    words = upstream_words(provider.name, status)
    for call in (front.send, front.stream):
        with pytest.raises(UPSTREAM_ERRORS[front.name][status]) as caught:
            call(gateway.base_url, f"{provider.name}:fail-{status}", case)
        error = caught.value
        if isinstance(error, httpx.HTTPStatusError):
            body = error.response.json()
            assert error.response.status_code == status
            assert body["error"]["status"] == GEMINI_STATUS[status]
            assert words in body["error"]["message"]
        else:
            assert words in str(error)
